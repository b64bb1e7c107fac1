"""Testcontainers: the mock's container image with the package's helpers over its mapped port.

    from biometric_kz_mock.testcontainers import BiometricKzMockContainer

    with BiometricKzMockContainer() as mock:    # image: BKZ_MOCK_IMAGE or biometric-kz-mock:latest
        flow = mock.new_flow()
        ...

Needs `pip install "biometric-kz-mock[testcontainers]"` and a Docker-compatible engine.
"""

from __future__ import annotations

import os
import time
from typing import Any, Optional, Sequence

from testcontainers.core.container import DockerContainer

from ._client import Client, MockError, _Http

PORT = 8080
READY_TIMEOUT = 30.0


def default_image() -> str:
    return os.environ.get("BKZ_MOCK_IMAGE", "biometric-kz-mock:latest")


class BiometricKzMockContainer(DockerContainer, Client):
    """The mock in a container, started with `serve` and any extra flags (`BiometricKzMockContainer(
    flags=["--strict"])`); ready once its health check answers. Once started it has the helpers of
    `Client` (`url`, `new_flow`, `complete`, `requests`, `fault`, `reset`) over its mapped port."""

    def __init__(self, image: Optional[str] = None, flags: Sequence[str] = (), **kwargs: Any) -> None:
        DockerContainer.__init__(self, image or default_image(), **kwargs)
        Client.__init__(self, "")  # the address is known once it runs
        self.with_exposed_ports(PORT)
        if flags:
            self.with_command(["serve", *flags])

    def start(self) -> "BiometricKzMockContainer":
        DockerContainer.start(self)
        self._http = _Http(self.get_url())
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            try:
                self.health()
                return self
            except MockError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def get_url(self) -> str:
        """The mock's base URL on this machine (the container's port 8080, mapped)."""
        return f"http://{self.get_container_host_ip()}:{self.get_exposed_port(PORT)}"
