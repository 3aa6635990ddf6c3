#!/usr/bin/env bash
# Makes ui/desktop/fonts/coverage.ttf: the Noto Sans Regular that Fyne
# bundles, cut down to Latin (with Latin-1, Extended-A and -B), Greek and
# Cyrillic, without hinting or layout features (the Dashboard's fallback
# face for its language; see ui/desktop/fonts). Run it again after a Fyne
# upgrade that changes its fonts. Needs pyftsubset (Debian: fonttools).
#   scripts/font-coverage.sh
set -euo pipefail
cd "$(dirname "$0")/.."
fyne="$(go list -m -f '{{.Dir}}' fyne.io/fyne/v2)"
pyftsubset "$fyne/theme/font/NotoSans-Regular.ttf" \
	--unicodes="U+0020-007E,U+00A0-024F,U+0370-03FF,U+0400-04FF" \
	--no-hinting --layout-features='' --name-IDs='*' \
	--output-file=ui/desktop/fonts/coverage.ttf
cp "$fyne/theme/font/LICENSE.txt" ui/desktop/fonts/LICENSE-NotoSans.txt
ls -l ui/desktop/fonts/coverage.ttf
