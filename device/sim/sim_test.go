package sim_test

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
	"github.com/mesi/mconnect/device"
	"github.com/mesi/mconnect/device/sim"
)

type hub struct{ st *store.Store }

func (h hub) Worklist(ctx context.Context, g string) ([]domain.Order, error) {
	return h.st.Worklist(ctx, g)
}

func (h hub) AcceptResult(ctx context.Context, r domain.Result) (domain.Result, bool, error) {
	return h.st.SaveResult(ctx, r, []string{"ehr"})
}

// flakyHub fails the first n AcceptResult calls after storing, as if the
// answer was lost: the retry must not store twice.
type flakyHub struct {
	hub
	fails int
}

func (h *flakyHub) AcceptResult(ctx context.Context, r domain.Result) (domain.Result, bool, error) {
	s, dup, err := h.hub.AcceptResult(ctx, r)
	if err == nil && h.fails > 0 {
		h.fails--
		return domain.Result{}, false, io.ErrUnexpectedEOF
	}
	return s, dup, err
}

func startHub(t *testing.T, h device.Hub, st *store.Store) *device.Server {
	t.Helper()
	l := logrus.New()
	l.SetOutput(io.Discard)
	s, err := device.NewServer(device.Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(), HubID: "h1"}, st, h, l, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	if s.Addr() == nil {
		t.Fatal("no listener")
	}
	return s
}

