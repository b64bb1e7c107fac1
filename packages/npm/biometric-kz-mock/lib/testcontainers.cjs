'use strict';
// Testcontainers: the mock's container image, with the same helpers as startMock over its mapped
// port. Needs the `testcontainers` package and a Docker-compatible engine.
const { GenericContainer, Wait } = require('testcontainers');
const { connectMock } = require('./index.cjs');

const PORT = 8080;

class BiometricKzMockContainer {
  // image: BKZ_MOCK_IMAGE or biometric-kz-mock:latest; flags: more `serve` flags, e.g. ['--strict'].
  // `container` is Testcontainers' GenericContainer, for anything more (networks, env, ...).
  constructor(image = process.env.BKZ_MOCK_IMAGE || 'biometric-kz-mock:latest', { flags = [] } = {}) {
    this.container = new GenericContainer(image)
      .withExposedPorts(PORT)
      .withWaitStrategy(Wait.forHttp('/__admin/health', PORT));
    if (flags.length) this.container.withCommand(['serve', ...flags]);
  }

  // Resolves to the helpers ({ url, newFlow, complete, requests, fault, reset }) with `stop()`
  // stopping the container, and `container`, the started container.
  async start() {
    const container = await this.container.start();
    const mock = await connectMock(`http://${container.getHost()}:${container.getMappedPort(PORT)}`);
    return { ...mock, container, stop: async () => { await container.stop(); } };
  }
}

module.exports = { BiometricKzMockContainer };
