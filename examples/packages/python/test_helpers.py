"""An integrator's pytest suite on the biometric-kz-mock wheel: the plugin's fixtures (`bkz_mock`, one
server for the session; `bkz_flow`, a flow of each test's own, purged after it), run in parallel
(`pytest -n 4`) against one mock. Nothing here but the installed package and pytest."""

import os
import shutil
import subprocess
import sys

import pytest

import biometric_kz_mock
from biometric_kz_mock import MockError, start


def test_a_user_who_passes_is_verified(bkz_flow):
    session = bkz_flow.create_session()
    bkz_flow.complete(session["session_id"])
    assert bkz_flow.result(session["session_id"])["flow_session_result"] is True


def test_a_magic_iin_makes_liveness_fail(bkz_flow):
    session = bkz_flow.create_session(extra={"iin": "900101390012"})
    bkz_flow.complete(session["session_id"])
    result = bkz_flow.result(session["session_id"])
    assert result["status"] == "FAILED"
    assert result["liveness_result"]["failure_reason"] == {"type": "CALC_RESULT", "detail": "Low overall prediction"}


def test_outcomes_chosen_on_completion(bkz_flow):
    session = bkz_flow.create_session()
    bkz_flow.complete(session["session_id"], outcomes={"LDHP": "passed", "F2F": "failed"})
    assert bkz_flow.result(session["session_id"])["flow_session_result"] is False


def test_the_vendors_rules_answer_as_the_vendor_does(bkz_flow):
    with pytest.raises(MockError) as refused:
        bkz_flow.create_session(edocument={"skip_input": True})
    assert refused.value.status == 400


def test_a_fault_hits_only_this_tests_calls(bkz_flow):
    session_id = bkz_flow.create_session()["session_id"]
    bkz_flow.fault("result", status=503, times=2)
    statuses = []
    for _ in range(3):
        try:
            bkz_flow.result(session_id)
            statuses.append(200)
        except MockError as error:
            statuses.append(error.status)
    assert statuses == [503, 503, 200]


@pytest.mark.parametrize("n", range(8))
def test_each_test_sees_only_its_own_requests(bkz_flow, n):
    for _ in range(n + 1):
        bkz_flow.result(bkz_flow.create_session()["session_id"])
    journal = bkz_flow.requests()
    assert len(journal) == 2 * (n + 1)
    assert {entry["api_key"] for entry in journal} == {bkz_flow.api_key}


@pytest.mark.bkz_flow(technologies=["LDHP"], seed=42)
def test_the_marker_shapes_the_flow_and_a_seed_repeats_ids(bkz_flow):
    assert bkz_flow.technologies == ["LDHP"]
    first = bkz_flow.create_session()["session_id"]
    bkz_flow.reset()
    assert bkz_flow.create_session()["session_id"] == first


def test_start_runs_a_server_of_its_own_with_flags():
    with start(seed=7, strict=True) as mock:
        flow = mock.new_flow(technologies=["LDHP", "F2F"], scenario="liveness-fails")
        session_id = flow.create_session()["session_id"]
        mock.complete(session_id)
        assert flow.result(session_id)["status"] == "FAILED"
        assert len(mock.requests()) == 2
    assert mock.process.returncode == 0, mock.logs()
    with pytest.raises(MockError):
        mock.health()


def test_a_mock_nobody_stopped_does_not_outlive_python():
    script = "from biometric_kz_mock import start; print(start().process.pid)"
    pid = int(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=20, check=True).stdout)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_bad_flag_fails_start_with_what_the_server_said():
    with pytest.raises(MockError, match="unexpected argument '--no-such-flag'"):
        start(no_such_flag=1)


def test_the_executable_is_on_path_from_the_wheel():
    found = shutil.which("biometric-kz-mock")
    assert found and os.path.samefile(found, biometric_kz_mock.find_executable())
    assert "cargo" not in found
    out = subprocess.run([found, "--version"], capture_output=True, text=True, check=True).stdout
    assert out.startswith("biometric-kz-mock ")


def test_the_package_is_typed():
    assert os.path.isfile(os.path.join(os.path.dirname(biometric_kz_mock.__file__), "py.typed"))
