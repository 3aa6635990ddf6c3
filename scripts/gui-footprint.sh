#!/usr/bin/env bash
# Measures the desktop application's idle footprint: it starts mconnect
# (the tray process with the hub, a Birpis config on loopback ports, and its
# Dashboard process) on a private Xvfb with a private D-Bus session bus and
# a tray host (scripts/gui-footprint-helper.go), waits WAIT seconds
# (default 30), then reports each process's resident memory (and what it
# is, from smaps) and the CPU used over the next SPAN seconds (default 30):
# with the Dashboard shown, after it was closed to the tray (hidden: the
# tray process alone), and shown again (`mconnect --dashboard` run a second
# time). With NOTRAY=1 (no session bus) there is one process, window only.
#   scripts/gui-footprint.sh [path/to/mconnect]
# NOTRAY=1: no session bus, window only (the Dashboard shown only).
# PPROF=DIR: also writes a Go CPU profile of each span (MCONNECT_PPROF) to
# DIR/shown.pprof, DIR/hidden.pprof ... (the profiler adds a little CPU), and
# the Dashboard process's as DIR/shown-dashboard.pprof, .heap, .memstats
# and the Go heap after it to DIR/shown.heap ...
# ORDERS=N: N appointments sent to the hub first (scripts/gui-footprint-orders.py).
# SCROLL=1: after "shown", a "scrolling" span: the Worklist scrolled by the
# mouse wheel 20 times a second (xdotool); the CPU over it, divided by the
# steps, is what one step cost (every thread, llvmpipe's drawing included).
# Needs Xvfb, dbus-daemon, xdotool, python3 and go.
set -euo pipefail
bin="$(realpath "${1:-./mconnect}")"
wait_s="${WAIT:-30}" span="${SPAN:-30}"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
gui="" bus="" host=""
trap 'kill $gui $host $bus $xvfb 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
# Built before HOME changes (Go's caches live there).
[ "${NOTRAY:-}" = 1 ] || (cd "$here/.." && go build -o "$work/helper" scripts/gui-footprint-helper.go)
Xvfb :77 -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 & xvfb=$!
export DISPLAY=:77 HOME="$work/home" XDG_RUNTIME_DIR="$work"
for _ in $(seq 100); do xdotool getdisplaygeometry >/dev/null 2>&1 && break; sleep 0.1; done
if [ "${NOTRAY:-}" != 1 ]; then
	dbus-daemon --session --nofork --address="unix:path=$work/bus" >/dev/null 2>&1 & bus=$!
	export DBUS_SESSION_BUS_ADDRESS="unix:path=$work/bus"
	for _ in $(seq 50); do [ -S "$work/bus" ] && break; sleep 0.1; done
	"$work/helper" trayhost & host=$!
else
	unset DBUS_SESSION_BUS_ADDRESS
fi
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
"$bin" config example --ehr birpis --data "$work/data" |
  python3 -c "import json,sys;c=json.load(sys.stdin);c['device']['listen']='127.0.0.1:$(port)';c['hl7']['listen']='127.0.0.1:$(port)';c['hl7']['resultHost']='127.0.0.1:$(port)';print(json.dumps(c))" >"$work/c.json"
hl7=$(python3 -c "import json;print(json.load(open('$work/c.json'))['hl7']['listen'])")
pp="" ppd=""
if [ -n "${PPROF:-}" ]; then
	mkdir -p "$PPROF"
	pp="127.0.0.1:$(port)" ppd="127.0.0.1:$(port)"
