// The ES module face of lib/index.cjs (one implementation for `import` and `require`).
import api from './index.cjs';

export const { startMock, connectMock, MockError, ExecutableNotFound, executable } = api;
