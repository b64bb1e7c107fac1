"""The Backend API with Python's `requests`, as integrators' servers call it (a Django view posting
`liveness/short/`, a web app doing the E-Document request and approve). Run it against the mock:

    BKZ_MOCK_URL=http://127.0.0.1:8080 python3 examples/backend_api.py

In production the base URL is https://kyc.biometric.kz and the key is your organisation's Backend
Api Key from the personal account; the mock's built-in key is below (GET /__admin/backend-keys).
"""

import os
from pathlib import Path

import requests

BASE = os.environ.get("BKZ_MOCK_URL", "http://127.0.0.1:8080").rstrip("/")
API_KEY = os.environ.get("BACKEND_API_KEY", "mock-backend-api-key-every-subscription-0000000000")
PHOTO = Path(__file__).resolve().parent.parent / "fixtures" / "photos" / "face.jpg"


def liveness(photo_path):
    """One photo: is it a live person? (multipart: api_key, image)"""
    with open(photo_path, "rb") as image:
        response = requests.post(f"{BASE}/api/v1/backend/liveness/short/",
                                 data={"api_key": API_KEY}, files={"image": image}, timeout=30)
    response.raise_for_status()
    return response.json()


def compare(first, second):
    """Two photos: how alike are the faces? (multipart: api_key, img_1, img_2)"""
    with open(first, "rb") as img_1, open(second, "rb") as img_2:
        response = requests.post(f"{BASE}/api/v1/backend/face2face/compare/",
                                 data={"api_key": API_KEY}, files={"img_1": img_1, "img_2": img_2}, timeout=30)
    response.raise_for_status()
    return response.json()


def request_document(iin, phone):
    """Asks for the citizen's identity card; an SMS code goes to the phone from 1414."""
    response = requests.post(f"{BASE}/api/v1/backend/e-document/online-access/request/identity_card/",
                             json={"api_key": API_KEY, "iin": iin, "phone": phone}, timeout=30)
    if response.status_code != 200:
        # The vendor's errors are {"detail": "..."}: "Subject not found in MCDB", "Invalid IIN", ...
        raise RuntimeError(f"{response.status_code}: {response.json()['detail']}")
    return response.json()["backend_session_id"]


def approve(backend_session_id, code):
    """The code the citizen read from the SMS; the document, with its files."""
    response = requests.post(f"{BASE}/api/v1/backend/e-document/online-access/approve/",
                             json={"backend_session_id": backend_session_id, "code": code,
                                   "file": True, "file_type": "pdf"}, timeout=30)
    if response.status_code != 200:
        raise RuntimeError(f"{response.status_code}: {response.json()['detail']}")
    return response.json()


if __name__ == "__main__":
    live = liveness(PHOTO)
    print(f"liveness: result={live['result']} prediction={live['prediction']}")
    faces = compare(PHOTO, PHOTO)
    print(f"face2face: result={faces['result']} similarity={faces['prediction_percent']}%")

    session_id = request_document("900101300017", "77011234567")
    # A person reads the SMS; against the mock, a test reads the code from the admin API.
    code = requests.get(f"{BASE}/__admin/backend-sessions/{session_id}", timeout=30).json()["otp"]
    document = approve(session_id, code)
    owner = document["result_json"]["common"]["docOwner"]
    print(f"e-document: {owner['lastName']} {owner['firstName']} IIN {owner['iin']}, "
          f"document {document['result_json']['common']['docNumber']}, pdf {len(document['document_pdf'])} base64 chars")
    try:
        request_document("900101390042", "77011234567")  # the mock's magic IIN for "not in the database"
    except RuntimeError as refused:
        print(f"refused: {refused}")
