"""pytest fixtures (registered through the `pytest11` entry point):

- `bkz_mock`: one mock for the whole test session — the one at BKZ_MOCK_URL when set (shared by
  every worker and suite), else a server of this session's own (under pytest-xdist, one per worker);
  its `serve` flags come from the ini option `bkz_mock_args`.
- `bkz_flow`: a new flow with a key of its own for each test, deleted after it with everything its
  key owned. `@pytest.mark.bkz_flow(technologies=[...], scenario=..., seed=...)` shapes it.

Nothing is reset as a whole, so tests run in parallel (`pytest -n 4`) against one shared mock.
"""

from __future__ import annotations

import os
import shlex
import uuid
from typing import Iterator

import pytest

from ._client import Client, Flow, connect
from ._process import start


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "bkz_mock_args",
        "biometric-kz-mock serve flags for the bkz_mock fixture's own server, e.g. --strict --seed 7",
        default="",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "bkz_flow(technologies=None, scenario=None, seed=None): how the test's bkz_flow is made"
    )


@pytest.fixture(scope="session")
def bkz_mock(pytestconfig: pytest.Config) -> Iterator[Client]:
    """The mock for this test session: BKZ_MOCK_URL's, or a server started for it."""
    url = os.environ.get("BKZ_MOCK_URL")
    if url:
        yield connect(url)
        return
    args = shlex.split(pytestconfig.getini("bkz_mock_args"))
    with start(*args) as mock:
        yield mock


@pytest.fixture
def bkz_flow(bkz_mock: Client, request: pytest.FixtureRequest) -> Iterator[Flow]:
    """A flow of this test's own (LDHP and F2F unless the bkz_flow marker says), purged after it."""
    marker = request.node.get_closest_marker("bkz_flow")
    options = dict(marker.kwargs) if marker else {}
    options.setdefault("technologies", ["LDHP", "F2F"])
    flow = bkz_mock.new_flow(name=f"{request.node.name[:150]} {uuid.uuid4().hex[:8]}", **options)
    yield flow
    flow.delete(purge=True)
