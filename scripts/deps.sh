#!/usr/bin/env bash
# Installs the system packages mCONNECT Hub needs to build, run and test on
# Debian/Ubuntu. Runs apt-get through sudo when not root.
set -euo pipefail
pkgs=(
  gcc pkg-config
  # Fyne (OpenGL, X11)
  libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev
  libwayland-dev libxkbcommon-dev
  # tests: a real window, screenshots, the real Secret Service, real peers
  xvfb xauth x11-utils xdotool imagemagick dbus dbus-x11 gnome-keyring
  python3 python3-hl7 curl iproute2 ca-certificates
  # installers (make dist, scripts/dist-check.sh): the Windows cross build,
  # NSIS, Authenticode signing, the Debian package and its checks
  gcc-mingw-w64-x86-64 nsis osslsigncode openssl dpkg-dev binutils appstream desktop-file-utils
  wine64
  # what the package's Depends name beyond the -dev packages above (dist-check installs it with dpkg -i)
  libegl1 libx11-xcb1 libxkbcommon0 libwayland-cursor0 libwayland-egl1
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
