#!/usr/bin/env bash
# The installers' CI step (run at the end of scripts/test.sh; also alone, as
# scripts/dist-check.sh [macos|windows|linux]..., default all three):
#
# 1. macOS: cross-compiles every package that does not import Fyne for
#    darwin/amd64 and darwin/arm64 (CGO_ENABLED=0); the .app itself is made
#    on a Mac (installer/README.md).
# 2. Builds both installers with scripts/dist.sh, the Windows setup signed
#    with a throwaway code-signing certificate, and verifies the signature
#    (and that it does not verify against another CA); runs the setup under
#    Wine (scripts/dist-wine.sh): install, no downgrade, upgrade, uninstall;
#    the program itself under Wine (scripts/dist-wine-gui.sh): the tray
#    process, the Dashboard process opened by a second launch, closed.
# 3. Debian package: installs it with dpkg -i on a machine where it is not
#    installed, runs `mconnect version` from the installed path, starts the
#    installed desktop entry's Exec line under Xvfb (the suite's, from
#    DISPLAY, else one of its own) with a throwaway HOME, waits for the
#    window, takes a screenshot (dist/check-linux-window.png) and checks it
#    shows a painted window; then dpkg -r and checks every file is gone.
#
# Needs root for dpkg (else sudo). Stops what it started, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
GO="${GO:-go}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

work="$(mktemp -d)"
app_home="$work/home"
app_pid="" xvfb_pid="" installed=""
t0=$(date +%s)
step_t=$t0
step() {
  local now
  now=$(date +%s)
  echo "== dist-check: $* (+$((now - step_t)) s)"
  step_t=$now
}
fail() {
  echo "!! dist-check: $*" >&2
  exit 1
}

# app_pids prints the PIDs of processes that run with the app's HOME.
app_pids() {
  local d kv
  for d in /proc/[0-9]*; do
    { while IFS= read -r -d '' kv; do
        if [ "$kv" = "HOME=$app_home" ]; then
          echo "${d#/proc/}"
          break
        fi
      done <"$d/environ"; } 2>/dev/null || true
  done
}

stop_app() {
  [ -n "$app_pid" ] || return 0
  kill -TERM "$app_pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$app_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$app_pid" 2>/dev/null || true
  wait "$app_pid" 2>/dev/null || true
  app_pid=""
}

cleanup() {
  local status=$? left
  trap - EXIT INT TERM
  stop_app
  left="$(app_pids)"
  if [ -n "$left" ]; then
    echo "!! dist-check: processes of the installed app outlived it (now stopped): $left" >&2
    # shellcheck disable=SC2086 # one PID a word
    kill -KILL $left 2>/dev/null || true
    [ "$status" -eq 0 ] && status=1
  fi
  if [ -n "$installed" ]; then
    $SUDO dpkg -r mconnect >/dev/null 2>&1 || true
  fi
  if [ -n "$xvfb_pid" ]; then
    kill "$xvfb_pid" 2>/dev/null || true
    wait "$xvfb_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(macos windows linux)
dist_targets=()
for t in "${targets[@]}"; do
  case "$t" in
  macos) ;;
  windows | linux) dist_targets+=("$t") ;;
  *) echo "dist-check: unknown part \"$t\" (macos, windows, linux)" >&2; exit 2 ;;
  esac
done

check_macos() {
  # ---- 1. macOS: the packages without Fyne build for both Macs.
  pkgs="$(CGO_ENABLED=0 GOOS=darwin GOARCH=arm64 "$GO" list -e \
    -f '{{.ImportPath}}{{range .Deps}} {{.}}{{end}}' ./... |
    awk '{ for (i = 2; i <= NF; i++) if ($i ~ /^fyne\.io\//) next; print $1 }')"
  all="$("$GO" list ./... | wc -l)"
  n="$(echo "$pkgs" | wc -w)"
  [ "$n" -gt 0 ] || fail "no package without Fyne found by go list"
  for arch in amd64 arm64; do
    # shellcheck disable=SC2086 # one package a word
    CGO_ENABLED=0 GOOS=darwin GOARCH=$arch "$GO" build $pkgs ||
      fail "the packages without Fyne do not build for darwin/$arch"
  done
  step "macOS: $n of $all packages (all without Fyne) build for darwin/amd64 and darwin/arm64"
}

