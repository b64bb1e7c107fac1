"""A pytest fixture that runs biometric-kz-mock for the test session, on a free port.

Needs Python's `pytest` and `requests` (`pip install pytest requests`) and the mock's binary:
- `cargo install --path .` from the repository puts `biometric-kz-mock` on PATH, or
- `cargo build --release` and `BKZ_MOCK_BIN=target/release/biometric-kz-mock`, or
- a running mock (a container, a shared dev server): `BKZ_MOCK_URL=http://host:8080`, and no
  process is started.

The `mock` fixture resets the mock before each test (`POST /__admin/reset`): sessions, journal,
faults and run-time flows are cleared. Against a mock that others use too (BKZ_MOCK_URL), that
reset clears their sessions as well: give each suite its own mock.
"""

import os
import shutil
import subprocess

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
def mock_url():
    if os.environ.get("BKZ_MOCK_URL"):
        yield os.environ["BKZ_MOCK_URL"]
        return
    process = subprocess.Popen([_binary(), "serve", "--port", "0"], stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline().strip()  # "listening on http://127.0.0.1:PORT"
    assert line.startswith("listening on "), line
    yield line.removeprefix("listening on ")
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def mock(mock_url):
    """The mock, reset before each test (a shared mock's other users lose their sessions too)."""
    requests.post(f"{mock_url}/__admin/reset").raise_for_status()
    return mock_url
