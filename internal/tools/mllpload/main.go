// Command mllpload is the load program of the ingest benchmark: it sends
// ORM^O01 orders over several MLLP connections to a listener (the hub's, or
// an HL7 peer's for comparison), checks every ACK, and prints the orders
// per second and the ACK latencies.
//
//	go run ./internal/tools/mllpload -addr 127.0.0.1:2575 -conns 8 -n 40000
//	go run ./internal/tools/mllpload -addr 127.0.0.1:2575 -conns 1 -rate 200 -n 3000
//
// Every message has a control ID of its own (a run prefix and a number),
// so a hub that recognises repeated control IDs stores each one. Exit code
// 2: bad flags; 1: the listener could not be reached or answered wrong.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

var perMessage, anyID bool

func main() {
	addr := flag.String("addr", "", "host:port of the MLLP listener")
	conns := flag.Int("conns", 8, "connections sending at once")
	n := flag.Int("n", 20000, "orders to send (after the warm-up)")
	warm := flag.Int("warmup", 2000, "orders sent first and not counted")
	rate := flag.Float64("rate", 0, "orders per second over all connections (0: as fast as the ACKs come)")
	prefix := flag.String("prefix", strconv.FormatInt(time.Now().UnixNano()%1e9, 36), "control ID prefix (unique per run)")
	asJSON := flag.Bool("json", false, "print the figures as one JSON object")
	flag.BoolVar(&perMessage, "connection-per-message", false, "open a connection for each message (as some EHRs do) instead of keeping 8 open")
	flag.BoolVar(&anyID, "any-ack-id", false, "accept an AA that names another control ID (listeners that answer every message on a connection with the first one's ID)")
	flag.Parse()
	if *addr == "" || *conns < 1 || *n < 1 || *warm < 0 || *rate < 0 {
		fmt.Fprintln(os.Stderr, "mllpload: -addr is required; -conns and -n must be at least 1, -warmup and -rate not negative")
		os.Exit(2)
	}
	if *warm > 0 {
		if _, err := run(*addr, *conns, *warm, *rate, *prefix+"w"); err != nil {
			fmt.Fprintln(os.Stderr, "mllpload: warm-up:", err)
			os.Exit(1)
		}
	}
	r, err := run(*addr, *conns, *n, *rate, *prefix+"m")
	if err != nil {
		fmt.Fprintln(os.Stderr, "mllpload:", err)
		os.Exit(1)
	}
	if *asJSON {
		_ = json.NewEncoder(os.Stdout).Encode(r)
		return
	}
	fmt.Printf("%d orders over %d connections in %.2f s: %.0f orders/s; ACK p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
		r.Orders, r.Conns, r.Seconds, r.PerSecond, r.P50ms, r.P99ms, r.MaxMs)
	if *rate > 0 {
		fmt.Printf("  sends at most %.2f ms behind their time\n", r.BehindMs)
	}
}

// Result is what one run measured.
type Result struct {
	Orders    int     `json:"orders"`
	Conns     int     `json:"conns"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"ordersPerSecond"`
	P50ms     float64 `json:"p50AckMs"`
	P99ms     float64 `json:"p99AckMs"`
	MaxMs     float64 `json:"maxAckMs"`
	// BehindMs is, with a rate, the most a send was later than its time.
	BehindMs float64 `json:"behindMs,omitempty"`
}

func run(addr string, conns, n int, rate float64, prefix string) (Result, error) {
	cs := make([]net.Conn, conns)
	for i := range cs {
		if perMessage {
			break
		}
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return Result{}, fmt.Errorf("connect to %s: %w", addr, err)
		}
		defer c.Close()
		cs[i] = c
	}
	// With a rate, order i is due at start + (i-1)/rate: a sender that
	// fell behind (all connections waiting for ACKs) catches up instead of
	// losing its turn, so the rate is what was asked for; how far sends
	// fell behind their time is reported (Behind).
	var every time.Duration
	if rate > 0 {
		every = time.Duration(float64(time.Second) / rate)
	}
	behind := make([]time.Duration, conns)
	var next atomic.Int64
	var wg sync.WaitGroup
	lat := make([][]time.Duration, conns)
	errs := make([]error, conns)
	start := time.Now()
	for k := range cs {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			c := cs[k]
			var br *bufio.Reader
			if c != nil {
				br = bufio.NewReaderSize(c, 4096)
			}
			var buf []byte
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				if every > 0 {
					due := start.Add(time.Duration(i-1) * every)
					if d := time.Until(due); d > 0 {
						time.Sleep(d)
					} else if -d > behind[k] {
						behind[k] = -d
					}
				}
				id := prefix + strconv.FormatInt(i, 10)
				buf = appendFrame(buf[:0], id)
				t0 := time.Now()
				if perMessage {
					var err error
					if c, err = net.Dial("tcp", addr); err != nil {
						errs[k] = fmt.Errorf("connect to %s: %w", addr, err)
						return
					}
					br = bufio.NewReaderSize(c, 4096)
				}
				if _, err := c.Write(buf); err != nil {
					errs[k] = fmt.Errorf("send %s: %w", id, err)
					return
				}
				ack, err := readFrame(br)
				if err != nil {
					errs[k] = fmt.Errorf("ACK of %s: %w", id, err)
					return
				}
				lat[k] = append(lat[k], time.Since(t0))
				if perMessage {
					c.Close()
				}
				want := "MSA|AA|" + id + "\r"
				if anyID {
					want = "MSA|AA|"
				}
				if !bytes.Contains(append(ack, '\r'), []byte(want)) {
					errs[k] = fmt.Errorf("ACK of %s is not AA: %q", id, ack)
					return
				}
			}
		}(k)
	}
	wg.Wait()
	el := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return Result{}, err
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	var most time.Duration
	for _, b := range behind {
		most = max(most, b)
	}
	return Result{
		Orders: n, Conns: conns, Seconds: el.Seconds(), PerSecond: float64(n) / el.Seconds(),
		P50ms: ms(all[len(all)/2]), P99ms: ms(all[len(all)*99/100]), MaxMs: ms(all[len(all)-1]),
		BehindMs: ms(most),
	}, nil
}

// appendFrame appends one MLLP-framed ORM^O01 (a new order for an ECG)
// with control ID id.
func appendFrame(b []byte, id string) []byte {
	b = append(b, 0x0b)
	b = append(b, "MSH|^~\\&|BIRPIS|ZDL|MCONNECT|MESI|20240315083000||ORM^O01|"...)
	b = append(b, id...)
	b = append(b, "|P|2.3\rPID|1||P"...)
	b = append(b, id...)
	b = append(b, "^^^ZZZS^MR||Novak^Ana||19800101|F\rPV1|1|O|KARD\rORC|NW|ORD"...)
	b = append(b, id...)
	b = append(b, "^BIRPIS||||||20240315083000\rOBR|1|ORD"...)
	b = append(b, id...)
	b = append(b, "^BIRPIS||ECG^EKG\r\x1c\r"...)
	return b
}

// readFrame reads one MLLP frame and returns its content.
func readFrame(r *bufio.Reader) ([]byte, error) {
	if _, err := r.ReadBytes(0x0b); err != nil {
		return nil, err
	}
	b, err := r.ReadBytes(0x1c)
	if err != nil {
		return nil, err
	}
	if c, err := r.ReadByte(); err != nil || c != '\r' {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("frame not ended by FS CR: %w", err)
	}
	return b[:len(b)-1], nil
}
