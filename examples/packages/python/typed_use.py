"""Checked with `mypy --strict` (never run): the package's types as a typed test suite sees them."""

from typing import Dict, Iterator, List

import pytest

from biometric_kz_mock import Client, Flow, Mock, MockError, connect, start


def typed(bkz_mock: Client, bkz_flow: Flow) -> None:
    mock: Mock = start(seed=7)
    flow: Flow = mock.new_flow(technologies=["LDHP"], scenario="happy-path", seed=1)
    session: Dict[str, object] = flow.create_session(extra={"iin": "900101390012"})
    flow.complete(str(session["session_id"]), outcomes={"LDHP": "passed"})
    flow.fault("result", status=503, delay_ms=10, drop_connection=False, times=1)
    journal: List[Dict[str, object]] = flow.requests()
    other: Client = connect(mock.url)
    other.reset()
    key: str = bkz_flow.api_key
    url: str = bkz_mock.url
    mock.stop()
    status: "int | None" = MockError("x").status
    del journal, key, url, status


@pytest.fixture
def session_id(bkz_flow: Flow) -> Iterator[str]:
    yield str(bkz_flow.create_session()["session_id"])
