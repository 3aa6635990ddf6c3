#!/usr/bin/env bash
# Signs a Windows executable in place with osslsigncode (Authenticode,
# SHA-256): scripts/dist-sign.sh FILE. The certificate and key come from
# SIGN_CERT and SIGN_KEY (paths, PEM or DER), the key's passphrase from the
# file SIGN_PASS_FILE if set. Used by scripts/dist.sh for mconnect.exe and the
# setup, and by makensis (!uninstfinalize) for the uninstaller.
set -euo pipefail
f="${1:?usage: dist-sign.sh FILE}"
: "${SIGN_CERT:?dist-sign: SIGN_CERT (the code-signing certificate) is not set}"
: "${SIGN_KEY:?dist-sign: SIGN_KEY (the private key of the certificate) is not set}"
pass=()
[ -z "${SIGN_PASS_FILE:-}" ] || pass=(-readpass "$SIGN_PASS_FILE")
osslsigncode sign -certs "$SIGN_CERT" -key "$SIGN_KEY" "${pass[@]}" \
  -n "mCONNECT Hub" -i "https://www.mesimedical.com" -h sha256 \
  -in "$f" -out "$f.signed" >/dev/null || {
  rm -f "$f.signed"
  echo "dist-sign: $f: osslsigncode could not sign it" >&2
  exit 1
}
mv "$f.signed" "$f"
