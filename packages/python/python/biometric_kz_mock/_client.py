"""The admin API of a running mock, over HTTP: flows with keys of their own, and what each key's
calls did (SPEC §16). Python's standard library only, so the package needs nothing else."""

from __future__ import annotations

import json
import os
import uuid
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, List, Mapping, Optional, Sequence

CREATE = "/api/v1/flows/session/create/"
RESULT = "/api/v1/flows/session/result/"
DEFAULT_TECHNOLOGIES = ("LDHP", "F2F")

# Straight to the mock, whatever HTTP_PROXY says: a suite that proxies its vendor calls through the
# mock must not send the helpers' own calls there too.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class MockError(Exception):
    """A call to the mock failed: it answered an error (`status` and the answer's `body`), or it
    could not be reached (`status` is None)."""

    def __init__(self, message: str, status: Optional[int] = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class _Http:
    """JSON calls to one mock's base URL, with its admin token when it has one."""

    def __init__(self, url: str, admin_token: Optional[str] = None, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.admin_token = admin_token if admin_token is not None else os.environ.get("BKZ_MOCK_ADMIN_TOKEN")
        self.timeout = timeout

    def call(self, method: str, path: str, body: Any = None, query: Optional[Mapping[str, str]] = None) -> Any:
        """The answer's JSON (None when it has no body); a MockError for any status of 400 or more."""
        if not self.url:
            raise MockError("the mock is not running yet: start it first (a container: use it in a `with` block)")
        url = self.url + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self.admin_token and path.startswith("/__admin"):
            headers["Authorization"] = f"Bearer {self.admin_token}"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with _OPENER.open(request, timeout=self.timeout) as answer:
                raw = answer.read()
        except urllib.error.HTTPError as error:
            raw = error.read()
            detail = _json_or_text(raw)
            raise MockError(f"{method} {path} answered {error.code}: {detail}", error.code, detail) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise MockError(f"{method} {self.url}{path} failed: {reason}") from None
        return _json_or_text(raw) if raw else None

    def object(self, method: str, path: str, body: Any = None, query: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
        """A call whose answer is a JSON object."""
        answer = self.call(method, path, body, query)
        if not isinstance(answer, dict):
            raise MockError(f"{method} {path} answered {answer!r}, not a JSON object", body=answer)
        return answer

    def array(self, method: str, path: str, query: Optional[Mapping[str, str]] = None) -> List[Dict[str, Any]]:
        """A call whose answer is a JSON array."""
        answer = self.call(method, path, query=query)
        if not isinstance(answer, list):
            raise MockError(f"{method} {path} answered {answer!r}, not a JSON array", body=answer)
        return answer


def _json_or_text(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


class _Helpers:
    """What the whole mock and one flow both offer; a flow's calls carry its key, so they see and
    change only what that key owns (SPEC §16), the whole mock's see everything."""

    _http: _Http
    _key: Optional[str] = None

    @property
    def url(self) -> str:
        """The mock's base URL (`http://127.0.0.1:PORT`): the vendor's API and end-user page are here."""
        return self._http.url

    def _scope(self) -> Optional[Dict[str, str]]:
        return {"api_key": self._key} if self._key is not None else None

    def complete(
        self, session_id: str, scenario: Optional[str] = None, outcomes: Optional[Mapping[str, str]] = None
    ) -> Dict[str, Any]:
        """Finishes the session as its user would; `scenario` (a scenario's name) or `outcomes`
        (`{"LDHP": "passed", "F2F": "failed"}`) choose how it ends."""
        body: Dict[str, Any] = {}
        if scenario is not None:
            body["scenario"] = scenario
        if outcomes is not None:
            body["outcomes"] = dict(outcomes)
        path = f"/__admin/sessions/{urllib.parse.quote(session_id, safe='')}/complete"
        return self._http.object("POST", path, body or None)

    def requests(self) -> List[Dict[str, Any]]:
        """The request journal, newest first: a flow's own calls (and its sessions' pages), or everyone's."""
        return self._http.array("GET", "/__admin/requests", query=self._scope())

    def fault(
        self,
        endpoint: str,
        status: Optional[int] = None,
        delay_ms: Optional[int] = None,
        drop_connection: bool = False,
        times: int = 1,
        detail: Optional[str] = None,
    ) -> Dict[str, Any]:
        """The next `times` calls to `endpoint` ("create", "result", "video", "report", ...) answer
        `status`, wait `delay_ms` or are dropped: a flow's calls only, or everyone's."""
        rule: Dict[str, Any] = {"endpoint": endpoint, "times": times}
        optional = {"status": status, "delay_ms": delay_ms, "detail": detail, "api_key": self._key}
        rule.update((name, value) for name, value in optional.items() if value is not None)
        if drop_connection:
            rule["drop_connection"] = True
        return self._http.object("POST", "/__admin/faults", rule)

    def reset(self) -> None:
        """A flow: clears what its key owns (sessions, journal, faults, webhook attempts), the flow
        stays. The whole mock: everything cleared, flows back to the start-up set."""
        self._http.call("POST", "/__admin/reset", query=self._scope())

    def __repr__(self) -> str:
        key = f"api_key={self._key!r}, " if self._key is not None else ""
        return f"{type(self).__name__}({key}url={self.url!r})"


class Flow(_Helpers):
    """A flow with a key of its own: its sessions, journal entries and fault rules are its own, so
    tests (and pytest-xdist workers, and other suites on the same mock) never see each other's."""

    def __init__(self, http: _Http, answer: Mapping[str, Any]) -> None:
        self._http = http
        self._key = answer["api_key"]
        self.api_key: str = answer["api_key"]
        self.name: str = answer.get("name", "")
        self.technologies: List[str] = list(answer.get("technologies", []))

    def create_session(self, **metadata: Any) -> Dict[str, Any]:
        """Creates a session as the integrator's backend would (`POST .../session/create/` with this
        flow's key and `metadata` when given, e.g. `extra={"iin": "900101390012"}`); returns the
        vendor's answer: `{"session_id", "technologies"}`."""
        body: Dict[str, Any] = {"api_key": self.api_key}
        if metadata:
            body["metadata"] = metadata
        return self._http.object("POST", CREATE, body)

    def result(self, session_id: str) -> Dict[str, Any]:
        """The session's result as the vendor's result endpoint answers it."""
        return self._http.object("GET", RESULT, query={"session_id": session_id, "flow_api_key": self.api_key})

    def sessions(self) -> List[Dict[str, Any]]:
        """This flow's sessions as the admin API shows them."""
        return self._http.array("GET", "/__admin/sessions", query=self._scope())

    def delete(self, purge: bool = True) -> None:
        """Deletes the flow; with `purge`, everything its key owned goes too."""
        query = {"purge": "true"} if purge else None
        self._http.call("DELETE", f"/__admin/flows/{urllib.parse.quote(self.api_key, safe='')}", query=query)


class Client(_Helpers):
    """A mock at a URL: one this process started (`Mock`), a running one (`connect`), or a container's."""

    def __init__(self, url: str, admin_token: Optional[str] = None) -> None:
        self._http = _Http(url, admin_token)

    def new_flow(
        self,
        technologies: Sequence[str] = DEFAULT_TECHNOLOGIES,
        scenario: Optional[str] = None,
        seed: Optional[int] = None,
        name: Optional[str] = None,
        webhook_urls: Optional[Sequence[str]] = None,
    ) -> Flow:
        """A new flow with a key of its own (`POST /__admin/flows`). `scenario` is how its sessions
        end unless their metadata chooses; `seed` makes its ids and values repeat run after run."""
        body: Dict[str, Any] = {
            "name": name or f"flow {uuid.uuid4().hex[:12]}",
            "technologies": list(technologies),
        }
        if scenario is not None:
            body["scenario"] = scenario
        if seed is not None:
            body["seed"] = seed
        if webhook_urls is not None:
            body["webhook_urls"] = list(webhook_urls)
        return Flow(self._http, self._http.object("POST", "/__admin/flows", body))

    def health(self) -> Dict[str, Any]:
        return self._http.object("GET", "/__admin/health")


def connect(url: str, admin_token: Optional[str] = None) -> Client:
    """The helpers for a mock that is already running (a container, a CI service, a dev server)."""
    client = Client(url, admin_token)
    client.health()
    return client
