package hub

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/connectors/halo"
	"github.com/mesi/mconnect/connectors/halo/halofake"
	"github.com/mesi/mconnect/connectors/registry"
	"github.com/mesi/mconnect/device/sim"
	"github.com/mesi/mconnect/internal/testfs"
)

type benchSecrets map[string]string

func (s benchSecrets) Resolve(ref string) (string, error) { return s[ref], nil }

// benchHALOHub runs a Best Practice hub against a HALO fake holding rows
// appointments, with tablets paired tablets.
func benchHALOHub(b *testing.B, rows, tablets int, minInterval time.Duration) (*Hub, *halofake.Fake, []*sim.Client) {
	b.Helper()
	f := halofake.New(b, halofake.Options{SiteID: "site-1", Key: "bench-key", Catalogue: "BPSPatients", Query: halo.DefaultQuery, Command: halo.DefaultCommand})
	at := time.Now().UTC().Add(time.Hour)
	list := make([]map[string]any, rows)
	for i := range list {
		list[i] = map[string]any{"AppointmentID": 1000 + i, "InternalID": i + 1, "Firstname": "Ana", "Surname": fmt.Sprint("Novak", i),
			"DOB": "1961-07-14T00:00:00", "Sex": "F", "Status": "Booked", "AppointmentDate": at.Format("2006-01-02") + "T00:00:00",
			"AppointmentTime": at.Hour()*3600 + at.Minute()*60, "Provider": "Dr Kos", "AppointmentType": "ECG"}
	}
	f.SetRows(list)
	reg := registry.Default.With(halo.Kind())
	c, err := reg.Example("bestpractice", testfs.TempDir(b))
	if err != nil {
		b.Fatal(err)
	}
	c.Device.Listen = freeAddr(b)
	c.Log.Level = "warn"
	h := config.SectionOf[*halo.Config](c, halo.Section)
	h.BaseURL, h.SiteID, h.APIKey, h.TimeZone = f.URL(), "site-1", "env:BENCH", "UTC"
	h.MinInterval, h.PollInterval, h.Timeout = config.Duration(minInterval), config.Duration(time.Hour), config.Duration(30*time.Second)
	hub, err := New(c, Options{LogStderr: discard{}, Registry: reg, Secrets: benchSecrets{"env:BENCH": "bench-key"}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { hub.Run(ctx); close(done) }()
	b.Cleanup(func() { cancel(); <-done; hub.Close() })
	waitListening(b, c.Device.Listen)
	var cls []*sim.Client
	for i := range tablets {
		p, err := hub.NewPairingCode(ctx, "default")
		if err != nil {
			b.Fatal(err)
		}
		cl, err := sim.NewClient("https://"+c.Device.Listen, p.Fingerprint, "")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := cl.Pair(ctx, sim.PairRequest{Code: p.Code, Serial: fmt.Sprint("MT-", i)}); err != nil {
			b.Fatal(err)
		}
		cls = append(cls, cl)
	}
	return hub, f, cls
}

// all20 has every tablet read its worklist at once; it returns each
// request's latency.
func all20(b *testing.B, cls []*sim.Client, want int) []time.Duration {
	var wg sync.WaitGroup
	lat := make([]time.Duration, len(cls))
	errs := make([]error, len(cls))
	for i, cl := range cls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			wl, _, _, err := cl.Worklist(context.Background(), "", 0)
			lat[i] = time.Since(start)
			if err == nil && len(wl.Appointments) != want {
				err = fmt.Errorf("%d appointments, want %d", len(wl.Appointments), want)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	return lat
}

func report(b *testing.B, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}

// BenchmarkWorklistWarmCache: 20 tablets read their worklist at once while
// the EHR's last answer is fresh (minInterval): no upstream call.
func BenchmarkWorklistWarmCache(b *testing.B) {
	_, f, cls := benchHALOHub(b, 20, 20, time.Hour)
	all20(b, cls, 20) // warm: the first answer is read and stored
	calls := f.Calls(halofake.OpImmediate)
	var lat []time.Duration
	b.ResetTimer()
	for range b.N {
		lat = append(lat, all20(b, cls, 20)...)
	}
	b.StopTimer()
	if n := f.Calls(halofake.OpImmediate); n != calls {
		b.Fatalf("%d upstream calls with a warm cache", n-calls)
	}
	report(b, lat)
}

// BenchmarkWorklistUpstream200ms: 20 tablets at once when the cache has
// expired and HALO takes 200 ms: they share one upstream call.
func BenchmarkWorklistUpstream200ms(b *testing.B) {
	_, f, cls := benchHALOHub(b, 20, 20, time.Second)
	all20(b, cls, 20)
	f.SetFault(halofake.OpImmediate, halofake.Fault{Delay: 200 * time.Millisecond})
	var lat []time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		time.Sleep(1100 * time.Millisecond) // past minInterval: the next read asks HALO
		calls := f.Calls(halofake.OpImmediate)
		b.StartTimer()
		lat = append(lat, all20(b, cls, 20)...)
		b.StopTimer()
		if n := f.Calls(halofake.OpImmediate) - calls; n != 1 {
			b.Fatalf("%d upstream calls for 20 tablets, want 1", n)
		}
		b.StartTimer()
	}
	b.StopTimer()
	report(b, lat)
}

// BenchmarkTenThousandAppointments: one answer of 10,000 appointments read
// and stored (first pull), then read again unchanged.
func BenchmarkTenThousandAppointments(b *testing.B) {
	for range b.N {
		b.StopTimer()
		_, _, cls := benchHALOHub(b, 10000, 1, time.Second)
		b.StartTimer()
		start := time.Now()
		all20(b, cls, 10000)
		first := time.Since(start)
		b.StopTimer()
		time.Sleep(1100 * time.Millisecond)
		b.StartTimer()
		start = time.Now()
		all20(b, cls, 10000)
		again := time.Since(start)
		b.ReportMetric(float64(first.Milliseconds()), "first-pull-ms")
		b.ReportMetric(float64(again.Milliseconds()), "unchanged-repull-ms")
	}
}
