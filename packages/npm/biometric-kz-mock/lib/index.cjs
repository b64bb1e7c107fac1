'use strict';
// biometric-kz-mock for Node tests: start the packaged mock server (startMock) or reach a running one
// (connectMock), and give each test a flow — an API key — of its own, whose sessions, journal
// entries and faults no other test sees (the mock's README, "One mock, many suites").
const { spawn } = require('node:child_process');
const { randomUUID } = require('node:crypto');
const { executable, ExecutableNotFound } = require('./executable.cjs');

const CREATE = '/api/v1/flows/session/create/';
const RESULT = '/api/v1/flows/session/result/';
const START_TIMEOUT_MS = 30_000;
const CALL_TIMEOUT_MS = 30_000;
const LOG_TAIL = 64 * 1024;

class MockError extends Error {
  get name() { return 'MockError'; }

  constructor(message, status, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

// JSON calls to one mock's base URL, with its admin token when it has one.
function http(url, adminToken) {
  const base = url.replace(/\/+$/, '');
  const token = adminToken ?? process.env.BKZ_MOCK_ADMIN_TOKEN;
  return async function call(method, path, { body, query } = {}) {
    const search = query ? `?${new URLSearchParams(query)}` : '';
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token && path.startsWith('/__admin')) headers.Authorization = `Bearer ${token}`;
    let answer;
    try {
      answer = await fetch(base + path + search, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
      });
    } catch (error) {
      throw new MockError(`${method} ${base}${path} failed: ${error.cause?.message ?? error.message}`);
    }
    const text = await answer.text();
    let parsed = null;
    if (text) {
      try { parsed = JSON.parse(text); } catch { parsed = text; }
    }
    if (answer.status >= 400) {
      throw new MockError(`${method} ${path} answered ${answer.status}: ${text}`, answer.status, parsed);
    }
    return parsed;
  };
}

// What the whole mock and one flow both offer; a flow's calls carry its key (`key`), so they see and
// change only what that key owns, the whole mock's see everything.
function helpers(call, key) {
  const scope = key === undefined ? undefined : { api_key: key };
  return {
    complete: (sessionId, { scenario, outcomes } = {}) => {
      const body = {};
      if (scenario !== undefined) body.scenario = scenario;
      if (outcomes !== undefined) body.outcomes = outcomes;
      const path = `/__admin/sessions/${encodeURIComponent(sessionId)}/complete`;
      return call('POST', path, { body: Object.keys(body).length ? body : undefined });
    },
    requests: () => call('GET', '/__admin/requests', { query: scope }),
    fault: (endpoint, { status, delayMs, dropConnection = false, times = 1, detail } = {}) => {
      const rule = { endpoint, times, ...scope };
      if (status !== undefined) rule.status = status;
      if (delayMs !== undefined) rule.delay_ms = delayMs;
      if (dropConnection) rule.drop_connection = true;
      if (detail !== undefined) rule.detail = detail;
      return call('POST', '/__admin/faults', { body: rule });
    },
    reset: async () => { await call('POST', '/__admin/reset', { query: scope }); },
  };
}

// A flow with a key of its own: everything here is scoped to that key.
function flowOf(call, url, created) {
  const apiKey = created.api_key;
  return {
    apiKey,
    url,
    name: created.name,
    technologies: created.technologies,
    ...helpers(call, apiKey),
    createSession: (metadata) =>
      call('POST', CREATE, { body: metadata ? { api_key: apiKey, metadata } : { api_key: apiKey } }),
    result: (sessionId) => call('GET', RESULT, { query: { session_id: sessionId, flow_api_key: apiKey } }),
    sessions: () => call('GET', '/__admin/sessions', { query: { api_key: apiKey } }),
    delete: async ({ purge = true } = {}) => {
      await call('DELETE', `/__admin/flows/${encodeURIComponent(apiKey)}`, { query: purge ? { purge: 'true' } : undefined });
    },
  };
}

// The helpers for a mock at a URL; `stop` is what ends it (nothing, for a mock we did not start).
function client(url, adminToken, stop = async () => {}) {
  const call = http(url, adminToken);
  const base = url.replace(/\/+$/, '');
  return {
    url: base,
    ...helpers(call),
    newFlow: async ({ technologies = ['LDHP', 'F2F'], scenario, seed, name, webhookUrls } = {}) => {
      const body = { name: name ?? `flow ${randomUUID().slice(0, 12)}`, technologies };
      if (scenario !== undefined) body.scenario = scenario;
      if (seed !== undefined) body.seed = seed;
      if (webhookUrls !== undefined) body.webhook_urls = webhookUrls;
      return flowOf(call, base, await call('POST', '/__admin/flows', { body }));
    },
    health: () => call('GET', '/__admin/health'),
    stop,
  };
}

async function connectMock(url = process.env.BKZ_MOCK_URL, { adminToken } = {}) {
  if (!url) throw new MockError('connectMock needs a URL (or BKZ_MOCK_URL)');
  const mock = client(url, adminToken);
  await mock.health();
  return mock;
}

// { seed: 7, strict: true, tlsName: ['a', 'b'] } → --seed 7 --strict --tls-name a --tls-name b
function commandLine(flags) {
  const args = [];
  for (const [name, value] of Object.entries(flags)) {
    const option = `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replace(/_/g, '-')}`;
    if (value === undefined || value === null || value === false) continue;
    if (value === true) args.push(option);
    else if (Array.isArray(value)) for (const item of value) args.push(option, String(item));
    else args.push(option, String(value));
  }
  return args;
}

// Starts the packaged server on a free port of 127.0.0.1; resolves once it listens.
async function startMock(flags = {}) {
  const all = { port: 0, ...flags };
  const file = executable();
  const args = ['serve', ...commandLine(all)];
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = ''; // the last 64 KiB the server wrote to its standard error
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    log = (log + chunk).slice(-LOG_TAIL);
  });
  const wanted = all.tlsPort !== undefined ? 2 : 1;
  return new Promise((resolve, reject) => {
    const urls = [];
    let pending = '';
    const fail = (why) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new MockError(`${file} ${args.join(' ')} did not start (${why}):\n${log}`));
    };
    const timer = setTimeout(() => fail(`no address after ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    child.on('error', (error) => fail(error.message));
    child.on('close', (code, signal) => { if (urls.length < wanted) fail(`exit ${code ?? signal}`); });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      if (urls.length === wanted) return; // started: the rest is drained, not kept
      pending += chunk;
      let end;
      while ((end = pending.indexOf('\n')) >= 0 && urls.length < wanted) {
        const line = pending.slice(0, end).trim();
        pending = pending.slice(end + 1);
        if (line.startsWith('listening on ')) urls.push(line.slice('listening on '.length).split(' ')[0]);
      }
      if (urls.length === wanted) {
        clearTimeout(timer);
        const exited = new Promise((done) => child.once('exit', done));
        // A mock nobody stopped neither keeps the test process alive nor outlives it.
        const killAtExit = () => child.kill('SIGKILL');
        process.once('exit', killAtExit);
        exited.then(() => process.removeListener('exit', killAtExit));
        for (const handle of [child, child.stdout, child.stderr]) handle.unref();
        const stop = async () => {
          if (child.exitCode === null && child.signalCode === null) {
            child.ref(); // wait for it to finish what it is answering
            child.kill('SIGTERM');
            await exited;
          }
        };
        const mock = client(urls[0], all.adminToken, stop);
        mock.tlsUrl = urls[1];
        mock.logs = () => log;
        mock.process = child;
        resolve(mock);
      }
    });
  });
}

module.exports = { startMock, connectMock, MockError, ExecutableNotFound, executable };
