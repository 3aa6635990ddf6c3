package sim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	mrand "math/rand/v2"
	"sync"
	"time"

	"github.com/mesi/mconnect/device"
)

// Tablet measures the appointments of its worklist.
type Tablet struct {
	Client *Client
	// Index and Of split one worklist between Of simulated tablets sharing a
	// token: this tablet takes the appointments whose ID hashes to Index.
	Index, Of int
	Serial    string
	Model     string
	Operator  string
	// Measurement forces ECG or ABI; empty uses the appointment's when it is
	// one of those, else ECG.
	Measurement string
	// Wait is the long-poll wait in Watch (default 25 s).
	Wait time.Duration
	Out  io.Writer

	mu   sync.Mutex
	done map[string]string // appointment ID -> result ID
	rng  *mrand.Rand
}

func (t *Tablet) init() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done == nil {
		t.done = map[string]string{}
	}
	if t.rng == nil {
		var seed [16]byte
		rand.Read(seed[:])
		t.rng = mrand.New(mrand.NewPCG(uint64FromBytes(seed[:8]), uint64FromBytes(seed[8:])))
	}
	if t.Of < 1 {
		t.Of = 1
	}
	if t.Out == nil {
		t.Out = io.Discard
	}
	if t.Model == "" {
		t.Model = "mTABLET"
	}
}

func uint64FromBytes(b []byte) uint64 {
	var v uint64
	for _, x := range b {
		v = v<<8 | uint64(x)
	}
	return v
}

func (t *Tablet) mine(id string) bool {
	if t.Of <= 1 {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32()%uint32(t.Of)) == t.Index
}

// Uploaded returns the results this tablet stored, by appointment ID.
func (t *Tablet) Uploaded() map[string]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]string, len(t.done))
	for k, v := range t.done {
		out[k] = v
	}
	return out
}

// Process measures every appointment of wl that is this tablet's and not
// done yet; it returns how many results it uploaded.
func (t *Tablet) Process(ctx context.Context, wl device.Worklist) (int, error) {
	t.init()
	n := 0
	for i := range wl.Appointments {
		a := wl.Appointments[i]
		t.mu.Lock()
		_, seen := t.done[a.ID]
		t.mu.Unlock()
		if seen || !t.mine(a.ID) || a.State != device.StateScheduled {
			continue
		}
		if err := t.measure(ctx, a.ID); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// measure starts the appointment (the answer has every field, the
// worklist only a summary), measures and uploads.
func (t *Tablet) measure(ctx context.Context, apptID string) error {
	full, err := t.Client.Start(ctx, apptID)
	a := &full
	a.ID = apptID
	if err != nil {
		var he *HTTPError
		if errors.As(err, &he) && (he.Status == 404 || he.Status == 409) {
			fmt.Fprintf(t.Out, "tablet %d: appointment %s is gone (%d), skipped\n", t.Index, a.ID, he.Status)
			t.mu.Lock()
			t.done[a.ID] = ""
			t.mu.Unlock()
			return nil
		}
		return fmt.Errorf("start %s: %w", a.ID, err)
	}
	kind := t.Measurement
	if kind == "" {
		kind = "ECG"
		if a.Measurement == "ABI" {
			kind = "ABI"
		}
	}
	t.mu.Lock()
	r, err := Measure(kind, t.rng, time.Now())
	t.mu.Unlock()
	if err != nil {
		return err
	}
	r.AppointmentID = a.ID
	r.Operator = t.Operator
	r.Device = map[string]any{"serial": t.Serial, "model": t.Model}
	pdf, err := ReportPDF(r, a, t.Serial)
	if err != nil {
		return err
	}
	key := newKey()
	id, err := t.Client.Upload(ctx, r, pdf, key)
	if err != nil {
		return fmt.Errorf("upload result for %s: %w", a.ID, err)
	}
	t.mu.Lock()
	t.done[a.ID] = id
	t.mu.Unlock()
	fmt.Fprintf(t.Out, "tablet %d: %s for appointment %s uploaded as %s (%d-byte report)\n", t.Index, kind, a.ID, id, len(pdf))
	return nil
}

func newKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Once reads the worklist and processes it.
func (t *Tablet) Once(ctx context.Context) (int, error) {
	wl, _, _, err := t.Client.Worklist(ctx, "", 0)
	if err != nil {
		return 0, err
	}
	return t.Process(ctx, wl)
}

// Watch long-polls the worklist and processes every change until ctx ends.
// Errors are reported on Out and retried after a pause.
func (t *Tablet) Watch(ctx context.Context) error {
	t.init()
	wait := t.Wait
	if wait <= 0 {
		wait = 25 * time.Second
	}
	etag := ""
	for ctx.Err() == nil {
		wl, tag, changed, err := t.Client.Worklist(ctx, etag, wait)
		if err == nil && changed {
			etag = tag
			_, err = t.Process(ctx, wl)
		}
		if err != nil && ctx.Err() == nil {
			var he *HTTPError
			if errors.As(err, &he) && he.Status == 401 {
				return err // revoked or unknown token: pair again
			}
			fmt.Fprintf(t.Out, "tablet %d: %v (retrying)\n", t.Index, err)
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Second):
			}
		}
	}
	return nil
}
