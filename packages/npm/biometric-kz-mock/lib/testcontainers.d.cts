// Types of biometric-kz-mock/testcontainers (lib/testcontainers.cjs).
import type { GenericContainer, StartedTestContainer } from 'testcontainers';
import type { Mock } from './index.cjs';

export interface StartedBiometricKzMock extends Mock {
  /** Testcontainers' own started container. */
  readonly container: StartedTestContainer;
}

export class BiometricKzMockContainer {
  /** image: BKZ_MOCK_IMAGE or biometric-kz-mock:latest; flags: more `serve` flags. */
  constructor(image?: string, options?: { flags?: string[] });
  /** Testcontainers' container, for anything more (networks, environment, ...) before start(). */
  readonly container: GenericContainer;
  /** Starts it and resolves once its health check answers; `stop()` stops the container. */
  start(): Promise<StartedBiometricKzMock>;
}
