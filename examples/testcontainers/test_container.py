"""Testcontainers (Python): the mock as a generic container, waited for by its health check.

Needs `pip install testcontainers requests pytest` and a Docker-compatible engine (Docker, or
podman's `podman system service` with DOCKER_HOST pointing at its socket). BKZ_MOCK_IMAGE names
the image (default biometric-kz-mock:latest).
"""

import os
import time

import requests
from testcontainers.core.container import DockerContainer

IMAGE = os.environ.get("BKZ_MOCK_IMAGE", "biometric-kz-mock:latest")
EVERYONE = "TTpme201NiUMBA_mock-flow-for-everyone-0000000000"


def wait_healthy(url, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/__admin/health", timeout=1).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} never became healthy")


def test_the_mock_runs_as_a_container():
    with DockerContainer(IMAGE).with_exposed_ports(8080) as container:
        url = f"http://{container.get_container_host_ip()}:{container.get_exposed_port(8080)}"
        wait_healthy(url)
        created = requests.post(f"{url}/api/v1/flows/session/create/", json={"api_key": EVERYONE}).json()
        assert created["technologies"] == ["LDHP", "F2F"]
