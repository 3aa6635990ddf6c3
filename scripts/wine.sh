#!/usr/bin/env bash
# Runs the test suites of the packages in scripts/wine/packages as Windows
# test binaries (GOOS=windows, no cgo) under Wine, so that Windows file
# semantics are exercised: drive letters and backslashes, CRLF, files held
# open by another program, reserved names, long paths, the data-folder
# lock, the Credential Manager keyring. docs/WINDOWS.md has the findings.
#
# The Wine prefix (MCONNECT_WINEPREFIX, default ~/.cache/mconnect/wineprefix)
# is created on the first run, with the bcryptprimitives.dll that Go
# programs need and Wine 8.0 lacks (scripts/wine/bcryptprimitives.c).
# Tests that a Wine quirk breaks are listed in scripts/wine/skip and passed
# as -test.skip; the run prints them. Packages: all of the list, or those
# given as arguments.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
wine="${MCONNECT_WINE:-/usr/lib/wine/wine64}"
wineserver="$(dirname "$wine")/wineserver"
cc="${MCONNECT_MINGW_CC:-x86_64-w64-mingw32-gcc}"
for tool in "$wine" "$cc"; do
  command -v "$tool" >/dev/null || { echo "wine.sh: $tool not found: run scripts/deps.sh (wine64, gcc-mingw-w64-x86-64)" >&2; exit 1; }
done
export WINEPREFIX="${MCONNECT_WINEPREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/mconnect/wineprefix}"
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" # no Mono/Gecko installers
unset DISPLAY WAYLAND_DISPLAY                               # no windows, no dialogs
out="$(mktemp -d)"
# Stop this prefix's wineserver (started by this run) and remove the binaries.
trap '"$wineserver" -k 2>/dev/null || true; rm -rf "$out"' EXIT

t0=$(date +%s.%N)
dll="$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  echo "== wine: creating the prefix $WINEPREFIX"
  mkdir -p "$WINEPREFIX"
  "$wine" wineboot --init >/dev/null 2>&1
  "$wineserver" -w
fi
if [ ! -f "$dll" ] || [ "$root/scripts/wine/bcryptprimitives.c" -nt "$dll" ]; then
  "$cc" -shared -O2 -o "$out/bcryptprimitives.dll" "$root/scripts/wine/bcryptprimitives.c" \
    "$root/scripts/wine/bcryptprimitives.def" -ladvapi32
  cp "$out/bcryptprimitives.dll" "$dll"
fi
t1=$(date +%s.%N)

if [ $# -gt 0 ]; then pkgs=("$@"); else mapfile -t pkgs < <(grep -v '^\s*\(#\|$\)' scripts/wine/packages); fi
failed=()
if [ $# -eq 0 ]; then
  # Tests merged since the last scripts/wine-tempdir.sh would fail at cleanup.
  scripts/wine-tempdir.sh --check >/dev/null || failed+=("t.TempDir() left (run scripts/wine-tempdir.sh)")
  # Every package that builds without cgo (all but the Fyne app itself,
  # which the dist script builds with mingw) must build for Windows.
  echo "== wine: go build for windows/amd64 (no cgo)"
  mapfile -t all < <(GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go list -e \
    -f '{{if not .DepsErrors}}{{if not .Error}}{{.ImportPath}}{{end}}{{end}}' ./...)
  GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build "${all[@]}" || failed+=("windows build")
fi
for pkg in "${pkgs[@]}"; do
  pkg="${pkg#./}"
  skip="$(awk -v p="$pkg" '$1 == p { printf "%s%s", sep, $2; sep = "|" }' scripts/wine/skip)"
  args=(-test.count=1 -test.timeout=15m)
  if [ -n "$skip" ]; then
    args+=(-test.skip "^(${skip})\$")
    echo "== wine $pkg (skipped under Wine, see docs/WINDOWS.md: $skip)"
  else
    echo "== wine $pkg"
  fi
  exe="$out/$(echo "$pkg" | tr / _).test.exe"
  if ! GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go test -c -o "$exe" "./$pkg"; then
    failed+=("$pkg (build)"); continue
  fi
  [ -f "$exe" ] || continue # no test files
  # Go runs a test binary in its package's folder: so does this.
  if ! (cd "$pkg" && "$wine" "$exe" "${args[@]}"); then failed+=("$pkg"); fi
done
t2=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "== wine: prefix %.1fs, build and tests %.1fs\n", b - a, c - b }'
if [ ${#failed[@]} -gt 0 ]; then
  echo "!! failed under Wine: ${failed[*]}" >&2
  exit 1
fi
