// Node's own test runner against one shared biometric-kz-mock: each test makes a flow of its own
// (a new key) and purges it after, so tests run at once, and beside other suites using the same
// mock, without seeing each other (SPEC §16: everything is scoped by the flow's API key).
//
//   BKZ_MOCK_URL=http://127.0.0.1:8080 node --test examples/node-test/flows.test.mjs
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

const BASE = process.env.BKZ_MOCK_URL || 'http://127.0.0.1:8080';

async function call(method, path, body) {
  const response = await fetch(`${BASE}${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

// A flow of this test's own, deleted with everything its key owned when the test ends.
async function newFlow(t) {
  const name = `${t.name} ${randomUUID().slice(0, 8)}`;
  const created = await call('POST', '/__admin/flows', { name, technologies: ['LDHP', 'F2F'] });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const apiKey = created.body.api_key;
  t.after(() => call('DELETE', `/__admin/flows/${apiKey}?purge=true`));
  return {
    apiKey,
    createSession: async (metadata) => {
      const made = await call('POST', '/api/v1/flows/session/create/', { api_key: apiKey, ...(metadata ? { metadata } : {}) });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      return made.body.session_id;
    },
    result: (sessionId) => call('GET', `/api/v1/flows/session/result/?session_id=${sessionId}&flow_api_key=${apiKey}`),
    complete: (sessionId, body) => call('POST', `/__admin/sessions/${sessionId}/complete`, body),
    requests: async () => (await call('GET', `/__admin/requests?api_key=${apiKey}`)).body,
    fault: (endpoint, rule) => call('POST', '/__admin/faults', { endpoint, api_key: apiKey, ...rule }),
  };
}

describe('one shared mock, a flow per test', { concurrency: 4 }, () => {
  test('a user who passes is verified', async (t) => {
    const flow = await newFlow(t);
    const sessionId = await flow.createSession();
    await flow.complete(sessionId);
    assert.equal((await flow.result(sessionId)).body.flow_session_result, true);
  });

  test('a fault hits only this test\'s calls', async (t) => {
    const flow = await newFlow(t);
    const sessionId = await flow.createSession();
    await flow.fault('result', { status: 503, times: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await flow.result(sessionId)).status);
    assert.deepEqual(statuses, [503, 503, 200]);
  });

  for (let n = 0; n < 8; n++) {
    test(`test ${n} sees only its own requests`, async (t) => {
      const flow = await newFlow(t);
      for (let i = 0; i <= n; i++) await flow.result(await flow.createSession());
      assert.equal((await flow.requests()).length, 2 * (n + 1));
    });
  }
});
