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
from typing import Any, Dict, List, Mapping, Optional, Sequence

from testcontainers.core.container import DockerContainer

from ._client import DEFAULT_TECHNOLOGIES, Client, Flow, MockError

PORT = 8080
READY_TIMEOUT = 30.0


def default_image() -> str:
    return os.environ.get("BKZ_MOCK_IMAGE", "biometric-kz-mock:latest")


class BiometricKzMockContainer(DockerContainer):
    """The mock in a container, started with `serve` and any extra flags (`BiometricKzMockContainer(
    flags=["--strict"])`); ready once its health check answers."""

    def __init__(self, image: Optional[str] = None, flags: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(image or default_image(), **kwargs)
        self.with_exposed_ports(PORT)
        if flags:
            self.with_command(["serve", *flags])
        self._client: Optional[Client] = None

    def start(self) -> "BiometricKzMockContainer":
        super().start()
        client = Client(self.get_url())
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            try:
                client.health()
                break
            except MockError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self._client = client
        return self

    def get_url(self) -> str:
        """The mock's base URL on this machine (the container's port 8080, mapped)."""
        return f"http://{self.get_container_host_ip()}:{self.get_exposed_port(PORT)}"

    @property
    def client(self) -> Client:
        if self._client is None:
            raise MockError("the container is not started: use it in a `with` block or call start()")
        return self._client

    @property
    def url(self) -> str:
        return self.client.url

    def new_flow(
        self,
        technologies: Sequence[str] = DEFAULT_TECHNOLOGIES,
        scenario: Optional[str] = None,
        seed: Optional[int] = None,
        name: Optional[str] = None,
        webhook_urls: Optional[Sequence[str]] = None,
    ) -> Flow:
        return self.client.new_flow(technologies, scenario, seed, name, webhook_urls)

    def complete(
        self, session_id: str, scenario: Optional[str] = None, outcomes: Optional[Mapping[str, str]] = None
    ) -> Dict[str, Any]:
        return self.client.complete(session_id, scenario, outcomes)

    def requests(self) -> List[Dict[str, Any]]:
        return self.client.requests()

    def fault(
        self,
        endpoint: str,
        status: Optional[int] = None,
        delay_ms: Optional[int] = None,
        drop_connection: bool = False,
        times: int = 1,
        detail: Optional[str] = None,
    ) -> Dict[str, Any]:
        return self.client.fault(endpoint, status, delay_ms, drop_connection, times, detail)

    def reset(self) -> None:
        self.client.reset()
