package integration

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzDecodeAppointment: any body is either refused with a problem naming
// a status, or accepted as an appointment whose canonical form reads back
// to the same content.
func FuzzDecodeAppointment(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "appointment-*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{`{}`, `null`, `[]`, `{"patient":{"id":"1"},"measurement":"ECG","fields":{"a":"b"}}`,
		`{"patient":{"id":"1","gender":"M"},"measurement":"ecg","visitIds":[{"value":"v"}]}`, `{"patient":"x"}`, `{"fields":{"a":1}}`} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		a, _, p := decodeAppointment(body, now)
		if p != nil {
			if p.Status != 400 && p.Status != 422 || p.Title == "" {
				t.Fatalf("problem %+v", p)
			}
			return
		}
		if a.Patient.ID == "" || a.Measurement == "" {
			t.Fatalf("accepted without patient ID or measurement: %+v", a)
		}
		canon, hash := a.canonical()
		b, _, p2 := decodeAppointment([]byte(canon), now)
		if p2 != nil {
			t.Fatalf("canonical form %s refused: %+v", canon, p2)
		}
		if _, h2 := b.canonical(); h2 != hash {
			t.Fatalf("canonical form changes on reading: %s", canon)
		}
		o := a.order("join", "X", "ECG", "default", "c", now)
		if o.Patient.ID != a.Patient.ID || o.Meta[metaHash] != hash {
			t.Fatalf("order %+v", o)
		}
	})
}

// FuzzParseJWKS: a key set is read or refused, never a panic; every key
// read is public.
func FuzzParseJWKS(f *testing.F) {
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"1"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"AAAA"}]}`))
	f.Add([]byte(`{"keys":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, err := parseJWKS(b)
		if err != nil {
			return
		}
		for _, k := range keys {
			if !k.IsPublic() {
				t.Fatalf("non-public key %s accepted", k.KeyID)
			}
		}
	})
}

// FuzzVerifyToken: any bearer token is refused with a problem or accepted
// only with a signature of the hub's key.
func FuzzVerifyToken(f *testing.F) {
	e := newEnv(f, nil)
	good := e.token("")
	f.Add(good)
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, raw string) {
		p, ap := e.srv.verify.check(context.Background(), raw)
		if ap != nil {
			if ap.Status != 401 && ap.Status != 403 && ap.Status != 503 {
				t.Fatalf("status %d", ap.Status)
			}
			return
		}
		// Only a token the hub signed passes (a variant that still verifies
		// carries the same claims under the same signature).
		if p.client != e.creds.ClientID || !p.has(ScopeWrite) {
			t.Fatalf("accepted %q as %+v", raw, p)
		}
	})
}
