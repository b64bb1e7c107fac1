"""The vendor docs' Python flow, with the vendor's own addresses written in, run unchanged against
the mock: only the environment points it there.

    HTTPS_PROXY=http://127.0.0.1:8080 REQUESTS_CA_BUNDLE=mock-ca.pem python3 vendor_docs.py

`requests` sends https://kyc.biometric.kz/... through the proxy (the mock's plain port), which
answers CONNECT kyc.biometric.kz:443 itself with a certificate from its test CA; the CA comes from
GET /__admin/ca.pem. Nothing leaves the machine: the mock refuses every other destination.
"""

import base64
import json
import time

import requests

API_KEY = "TTpme201NiUMBA_mock-flow-for-everyone-0000000000"  # the mock's built-in "Flow for everyone"

# 2. Session creation [doc]
url = "https://kyc.biometric.kz/api/v1/flows/session/create/"
payload = json.dumps({"api_key": API_KEY, "metadata": {"extra": {"iin": "900101300017"}}})
headers = {"Content-Type": "application/json"}
response = requests.request("POST", url, headers=headers, data=payload)
response.raise_for_status()
session_id = response.json()["session_id"]
print(f"session: {session_id}")

# The user passes the page at https://remote.biometric.kz/flow/<session_id>; against the mock a
# test finishes it through the mock's admin API, reached the same way.
requests.post(f"https://kyc.biometric.kz/__admin/sessions/{session_id}/complete").raise_for_status()

# 5. Getting the result [doc]
url = "https://kyc.biometric.kz/api/v1/flows/session/result/"
params = {"session_id": session_id, "flow_api_key": API_KEY}
for _ in range(10):
    result = requests.request("GET", url, params=params).json()
    if result["status"] != "PROGRESS":
        break
    time.sleep(1)
print(f"status: {result['status']}")

# 6. Getting liveness video [doc]
url = "https://kyc.biometric.kz/api/v1/liveness/video/download/"
video = requests.request("GET", url, params=params)
video.raise_for_status()
print(f"video: {len(video.content)} bytes, {video.headers['Content-Type']}")

# 7. Getting PDF report [doc]
url = f"https://kyc.biometric.kz/api/v1/flows/session/{session_id}/report/?technology=LDHP"
report = requests.request("POST", url, headers=headers, data=json.dumps({"api_key": API_KEY}))
report.raise_for_status()
pdf = base64.b64decode(report.json()["pdf"])
print(f"report: {pdf[:5].decode()} {len(pdf)} bytes")
