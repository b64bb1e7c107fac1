#!/usr/bin/env bash
# The vendor docs' curl examples, run against the mock. BKZ_MOCK_URL is the mock's base URL
# (default http://127.0.0.1:8080); against the vendor it would be https://kyc.biometric.kz.
# Needs curl, base64 and grep; writes liveness.mp4 and report.pdf to OUT_DIR (default a temp dir).
set -euo pipefail
BASE=${BKZ_MOCK_URL:-http://127.0.0.1:8080}
KEY=${BKZ_MOCK_API_KEY:-TTpme201NiUMBA_mock-flow-for-everyone-0000000000}   # "Flow for everyone": LDHP, F2F
INDIVIDUALS_KEY=Efy202XKbVAWRu_mock-flow-for-individuals-0000000              # LDHP, ED, F2F
OUT_DIR=${OUT_DIR:-$(mktemp -d)}
HERE=$(cd "$(dirname "$0")" && pwd)
field() { grep -o "\"$1\": *\"[^\"]*\"" | head -1 | sed 's/.*: *"\(.*\)"/\1/'; }

# 2. Session creation (the docs' request, verbatim but for the URL and the key).
curl --fail --silent --location --request POST "$BASE/api/v1/flows/session/create/" \
--header 'Content-Type: application/json' \
--data-raw "{
\"api_key\": \"$KEY\"
}"
echo

# 3.1. Face2Face metadata: a real photo, base64.
PHOTO=$(base64 -w0 "$HERE/../fixtures/photos/face.jpg")
curl --fail --silent --location --request POST "$BASE/api/v1/flows/session/create/" \
--header 'Content-Type: application/json' \
--data-raw "{\"api_key\": \"$KEY\", \"metadata\": {\"face2face\": {\"photo1\": \"$PHOTO\"}}}"
echo

# 3.2. E-Document metadata, case 1 (skip_input). The docs' JSON has trailing commas after
# "changeable": false, which JSON does not allow; they are left out here.
curl --fail --silent --location --request POST "$BASE/api/v1/flows/session/create/" \
--header 'Content-Type: application/json' \
--data-raw "{
    \"api_key\": \"$INDIVIDUALS_KEY\",
    \"metadata\": {
        \"edocument\": {
            \"iin\": {\"value\": \"900101300017\", \"changeable\": false},
            \"phone\": {\"value\": \"77011234567\", \"changeable\": false},
            \"skip_input\": true
        }
    }
}"
echo

# 3.3. Additional metadata (needed for reports), then the user passes the flow (here the mock's
# admin call stands in for a person on the page).
CREATED=$(curl --fail --silent --location --request POST "$BASE/api/v1/flows/session/create/" \
--header 'Content-Type: application/json' \
--data-raw "{\"api_key\": \"$KEY\", \"metadata\": {\"extra\": {\"iin\": \"900101300017\"}}}")
SESSION_ID=$(echo "$CREATED" | field session_id)
echo "session: $SESSION_ID"
curl --fail --silent -o /dev/null -X POST "$BASE/__admin/sessions/$SESSION_ID/complete"

# 5. Getting the result.
RESULT=$(curl --fail --silent --location --request GET "$BASE/api/v1/flows/session/result/?session_id=$SESSION_ID&flow_api_key=$KEY")
echo "status: $(echo "$RESULT" | field status)"

# 6. Getting the liveness video.
curl --fail --silent --location --request GET "$BASE/api/v1/liveness/video/download/?session_id=$SESSION_ID&flow_api_key=$KEY" \
  --output "$OUT_DIR/liveness.mp4"
echo "video: $(wc -c < "$OUT_DIR/liveness.mp4") bytes"

# 7. Getting a PDF report.
REPORT=$(curl --fail --silent --location --request POST "$BASE/api/v1/flows/session/$SESSION_ID/report/?technology=F2F" \
--header 'Content-Type: application/json' \
--data-raw "{
   \"api_key\": \"$KEY\"
}")
echo "$REPORT" | field pdf | base64 -d > "$OUT_DIR/report.pdf"
head -c 5 "$OUT_DIR/report.pdf" | grep -q '%PDF-' && echo "report: $OUT_DIR/report.pdf"
