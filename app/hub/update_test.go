package hub

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mesi/mconnect/app/update"
	"github.com/mesi/mconnect/connectors/registry"
	"github.com/mesi/mconnect/internal/testfs"
)

func TestStatusShowsASignedNewerVersion(t *testing.T) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, ed25519.SeedSize))
	feed, err := update.Sign(update.Manifest{Product: update.Product, Version: "99.0.0", Date: "2026-12-01",
		Notes: map[string]string{"en": "Faster worklists.", "sl": "Hitrejši delovni seznami."},
		URL:   "https://updates.example.com/mconnect-hub-99.0.0-setup.exe", SHA256: strings.Repeat("0f", 32)}, key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(feed) }))
	defer srv.Close()
	updateOptions = func(o *update.Options) {
		o.Client = srv.Client()
		o.Keys = []ed25519.PublicKey{key.Public().(ed25519.PublicKey)}
	}
	t.Cleanup(func() { updateOptions = func(*update.Options) {} })

	for _, on := range []bool{true, false} {
		c, err := registry.Example("birpis", testfs.TempDir(t))
		if err != nil {
			t.Fatal(err)
		}
		c.Update.Feed = srv.URL + "/feed.json"
		c.Update.Check = &on
		c.Log.Level = "warn"
		h, err := New(c, Options{LogStderr: discard{}})
		if err != nil {
			t.Fatal(err)
		}
		st, _ := h.Status(context.Background())
		if st.Update != nil {
			t.Fatalf("update.check %v: a notice before any check: %+v", on, st.Update)
		}
		if !on {
			if h.updates != nil {
				t.Fatal("update.check false: the checker was made")
			}
			h.Close()
			continue
		}
		if err := h.updates.Check(context.Background()); err != nil {
			t.Fatal(err)
		}
		st, _ = h.Status(context.Background())
		if u := st.Update; u == nil || u.Version != "99.0.0" || u.Date != "2026-12-01" || u.Notes["sl"] != "Hitrejši delovni seznami." ||
			u.URL != "https://updates.example.com/mconnect-hub-99.0.0-setup.exe" {
			t.Fatalf("Status.Update = %+v", st.Update)
		}
		h.Close()
	}
}
