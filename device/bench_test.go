package device

import (
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

func rawClient(e *env, conns int) *http.Client {
	tr := pinnedTransport(e.srv.Fingerprint())
	tr.MaxIdleConnsPerHost = conns
	tr.MaxConnsPerHost = conns
	return &http.Client{Transport: tr, Timeout: 2 * time.Minute}
}

func p99(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[(len(d)*99+99)/100-1]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkLongPollFanout: 200 tablets long-poll one group; one order is
// stored and GroupChanged called; the metric is how long until each of the
// 200 has the new worklist (p99 over all clients and iterations).
func BenchmarkLongPollFanout(b *testing.B) {
	const clients = 200
	e := newEnv(b, func(o *Options) { o.MaxLongPollers = 1000 })
	tab := e.pair(domain.DefaultGroupID, "S1")
	c := rawClient(e, clients+10)
	etag := func() string {
		req, _ := http.NewRequest(http.MethodGet, e.base+"/worklist", nil)
		req.Header.Set("Authorization", "Bearer "+tab.Token)
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.Header.Get("ETag")
	}
	var lat []time.Duration
	var mu sync.Mutex
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		tag := etag()
		var t0 atomic.Int64
		var wg sync.WaitGroup
		for j := 0; j < clients; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest(http.MethodGet, e.base+"/worklist?wait=60s", nil)
				req.Header.Set("Authorization", "Bearer "+tab.Token)
				req.Header.Set("If-None-Match", tag)
				resp, err := c.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				d := time.Duration(time.Now().UnixNano() - t0.Load())
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
				}
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}()
		}
		deadline := time.Now().Add(time.Minute)
		for e.srv.pollers.Load() < clients {
			if time.Now().After(deadline) {
				b.Fatalf("only %d of %d clients waiting", e.srv.pollers.Load(), clients)
			}
			time.Sleep(time.Millisecond)
		}
		b.StartTimer()
		t0.Store(time.Now().UnixNano())
		e.addOrder(domain.DefaultGroupID, fmt.Sprintf("B%d", i)) // stores, then GroupChanged
		wg.Wait()
	}
	b.StopTimer()
	b.ReportMetric(ms(p99(lat)), "p99-ms")
}

// BenchmarkWorklistAt500rps: GET /worklist (20 appointments) paced at 500
// requests per second from 16 connections; p99 latency per request.
func BenchmarkWorklistAt500rps(b *testing.B) {
	e := newEnv(b, nil)
	tab := e.pair(domain.DefaultGroupID, "S1")
	for i := 0; i < 20; i++ {
		e.addOrder(domain.DefaultGroupID, fmt.Sprintf("W%d", i))
	}
	c := rawClient(e, 16)
	jobs := make(chan time.Time)
	lat := make([]time.Duration, 0, b.N)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for due := range jobs {
				req, _ := http.NewRequest(http.MethodGet, e.base+"/worklist", nil)
				req.Header.Set("Authorization", "Bearer "+tab.Token)
				resp, err := c.Do(req)
				if err != nil {
					b.Error(err)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
				}
				d := time.Since(due) // from when it was due: queueing counts
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		}()
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		due := start.Add(time.Duration(i) * 2 * time.Millisecond)
		time.Sleep(time.Until(due))
		jobs <- due
	}
	close(jobs)
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(ms(p99(lat)), "p99-ms")
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

// patternReader yields n bytes of a PDF-looking stream without holding them.
type patternReader struct {
	n, off int64
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	if int64(len(b)) > p.n-p.off {
		b = b[:p.n-p.off]
	}
	for i := range b {
		b[i] = "%PDF-1.7\n"[(p.off+int64(i))%9]
	}
	p.off += int64(len(b))
	return len(b), nil
}

// BenchmarkUpload10MB: one 10 MB result upload until 201 (report streamed
// to disk, fsynced, result stored); peak heap growth sampled with
// runtime.ReadMemStats every millisecond against the heap after a GC.
func BenchmarkUpload10MB(b *testing.B) {
	const size = 10 << 20
	e := newEnv(b, nil)
	tab := e.pair(domain.DefaultGroupID, "S1")
	id := e.addOrder(domain.DefaultGroupID, "U1")
	c := rawClient(e, 2)
	js := resultJSON(id)
	var peak uint64
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		go func() {
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", `form-data; name="result"`)
			h.Set("Content-Type", "application/json")
			w, _ := mw.CreatePart(h)
			w.Write(js)
			h = textproto.MIMEHeader{}
			h.Set("Content-Disposition", `form-data; name="report"; filename="r.pdf"`)
			h.Set("Content-Type", "application/pdf")
			w, _ = mw.CreatePart(h)
			io.Copy(w, &patternReader{n: size})
			pw.CloseWithError(mw.Close())
		}()
		req, _ := http.NewRequest(http.MethodPost, e.base+"/results", pr)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+tab.Token)
		req.Header.Set("Idempotency-Key", fmt.Sprintf("big-%d", i))
		runtime.GC()
		var ms0 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		stop := make(chan struct{})
		sampled := make(chan uint64)
		go func() {
			var m runtime.MemStats
			var top uint64
			t := time.NewTicker(time.Millisecond)
			defer t.Stop()
			for {
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > ms0.HeapAlloc && m.HeapAlloc-ms0.HeapAlloc > top {
					top = m.HeapAlloc - ms0.HeapAlloc
				}
				select {
				case <-stop:
					sampled <- top
					return
				case <-t.C:
				}
			}
		}()
		b.StartTimer()
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		b.StopTimer()
		close(stop)
		if top := <-sampled; top > peak {
			peak = top
		}
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("status %d", resp.StatusCode)
		}
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// BenchmarkWorklistBigOrders: 16 orders stuffed with text (7 fields of
// 256 KB each, near the 2 MB an order message may have) on the worklist;
// each op is one GET /worklist of a tablet. It reports the worklist's size
// and the process's peak resident memory (getrusage maxrss, the whole test
// process: store, server and client).
func BenchmarkWorklistBigOrders(b *testing.B) {
	e := newEnv(b, nil)
	tab := e.pair(domain.DefaultGroupID, "S1")
	for i := range 16 {
		if _, err := e.st.ApplyOrder(context.Background(), bigOrder(fmt.Sprintf("BIG%d", i), 256<<10)); err != nil {
			b.Fatal(err)
		}
	}
	e.srv.GroupChanged(domain.DefaultGroupID)
	client := &http.Client{Transport: pinnedTransport(e.srv.Fingerprint()), Timeout: time.Minute}
	var size int
	b.ResetTimer()
	for range b.N {
		req, _ := http.NewRequest(http.MethodGet, e.base+"/worklist", nil)
		req.Header.Set("Authorization", "Bearer "+tab.Token)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("worklist: %d %v", resp.StatusCode, err)
		}
		size = len(body)
	}
	b.StopTimer()
	b.ReportMetric(float64(size), "worklist-bytes")
	if mb := maxRSSMB(); mb > 0 {
		b.ReportMetric(mb, "maxrss-MB")
	}
}
