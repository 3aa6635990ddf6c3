// Command sign-update-manifest is the release manager's tool for the update
// feed that mCONNECT Hub reads (app/update, docs/SUPPORT.md).
//
//	go run ./internal/tools/sign-update-manifest -genkey -key release.key
//	    creates an Ed25519 key pair: the private key (base64 seed) in
//	    release.key, mode 0600, and prints the public key to compile into
//	    app/update/key.go.
//	go run ./internal/tools/sign-update-manifest -key release.key -in manifest.json -out feed.json
//	    checks manifest.json (product, version, date, notes, url, sha256),
//	    signs it and writes the feed document to publish as it is.
//	go run ./internal/tools/sign-update-manifest -verify -pub BASE64 -in feed.json
//	    verifies a feed document with a public key.
package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mesi/mconnect/app/update"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sign-update-manifest:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("sign-update-manifest", flag.ContinueOnError)
	genkey := fs.Bool("genkey", false, "create a key pair")
	verify := fs.Bool("verify", false, "verify -in with -pub")
	keyPath := fs.String("key", "", "private key file (base64 Ed25519 seed)")
	pub := fs.String("pub", "", "public key, base64 (with -verify)")
	in := fs.String("in", "", "manifest JSON (signing) or feed document (-verify)")
	out := fs.String("out", "", "feed document to write (default: standard output)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *genkey:
		if *keyPath == "" {
			return errors.New("-genkey needs -key FILE for the private key")
		}
		pubKey, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return fmt.Errorf("generate key: %w", err)
		}
		f, err := os.OpenFile(*keyPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("private key: %w", err)
		}
		if _, err := fmt.Fprintln(f, base64.StdEncoding.EncodeToString(priv.Seed())); err != nil {
			f.Close()
			return fmt.Errorf("private key %s: %w", *keyPath, err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("private key %s: %w", *keyPath, err)
		}
		fmt.Fprintf(stdout, "public key (app/update/key.go): %s\n", base64.StdEncoding.EncodeToString(pubKey))
		return nil
	case *verify:
		k, err := base64.StdEncoding.DecodeString(*pub)
		if err != nil || len(k) != ed25519.PublicKeySize {
			return errors.New("-pub: not a base64 Ed25519 public key")
		}
		data, err := os.ReadFile(*in)
		if err != nil {
			return err
		}
		m, err := update.Parse(data, []ed25519.PublicKey{k})
		if err != nil {
			return fmt.Errorf("%s: %w", *in, err)
		}
		fmt.Fprintf(stdout, "%s: valid, version %s of %s\n", *in, m.Version, m.Date)
		return nil
	}
	if *keyPath == "" || *in == "" {
		return errors.New("signing needs -key FILE and -in manifest.json (or -genkey, -verify)")
	}
	seedText, err := os.ReadFile(*keyPath)
	if err != nil {
		return fmt.Errorf("private key: %w", err)
	}
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(seedText)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return fmt.Errorf("private key %s: not a base64 Ed25519 seed", *keyPath)
	}
	data, err := os.ReadFile(*in)
	if err != nil {
		return err
	}
	var m update.Manifest
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	if m.Product == "" {
		m.Product = update.Product
	}
	feed, err := update.Sign(m, ed25519.NewKeyFromSeed(seed))
	if err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	if *out == "" {
		_, err = stdout.Write(feed)
		return err
	}
	return os.WriteFile(*out, feed, 0o644)
}
