// The vendor docs' JavaScript examples with Node 20's built-in fetch, run against the mock.
// BKZ_MOCK_URL is the mock's base URL (default http://127.0.0.1:8080). The docs' first example
// sets no Content-Type, so fetch labels its string body text/plain;charset=UTF-8; the vendor (and
// the mock) read the body as JSON anyway, the mock's journal notes the departure, and --strict
// refuses it. The docs' E-Document case 1 is wrapped in a stray ```js fence;
// it is plain code here. Run: node examples/node_fetch.mjs
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const BASE = process.env.BKZ_MOCK_URL ?? 'http://127.0.0.1:8080';
const apiKey = process.env.BKZ_MOCK_API_KEY ?? 'TTpme201NiUMBA_mock-flow-for-everyone-0000000000';
const individualsKey = 'Efy202XKbVAWRu_mock-flow-for-individuals-0000000';
const outDir = process.env.OUT_DIR || mkdtempSync(join(tmpdir(), 'bkz-'));
const assert = (ok, what) => { if (!ok) { console.error('FAILED:', what); process.exit(1); } };

// 2. Session creation, exactly as the docs write it: no Content-Type header set, so fetch sends
// text/plain;charset=UTF-8.
const created = await fetch(`${BASE}/api/v1/flows/session/create/`, {
  method: 'POST',
  body: JSON.stringify({ api_key: apiKey }),
}).then(response => response.json());
const { session_id, technologies } = created;
console.log('created with fetch\'s own Content-Type (text/plain;charset=UTF-8):', session_id, technologies);
assert(session_id && technologies, 'session_id and technologies');
// What the mock's journal saw: the Content-Type fetch chose.
const [entry] = await fetch(`${BASE}/__admin/requests?session_id=${session_id}&limit=1`).then(r => r.json());
console.log('journal:', entry.lint);
assert(entry.lint.some(line => line.includes('text/plain;charset=UTF-8')), 'fetch sent text/plain;charset=UTF-8');

// 3.1. Face2Face metadata.
const imageBase64 = readFileSync(new URL('../fixtures/photos/face.jpg', import.meta.url), { encoding: 'base64' });
const withPhoto = await fetch(`${BASE}/api/v1/flows/session/create/`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ api_key: apiKey, metadata: { face2face: { photo1: imageBase64 } } }),
}).then(response => response.json());
console.log('with photo1:', withPhoto);

// 3.2. E-Document metadata, case 1.
const subjectsIIN = '900101300017';
const subjectsPhone = '77011234567';
const edoc = await fetch(`${BASE}/api/v1/flows/session/create/`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({
    api_key: individualsKey,
    metadata: {
      edocument: {
        iin: { value: subjectsIIN, changeable: false },
        phone: { value: subjectsPhone, changeable: false },
        skip_input: true,
      },
    },
  }),
}).then(response => response.json());
console.log('skip_input:', edoc);

// 3.3. Additional metadata; the mock's admin call stands in for the person on the page.
const { session_id: sessionId } = await fetch(`${BASE}/api/v1/flows/session/create/`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ api_key: apiKey, metadata: { extra: { iin: subjectsIIN } } }),
}).then(response => response.json());
await fetch(`${BASE}/__admin/sessions/${sessionId}/complete`, { method: 'POST' });

// 5. The result, polled until it is final.
let result;
for (let i = 0; i < 20; i++) {
  const response = await fetch(`${BASE}/api/v1/flows/session/result/?session_id=${sessionId}&flow_api_key=${apiKey}`);
  result = await response.json();
  if (response.ok && result.status !== 'PROGRESS') break;
  await new Promise(resolve => setTimeout(resolve, 1000));
}
console.log('status:', result.status);
assert(result.status === 'FINISHED', 'the session finished');

// 6. The liveness video.
const video = await fetch(`${BASE}/api/v1/liveness/video/download/?session_id=${sessionId}&flow_api_key=${apiKey}`);
const videoBytes = Buffer.from(await video.arrayBuffer());
writeFileSync(join(outDir, 'liveness.mp4'), videoBytes);
console.log('video:', videoBytes.length, 'bytes,', video.headers.get('content-type'));

// 7. A PDF report.
const report = await fetch(`${BASE}/api/v1/flows/session/${sessionId}/report/?technology=F2F`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ api_key: apiKey }),
}).then(response => response.json());
const pdf = Buffer.from(report.pdf, 'base64');
assert(pdf.subarray(0, 5).toString() === '%PDF-', 'a PDF');
writeFileSync(join(outDir, 'report.pdf'), pdf);
console.log('report:', join(outDir, 'report.pdf'));
