package update

import (
	"crypto/ed25519"
	"encoding/base64"
)

// releaseKeys are the public keys whose signatures the hub accepts on the
// update feed (more than one while a key is being replaced). The private
// key stays with the release managers (internal/tools/sign-update-manifest
// -genkey creates a pair). Tests replace them on their Checker.
var releaseKeys = []ed25519.PublicKey{
	mustKey("UeudBUa1wXCbpOIGrAEsCQBrqqzLmY1z7OiV3HDZcbY="),
}

func mustKey(b64 string) ed25519.PublicKey {
	k, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(k) != ed25519.PublicKeySize {
		panic("update: release key is not a base64 Ed25519 public key")
	}
	return k
}
