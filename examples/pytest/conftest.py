"""pytest fixtures for biometric-kz-mock: one mock for the test session, and a flow of its own for
each test, so that tests (and pytest-xdist workers, and other suites sharing the mock) never see
or disturb each other (SPEC §16: everything is scoped by the flow's API key).

Needs Python's `pytest` and `requests` (`pip install pytest requests`; `pytest-xdist` for `-n`)
and the mock:
- a running mock shared by every worker and suite (a container, a CI service, a dev server):
  `BKZ_MOCK_URL=http://host:8080`; no process is started; or
- the binary: `cargo install --path .` from the repository puts `biometric-kz-mock` on PATH, or
  `cargo build --release` and `BKZ_MOCK_BIN=target/release/biometric-kz-mock`; each pytest-xdist
  worker then starts its own on a free port.

`flow` is a new flow (a new key) for each test, deleted after it with everything its key owned
(`DELETE /__admin/flows/{key}?purge=true`). The mock is never reset as a whole: other tests'
flows and sessions are theirs.
"""

import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass

import pytest
import requests

HOW_TO_GET_IT = (
    "biometric-kz-mock was not found{what}. Install it with `cargo install --path .` from the "
    "repository, or build it (`cargo build --release`) and set BKZ_MOCK_BIN=target/release/biometric-kz-mock, "
    "or point BKZ_MOCK_URL at a running mock (for example its Docker image)."
)


def _binary():
    given = os.environ.get("BKZ_MOCK_BIN")
    if given:
        if not (os.path.isfile(given) and os.access(given, os.X_OK)):
            pytest.fail(HOW_TO_GET_IT.format(what=f" at BKZ_MOCK_BIN={given}"), pytrace=False)
        return given
    found = shutil.which("biometric-kz-mock")
    if not found:
        pytest.fail(HOW_TO_GET_IT.format(what=" on PATH"), pytrace=False)
    return found


@pytest.fixture(scope="session")
def mock():
    """The mock's base URL: BKZ_MOCK_URL's, or a server of this test session's own."""
    if os.environ.get("BKZ_MOCK_URL"):
        yield os.environ["BKZ_MOCK_URL"]
        return
    process = subprocess.Popen([_binary(), "serve", "--port", "0"], stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline().strip()  # "listening on http://127.0.0.1:PORT"
    assert line.startswith("listening on "), line
    yield line.removeprefix("listening on ")
    process.terminate()
    process.wait(timeout=10)


@dataclass
class Flow:
    """A flow of one test's own: its key scopes what the test reads from the admin API."""

    url: str
    api_key: str

    def requests(self):
        """What the code under test sent with this flow's key (and to its sessions' pages)."""
        answer = requests.get(f"{self.url}/__admin/requests", params={"api_key": self.api_key})
        answer.raise_for_status()
        return answer.json()

    def complete(self, session_id, **body):
        answer = requests.post(f"{self.url}/__admin/sessions/{session_id}/complete", json=body or None)
        answer.raise_for_status()
        return answer.json()

    def fault(self, endpoint, times=1, **rule):
        """A fault rule that plays only on this flow's calls."""
        body = {"endpoint": endpoint, "times": times, "api_key": self.api_key, **rule}
        requests.post(f"{self.url}/__admin/faults", json=body).raise_for_status()


@pytest.fixture
def flow(mock, request):
    """A new flow (LDHP, F2F) for this test, purged after it."""
    name = f"{request.node.name[:150]} {uuid.uuid4().hex[:8]}"
    answer = requests.post(f"{mock}/__admin/flows", json={"name": name, "technologies": ["LDHP", "F2F"]})
    answer.raise_for_status()
    key = answer.json()["api_key"]
    yield Flow(mock, key)
    requests.delete(f"{mock}/__admin/flows/{key}", params={"purge": "true"}).raise_for_status()