fi
MCONNECT_PPROF="$pp" MCONNECT_PPROF_DASHBOARD="$ppd" "$bin" --dashboard --config "$work/c.json" >"$work/log" 2>&1 & gui=$!
hz=$(getconf CLK_TCK)
ticks() { awk '{print $14+$15}' "/proc/$gui/stat"; }
# What the resident memory of process $1 is, by mapping (MB).
parts() {
	awk -v bin="$bin" '
		/^[0-9a-f]+-[0-9a-f]+ / { name = $6; next }
		/^Rss:/ {
			k = "other"
			if (name == bin) k = "binary"
			else if (name ~ /libLLVM|swrast|_dri\.so|libgallium|libGL|libEGL|libglapi|libGLX/) k = "Mesa/GL"
			else if (name ~ /\.so/) k = "other libraries"
			else if (name == "[heap]") k = "C heap"
			else if (name == "") k = "anonymous (Go heap, GL buffers)"
			rss[k] += $2
		}
		END { for (k in rss) printf "%s %.0f, ", k, rss[k]/1024 }' "/proc/$1/smaps" | sed 's/, $//'
}
alive() {
	kill -0 "$gui" 2>/dev/null && return
	echo "mconnect exited during the measurement; its output:" >&2
	tail -n 40 "$work/log" >&2
	exit 1
}
# dash is the Dashboard process (a child of the tray process), if one runs.
dash() { pgrep -P "$gui" -f -- '--dashboard-process' | head -1; }
# line NAME PID: one process's figures over the span (ticks t0 in $2).
line() {
	local pid=$2 t0=$3 t1
	t1=$(awk '{print $14+$15}' "/proc/$pid/stat" 2>/dev/null || echo "$t0")
	last_cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s="$span" 'BEGIN{printf "%.2f", (b-a)/hz/s*100}')
	printf '%-12s %-10s RSS %s (PSS %s), CPU %s over %ss, threads %s, peak RSS so far %s\n' "$1" "$4" \
		"$(awk '/VmRSS/{printf "%.0f MB", $2/1024}' "/proc/$pid/status")" \
		"$(awk '/^Pss:/{printf "%.0f MB", $2/1024}' "/proc/$pid/smaps_rollup")" \
		"$last_cpu %" \
		"$span" "$(awk '/Threads/{print $2}' "/proc/$pid/status")" \
		"$(awk '/VmHWM/{printf "%.0f MB", $2/1024}' "/proc/$pid/status")"
	printf '%-12s %-10s MB by mapping: %s\n' "" "" "$(parts "$pid")"
}
measure() {
	local t0 d d0 tray_cpu
	alive
	d=$(dash || true)
	t0=$(ticks)
	d0=0
	[ -n "$d" ] && d0=$(awk '{print $14+$15}' "/proc/$d/stat")
	if [ -n "$pp" ]; then
		local dp=""
		if [ -n "$d" ]; then
			curl -sf -o "$PPROF/${1// /-}-dashboard.pprof" "http://$ppd/debug/pprof/profile?seconds=$span" & dp=$!
		fi
		curl -sf -o "$PPROF/${1// /-}.pprof" "http://$pp/debug/pprof/profile?seconds=$span"
		[ -z "$dp" ] || wait "$dp" || true
		curl -sf -o "$PPROF/${1// /-}.heap" "http://$pp/debug/pprof/heap"
		[ -n "$d" ] && curl -sf -o "$PPROF/${1// /-}-dashboard.heap" "http://$ppd/debug/pprof/heap"
		[ -n "$d" ] && curl -sf -o "$PPROF/${1// /-}-dashboard.memstats" "http://$ppd/debug/pprof/heap?debug=1"
	else
		sleep "$span"
	fi
	alive
	line "$1:" "$gui" "$t0" "$(if [ -n "$d" ]; then echo tray; else echo; fi)"
	tray_cpu=$last_cpu
	if [ -n "$d" ] && [ -d "/proc/$d" ]; then
		line "" "$d" "$d0" Dashboard
		last_cpu=$(awk -v a="$tray_cpu" -v b="$last_cpu" 'BEGIN{printf "%.2f", a+b}')
	fi
}
if [ -n "${ORDERS:-}" ]; then
	for _ in $(seq 100); do python3 -c "import socket;socket.create_connection(('${hl7%:*}',${hl7##*:}))" 2>/dev/null && break; sleep 0.2; done
	start=$(date +%s)
	python3 "$here/gui-footprint-orders.py" "$hl7" "$ORDERS"
	echo "$ORDERS appointments sent in $(( $(date +%s) - start )) s"
fi
sleep "$wait_s"
measure shown
if [ "${SCROLL:-}" = 1 ]; then
	win=$(xdotool search --name '^mCONNECT Hub$' | head -1)
	eval "$(xdotool getwindowgeometry --shell "$win")"
	xdotool mousemove $((X + 250)) $((Y + 350))
	steps=$((span * 20))
	( for _ in $(seq $((steps / 200))); do xdotool click --repeat 100 --delay 50 5; xdotool click --repeat 100 --delay 50 4; done ) &
	measure scrolling
	wait $!
	echo "             $steps wheel steps: $(awk -v c="$last_cpu" -v s="$span" -v n="$steps" 'BEGIN{printf "%.1f ms", c/100*s*1000/n}') CPU per step"
fi
[ "${NOTRAY:-}" = 1 ] && exit 0
win=$(xdotool search --name '^mCONNECT Hub$' | head -1)
"$work/helper" close "$win"
sleep "$wait_s"
measure hidden
"$bin" --dashboard --config "$work/c.json" >>"$work/log" 2>&1
sleep "$wait_s"
measure "shown again"
