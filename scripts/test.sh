#!/usr/bin/env bash
# Runs the whole test suite the way CI does: go vet, staticcheck, the race
# tests with a real X server (Xvfb), a real D-Bus session with an unlocked
# gnome-keyring (the Secret Service), and short fuzz runs of every parser.
set -euo pipefail
cd "$(dirname "$0")/.."

# Keep Go's caches where they are while HOME points at a throwaway folder
# (gnome-keyring must not touch the user's real keyring).
export GOPATH="$(go env GOPATH)" GOCACHE="$(go env GOCACHE)" GOMODCACHE="$(go env GOMODCACHE)"
work="$(mktemp -d)"
cleanup() {
  [ -n "${xvfb_pid:-}" ] && kill "$xvfb_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export HOME="$work/home" XDG_RUNTIME_DIR="$work/run" XDG_CONFIG_HOME="$work/home/.config" XDG_DATA_HOME="$work/home/.local/share"
mkdir -p "$HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
export LANG=C.UTF-8

# A private X display for the real-window test.
for n in $(seq 90 120); do
  if [ ! -e "/tmp/.X11-unix/X$n" ] && [ ! -e "/tmp/.X$n-lock" ]; then disp=":$n"; break; fi
done
Xvfb "$disp" -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
xvfb_pid=$!
export DISPLAY="$disp"

export MCONNECT_REAL_KEYRING=1 MCONNECT_XVFB_TEST=1
exec dbus-run-session -- bash -c '
  set -euo pipefail
  echo -n ci-keyring-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  echo "== go vet"
  go vet ./...
  echo "== staticcheck"
  go run honnef.co/go/tools/cmd/staticcheck@v0.7.0 ./...
  echo "== fuzz (short runs of every parser)"
  scripts/fuzz.sh "${MCONNECT_FUZZTIME:-10s}"
  echo "== go test -race"
  go test -race -count=1 -timeout 25m ./...
'
