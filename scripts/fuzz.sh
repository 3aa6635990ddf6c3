#!/usr/bin/env bash
# Runs every fuzz target of the project for a short time each (default 10s).
#
# A target fails the run when the fuzzer finds an input that fails the
# target: the input it writes to testdata/fuzz/ is replayed with plain
# `go test` and fails there too. Go's fuzzer also ends with an error of its
# own on a busy machine, with no failing input or with one that passes when
# replayed: "context deadline exceeded" at the -fuzztime boundary
# (golang/go#51484), "fuzzing process hung or terminated unexpectedly" when a
# worker is starved past its 10 s watchdog (golang/go#56238, #52569). Such a
# target is run again, up to twice more (on a 2-core machine about one
# target in fifteen ends so once; two in a row over some 35 targets would
# fail one run in ten), and fails the run if every try ends so. Whatever
# fails, its output is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
t="${1:-10s}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

# fuzz_once runs target $2 of package $1; 0 when it passed or when the
# failure was the fuzzer's own (then 3), 1 when an input fails the target.
fuzz_once() {
  local pkg=$1 target=$2 dir input
  dir=$(go list -f '{{.Dir}}' "$pkg")
  if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$t" "$pkg" >"$log" 2>&1; then
    return 0
  fi
  echo "-- $pkg $target: the fuzzer ended with an error:" >&2
  tail -n 30 "$log" >&2
  input=$(sed -n 's#.*Failing input written to \(testdata/fuzz/[^ ]*\).*#\1#p' "$log" | tail -n 1)
  if [ -n "$input" ]; then
    echo "-- replaying $input" >&2
    if ! go test -count=1 -timeout 120s -run "^${target}\$/^${input##*/}\$" "$pkg" >&2; then
      echo "!! $pkg $target fails on $dir/$input" >&2
      return 1
    fi
    echo "-- the input passes when replayed: the fuzzer's own failure; removing it" >&2
    rm -f "$dir/$input"
    rmdir "$dir/testdata/fuzz/$target" "$dir/testdata/fuzz" "$dir/testdata" 2>/dev/null || true
  fi
  return 3
}

for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
    echo "fuzz $pkg $target ($t)"
    rc=0
    fuzz_once "$pkg" "$target" || rc=$?
    case $rc in
      0) ;;
      3)
        for try in 2 3; do
          echo "-- $pkg $target: once more (try $try)" >&2
          rc=0
          fuzz_once "$pkg" "$target" || rc=$?
          [ "$rc" -eq 3 ] || break
        done
        case $rc in
          0) ;;
          3) echo "!! $pkg $target: the fuzzer failed on its own three times" >&2; exit 1 ;;
          *) exit 1 ;;
        esac
        ;;
      *) exit 1 ;;
    esac
  done
done
