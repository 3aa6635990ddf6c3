#!/usr/bin/env bash
# Runs the Windows GUI program (the mconnect.exe the setup installs) under
# Wine on a private Xvfb, as staff meet it with a tray icon:
#   scripts/dist-wine-gui.sh path/to/mconnect.exe
# 1. `mconnect.exe --config C` starts the hub and the tray icon in one
#    process (the Win32 tray; no window); `mconnect.exe status` answers
#    through the loopback control endpoint.
# 2. A second `mconnect.exe --dashboard` makes the tray process start the
#    Dashboard process, whose window appears, painted.
# 3. Closing the window (WM_DELETE_WINDOW) ends the Dashboard process; the
#    hub still answers.
# The Wine prefix is scripts/wine.sh's (MCONNECT_WINEPREFIX), with the
# bcryptprimitives.dll Go programs need under Wine 8; made here if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
exe="$(realpath "${1:?usage: dist-wine-gui.sh mconnect.exe}")"
W="${MCONNECT_WINE:-/usr/lib/wine/wine64}"
wsrv="$(dirname "$W")/wineserver"
export WINEPREFIX="${MCONNECT_WINEPREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/mconnect/wineprefix}"
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
work="$(mktemp -d)"
xvfb=""
cleanup() {
  local status=$?
  "$wsrv" -k 2>/dev/null || true
  [ -z "$xvfb" ] || kill "$xvfb" 2>/dev/null || true
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
fail() {
  echo "!! dist-wine-gui: $*" >&2
  for f in "$work/tray.log" "$work"/data/logs/mconnect.log; do
    [ -f "$f" ] && { echo "-- $f:" >&2; tail -n 30 "$f" >&2; }
  done
  exit 1
}
step() { echo "== dist-wine-gui: $*"; }

dll="$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  mkdir -p "$WINEPREFIX"
  "$W" wineboot --init >/dev/null 2>&1
  "$wsrv" -w
fi
if [ ! -f "$dll" ]; then
  x86_64-w64-mingw32-gcc -shared -O2 -o "$work/bcryptprimitives.dll" scripts/wine/bcryptprimitives.c \
    scripts/wine/bcryptprimitives.def -ladvapi32
  cp "$work/bcryptprimitives.dll" "$dll"
fi
go build -o "$work/helper" scripts/gui-footprint-helper.go

for n in $(seq 170 199); do
  if [ ! -e "/tmp/.X11-unix/X$n" ] && [ ! -e "/tmp/.X$n-lock" ]; then export DISPLAY=":$n"; break; fi
done
Xvfb "$DISPLAY" -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
xvfb=$!
for _ in $(seq 100); do xwininfo -root >/dev/null 2>&1 && break; sleep 0.1; done

port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
data_w="Z:${work//\//\\}\\data"
cfg_w="Z:${work//\//\\}\\c.json"
timeout 120 "$W" "$exe" config example --ehr birpis --data "$data_w" 2>"$work/example.err" |
  python3 -c "import json,sys;c=json.load(sys.stdin);c['device']['listen']='127.0.0.1:$(port)';c['hl7']['listen']='127.0.0.1:$(port)';c['hl7']['resultHost']='127.0.0.1:$(port)';print(json.dumps(c))" \
  >"$work/c.json" || { cat "$work/example.err" >&2; fail "mconnect.exe config example failed"; }
status() { timeout 60 "$W" "$exe" status --config "$cfg_w" >"$work/status.txt" 2>&1; }
logged() { grep -qs "$1" "$work/data/logs/mconnect.log"; }

# 1. The tray process.
"$W" "$exe" --config "$cfg_w" >"$work/tray.log" 2>&1 &
up=""
for _ in $(seq 60); do
  if status; then up=1; break; fi
  sleep 2
done
[ -n "$up" ] || fail "the hub did not answer mconnect.exe status within 2 minutes"
for _ in $(seq 50); do logged "tray icon in its own process" && break; sleep 0.2; done
logged "tray icon in its own process" || fail "mconnect.exe did not run its tray as a process of its own"
window() { xwininfo -root -tree 2>/dev/null | awk '/"mCONNECT Hub": \(/ {
  for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+x[0-9]+\+/) { split($i, s, /[x+]/); if (s[1] >= 400 && s[2] >= 300) { print $1; exit } } }'; }
[ -z "$(window)" ] || fail "a Dashboard window is open before anyone opened it"
step "the tray process runs the hub (status answers), no window"

# 2. The Dashboard process, from a second launch.
timeout 60 "$W" "$exe" --dashboard --config "$cfg_w" >"$work/second.txt" 2>&1 ||
  { cat "$work/second.txt" >&2; fail "a second mconnect.exe --dashboard failed"; }
win=""
for _ in $(seq 120); do
  win="$(window)"
  [ -n "$win" ] && break
  sleep 0.5
done
[ -n "$win" ] || fail "no Dashboard window within 60 s of a second mconnect.exe --dashboard"
logged "ui: Dashboard opened" || fail "the tray process did not log the Dashboard process"
colours=0
for _ in $(seq 60); do
  import -window root "$work/shot.png"
  colours="$(convert "$work/shot.png" -format '%k' info:)"
  [ "$colours" -ge 40 ] && break
  sleep 1
done
[ "$colours" -ge 40 ] || fail "the Dashboard window looks blank ($colours colours)"
step "a second launch opened the Dashboard process; its window $win painted ($colours colours)"

# 3. Closing the window ends that process; the hub serves on.
"$work/helper" close "$win" || fail "could not ask the window to close"
closed=""
for _ in $(seq 60); do
  if logged "ui: Dashboard closed"; then closed=1; break; fi
  sleep 0.5
done
[ -n "$closed" ] || fail "the Dashboard process did not end when its window was closed"
status || fail "the hub stopped answering when the Dashboard closed"
step "closing the window ended the Dashboard process; the hub still answers"