# build builds the installers asked for (scripts/dist.sh).
build() {
  # ---- 2. Both installers, the setup signed with a throwaway certificate.
  openssl req -x509 -newkey rsa:3072 -nodes -days 2 -subj "/CN=mCONNECT Hub CI test/O=MESI" \
    -addext extendedKeyUsage=codeSigning -addext keyUsage=digitalSignature \
    -keyout "$work/sign-key.pem" -out "$work/sign-cert.pem" 2>/dev/null
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Someone else" \
    -keyout "$work/other-key.pem" -out "$work/other-cert.pem" 2>/dev/null
  export DIST_DIR="$work/dist" SIGN_CERT="$work/sign-cert.pem" SIGN_KEY="$work/sign-key.pem" DIST_REQUIRE_SIGNED=1 DIST_KEEP_EXE=1
  scripts/dist.sh "${dist_targets[@]}"
  version="${VERSION:-$(sed -n 's/^Version *= *"\([^"]*\)".*/\1/p' FyneApp.toml)}"
  setup="$DIST_DIR/mconnect-setup-$version.exe"
  deb="$DIST_DIR/mconnect_${version}_amd64.deb"
  local t f
  for t in "${dist_targets[@]}"; do
    f="$deb"
    [ "$t" = linux ] || f="$setup"
    [ -f "$f" ] || fail "$f was not built"
    step "built $(basename "$f") ($(du -k "$f" | cut -f1) KB)"
  done
}

check_windows() {
  osslsigncode verify -CAfile "$SIGN_CERT" -in "$setup" >"$work/verify.txt" 2>&1 ||
    { cat "$work/verify.txt" >&2; fail "$setup: signature does not verify"; }
  grep -q "Signature verification: ok" "$work/verify.txt" || fail "$setup: osslsigncode did not report a verified signature"
  if osslsigncode verify -CAfile "$work/other-cert.pem" -in "$setup" >/dev/null 2>&1; then
    fail "$setup: verifies against an unrelated CA too (the check means nothing)"
  fi
  step "Windows: setup signature verifies (and fails against another CA)"
  scripts/dist-wine.sh "$setup" "$version" "$SIGN_CERT"
  step "Windows: the setup installs, refuses a downgrade, upgrades, uninstalls under Wine"
  scripts/dist-wine-gui.sh "$DIST_DIR/mconnect.exe"
  step "Windows: the program runs its tray process and opens and closes the Dashboard process under Wine"
}

check_linux() {
  # ---- 3. Debian package: install, run, window, remove.
  if dpkg-query -W -f='${Status}' mconnect 2>/dev/null | grep -q "install ok installed"; then
    fail "the mconnect package is installed on this machine; this check needs a machine without it (dpkg -r mconnect)"
  fi
  [ ! -e /usr/bin/mconnect ] || fail "/usr/bin/mconnect exists although the package is not installed"
  dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' >"$work/files.txt"
  installed=1
  $SUDO dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -i $deb failed"; }
  while read -r f; do
    [ -f "$f" ] || fail "$f (in the package) is missing after dpkg -i"
  done <"$work/files.txt"
  for f in /usr/bin/mconnect /usr/share/applications/com.mesi.mconnect.desktop \
    /usr/share/metainfo/com.mesi.mconnect.metainfo.xml \
    /usr/share/icons/hicolor/48x48/apps/mconnect.png /usr/share/icons/hicolor/256x256/apps/mconnect.png; do
    grep -qx "$f" "$work/files.txt" || fail "the package does not install $f"
  done
  got="$(/usr/bin/mconnect version)"
  [ "$got" = "mCONNECT Hub $version" ] || fail "/usr/bin/mconnect version printed \"$got\", want \"mCONNECT Hub $version\""
  if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate /usr/share/applications/com.mesi.mconnect.desktop || fail "the installed desktop entry is not valid"
  fi
  if command -v appstreamcli >/dev/null; then
    appstreamcli validate --no-net /usr/share/metainfo/com.mesi.mconnect.metainfo.xml >"$work/as.txt" 2>&1 ||
      { cat "$work/as.txt" >&2; fail "the installed AppStream metainfo is not valid"; }
  fi
  step "Debian: installed with dpkg -i; /usr/bin/mconnect version: $got"

  exec_line="$(sed -n 's/^Exec=//p' /usr/share/applications/com.mesi.mconnect.desktop)"
  [ -n "$exec_line" ] || fail "the desktop entry has no Exec line"
  case "$exec_line" in *--config*) fail "the desktop entry's Exec ($exec_line) names a config: the app must use the user's config folder" ;; esac
  if [ -z "${DISPLAY:-}" ]; then
    for n in $(seq 130 160); do
      if [ ! -e "/tmp/.X11-unix/X$n" ] && [ ! -e "/tmp/.X$n-lock" ]; then export DISPLAY=":$n"; break; fi
    done
    Xvfb "$DISPLAY" -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
    xvfb_pid=$!
    for ((i = 0; i < 100; i++)); do
      xwininfo -root >/dev/null 2>&1 && break
      sleep 0.1
    done
  fi
  mkdir -p "$app_home" "$work/run"
  chmod 700 "$work/run"
  # A new user: a throwaway HOME, no config, no session bus (the app falls back
  # to window-only), the installed binary found on PATH as the menu would.
  # shellcheck disable=SC2086 # the Exec line is split into words, as a desktop does
  env -i HOME="$app_home" XDG_RUNTIME_DIR="$work/run" PATH=/usr/bin:/bin DISPLAY="$DISPLAY" \
    LANG=C.UTF-8 $exec_line >"$work/app.log" 2>&1 &
  app_pid=$!
  geom=""
  for ((i = 0; i < 240; i++)); do
    kill -0 "$app_pid" 2>/dev/null || { cat "$work/app.log" >&2; fail "$exec_line exited before a window appeared"; }
    # 0x200007 "mCONNECT Hub": ("mconnect" "mconnect")  900x600+0+0  +0+0
    geom="$(xwininfo -root -tree 2>/dev/null | awk '/"mCONNECT Hub"/ {
        for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+x[0-9]+\+/) { size = $i; pos = $(i + 1) }
        split(size, s, /[x+]/); sub(/^\+/, "", pos); split(pos, p, /\+/)
        if (s[1] >= 400 && s[2] >= 300) { print s[1] "x" s[2] "+" p[1] "+" p[2]; exit }
      }')"
    [ -n "$geom" ] && break
    sleep 0.5
  done
  [ -n "$geom" ] || { cat "$work/app.log" >&2; fail "no window titled \"mCONNECT Hub\" within 120 s of starting $exec_line"; }
  # Painted: many colours and both dark and light pixels (text on a panel),
  # not one flat fill.
  shot_dir="${DIST_SHOT_DIR:-dist}"
  mkdir -p "$shot_dir"
  colours=0 spread=0
  for ((i = 0; i < 60; i++)); do
    import -window root "$work/shot.png"
    convert "$work/shot.png" -crop "$geom" +repage "$work/window.png"
    colours="$(convert "$work/window.png" -format '%k' info:)"
    spread="$(convert "$work/window.png" -colorspace Gray -format '%[fx:int(255*(maxima-minima))]' info:)"
    [ "$colours" -ge 40 ] && [ "$spread" -ge 64 ] && break
    sleep 1
  done
  cp "$work/shot.png" "$shot_dir/check-linux-window.png"
  if [ "$colours" -lt 40 ] || [ "$spread" -lt 64 ]; then
    fail "the window ($geom) looks blank: $colours colours, brightness spread $spread (see $shot_dir/check-linux-window.png)"
  fi
  stop_app
  left="$(app_pids)"
  [ -z "$left" ] || fail "processes of the app are still running after it stopped: $left"
  step "Debian: the desktop entry's Exec ($exec_line) opened a painted window $geom ($colours colours); screenshot $shot_dir/check-linux-window.png"

  $SUDO dpkg -r mconnect >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -r mconnect failed"; }
  installed=""
  while read -r f; do
    [ ! -e "$f" ] || fail "$f is still there after dpkg -r mconnect"
  done <"$work/files.txt"
  if dpkg-query -W -f='${Status}' mconnect 2>/dev/null | grep -q "install ok installed"; then
    fail "dpkg still lists mconnect as installed after dpkg -r"
  fi
  step "Debian: dpkg -r removed all $(wc -l <"$work/files.txt") files"
}

for t in "${targets[@]}"; do
  [ "$t" != macos ] || check_macos
done
if [ ${#dist_targets[@]} -gt 0 ]; then
  build
  for t in "${dist_targets[@]}"; do "check_$t"; done
fi
echo "== dist-check: passed in $(($(date +%s) - t0)) s"
