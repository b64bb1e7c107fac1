// What an integrator's Vitest suite looks like: each test gets a flow (an API key) of its own from
// the shared mock, so tests run concurrently and see only their own sessions, requests and faults.
import { describe, expect, inject, test as base } from 'vitest';
import { connectMock } from 'biometric-kz-mock';

const mock = await connectMock(inject('bkzMockUrl'));

const test = base.extend({
  // eslint-disable-next-line no-empty-pattern
  flow: async ({}, use) => {
    const flow = await mock.newFlow();
    await use(flow);
    await flow.delete({ purge: true });
  },
});

describe.concurrent('a flow per test, one shared mock', () => {
  test('a user who passes is verified', async ({ flow }) => {
    const { session_id } = await flow.createSession();
    await flow.complete(session_id);
    expect((await flow.result(session_id)).flow_session_result).toBe(true);
  });

  test('a magic IIN makes liveness fail', async ({ flow }) => {
    const { session_id } = await flow.createSession({ extra: { iin: '900101390012' } });
    await flow.complete(session_id);
    const result = await flow.result(session_id);
    expect(result.status).toBe('FAILED');
    expect(result.liveness_result.failure_reason).toEqual({ type: 'CALC_RESULT', detail: 'Low overall prediction' });
  });

  test('a scenario chosen on completion', async ({ flow }) => {
    const { session_id } = await flow.createSession();
    await flow.complete(session_id, { outcomes: { LDHP: 'passed', F2F: 'failed' } });
    expect((await flow.result(session_id)).flow_session_result).toBe(false);
  });

  test('a fault hits only this test\'s calls', async ({ flow }) => {
    const { session_id } = await flow.createSession();
    await flow.fault('result', { status: 503, times: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      statuses.push(await flow.result(session_id).then(() => 200, (error) => error.status));
    }
    expect(statuses).toEqual([503, 503, 200]);
  });

  for (let n = 0; n < 8; n++) {
    test(`test ${n} sees only its own requests`, async ({ flow }) => {
      for (let i = 0; i <= n; i++) await flow.result((await flow.createSession()).session_id);
      const journal = await flow.requests();
      expect(journal).toHaveLength(2 * (n + 1));
      expect(journal.every((entry) => entry.api_key === flow.apiKey)).toBe(true);
    });
  }

  test('a seeded flow repeats its ids after a reset', async () => {
    const flow = await mock.newFlow({ seed: 42, technologies: ['LDHP'] });
    try {
      const first = (await flow.createSession()).session_id;
      await flow.reset();
      expect((await flow.createSession()).session_id).toBe(first);
    } finally {
      await flow.delete();
    }
  });
});
