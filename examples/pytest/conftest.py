"""A pytest fixture that runs biometric-kz-mock for the test session, on a free port.

BKZ_MOCK_BIN is the binary (default: `biometric-kz-mock` on PATH; build it with
`cargo build --release`). Against the Docker image, set BKZ_MOCK_URL instead and no process is
started.
"""

import os
import subprocess

import pytest
import requests


@pytest.fixture(scope="session")
def mock_url():
    if os.environ.get("BKZ_MOCK_URL"):
        yield os.environ["BKZ_MOCK_URL"]
        return
    binary = os.environ.get("BKZ_MOCK_BIN", "biometric-kz-mock")
    process = subprocess.Popen([binary, "serve", "--port", "0"], stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline().strip()  # "listening on http://127.0.0.1:PORT"
    assert line.startswith("listening on "), line
    yield line.removeprefix("listening on ")
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def mock(mock_url):
    """The mock, reset before each test."""
    requests.post(f"{mock_url}/__admin/reset").raise_for_status()
    return mock_url
