// Compiled (tsc -p ., never run): the package's types as an ES module's and a TypeScript user's.
import { startMock, connectMock, MockError, type Flow, type StartedMock } from 'biometric-kz-mock';
import { BiometricKzMockContainer } from 'biometric-kz-mock/testcontainers';

export async function typed(): Promise<void> {
  const mock: StartedMock = await startMock({ seed: 7, tlsName: ['mock.internal'] });
  const flow: Flow = await mock.newFlow({ technologies: ['LDHP'], scenario: 'happy-path', seed: 1 });
  const { session_id } = await flow.createSession({ edocument: { iin: { value: '900101390012', changeable: false } } });
  await flow.complete(session_id, { outcomes: { LDHP: 'passed' } });
  await flow.fault('result', { status: 503, delayMs: 10, dropConnection: false, times: 1 });
  const codes: string[] = (await flow.requests()).flatMap((entry) => entry.lint);
  const other = await connectMock(mock.url);
  await other.reset();
  await mock.stop();
  const error = new MockError('x');
  const status: number | undefined = error.status;
  const started = await new BiometricKzMockContainer(undefined, { flags: ['--strict'] }).start();
  await started.newFlow();
  await started.container.stop();
  void codes;
  void status;
}
