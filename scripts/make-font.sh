#!/usr/bin/env bash
# Cuts fixtures/fonts/DejaVuSans-LatCyr.ttf from Debian's DejaVu Sans (package fonts-dejavu-core):
# Latin, Cyrillic (with the Kazakh letters) and punctuation only, so that each PDF report embeds
# a small font. Needs fonttools (pip install fonttools). The output is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
pyftsubset /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf \
  --unicodes="U+0020-007E,U+00A0-017F,U+0400-04FF,U+2010-2027,U+2030-203A,U+20B8,U+2116,U+2190-2193,U+25CF" \
  --layout-features='*' --name-IDs='*' --name-legacy --glyph-names=false --notdef-outline \
  --output-file=fixtures/fonts/DejaVuSans-LatCyr.ttf
ls -l fixtures/fonts/DejaVuSans-LatCyr.ttf
