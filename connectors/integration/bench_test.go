package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mesi/mconnect/app/problem"
	"github.com/mesi/mconnect/app/tlscert"
)

// BenchmarkPutDurable: PUTs of new appointments over TLS, each answered
// only after the order and its audit entry are on disk (SQLite
// synchronous=FULL), from 16 callers at once.
func BenchmarkPutDurable(b *testing.B) {
	benchPut(b, 16)
}

// BenchmarkPutDurableOneCaller: the same from a single caller (latency).
func BenchmarkPutDurableOneCaller(b *testing.B) {
	benchPut(b, 1)
}

func benchPut(b *testing.B, callers int) {
	e := newEnv(b, nil)
	tok := e.token("")
	_, fp, err := tlscert.LoadOrCreate(e.dir)
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: pinnedTransport(fp)} // no spec check: it would dominate
	body, _ := json.Marshal(sample())
	var n atomic.Int64
	b.SetParallelism(callers)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("B-%d", n.Add(1))
			req, _ := http.NewRequest(http.MethodPut, e.base+"/appointments/"+id, strings.NewReader(string(body)))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "puts/s")
}

// BenchmarkTokenValidationBuiltin: checking one of the hub's own ES256
// tokens, with the client's registration read from the store (as every
// call does) and without (signature and claims alone).
func BenchmarkTokenValidationBuiltin(b *testing.B) {
	e := newEnv(b, nil)
	tok := e.token("")
	ctx := context.Background()
	active := e.srv.verify.active
	for _, sub := range []struct {
		name   string
		active func(context.Context, string) *problem.Problem
	}{{"with-client-lookup", active}, {"signature-and-claims", nil}} {
		b.Run(sub.name, func(b *testing.B) {
			e.srv.verify.active = sub.active
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, ap := e.srv.verify.check(ctx, tok); ap != nil {
					b.Fatal(ap.Problem)
				}
			}
		})
	}
	e.srv.verify.active = active
}

// BenchmarkTokenValidationExternal: checking an identity provider's RS256
// token against its cached JWKS.
func BenchmarkTokenValidationExternal(b *testing.B) {
	p := newIDP(b, "k1")
	e := newEnv(b, func(o *Options) { o.Config = externalConfig(p.URL + "/jwks") })
	tok := p.token(b, "k1", e.clk.now(), func(jwt.MapClaims) {})
	ctx := context.Background()
	if _, ap := e.srv.verify.check(ctx, tok); ap != nil {
		b.Fatal(ap.Problem)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ap := e.srv.verify.check(ctx, tok); ap != nil {
			b.Fatal(ap.Problem)
		}
	}
}

// BenchmarkTokenIssue: the token endpoint's signing of one token.
func BenchmarkTokenIssue(b *testing.B) {
	e := newEnv(b, nil)
	r, _ := http.NewRequest(http.MethodPost, "/", nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := e.srv.issue(r, e.creds.ClientID, ScopeWrite); err != nil {
			b.Fatal(err)
		}
	}
}
