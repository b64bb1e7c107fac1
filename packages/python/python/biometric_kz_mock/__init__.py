"""biometric-kz-mock for Python tests: an offline fake of the biometric.kz KYC API (the vendor's
kyc.biometric.kz and remote.biometric.kz), its server inside this package.

    from biometric_kz_mock import start

    with start() as mock:                       # a server on a free port of 127.0.0.1
        flow = mock.new_flow(technologies=["LDHP", "F2F"])
        session = flow.create_session()         # what your backend does, with flow.api_key
        flow.complete(session["session_id"])    # what the user does on the hosted page
        assert flow.requests()[0]["path"] == "/api/v1/flows/session/create/"

Point your code at `mock.url` (or `flow.url`) with `flow.api_key`. Everything a flow's key owns is
its own (sessions, journal entries, faults), so tests sharing one mock never see each other's.
pytest users get the fixtures `bkz_mock` and `bkz_flow` (biometric_kz_mock.pytest_plugin).
"""

from importlib import metadata

from ._client import Client, Flow, MockError, connect
from ._process import ExecutableNotFound, Mock, find_executable, start

try:
    __version__ = metadata.version("biometric-kz-mock")  # the crate's, as the wheel was built
except metadata.PackageNotFoundError:  # run from the repository's sources
    __version__ = "0+source"

__all__ = ["__version__", "Client", "ExecutableNotFound", "Flow", "Mock", "MockError", "connect", "find_executable", "start"]
