#!/usr/bin/env bash
# Runs the whole test suite the way CI does: go vet, staticcheck, the race
# tests with a real X server (Xvfb), a real D-Bus session with an unlocked
# gnome-keyring (the Secret Service), and short fuzz runs of every parser.
#
# Everything the run starts gets HOME set to the run's throwaway folder, which
# is how its processes are recognised in /proc. Whatever happens (the tests
# pass or fail, the run is interrupted with SIGINT or SIGTERM), the run stops
# what it started, removes the folder, and then checks that none of its
# processes (Xvfb, dbus-daemon, gnome-keyring-daemon, or any other) is still
# running; if one is, it says so and fails.
set -euo pipefail
cd "$(dirname "$0")/.."

# Keep Go's caches where they are while HOME points at a throwaway folder
# (gnome-keyring must not touch the user's real keyring).
export GOPATH="$(go env GOPATH)" GOCACHE="$(go env GOCACHE)" GOMODCACHE="$(go env GOMODCACHE)"
work="$(mktemp -d)"
export HOME="$work/home" XDG_RUNTIME_DIR="$work/run" XDG_CONFIG_HOME="$work/home/.config" XDG_DATA_HOME="$work/home/.local/share"
run_mark="HOME=$HOME"
xvfb_pid="" interrupted=""

# is_run_pid says whether process $1 was started by this run: its
# environment holds the run's HOME. Only shell builtins are used, so a scan
# does not find itself.
is_run_pid() {
  local kv
  { while IFS= read -r -d '' kv; do
      [ "$kv" = "$run_mark" ] && return 0
    done <"/proc/$1/environ"; } 2>/dev/null
  return 1
}

# run_pids prints the PIDs of the processes this run started.
run_pids() {
  local d
  for d in /proc/[0-9]*; do
    if is_run_pid "${d#/proc/}"; then echo "${d#/proc/}"; fi
  done
}

describe() {
  local p args
  for p in "$@"; do
    { mapfile -d '' args <"/proc/$p/cmdline"; } 2>/dev/null || continue
    echo "!!   $p ${args[*]}"
  done
}

# settle waits up to $1 tenths of a second for the run's processes to go and
# prints those that are still there.
settle() {
  local i left
  for ((i = 0; i < $1; i++)); do
    left="$(run_pids)"
    [ -z "$left" ] && return 0
    sleep 0.1
  done
  echo "$left"
}

# stop_all sends SIGTERM to every process of the run, then SIGKILL to those
# still there after five seconds.
stop_all() {
  local left
  left="$(run_pids)"
  [ -z "$left" ] && return 0
  # shellcheck disable=SC2086 # one PID a word
  kill -TERM $left 2>/dev/null || true
  left="$(settle 50)"
  [ -z "$left" ] && return 0
  # shellcheck disable=SC2086
  kill -KILL $left 2>/dev/null || true
  settle 20 >/dev/null || true
}

cleanup() {
  local status=$? left
  trap - EXIT INT TERM
  if [ -n "$interrupted" ]; then
    echo "== interrupted: stopping the run's processes" >&2
    stop_all
  fi
  # The Xvfb this run started, by its PID (checked to be the run's, as
  # bash may have reaped it already and the PID been reused).
  if [ -n "$xvfb_pid" ] && is_run_pid "$xvfb_pid"; then
    kill "$xvfb_pid" 2>/dev/null || true
    wait "$xvfb_pid" 2>/dev/null || true
  fi
  left="$(settle 30)"
  if [ -n "$left" ]; then
    {
      echo "!! processes started by this run outlived it (now stopped):"
      # shellcheck disable=SC2086
      describe $left
    } >&2
    stop_all
    [ "$status" -eq 0 ] && status=1
  fi
  rm -rf "$work"
  left="$(run_pids)"
  if [ -n "$left" ]; then
    {
      echo "!! processes of this run could not be stopped:"
      # shellcheck disable=SC2086
      describe $left
    } >&2
    [ "$status" -eq 0 ] && status=1
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'interrupted=1; exit 130' INT
trap 'interrupted=1; exit 143' TERM

mkdir -p "$HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
export LANG=C.UTF-8

# A private X display for the real-window test.
for n in $(seq 90 120); do
  if [ ! -e "/tmp/.X11-unix/X$n" ] && [ ! -e "/tmp/.X$n-lock" ]; then disp=":$n"; break; fi
done
Xvfb "$disp" -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
xvfb_pid=$!
export DISPLAY="$disp"

# The suite runs in a D-Bus session of its own, as a child (not exec), so
# that the traps above still run; waiting on it in the background lets
# SIGINT/SIGTERM reach the trap at once. gnome-keyring-daemon runs in the
# foreground under the session's shell, which stops it by its PID: started
# with --unlock alone it forks away and outlives dbus-run-session.
export MCONNECT_REAL_KEYRING=1 MCONNECT_XVFB_TEST=1
# shellcheck disable=SC2016 # the session's shell expands these
dbus-run-session -- bash -c '
  set -euo pipefail
  printf %s ci-keyring-password | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null &
  keyring_pid=$!
  trap "kill $keyring_pid 2>/dev/null || true; wait $keyring_pid 2>/dev/null || true" EXIT
  for i in $(seq 100); do
    owned="$(dbus-send --session --print-reply --dest=org.freedesktop.DBus / \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null || true)"
    case "$owned" in *"boolean true"*) break ;; esac
    kill -0 $keyring_pid 2>/dev/null || { echo "gnome-keyring-daemon did not start" >&2; exit 1; }
    [ "$i" -lt 100 ] || { echo "gnome-keyring-daemon did not offer the Secret Service within 10 s" >&2; exit 1; }
    sleep 0.1
  done
  echo "== go vet"
  go vet ./...
  echo "== staticcheck"
  go run honnef.co/go/tools/cmd/staticcheck@v0.7.0 ./...
  echo "== fuzz (short runs of every parser)"
  scripts/fuzz.sh "${MCONNECT_FUZZTIME:-10s}"
  echo "== go test -race"
  go test -race -count=1 -timeout 25m ./...
  scripts/wine.sh # == Windows semantics: the non-GUI test suites as Windows binaries under Wine (docs/WINDOWS.md)
' &
wait $!
scripts/dist-check.sh # the installers: Windows setup (signed), Debian package installed and started, macOS cross build
