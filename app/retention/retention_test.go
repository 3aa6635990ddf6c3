package retention

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
)

var (
	base    = time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	old     = base                          // 100 days before the sweep
	recent  = base.Add(90 * 24 * time.Hour) // 10 days before the sweep
	sweepAt = base.Add(100 * 24 * time.Hour)
)

// world is a data folder with a store whose clock the test sets.
type world struct {
	t     *testing.T
	dir   string
	st    *store.Store
	now   time.Time
	n     int
	trace map[string]string // name -> order or result ID
}

func newWorld(t *testing.T) *world {
	w := &world{t: t, dir: t.TempDir(), trace: map[string]string{}}
	st, err := store.Open(filepath.Join(w.dir, "mconnect.db"), store.Options{Now: func() time.Time { return w.now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w.st = st
	return w
}

// order stores an order at time at and returns its ID.
func (w *world) order(name string, at time.Time) string {
	w.t.Helper()
	w.now = at
	w.n++
	acc, err := w.st.ApplyOrder(context.Background(), domain.Order{Connection: "ehr", SourceMessageID: "m-" + name,
		PlacerNumber: "P-" + name, Action: domain.ActionNew, Measurement: "ECG", Patient: domain.Patient{ID: "1"}})
	if err != nil {
		w.t.Fatal(err)
	}
	w.trace["order "+name] = acc.OrderID
	return acc.OrderID
}

// result stores a result of orderID at time at with a PDF report and one
// delivery per outcome ("d" delivered, "f" failed, "a" ambiguous, "q"
// left queued, "c" cancelled by a person), each ending at at.
func (w *world) result(name, orderID string, at time.Time, outcomes ...string) (string, string) {
	w.t.Helper()
	ctx := context.Background()
	w.now = at
	pdf := filepath.Join(w.dir, "reports", name+".pdf")
	if err := os.MkdirAll(filepath.Dir(pdf), 0o700); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(pdf, []byte("%PDF-1.4 "+name), 0o600); err != nil {
		w.t.Fatal(err)
	}
	conns := make([]string, len(outcomes))
	for i := range outcomes {
		conns[i] = "out" + string(rune('a'+i))
	}
	r, _, err := w.st.SaveResult(ctx, domain.Result{OrderID: orderID, Measurement: "ECG", DeviceID: "tab",
		Report: &domain.Attachment{Path: pdf, ContentType: "application/pdf"}}, conns)
	if err != nil {
		w.t.Fatal(err)
	}
	ds, err := w.st.Deliveries(ctx, store.DeliveryFilter{ResultID: r.ID})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, d := range ds {
		i := int(d.Connection[3] - 'a')
		st := map[string]domain.DeliveryState{"d": domain.DeliveryDelivered, "f": domain.DeliveryFailed, "a": domain.DeliveryAmbiguous}[outcomes[i]]
		switch outcomes[i] {
		case "q":
			continue
		case "c":
			if _, err := w.st.CancelDelivery(ctx, d.ID, "staff", "sent by fax"); err != nil {
				w.t.Fatal(err)
			}
			continue
		}
		c, err := w.st.ClaimDelivery(ctx, d.ID, []domain.DeliveryState{domain.DeliveryQueued})
		if err != nil {
			w.t.Fatal(err)
		}
		o := store.Outcome{State: st}
		if st != domain.DeliveryDelivered {
			o.Error = "refused"
		}
		if _, err := w.st.CompleteDelivery(ctx, c, o); err != nil {
			w.t.Fatal(err)
		}
	}
	w.trace["result "+name] = r.ID
	return r.ID, pdf
}

func (w *world) setState(orderID string, state domain.OrderState, at time.Time) {
	w.t.Helper()
	w.now = at
	if _, err := w.st.SetOrderState(context.Background(), orderID, state, "staff", "test"); err != nil {
		w.t.Fatal(err)
	}
}

// left lists the names of the orders and results still stored.
func (w *world) left() []string {
	w.t.Helper()
	ctx := context.Background()
	var out []string
	for name, id := range w.trace {
		var err error
		if strings.HasPrefix(name, "order ") {
			_, err = w.st.Order(ctx, id)
		} else {
			_, err = w.st.Result(ctx, id)
		}
		switch {
		case err == nil:
			out = append(out, name)
		case !errors.Is(err, domain.ErrNotFound):
			w.t.Fatal(err)
		}
	}
	sort.Strings(out)
	return out
}

func (w *world) count(q string, args ...any) int {
	w.t.Helper()
	var n int
	if err := w.st.DB().QueryRow(q, args...).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// TestSweepDeletesExactlyWhatIsOld builds a store with every kind of row,
// old and recent, finished and held, and checks that one sweep leaves
// exactly what must stay, with the PDFs, attempts, de-duplication keys and
// archive files to match.
func TestSweepDeletesExactlyWhatIsOld(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()

	// Old and finished: all go.
	doneOld := w.order("done-old", old)
	_, pdfDoneOld := w.result("delivered-old", doneOld, old, "d", "d")
	deletedOld := w.order("deleted-old", old)
	w.setState(deletedOld, domain.OrderDeleted, old)
	cancelledOld := w.order("cancelled-old", old)
	w.setState(cancelledOld, domain.OrderCancelled, old)
	_, pdfPersonCancelled := w.result("cancelled-by-person-old", "", old, "c", "d")
	_, pdfNoOrder := w.result("delivered-old-no-order", "", old, "d")

	// Recent: all stay.
	doneRecent := w.order("done-recent", recent)
	_, pdfRecent := w.result("delivered-recent", doneRecent, recent, "d")
	deletedRecent := w.order("deleted-recent", old)
	w.setState(deletedRecent, domain.OrderDeleted, recent)

	// Old but held: all stay.
	w.order("scheduled-old", old)
	heldOrder := w.order("deleted-old-with-failed-result", old)
	_, pdfFailed := w.result("failed-old", heldOrder, old, "f")
	w.setState(heldOrder, domain.OrderDeleted, old)
	_, pdfAmbiguous := w.result("ambiguous-old", "", old, "a")
	_, pdfHalf := w.result("half-delivered-old", "", old, "d", "q")
	// A done order whose delivered result is recent (the result stays, so
	// the order stays with it).
	doneOldResultRecent := w.order("done-old-result-recent", old)
	w.result("delivered-recent-of-old-order", doneOldResultRecent, recent, "d")
	w.setState(doneOldResultRecent, domain.OrderDone, old)

	archive := filepath.Join(w.dir, "exchange", "in", "archive")
	if err := os.MkdirAll(filepath.Join(archive, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	files := map[string]time.Time{"old.gdt": old, "recent.gdt": recent, "sub/old.gdt": old}
	for name, at := range files {
		p := filepath.Join(archive, name)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, at, at); err != nil {
			t.Fatal(err)
		}
	}

	w.now = sweepAt
	sw := New(w.st, Policy{Orders: DefaultOrders, Results: DefaultResults, Archive: DefaultArchive, Batch: 2, Pause: -1},
		Options{DataDir: w.dir, ArchiveDirs: []string{archive}, Now: func() time.Time { return w.now },
			FreeSpace: func(string) (DiskSpace, error) { return DiskSpace{Total: 100 << 30, Free: 50 << 30}, nil }})
	rep := sw.Sweep(ctx)
	if rep.Error != "" || len(rep.Problems) > 0 {
		t.Fatalf("sweep: %s %v", rep.Error, rep.Problems)
	}

	want := []string{
		"order deleted-old-with-failed-result", "order deleted-recent", "order done-old-result-recent", "order done-recent", "order scheduled-old",
		"result ambiguous-old", "result delivered-recent", "result delivered-recent-of-old-order", "result failed-old", "result half-delivered-old",
	}
	if got := w.left(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("left after the sweep:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rep.Orders != 3 || rep.Results != 3 || rep.Reports != 3 || rep.Files != 1 {
		t.Errorf("report: %+v; want 3 orders, 3 results, 3 reports, 1 file", rep)
	}
	for p, want := range map[string]bool{pdfDoneOld: false, pdfPersonCancelled: false, pdfNoOrder: false,
		pdfRecent: true, pdfFailed: true, pdfAmbiguous: true, pdfHalf: true} {
		if exists(p) != want {
			t.Errorf("%s exists: %v, want %v", filepath.Base(p), !want, want)
		}
	}
	for name, want := range map[string]bool{"old.gdt": false, "recent.gdt": true, "sub/old.gdt": true} {
		if exists(filepath.Join(archive, name)) != want {
			t.Errorf("archive/%s exists: %v, want %v", name, !want, want)
		}
	}
	// No delivery or attempt of a deleted result is left behind.
	if n := w.count(`SELECT COUNT(*) FROM deliveries WHERE result_id NOT IN (SELECT id FROM results)`); n != 0 {
		t.Errorf("%d deliveries of deleted results left", n)
	}
	if n := w.count(`SELECT COUNT(*) FROM attempts WHERE delivery_id NOT IN (SELECT id FROM deliveries)`); n != 0 {
		t.Errorf("%d attempts of deleted deliveries left", n)
	}
	// The de-duplication keys went with their orders: the same message
	// again is a new order; a kept order's message is still a duplicate.
	w.now = sweepAt
	acc, err := w.st.ApplyOrder(ctx, domain.Order{Connection: "ehr", SourceMessageID: "m-deleted-old", PlacerNumber: "P-x", Action: domain.ActionNew, Patient: domain.Patient{ID: "1"}})
	if err != nil || acc.Duplicate {
		t.Errorf("message of a swept order: %+v, %v; want a new order", acc, err)
	}
	acc, err = w.st.ApplyOrder(ctx, domain.Order{Connection: "ehr", SourceMessageID: "m-scheduled-old", PlacerNumber: "P-scheduled-old", Action: domain.ActionNew, Patient: domain.Patient{ID: "1"}})
	if err != nil || !acc.Duplicate {
		t.Errorf("message of a kept order: %+v, %v; want a duplicate", acc, err)
	}
	if n := w.count(`SELECT COUNT(*) FROM inbound_messages WHERE order_id NOT IN (SELECT id FROM orders)`); n != 0 {
		t.Errorf("%d de-duplication keys of deleted orders left", n)
	}

	st := sw.Status()
	if st.LastSweep == nil || st.LastSweep.Orders != 3 || st.Usage.DatabaseBytes == 0 || st.Usage.ReportsBytes == 0 {
		t.Errorf("status after the sweep: %+v", st)
	}
	if rep.CheckpointPages == 0 || rep.CheckpointCopied != rep.CheckpointPages {
		t.Errorf("checkpoint after the sweep copied %d of %d pages; want all", rep.CheckpointCopied, rep.CheckpointPages)
	}
	if rep.Batches < 5 || rep.LongestBatch <= 0 {
		t.Errorf("%d batches of at most 2 rows, longest %v", rep.Batches, rep.LongestBatch)
	}

	// A second sweep finds nothing more.
	rep = sw.Sweep(ctx)
	if rep.Orders+rep.Results+rep.Files != 0 {
		t.Errorf("second sweep deleted more: %+v", rep)
	}
}

// TestZeroAgeKeepsForEver: a policy of zero ages deletes nothing.
func TestZeroAgeKeepsForEver(t *testing.T) {
	w := newWorld(t)
	id := w.order("done-old", old)
	w.result("delivered-old", id, old, "d")
	deleted := w.order("deleted-old", old)
	w.setState(deleted, domain.OrderDeleted, old)
	w.now = sweepAt
	sw := New(w.st, Policy{Pause: -1}, Options{DataDir: w.dir, Now: func() time.Time { return w.now }})
	rep := sw.Sweep(context.Background())
	if rep.Error != "" || rep.Orders+rep.Results != 0 || len(w.left()) != 3 {
		t.Fatalf("sweep with zero ages: %+v, left %v", rep, w.left())
	}
}

// recorder keeps the health reports.
type recorder struct{ got []domain.Health }

func (r *recorder) Report(h domain.Health) { r.got = append(r.got, h) }

func TestLowDisk(t *testing.T) {
	const gib = 1 << 30
	tests := []struct {
		name   string
		policy Policy
		disk   DiskSpace
		code   string
	}{
		{"plenty", Policy{LowDiskBytes: DefaultLowDiskBytes, LowDiskPercent: DefaultLowDiskPercent}, DiskSpace{Total: 500 * gib, Free: 100 * gib}, CodeDiskOK},
		{"below both", Policy{LowDiskBytes: DefaultLowDiskBytes, LowDiskPercent: DefaultLowDiskPercent}, DiskSpace{Total: 30 * gib, Free: gib}, CodeDiskLow},
		{"below bytes, above percent (small disk)", Policy{LowDiskBytes: DefaultLowDiskBytes, LowDiskPercent: DefaultLowDiskPercent}, DiskSpace{Total: 16 * gib, Free: gib}, CodeDiskOK},
		{"below percent, above bytes (large disk)", Policy{LowDiskBytes: DefaultLowDiskBytes, LowDiskPercent: DefaultLowDiskPercent}, DiskSpace{Total: 1000 * gib, Free: 10 * gib}, CodeDiskOK},
		{"bytes only", Policy{LowDiskBytes: DefaultLowDiskBytes}, DiskSpace{Total: 16 * gib, Free: gib}, CodeDiskLow},
		{"percent only", Policy{LowDiskPercent: 5}, DiskSpace{Total: 1000 * gib, Free: 10 * gib}, CodeDiskLow},
		{"warning off", Policy{}, DiskSpace{Total: 1000 * gib, Free: 0}, CodeDiskOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			sw := New(nil, tc.policy, Options{DataDir: t.TempDir(), Health: rec,
				FreeSpace: func(string) (DiskSpace, error) { return tc.disk, nil }})
			sw.CheckDisk()
			if len(rec.got) != 1 || rec.got[0].Component != ComponentDisk || rec.got[0].Code != tc.code {
				t.Fatalf("reports %+v, want one %s/%s", rec.got, ComponentDisk, tc.code)
			}
			if low := sw.Status().DiskLow; low != (tc.code == CodeDiskLow) {
				t.Errorf("status DiskLow %v", low)
			}
			if tc.code == CodeDiskLow && (rec.got[0].Severity != domain.SeverityWarning || rec.got[0].Args["free"] == "") {
				t.Errorf("low report %+v", rec.got[0])
			}
		})
	}
}

func TestFreeSpaceOfARealFolder(t *testing.T) {
	ds, err := FreeSpace(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if ds.Total == 0 || ds.Free > ds.Total {
		t.Fatalf("free space %+v", ds)
	}
	if _, err := FreeSpace(filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("missing folder: %v; want an error naming it", err)
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[uint64]string{999: "999 B", 1500: "1.5 kB", 2_000_000_000: "2.0 GB", 300_000_000: "300.0 MB"} {
		if got := HumanBytes(n); got != want {
			t.Errorf("HumanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
