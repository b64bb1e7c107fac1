// Node's own fetch ignores HTTPS_PROXY (Node 20): undici's EnvHttpProxyAgent reads it, and
// NODE_EXTRA_CA_CERTS makes Node trust the mock's test CA. The vendor's address stays as it is.
//
//   npm ci && HTTPS_PROXY=http://127.0.0.1:8080 NODE_EXTRA_CA_CERTS=mock-ca.pem node fetch.mjs
import { EnvHttpProxyAgent, fetch, setGlobalDispatcher } from 'undici';

setGlobalDispatcher(new EnvHttpProxyAgent());

const response = await fetch('https://kyc.biometric.kz/api/v1/flows/session/create/', {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ api_key: 'TTpme201NiUMBA_mock-flow-for-everyone-0000000000' }),
});
const created = await response.json();
if (!response.ok) throw new Error(`create answered ${response.status}: ${JSON.stringify(created)}`);
console.log(`session: ${created.session_id} (${created.technologies.join(', ')})`);
const widget = await fetch('https://remote.biometric.kz/widget/flow-widget.umd.js');
console.log(`widget: ${widget.status} ${widget.headers.get('content-type')}`);
