"""Testcontainers (Python): the mock's image with the wheel's helpers over the mapped port. Needs
`biometric-kz-mock[testcontainers]`, a Docker-compatible engine (DOCKER_HOST) and the image
(BKZ_MOCK_IMAGE, default biometric-kz-mock:latest)."""

from biometric_kz_mock.testcontainers import BiometricKzMockContainer


def test_the_container_with_the_same_helpers():
    with BiometricKzMockContainer(flags=["--strict"]) as mock:
        flow = mock.new_flow()
        session_id = flow.create_session()["session_id"]
        flow.complete(session_id)
        assert flow.result(session_id)["flow_session_result"] is True
        assert len(flow.requests()) == 2
