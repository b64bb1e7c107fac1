// Code as integrators write it, with the vendor's address and Node's global fetch, no imports:
// run unchanged against the mock with the proxy preload (proxy-preload.mjs).
const response = await fetch('https://kyc.biometric.kz/api/v1/flows/session/create/', {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ api_key: 'TTpme201NiUMBA_mock-flow-for-everyone-0000000000' }),
});
const created = await response.json();
if (!response.ok) throw new Error(`create answered ${response.status}: ${JSON.stringify(created)}`);
console.log(`session: ${created.session_id} (${created.technologies.join(', ')})`);
