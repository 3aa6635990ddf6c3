#!/usr/bin/env bash
# Measures the desktop application's idle footprint: it starts mconnect
# (tray and Dashboard, the hub in the same process, a Birpis config on
# loopback ports) on a private Xvfb, waits WAIT seconds (default 30), then
# reports resident memory and the CPU used over the next SPAN seconds
# (default 30), with the Dashboard shown and then hidden.
#   scripts/gui-footprint.sh [path/to/mconnect]
set -euo pipefail
bin="${1:-./mconnect}"
wait_s="${WAIT:-30}" span="${SPAN:-30}"
work="$(mktemp -d)"
trap 'kill $gui $xvfb 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
Xvfb :77 -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 & xvfb=$!
sleep 1
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
"$bin" config example --ehr birpis --data "$work/data" |
  python3 -c "import json,sys;c=json.load(sys.stdin);c['device']['listen']='127.0.0.1:$(port)';c['hl7']['listen']='127.0.0.1:$(port)';c['hl7']['resultHost']='127.0.0.1:$(port)';print(json.dumps(c))" >"$work/c.json"
HOME="$work/home" XDG_RUNTIME_DIR="$work" DISPLAY=:77 "$bin" --dashboard --config "$work/c.json" >"$work/log" 2>&1 & gui=$!
sleep "$wait_s"
ticks() { awk '{print $14+$15}' "/proc/$gui/stat"; }
hz=$(getconf CLK_TCK)
rss() { awk '/VmRSS/{printf "%.0f MB", $2/1024}' "/proc/$gui/status"; }
t0=$(ticks); sleep "$span"; t1=$(ticks)
echo "shown:  RSS $(rss), CPU $(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s="$span" 'BEGIN{printf "%.2f %%", (b-a)/hz/s*100}') over ${span}s, threads $(awk '/Threads/{print $2}' /proc/$gui/status)"