func openStore(t *testing.T) *store.Store {
	st, err := store.Open(filepath.Join(t.TempDir(), "hub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func addOrder(t *testing.T, st *store.Store, placer, measurement string) string {
	acc, err := st.ApplyOrder(context.Background(), domain.Order{Connection: "c", SourceMessageID: placer, PlacerNumber: placer,
		Measurement: measurement, Patient: domain.Patient{ID: "P" + placer, Name: domain.PersonName{Family: "Košir", Given: "Živa"}, BirthDate: "1970-05-06"}})
	if err != nil {
		t.Fatal(err)
	}
	return acc.OrderID
}

func TestMainPairsAndUploadsOnce(t *testing.T) {
	st := openStore(t)
	h := &flakyHub{hub: hub{st}, fails: 1}
	s := startHub(t, h, st)
	ecg := addOrder(t, st, "A1", "ECG")
	abi := addOrder(t, st, "A2", "ABI")
	code, _, err := device.NewPairingCode(context.Background(), st, time.Minute, "")
	if err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	var out bytes.Buffer
	rc := sim.Main(context.Background(), []string{"--hub", "https://" + s.Addr().String(), "--fp", s.Fingerprint(),
		"--code", code, "--token-file", tokenFile, "--serial", "MT-55", "--once"}, &out)
	if rc != 0 {
		t.Fatalf("exit %d:\n%s", rc, out.String())
	}
	if strings.Contains(out.String(), strings.TrimSpace(readFile(t, tokenFile))) {
		t.Error("the token was printed")
	}
	results, err := st.Results(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 {
		t.Fatalf("%d results stored, want 2 (one per appointment, despite the retried upload):\n%s", len(results), out.String())
	}
	byOrder := map[string]domain.Result{}
	for _, r := range results {
		byOrder[r.OrderID] = r
	}
	if r := byOrder[ecg]; r.Measurement != "ECG" || len(r.Observations) != 5 || r.Device.Serial != "MT-55" || r.Report == nil {
		t.Errorf("ECG result %+v", r)
	}
	if r := byOrder[abi]; r.Measurement != "ABI" || len(r.Observations) != 2 {
		t.Errorf("ABI result %+v", r)
	}
	pdf, err := os.ReadFile(byOrder[ecg].Report.Path)
	if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-")) || !bytes.Contains(pdf, []byte("%%EOF")) {
		t.Errorf("stored report is not a whole PDF (%v)", err)
	}
	for _, id := range []string{ecg, abi} {
		if o, _ := st.Order(context.Background(), id); o.State != domain.OrderInProgress || o.StartedBy == "" {
			t.Errorf("order %s: state %s started by %q", id, o.State, o.StartedBy)
		}
	}
	// Second run with the token file: nothing left to do, nothing stored again.
	out.Reset()
	rc = sim.Main(context.Background(), []string{"--hub", "https://" + s.Addr().String(), "--fp", s.Fingerprint(), "--token-file", tokenFile, "--once"}, &out)
	if rc != 0 {
		t.Fatalf("second run exit %d:\n%s", rc, out.String())
	}
	if results, _ := st.Results(context.Background(), 10); len(results) != 2 {
		t.Errorf("second run stored more: %d", len(results))
	}
}

func TestWatchWithManyTablets(t *testing.T) {
	st := openStore(t)
	s := startHub(t, hub{st}, st)
	code, _, _ := device.NewPairingCode(context.Background(), st, time.Minute, "")
	c, err := sim.NewClient("https://"+s.Addr().String(), s.Fingerprint(), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Pair(context.Background(), sim.PairRequest{Code: code, Serial: "MT-1"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tabs := make([]*sim.Tablet, 3)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range tabs {
			tabs[i] = &sim.Tablet{Client: c, Index: i, Of: len(tabs), Serial: "MT-1", Wait: 20 * time.Second}
		}
		for _, tb := range tabs {
			go tb.Watch(ctx)
		}
	}()
	<-done
	for i := 0; i < 6; i++ {
		addOrder(t, st, "W"+string(rune('0'+i)), "ECG")
		s.GroupChanged(domain.DefaultGroupID)
	}
	uploaded := func() int {
		n := 0
		for _, tb := range tabs {
			n += len(tb.Uploaded())
		}
		return n
	}
	deadline := time.Now().Add(60 * time.Second)
	for uploaded() < 6 {
		if time.Now().After(deadline) {
			t.Fatalf("%d uploads after 60 s, want 6", uploaded())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if rs, _ := st.Results(context.Background(), 100); len(rs) != 6 || uploaded() != 6 {
		t.Errorf("%d results stored, %d uploads; want 6 each (each appointment once)", len(rs), uploaded())
	}
}

func TestMainBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--nope"},
		{"--hub", "https://127.0.0.1:1"},
		{"--code", "123456", "--hub", "https://127.0.0.1:1"},
		{"--code", "123456", "--fp", strings.Repeat("a", 64), "--measurement", "EEG"},
		{"--code", "123456", "--fp", strings.Repeat("a", 64), "--tablets", "0"},
		{"--code", "123456", "--fp", "xyz"},
		{"--code", "123456", "--fp", strings.Repeat("a", 64), "extra"},
	} {
		var out bytes.Buffer
		if rc := sim.Main(context.Background(), args, &out); rc != 2 || out.Len() == 0 {
			t.Errorf("%v: exit %d, output %q; want 2 with a message", args, rc, out.String())
		}
	}
}

func TestMainRefusesWrongFingerprint(t *testing.T) {
	st := openStore(t)
	s := startHub(t, hub{st}, st)
	var out bytes.Buffer
	rc := sim.Main(context.Background(), []string{"--hub", "https://" + s.Addr().String(), "--fp", strings.Repeat("0", 64), "--code", "123456", "--once"}, &out)
	if rc != 1 || !strings.Contains(out.String(), "fingerprint") {
		t.Errorf("exit %d, output %q; want 1 naming the fingerprint", rc, out.String())
	}
}

func TestMeasureRanges(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		r, err := sim.Measure("ECG", rng, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range r.Observations {
			if o.Low >= o.High || o.Value <= 0 || (o.Flag == "N") != (o.Value >= o.Low && o.Value <= o.High) {
				t.Fatalf("ECG observation %+v", o)
			}
		}
		a, _ := sim.Measure("ABI", rng, time.Now())
		if a.Observations[0].Low != 0.9 || a.Observations[0].High != 1.3 {
			t.Fatalf("ABI range %+v", a.Observations[0])
		}
	}
	if _, err := sim.Measure("EEG", rng, time.Now()); err == nil {
		t.Error("EEG accepted")
	}
}

func readFile(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
