#!/usr/bin/env bash
# Makes the TEST key and self-signed certificate that sign the mock's PDF reports
# (fixtures/signing/). They are published on purpose: nothing they sign is real.
set -euo pipefail
cd "$(dirname "$0")/../fixtures/signing"
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 36500 \
  -keyout test-signing-key.pem -out test-signing-cert.pem \
  -subj "/CN=biometric-kz-mock TEST signer - not a real certificate/O=biometric-kz-mock" \
  -addext "keyUsage=critical,digitalSignature,nonRepudiation" \
  -addext "basicConstraints=critical,CA:FALSE"
