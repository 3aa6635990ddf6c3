#!/usr/bin/env bash
# Builds the installers of mCONNECT Hub into dist/ (called by `make dist`):
#
#   dist/mconnect-setup-VERSION.exe   Windows setup (NSIS), signed when a certificate is given
#   dist/mconnect_VERSION_amd64.deb   Debian/Ubuntu package
#
# Usage: scripts/dist.sh [windows|linux]...   (default: both)
#
# Environment:
#   VERSION      X.Y.Z; default: Version in FyneApp.toml. The Windows file
#                version is X.Y.Z.B with B = Build in FyneApp.toml.
#   DIST_DIR     output folder (default: dist)
#   SIGN_CERT    code-signing certificate (PEM or DER) for osslsigncode
#   SIGN_KEY     its private key (PEM or DER); SIGN_PASS_FILE: the key's passphrase, if any
#   SIGN_CA      CA file to verify the signature with (default: SIGN_CERT)
#   DIST_REQUIRE_SIGNED=1   fail instead of leaving setup.exe unsigned without SIGN_CERT
#
# The Windows GUI binary is cross-compiled with mingw-w64 (cgo): about five
# minutes from a cold Go build cache, so it is built once, at low priority.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(windows linux)
for t in "${targets[@]}"; do
  case "$t" in windows | linux) ;; *)
    echo "dist: unknown target \"$t\" (windows, linux)" >&2
    exit 2
    ;;
  esac
done

