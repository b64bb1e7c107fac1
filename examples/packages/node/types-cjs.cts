// Compiled (tsc -p ., never run): the package's types as a CommonJS TypeScript user's.
import mockPackage = require('biometric-kz-mock');

export async function typedFromRequire(): Promise<string> {
  const mock = await mockPackage.startMock();
  const flow = await mockPackage.connectMock(mock.url).then((m) => m.newFlow());
  await mock.stop();
  return flow.apiKey;
}
