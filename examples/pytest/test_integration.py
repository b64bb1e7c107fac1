"""What an integrator's pytest suite looks like against the mock: create a session as the
backend would, let the "user" pass or fail, and check how the code reacts to the result."""

import requests

EVERYONE = "TTpme201NiUMBA_mock-flow-for-everyone-0000000000"


def create_session(base, metadata=None):
    body = {"api_key": EVERYONE, **({"metadata": metadata} if metadata else {})}
    response = requests.post(f"{base}/api/v1/flows/session/create/", json=body)
    response.raise_for_status()
    return response.json()["session_id"]


def result(base, session_id):
    params = {"session_id": session_id, "flow_api_key": EVERYONE}
    return requests.get(f"{base}/api/v1/flows/session/result/", params=params).json()


def test_a_user_who_passes_is_verified(mock):
    session_id = create_session(mock)
    requests.post(f"{mock}/__admin/sessions/{session_id}/complete").raise_for_status()
    assert result(mock, session_id)["flow_session_result"] is True


def test_a_magic_iin_makes_liveness_fail(mock):
    session_id = create_session(mock, {"extra": {"iin": "900101390012"}})  # scenario liveness-fails
    requests.post(f"{mock}/__admin/sessions/{session_id}/complete").raise_for_status()
    body = result(mock, session_id)
    assert body["status"] == "FAILED"
    assert body["liveness_result"]["failure_reason"] == {"type": "CALC_RESULT", "detail": "Low overall prediction"}


def test_the_journal_shows_what_the_backend_sent(mock):
    create_session(mock)
    (entry,) = requests.get(f"{mock}/__admin/requests").json()
    assert entry["path"] == "/api/v1/flows/session/create/"
    assert entry["lint"] == []