toml() { sed -n "s/^$1 *= *\"\{0,1\}\([^\"]*\)\"\{0,1\} *$/\1/p" FyneApp.toml | head -n1; }
VERSION="${VERSION:-$(toml Version)}"
build_no="$(toml Build)"
if ! [[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "dist: VERSION \"$VERSION\" is not X.Y.Z (three numbers: the installers compare versions by them)" >&2
  exit 2
fi
[[ "$build_no" =~ ^[0-9]+$ ]] || build_no=0
VERSION4="$VERSION.$build_no"
DIST_DIR="${DIST_DIR:-dist}"
mkdir -p "$DIST_DIR"
DIST_DIR="$(cd "$DIST_DIR" && pwd)"
work="$DIST_DIR/.build"
rm -rf "$work"
mkdir -p "$work"
ldflags="-s -w -X github.com/mesi/mconnect/app/hub.Version=$VERSION"
GO="${GO:-go}"

say() { echo "== dist: $*"; }

# The Windows resources (.syso) are linked into package main for
# windows/amd64 only; they are generated for the build and removed after it,
# also on failure.
syso="$root/rsrc_windows_amd64.syso"
trap 'rm -f "$syso"' EXIT

# sign FILE signs FILE in place (scripts/dist-sign.sh); without SIGN_CERT it
# returns 1.
sign() {
  [ -n "${SIGN_CERT:-}" ] || return 1
  scripts/dist-sign.sh "$1"
}

windows() {
  local exe="$work/windows/mconnect.exe"
  local out="$DIST_DIR/mconnect-setup-$VERSION.exe"
  mkdir -p "$work/windows"
  say "Windows: version resources and icon ($VERSION4)"
  "$GO" run github.com/tc-hib/go-winres@v0.3.3 simply --arch amd64 --out "$root/rsrc" \
    --manifest gui --icon assets/mconnect.ico \
    --product-name "mCONNECT Hub" --file-description "mCONNECT Hub" \
    --product-version "$VERSION4" --file-version "$VERSION4" \
    --copyright "MESI d.o.o." --original-filename mconnect.exe
  say "Windows: cross-compiling the GUI binary (mingw-w64, cgo)"
  nice -n 10 env CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc \
    "$GO" build -trimpath -tags no_emoji -ldflags "$ldflags -H=windowsgui" -o "$exe" .
  rm -f "$syso"
  # A GUI program (no console window) with its version resources.
  x86_64-w64-mingw32-objdump -p "$exe" | grep '^Subsystem.*(Windows GUI)' >/dev/null || {
    echo "dist: $exe is not a Windows GUI program (-H=windowsgui missing?)" >&2
    exit 1
  }
  strings -el "$exe" | grep -x "$VERSION4" >/dev/null || {
    echo "dist: $exe has no version resource $VERSION4 (go-winres .syso not linked?)" >&2
    exit 1
  }
  local signer=()
  if sign "$exe"; then
    signer=(-DSIGN_CMD="$root/scripts/dist-sign.sh")
  fi
  # The installers' check runs the program itself under Wine too.
  if [ "${DIST_KEEP_EXE:-}" = 1 ]; then cp "$exe" "$DIST_DIR/mconnect.exe"; fi
  say "Windows: setup (NSIS)"
  makensis -V2 -DVERSION="$VERSION" -DVERSION4="$VERSION4" -DEXE="$exe" \
    -DICON="$root/assets/mconnect.ico" -DOUTFILE="$out" "${signer[@]}" \
    installer/windows/mconnect.nsi
  if sign "$out"; then
    osslsigncode verify -CAfile "${SIGN_CA:-$SIGN_CERT}" -in "$out" >"$work/verify.txt" 2>&1 || {
      cat "$work/verify.txt" >&2
      echo "dist: $out: the signature does not verify" >&2
      exit 1
    }
    say "Windows: $out (signed, verified)"
  elif [ "${DIST_REQUIRE_SIGNED:-}" = 1 ]; then
    echo "dist: DIST_REQUIRE_SIGNED=1 but no SIGN_CERT/SIGN_KEY given" >&2
    exit 1
  else
    say "Windows: $out (NOT signed: give SIGN_CERT and SIGN_KEY to sign it)"
  fi
}

linux() {
  local stage="$work/deb" bin="$work/linux/mconnect"
  local out="$DIST_DIR/mconnect_${VERSION}_amd64.deb"
  say "Linux: building the GUI binary"
  mkdir -p "$work/linux"
  # Built like the suite's window test builds it (no -trimpath), so that
  # after the tests only the link step is left.
  "$GO" build -tags no_emoji -ldflags "$ldflags" -o "$bin" .
  rm -rf "$stage"
  install -Dm755 "$bin" "$stage/usr/bin/mconnect"
  install -Dm644 installer/linux/com.mesi.mconnect.desktop "$stage/usr/share/applications/com.mesi.mconnect.desktop"
  grep -q "<release version=\"$VERSION\"" installer/linux/com.mesi.mconnect.metainfo.xml ||
    say "Linux: WARNING: installer/linux/com.mesi.mconnect.metainfo.xml has no <release version=\"$VERSION\">; add one for software centres"
  install -Dm644 installer/linux/com.mesi.mconnect.metainfo.xml "$stage/usr/share/metainfo/com.mesi.mconnect.metainfo.xml"
  local d
  for d in assets/hicolor/*/apps/mconnect.png; do
    install -Dm644 "$d" "$stage/usr/share/icons/${d#assets/}"
  done
  install -Dm644 installer/linux/copyright "$stage/usr/share/doc/mconnect/copyright"

  # Depends: the shared libraries the cgo GUI links, as dpkg-shlibdeps
  # finds them (ldd + dpkg -S + the libraries' shlibs/symbols files).
  local shl="$work/shlibs"
  mkdir -p "$shl/debian"
  printf 'Source: mconnect\n\nPackage: mconnect\nArchitecture: amd64\n' >"$shl/debian/control"
  local depends
  depends="$(cd "$shl" && dpkg-shlibdeps -O "$stage/usr/bin/mconnect" 2>"$work/shlibdeps.err" |
    sed -n 's/^shlibs:Depends=//p')" || {
    cat "$work/shlibdeps.err" >&2
    echo "dist: dpkg-shlibdeps could not work out the package's dependencies" >&2
    exit 1
  }
  [ -n "$depends" ] || {
    echo "dist: dpkg-shlibdeps found no dependencies of $bin" >&2
    exit 1
  }
  # The GUI toolkit (GLFW) opens the X11 extension and Wayland libraries at
  # run time (dlopen), which dpkg-shlibdeps cannot see: each one the binary
  # names is added with the package that holds it here (dpkg -S).
  local so pkg names
  names="$(strings "$bin" | grep -E '^lib[A-Za-z0-9_+-]+\.so\.[0-9]+$' | sort -u)"
  for so in libX11-xcb.so.1 libXcursor.so.1 libXext.so.6 libXi.so.6 libXinerama.so.1 \
    libXrandr.so.2 libXrender.so.1 libXxf86vm.so.1 libEGL.so.1 libwayland-cursor.so.0 \
    libwayland-egl.so.1 libxkbcommon.so.0; do
    grep -qx "$so" <<<"$names" || continue
    pkg="$(dpkg -S "$so" 2>/dev/null | awk -F': ' -v so="$so" '$2 ~ "/" so "$" { sub(/:.*/, "", $1); print $1; exit }')"
    [ -n "$pkg" ] || {
      echo "dist: $so (opened by the GUI at run time) is not installed here; run scripts/deps.sh" >&2
      exit 1
    }
    case ", $depends," in *", $pkg "* | *", $pkg,"*) ;; *) depends="$depends, $pkg" ;; esac
  done
  local size
  size="$(du -sk "$stage/usr" | cut -f1)"
  mkdir -p "$stage/DEBIAN"
  sed -e "s/@VERSION@/$VERSION/" -e "s/@DEPENDS@/$depends/" -e "s/@SIZE@/$size/" \
    installer/linux/control.in >"$stage/DEBIAN/control"
  say "Linux: package (Depends: $depends)"
  dpkg-deb --root-owner-group -Zxz --build "$stage" "$out" >/dev/null
  say "Linux: $out"
}

for t in "${targets[@]}"; do "$t"; done
rm -rf "$work"
