"""The integrator's backend for examples/widget/index.html, with Python's standard library only.

    BKZ_MOCK_URL=http://127.0.0.1:8080 python3 examples/widget/backend.py   # then open http://127.0.0.1:3000

- GET  /                       the host page, loading the widget from the mock
- POST /api/verification       creates a session with the flow's key -> {"session_id"}
- GET  /api/verification/<id>  the session's result -> {"status", "success"}

Settings: BKZ_MOCK_URL (the mock; in production https://kyc.biometric.kz for the API and
https://remote.biometric.kz for the widget), FLOW_API_KEY (default: the mock's built-in
"Flow for everyone"), PORT (default 3000; 0 picks a free port). Prints "listening on URL".
"""

import json
import os
import sys
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MOCK = os.environ.get("BKZ_MOCK_URL", "http://127.0.0.1:8080").rstrip("/")
FLOW_API_KEY = os.environ.get("FLOW_API_KEY", "TTpme201NiUMBA_mock-flow-for-everyone-0000000000")
PAGE = (Path(__file__).parent / "index.html").read_text(encoding="utf-8").replace("{{MOCK_URL}}", MOCK)


def call_mock(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(MOCK + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


class Backend(BaseHTTPRequestHandler):
    def answer(self, status, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path in ("/", "/index.html"):
            return self.answer(200, PAGE, "text/html; charset=utf-8")
        if self.path.startswith("/api/verification/"):
            session_id = urllib.parse.unquote(self.path.rsplit("/", 1)[1])
            query = urllib.parse.urlencode({"session_id": session_id, "flow_api_key": FLOW_API_KEY})
            result = call_mock("GET", f"/api/v1/flows/session/result/?{query}")
            return self.answer(200, {"status": result["status"], "success": result["flow_session_result"]})
        self.answer(404, {"detail": "Not found."})

    def do_POST(self):
        if self.path == "/api/verification":
            created = call_mock("POST", "/api/v1/flows/session/create/", {"api_key": FLOW_API_KEY})
            return self.answer(200, {"session_id": created["session_id"]})
        self.answer(404, {"detail": "Not found."})

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "3000"))), Backend)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)
