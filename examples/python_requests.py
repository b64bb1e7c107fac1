"""The vendor docs' Python examples (requests), run against the mock.

BKZ_MOCK_URL is the mock's base URL (default http://127.0.0.1:8080); against the vendor it
would be https://kyc.biometric.kz. Corrections to the docs' code: the result example's params
miss a closing quote ('<flow_api_key>,), and the E-Document payloads miss the closing brace of
"metadata"; both are fixed here. Needs `pip install requests`.
"""

import base64
import json
import os
import pathlib
import sys
import tempfile
import time

import requests

BASE = os.environ.get("BKZ_MOCK_URL", "http://127.0.0.1:8080")
KEY = os.environ.get("BKZ_MOCK_API_KEY", "TTpme201NiUMBA_mock-flow-for-everyone-0000000000")
INDIVIDUALS_KEY = "Efy202XKbVAWRu_mock-flow-for-individuals-0000000"
OUT = pathlib.Path(os.environ.get("OUT_DIR") or tempfile.mkdtemp())
HERE = pathlib.Path(__file__).resolve().parent
IIN, PHONE = "900101300017", "77011234567"


def create(api_key, metadata=None):
    url = f"{BASE}/api/v1/flows/session/create/"
    body = {"api_key": api_key}
    if metadata is not None:
        body["metadata"] = metadata
    headers = {"Content-Type": "application/json"}
    response = requests.post(url=url, headers=headers, data=json.dumps(body))
    response.raise_for_status()
    data = response.json()
    assert set(data) == {"session_id", "technologies"}, data
    return data


# 2. Session creation.
print(create(KEY))

# 3.1. Face2Face metadata.
with open(HERE.parent / "fixtures" / "photos" / "face.jpg", "rb") as image_file:
    encoded_image = base64.b64encode(image_file.read()).decode("utf-8")
print(create(KEY, {"face2face": {"photo1": encoded_image}}))

# 3.2. E-Document metadata: case 1 (skip_input), case 2 (IIN locked), case 3 (both editable).
for case in (
    {"iin": {"value": IIN, "changeable": False}, "phone": {"value": PHONE, "changeable": False}, "skip_input": True},
    {"iin": {"value": IIN, "changeable": False}, "phone": {"value": PHONE}},
    {"iin": {"value": IIN}, "phone": {"value": PHONE}},
):
    print(create(INDIVIDUALS_KEY, {"edocument": case}))

# skip_input without its preconditions is refused, every unmet one listed.
refused = requests.post(f"{BASE}/api/v1/flows/session/create/",
                        json={"api_key": INDIVIDUALS_KEY, "metadata": {"edocument": {"skip_input": True}}})
assert refused.status_code == 400, refused.text
print("refused:", refused.json())

# 3.3. Additional metadata, then the user passes the flow (the mock's admin call stands in for a
# person on the page) and we poll the result as the docs show.
session_id = create(KEY, {"extra": {"iin": IIN}})["session_id"]
requests.post(f"{BASE}/__admin/sessions/{session_id}/complete").raise_for_status()

url = f"{BASE}/api/v1/flows/session/result/"
params = {
    "session_id": session_id,
    "flow_api_key": KEY,
}
for _ in range(20):
    response = requests.request("GET", url=url, params=params)
    result = response.json()
    if response.ok and result["status"] != "PROGRESS":
        break
    time.sleep(1)
print("status:", result["status"], "liveness prediction:", result["liveness_result"]["prediction"])
assert result["status"] == "FINISHED", result

# 6. Getting the liveness video.
response = requests.request("GET", url=f"{BASE}/api/v1/liveness/video/download/", params=params)
response.raise_for_status()
(OUT / "liveness.mp4").write_bytes(response.content)
print("video:", len(response.content), "bytes,", response.headers["Content-Type"])

# 7. Getting a PDF report.
response = requests.post(
    f"{BASE}/api/v1/flows/session/{session_id}/report/",
    headers={"Content-Type": "application/json"},
    params={"technology": "F2F"},
    data=json.dumps({"api_key": KEY}),
)
response.raise_for_status()
pdf = base64.b64decode(response.json()["pdf"])
assert pdf.startswith(b"%PDF-"), pdf[:10]
(OUT / "report.pdf").write_bytes(pdf)
print("report:", OUT / "report.pdf")
sys.exit(0)
