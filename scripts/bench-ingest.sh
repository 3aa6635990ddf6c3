#!/usr/bin/env bash
# The durable-ingest benchmark: the hub (`mconnect serve`, Birpis config, its
# real SQLite store on disk: every ACK after an fsync'd commit) and the HL7
# peer node-hl7-server 2.5.0 (stores nothing) are started side by side on
# loopback and loaded in turns by the same load program
# (internal/tools/mllpload: ORM^O01 over 8 connections, every ACK checked).
#   scripts/bench-ingest.sh              ROUNDS=3 N=40000 by default
# The peer answers only the first message of a connection correctly (it never
# clears its receive buffer), so it is measured with a connection per
# message; the hub is measured that way too and with 8 kept connections.
# Needs node and npm (the peer is installed once into $BENCH_CACHE).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${ROUNDS:-3}" n="${N:-40000}"
cache="${BENCH_CACHE:-$HOME/.cache/mconnect-bench}"
work="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

if [ ! -d "$cache/node_modules/node-hl7-server" ]; then
	mkdir -p "$cache"
	(cd "$cache" && npm install --no-audit --no-fund --silent node-hl7-server@2.5.0 >/dev/null)
fi
cp scripts/bench/node-hl7-peer.js "$cache/"
go build -o "$work/mllpload" ./internal/tools/mllpload
bin="${MCONNECT:-}"
if [ -z "$bin" ]; then
	go build -tags no_emoji -o "$work/mconnect" .
	bin="$work/mconnect"
fi

port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
waitport() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "nothing listens on $1" >&2; exit 1; }

hl7="$(port)" peer="$(port)"
"$bin" config example --ehr birpis --data "$work/data" |
	python3 -c "import json,sys;c=json.load(sys.stdin);c['device']['listen']='127.0.0.1:$(port)';c['hl7']['listen']='127.0.0.1:$hl7';c['hl7']['resultHost']='127.0.0.1:$(port)';print(json.dumps(c))" >"$work/c.json"
"$bin" serve --config "$work/c.json" >"$work/hub.log" 2>&1 & pids+=($!)
node "$cache/node-hl7-peer.js" "$peer" >"$work/peer.log" 2>&1 & pids+=($!)
waitport "$hl7"; waitport "$peer"

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "hub: $("$bin" version 2>/dev/null | head -1), store in $work/data; peer: node $(node --version), node-hl7-server 2.5.0"
hubpid=${pids[0]} peerpid=${pids[1]}
# run PID ARGS...: one load run, then the CPU (user + system) the process
# PID spent per order during it, from /proc (less moved by the disk's
# latency than the throughput).
run() {
	local pid=$1 t0 t1 out s0
	shift
	t0=$(awk '{print $14+$15}' "/proc/$pid/stat") s0=$(stolen)
	out=$("$work/mllpload" "$@")
	t1=$(awk '{print $14+$15}' "/proc/$pid/stat")
	echo "$out; CPU $(( (t1 - t0) * 1000000 / $(getconf CLK_TCK) / n )) µs per order; $(stolen "$s0")"
}
# stolen [BEFORE]: the machine's steal and total CPU ticks (/proc/stat);
# with BEFORE, the share of the CPU the hypervisor gave to others since
# then. Figures from runs with much of it stolen are not comparable.
stolen() {
	local now
	now=$(awk '/^cpu /{print $9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
	if [ -z "${1:-}" ]; then echo "$now"; return; fi
	echo "$1 $now" | awk '{d=$4-$2; printf "steal %.1f %%", d ? ($3-$1)*100/d : 0}'
}
for r in $(seq "$rounds"); do
	echo "round $r"
	printf '  peer, a connection per message:  '; run "$peerpid" -addr "127.0.0.1:$peer" -n "$n" -connection-per-message
	printf '  hub,  a connection per message:  '; run "$hubpid" -addr "127.0.0.1:$hl7" -n "$n" -connection-per-message
	printf '  hub,  8 kept connections:        '; run "$hubpid" -addr "127.0.0.1:$hl7" -n "$n"
done
s0=$(stolen)
printf 'hub, one connection at 200 orders/s: '; "$work/mllpload" -addr "127.0.0.1:$hl7" -conns 1 -rate 200 -n 3000 -warmup 200
echo "  ($(stolen "$s0"))"
# Below saturation the commit window must not keep senders waiting.
s0=$(stolen)
printf 'hub, 8 connections at 1,000 orders/s: '; "$work/mllpload" -addr "127.0.0.1:$hl7" -conns 8 -rate 1000 -n 5000 -warmup 200
echo "  ($(stolen "$s0"))"
echo "store after the runs: $(du -sh "$work/data" | cut -f1)"
