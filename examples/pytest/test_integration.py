"""What an integrator's pytest suite looks like against the mock: create a session as the
backend would, let the "user" pass or fail, and check how the code reacts to the result. Each
test has a flow of its own (`flow`), so the suite runs in parallel (`pytest -n 4`) against one
shared mock."""

import pytest
import requests


def create_session(flow, metadata=None):
    body = {"api_key": flow.api_key, **({"metadata": metadata} if metadata else {})}
    response = requests.post(f"{flow.url}/api/v1/flows/session/create/", json=body)
    response.raise_for_status()
    return response.json()["session_id"]


def result(flow, session_id):
    params = {"session_id": session_id, "flow_api_key": flow.api_key}
    return requests.get(f"{flow.url}/api/v1/flows/session/result/", params=params)


def test_a_user_who_passes_is_verified(flow):
    session_id = create_session(flow)
    flow.complete(session_id)
    assert result(flow, session_id).json()["flow_session_result"] is True


def test_a_magic_iin_makes_liveness_fail(flow):
    session_id = create_session(flow, {"extra": {"iin": "900101390012"}})  # scenario liveness-fails
    flow.complete(session_id)
    body = result(flow, session_id).json()
    assert body["status"] == "FAILED"
    assert body["liveness_result"]["failure_reason"] == {"type": "CALC_RESULT", "detail": "Low overall prediction"}


def test_the_journal_shows_what_the_backend_sent(flow):
    create_session(flow)
    (entry,) = flow.requests()  # this test's requests only, whatever runs beside it
    assert entry["path"] == "/api/v1/flows/session/create/"
    assert entry["lint"] == []


def test_a_fault_hits_only_this_tests_calls(flow):
    session_id = create_session(flow)
    flow.fault("result", times=2, status=503)
    assert [result(flow, session_id).status_code for _ in range(3)] == [503, 503, 200]


@pytest.mark.parametrize("n", range(8))
def test_many_tests_at_once_each_see_only_their_own(flow, n):
    sessions = [create_session(flow) for _ in range(n + 1)]
    for session_id in sessions:
        result(flow, session_id)
    assert len(flow.requests()) == 2 * (n + 1)
