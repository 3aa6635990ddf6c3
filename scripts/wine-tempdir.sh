#!/usr/bin/env bash
# Puts testfs.TempDir(t) in place of t.TempDir() in the test files of the
# packages scripts/wine.sh runs under Wine (scripts/wine/packages), whose
# os.RemoveAll fails on folders that hold files (docs/WINDOWS.md). Safe to
# run again after merging: files already rewritten are left as they are.
# With --check it changes nothing and fails if a file needs the rewrite.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t pkgs < <(grep -v '^\s*\(#\|$\)' scripts/wine/packages)
args=()
[ "${1:-}" = "--check" ] && args=(-check)
go run ./internal/tools/tempdir-rewrite "${args[@]}" "${pkgs[@]/#/./}"
