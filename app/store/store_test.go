package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/internal/testfs"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(testfs.TempDir(t), "hub.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func order(conn, msgID, placer string, action domain.OrderAction) domain.Order {
	return domain.Order{
		Connection: conn, SourceMessageID: msgID, PlacerNumber: placer, Action: action,
		Measurement: "ECG", Patient: domain.Patient{ID: "P1", Name: domain.PersonName{Family: "Novak", Given: "Ana"}},
	}
}

// TestNewStorePageSize: a new file is written with PageSize, also after
// it is closed and opened again.
func TestNewStorePageSize(t *testing.T) {
	path := filepath.Join(testfs.TempDir(t), "hub.db")
	for i := range 2 {
		s, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ApplyOrder(context.Background(), order("c", fmt.Sprint("m", i), fmt.Sprint("p", i), domain.ActionNew)); err != nil {
			t.Fatal(err)
		}
		var pageSize int
		if err := s.db.QueryRow("PRAGMA page_size").Scan(&pageSize); err != nil {
			t.Fatal(err)
		}
		if pageSize != PageSize {
			t.Errorf("open %d: page size %d, want %d", i+1, pageSize, PageSize)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestApplyOrder(t *testing.T) {
	ctx := context.Background()
	type step struct {
		o         domain.Order
		wantErr   error
		wantDup   bool
		wantState domain.OrderState
		sameAs    int // index of an earlier step whose OrderID must match (-1: none)
	}
	tests := []struct {
		name     string
		steps    []step
		worklist int // orders on the default worklist at the end
	}{
		{"new order", []step{{o: order("c", "m1", "A1", domain.ActionNew), wantState: domain.OrderScheduled, sameAs: -1}}, 1},
		{"same message twice is a duplicate", []step{
			{o: order("c", "m1", "A1", domain.ActionNew), wantState: domain.OrderScheduled, sameAs: -1},
			{o: order("c", "m1", "A1", domain.ActionNew), wantDup: true, wantState: domain.OrderScheduled, sameAs: 0},
		}, 1},
		{"same message id on another connection is new", []step{
			{o: order("c", "m1", "A1", domain.ActionNew), wantState: domain.OrderScheduled, sameAs: -1},
			{o: order("d", "m1", "A1", domain.ActionNew), wantState: domain.OrderScheduled, sameAs: -1},
		}, 2},
		{"update keeps the order", []step{
			{o: order("c", "m1", "A1", domain.ActionNew), wantState: domain.OrderScheduled, sameAs: -1},
			{o: order("c", "m2", "A1", domain.ActionUpdate), wantState: domain.OrderScheduled, sameAs: 0},
		}, 1},
		{"new with known placer updates", []step{
			{o: order("c", "m1", "A1", domain.ActionNew), wantState: domain.OrderScheduled, sameAs: -1},
			{o: order("c", "m2", "A1", domain.ActionNew), wantState: domain.OrderScheduled, sameAs: 0},
		}, 1},
		{"cancel takes it off", []step{
			{o: order("c", "m1", "A1", domain.ActionNew), wantState: domain.OrderScheduled, sameAs: -1},
			{o: order("c", "m2", "A1", domain.ActionCancel), wantState: domain.OrderCancelled, sameAs: 0},
		}, 0},
		{"re-order after cancel is new", []step{
			{o: order("c", "m1", "A1", domain.ActionNew), wantState: domain.OrderScheduled, sameAs: -1},
			{o: order("c", "m2", "A1", domain.ActionCancel), wantState: domain.OrderCancelled, sameAs: 0},
			{o: order("c", "m3", "A1", domain.ActionNew), wantState: domain.OrderScheduled, sameAs: -1},
		}, 1},
		{"cancel of unknown order", []step{{o: order("c", "m1", "ZZ", domain.ActionCancel), wantErr: domain.ErrUnknownOrder, sameAs: -1}}, 0},
		{"no patient id", []step{{o: func() domain.Order { o := order("c", "m1", "A1", domain.ActionNew); o.Patient.ID = " "; return o }(), wantErr: domain.ErrInvalidOrder, sameAs: -1}}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openTemp(t)
			var ids []string
			for i, st := range tc.steps {
				acc, err := s.ApplyOrder(ctx, st.o)
				ids = append(ids, acc.OrderID)
				if st.wantErr != nil {
					if !errors.Is(err, st.wantErr) {
						t.Fatalf("step %d: err = %v, want %v", i, err, st.wantErr)
					}
					continue
				}
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if acc.Duplicate != st.wantDup || acc.State != st.wantState {
					t.Fatalf("step %d: got %+v, want dup=%v state=%s", i, acc, st.wantDup, st.wantState)
				}
				if st.sameAs >= 0 && acc.OrderID != ids[st.sameAs] {
					t.Fatalf("step %d: order %s, want the order of step %d (%s)", i, acc.OrderID, st.sameAs, ids[st.sameAs])
				}
				if st.sameAs < 0 {
					for j := 0; j < i; j++ {
						if ids[j] == acc.OrderID {
							t.Fatalf("step %d: reused order %s of step %d", i, acc.OrderID, j)
						}
					}
				}
			}
			wl, err := s.Worklist(ctx, domain.DefaultGroupID)
			if err != nil {
				t.Fatal(err)
			}
			if len(wl) != tc.worklist {
				t.Fatalf("worklist has %d orders, want %d", len(wl), tc.worklist)
			}
		})
	}
}

func TestOrderKeepsEveryField(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	o := order("c", "m1", "A1", domain.ActionNew)
	o.Fields = []domain.Field{{Key: "3629", Value: "42"}, {Key: "ORC-7", Label: "Quantity/timing", Value: "1^once"}}
	o.Visit.AdmitAt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	o.Meta = map[string]string{"gdt.sender": "MEDI"}
	acc, err := s.ApplyOrder(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Order(ctx, acc.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Fields) != 2 || got.Fields[1].Label != "Quantity/timing" || !got.Visit.AdmitAt.Equal(o.Visit.AdmitAt) || got.Meta["gdt.sender"] != "MEDI" {
		t.Fatalf("stored order lost fields: %+v", got)
	}
}

// Labels registered for the keys of TestRegisteredLabelsLeftOut only.
func init() {
	domain.RegisterFieldLabels(func(key string) string {
		switch key {
		case "TST-1", "TST-2", "TST-3":
			return "Registered " + key
		}
		return ""
	})
}

// TestRegisteredLabelsLeftOut: a field's label is stored only when it is
// not the one registered for its key, and read back either way.
func TestRegisteredLabelsLeftOut(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	o := order("c", "m1", "A1", domain.ActionNew)
	o.Fields = []domain.Field{
		{Key: "TST-1", Label: "Registered TST-1", Value: "a", Text: "A"},
		{Key: "TST-2", Label: "Its own", Value: "b"},
		{Key: "TST-3", Value: "c"},
		{Key: "OTHER-1", Label: "Not registered", Value: "d"},
	}
	acc, err := s.ApplyOrder(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	var data string
	if err := s.db.QueryRow(`SELECT data FROM orders WHERE id=?`, acc.OrderID).Scan(&data); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`{"key":"TST-1","value":"a","text":"A"}`, `{"key":"TST-2","label":"Its own","value":"b"}`,
		`{"key":"TST-3","value":"c"}`, `{"key":"OTHER-1","label":"Not registered","value":"d"}`} {
		if !strings.Contains(data, want) {
			t.Errorf("stored row has no %s: %s", want, data)
		}
	}
	got, err := s.Order(ctx, acc.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	want := []domain.Field{
		{Key: "TST-1", Label: "Registered TST-1", Value: "a", Text: "A"},
		{Key: "TST-2", Label: "Its own", Value: "b"},
		{Key: "TST-3", Label: "Registered TST-3", Value: "c"}, // a registered key is always labelled
		{Key: "OTHER-1", Label: "Not registered", Value: "d"},
	}
	if !slices.Equal(got.Fields, want) {
		t.Errorf("fields read back\n%+v\nwant\n%+v", got.Fields, want)
	}
}

func TestGroupRouting(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	g, err := s.CreateGroup(ctx, "Cardiology", "test")
	if err != nil {
		t.Fatal(err)
	}
	o := order("c", "m1", "A1", domain.ActionNew)
	o.Group = "Cardiology"
	if _, err := s.ApplyOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	o2 := order("c", "m2", "A2", domain.ActionNew)
	o2.Group = "no-such-group"
	if _, err := s.ApplyOrder(ctx, o2); err != nil {
		t.Fatal(err)
	}
	wl, _ := s.Worklist(ctx, g.ID)
	def, _ := s.Worklist(ctx, domain.DefaultGroupID)
	if len(wl) != 1 || wl[0].PlacerNumber != "A1" || len(def) != 1 || def[0].PlacerNumber != "A2" {
		t.Fatalf("group routing: cardiology=%v default=%v", wl, def)
	}
	if err := s.DeleteGroup(ctx, g.ID, "test"); !errors.Is(err, ErrInUse) {
		t.Fatalf("deleting a group with open orders: %v", err)
	}
	if err := s.DeleteGroup(ctx, domain.DefaultGroupID, "test"); err == nil {
		t.Fatal("the default group was deleted")
	}
}

func TestDeleteIsAudited(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	acc, _ := s.ApplyOrder(ctx, order("c", "m1", "A1", domain.ActionNew))
	if _, err := s.SetOrderState(ctx, acc.OrderID, domain.OrderDeleted, "dashboard:anna", ""); err == nil {
		t.Fatal("delete without a reason was accepted")
	}
	if _, err := s.SetOrderState(ctx, acc.OrderID, domain.OrderDeleted, "dashboard:anna", "patient left"); err != nil {
		t.Fatal(err)
	}
	log, err := s.AuditLog(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 1 || log[0].Actor != "dashboard:anna" || log[0].Reason != "patient left" || log[0].Action != "order.deleted" {
		t.Fatalf("audit log: %+v", log)
	}
	if wl, _ := s.Worklist(ctx, domain.DefaultGroupID); len(wl) != 0 {
		t.Fatal("deleted order still on the worklist")
	}
}

func TestPairingAndDevices(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	if err := s.AddPairingCode(ctx, "h1", time.Now().Add(time.Minute), ""); err != nil {
		t.Fatal(err)
	}
	if err := s.AddPairingCode(ctx, "h2", time.Now().Add(-time.Minute), ""); err != nil {
		t.Fatal(err)
	}
	d, err := s.PairDevice(ctx, "h1", domain.Device{Serial: "S1", Model: "mTABLET"}, "tok1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PairDevice(ctx, "h1", domain.Device{Serial: "S2"}, "tok2"); !errors.Is(err, domain.ErrPairingCodeInvalid) {
		t.Fatalf("used code: %v", err)
	}
	if _, err := s.PairDevice(ctx, "h2", domain.Device{Serial: "S2"}, "tok2"); !errors.Is(err, domain.ErrPairingCodeInvalid) {
		t.Fatalf("expired code: %v", err)
	}
	got, err := s.DeviceByTokenHash(ctx, "tok1")
	if err != nil || got.ID != d.ID || got.Group != domain.DefaultGroupID || got.Name != "S1" {
		t.Fatalf("device by token: %+v %v", got, err)
	}
	name := "Room 2"
	if _, err := s.UpdateDevice(ctx, d.ID, DeviceChange{Name: &name, Revoke: true}, "dashboard", "lost"); err != nil {
		t.Fatal(err)
	}
	got, _ = s.DeviceByTokenHash(ctx, "tok1")
	if !got.Revoked || got.Name != "Room 2" {
		t.Fatalf("update: %+v", got)
	}
}

func TestResultsIdempotent(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	r := domain.Result{DeviceID: "d1", IdempotencyKey: "k1", Measurement: "ECG"}
	a, dup, err := s.SaveResult(ctx, r, []string{"ehr"})
	if err != nil || dup {
		t.Fatalf("first save: %v %v", dup, err)
	}
	b, dup, err := s.SaveResult(ctx, r, []string{"ehr"})
	if err != nil || !dup || b.ID != a.ID {
		t.Fatalf("second save: %+v dup=%v %v", b, dup, err)
	}
	st, _ := s.Stats(ctx)
	if st.Results != 1 || st.DeliveryStates["queued"] != 1 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(testfs.TempDir(t), "hub.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec("PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	before, _ := os.ReadFile(path)
	if _, err := Open(path, Options{}); !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("newer schema: %v", err)
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Fatal("the newer database was changed")
	}
}

func TestRefusesCorruptFile(t *testing.T) {
	for _, content := range []string{"this is not a database at all, just text", "SQLite format 3\x00" + string(make([]byte, 200))} {
		path := filepath.Join(testfs.TempDir(t), "hub.db")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Open(path, Options{})
		if err == nil {
			t.Fatalf("opened a corrupt file %q", content[:10])
		}
		after, _ := os.ReadFile(path)
		if string(after) != content {
			t.Fatal("the corrupt file was overwritten")
		}
	}
}

func TestGroupCommitKeepsOrdersApart(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	// Many senders at once: orders share commits, yet a refused one (a
	// cancellation of an unknown order) never takes the others with it.
	const n = 200
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func(i int) {
			o := order("c", fmt.Sprintf("m%d", i), fmt.Sprintf("A%d", i), domain.ActionNew)
			if i%10 == 0 {
				o.Action = domain.ActionCancel
				o.PlacerNumber = fmt.Sprintf("unknown-%d", i)
			}
			_, err := s.ApplyOrder(ctx, o)
			if i%10 == 0 {
				if !errors.Is(err, domain.ErrUnknownOrder) {
					errs <- fmt.Errorf("order %d: %v, want ErrUnknownOrder", i, err)
					return
				}
				errs <- nil
				return
			}
			errs <- err
		}(i)
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	wl, err := s.Worklist(ctx, domain.DefaultGroupID)
	if err != nil {
		t.Fatal(err)
	}
	if len(wl) != n-n/10 {
		t.Fatalf("worklist has %d orders, want %d", len(wl), n-n/10)
	}
}

func TestWritesAfterCloseAreRefused(t *testing.T) {
	s, err := Open(filepath.Join(testfs.TempDir(t), "hub.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := s.ApplyOrder(context.Background(), order("c", "m1", "A1", domain.ActionNew)); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
}

func TestAcceptedNamesChangedGroups(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	g, _ := s.CreateGroup(ctx, "Cardiology", "test")
	acc, _ := s.ApplyOrder(ctx, order("c", "m1", "A1", domain.ActionNew))
	if len(acc.Groups) != 1 || acc.Groups[0] != domain.DefaultGroupID {
		t.Fatalf("new: %v", acc.Groups)
	}
	moved := order("c", "m2", "A1", domain.ActionUpdate)
	moved.Group = g.ID
	acc, _ = s.ApplyOrder(ctx, moved)
	if len(acc.Groups) != 2 || acc.Groups[0] != g.ID || acc.Groups[1] != domain.DefaultGroupID {
		t.Fatalf("moved: %v", acc.Groups)
	}
	acc, _ = s.ApplyOrder(ctx, order("c", "m2", "A1", domain.ActionUpdate))
	if !acc.Duplicate || len(acc.Groups) != 0 {
		t.Fatalf("duplicate: %+v", acc)
	}
	acc, _ = s.ApplyOrder(ctx, order("c", "m3", "A1", domain.ActionCancel))
	if len(acc.Groups) != 1 || acc.Groups[0] != g.ID {
		t.Fatalf("cancel: %v", acc.Groups)
	}
}

// A control ID re-used with other content is stored as a new message and
// flagged; the same content again is a duplicate.
func TestControlIDReusedIsStoredAndFlagged(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	h1, h2 := "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
	mk := func(key, ctl, placer string) domain.Order {
		o := order("hl7", key, placer, domain.ActionNew)
		o.SourceControlID = ctl
		return o
	}
	first, err := s.ApplyOrder(ctx, mk("31808297@"+h1, "31808297", "A1"))
	if err != nil || first.ControlIDReused || first.Duplicate {
		t.Fatalf("first: %+v %v", first, err)
	}
	// A second order of the first message is not a re-use.
	if a, err := s.ApplyOrder(ctx, mk("31808297@"+h1+"#2", "31808297", "A2")); err != nil || a.ControlIDReused {
		t.Fatalf("second order of the same message: %+v %v", a, err)
	}
	// Another control ID that begins with this one is not a re-use.
	if a, err := s.ApplyOrder(ctx, mk("31808297@x@"+h2, "31808297@x", "A3")); err != nil || a.ControlIDReused {
		t.Fatalf("longer control ID: %+v %v", a, err)
	}
	again, err := s.ApplyOrder(ctx, mk("31808297@"+h2, "31808297", "B1"))
	if err != nil || !again.ControlIDReused || again.Duplicate || again.OrderID == first.OrderID {
		t.Fatalf("re-used control ID: %+v %v", again, err)
	}
	if again, err = s.ApplyOrder(ctx, mk("31808297@"+h2+"#2", "31808297", "B2")); err != nil || !again.ControlIDReused {
		t.Fatalf("re-used control ID, second order: %+v %v", again, err)
	}
	dup, err := s.ApplyOrder(ctx, mk("31808297@"+h2, "31808297", "B1"))
	if err != nil || !dup.Duplicate {
		t.Fatalf("same content again: %+v %v", dup, err)
	}
	all, err := s.Orders(ctx, OrderFilter{})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, o := range all {
		count[o.PlacerNumber]++
	}
	if want := map[string]int{"A1": 1, "A2": 1, "A3": 1, "B1": 1, "B2": 1}; fmt.Sprint(count) != fmt.Sprint(want) {
		t.Fatalf("orders by placer: %v, want %v", count, want)
	}
}

// TestKeyAndPlacerInOneRead: an HL7 order's source key
// ("<control ID>@<hash>") and its placer number are read with one
// statement; duplicates, changes, cancellations and a placer number used
// again after its cancellation come out as with two.
func TestKeyAndPlacerInOneRead(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	mk := func(ctl, content, placer string, action domain.OrderAction) domain.Order {
		o := order("birpis", ctl+"@"+fmt.Sprintf("%032x", content), placer, action)
		o.SourceControlID = ctl
		return o
	}
	first, err := s.ApplyOrder(ctx, mk("C1", "a", "A1", domain.ActionNew))
	if err != nil || first.Duplicate {
		t.Fatalf("first: %+v, %v", first, err)
	}
	steps := []struct {
		name      string
		o         domain.Order
		sameOrder bool
		dup       bool
		state     domain.OrderState
		err       error
	}{
		{"the same message again", mk("C1", "a", "A1", domain.ActionNew), true, true, domain.OrderScheduled, nil},
		{"a change of the order", mk("C2", "b", "A1", domain.ActionNew), true, false, domain.OrderScheduled, nil},
		{"its cancellation", mk("C3", "c", "A1", domain.ActionCancel), true, false, domain.OrderCancelled, nil},
		{"the placer number placed again", mk("C4", "d", "A1", domain.ActionNew), false, false, domain.OrderScheduled, nil},
		{"a cancellation of an unknown order", mk("C5", "e", "Z9", domain.ActionCancel), false, false, "", domain.ErrUnknownOrder},
	}
	for _, st := range steps {
		acc, err := s.ApplyOrder(ctx, st.o)
		if !errors.Is(err, st.err) {
			t.Fatalf("%s: error %v, want %v", st.name, err, st.err)
		}
		if err != nil {
			continue
		}
		if (acc.OrderID == first.OrderID) != st.sameOrder || acc.Duplicate != st.dup || acc.State != st.state {
			t.Errorf("%s: %+v; want the first order %v, duplicate %v, state %s", st.name, acc, st.sameOrder, st.dup, st.state)
		}
	}
	plan := explain(t, s, sourceAndPlacerQuery, "birpis", "C1@", "C1A", "A1")
	for _, want := range []string{"SEARCH inbound_messages USING PRIMARY KEY", "SEARCH orders USING INDEX orders_placer"} {
		if !contains(plan, want) {
			t.Errorf("plan of the combined read: %s\nwant %s", plan, want)
		}
	}
}

// TestKeysOfOneBatch: the de-duplication keys of a batch are written at
// its end; an order of the same batch after them finds them: the same
// message again is a duplicate, another with the same control ID is
// flagged, and all keys are stored at the commit.
func TestKeysOfOneBatch(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	mk := func(ctl, content, placer string) domain.Order {
		o := order("birpis", ctl+"@"+fmt.Sprintf("%032x", content), placer, domain.ActionNew)
		o.SourceControlID = ctl
		return o
	}
	w := &writerConn{db: s.db}
	defer w.close()
	var keys batchKeys
	if err := w.begin(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	first, err := s.applyOrderTx(ctx, w, mk("C1", "a", "A1"), now, nil, &keys)
	if err != nil || first.Duplicate {
		t.Fatalf("first: %+v, %v", first, err)
	}
	gdt := order("gdt", "file-hash-1", "G1", domain.ActionNew)
	if _, err := s.applyOrderTx(ctx, w, gdt, now, nil, &keys); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name        string
		o           domain.Order
		dup, reused bool
	}{
		{"the same message", mk("C1", "a", "A1"), true, false},
		{"the same GDT file", gdt, true, false},
		{"another message with its control ID", mk("C1", "b", "B1"), false, true},
		{"another message", mk("C2", "c", "C1"), false, false},
		{"the same key on another connection", func() domain.Order { o := mk("C1", "a", "A1"); o.Connection = "other"; return o }(), false, false},
	}
	for _, st := range steps {
		acc, err := s.applyOrderTx(ctx, w, st.o, now, nil, &keys)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if acc.Duplicate != st.dup || acc.ControlIDReused != st.reused || (st.dup && acc.OrderID == "") {
			t.Errorf("%s: %+v, want duplicate %v, control ID reused %v", st.name, acc, st.dup, st.reused)
		}
	}
	if len(keys.rows) != 5 {
		t.Errorf("%d keys held, want 5 (two messages were duplicates)", len(keys.rows))
	}
	if err := keys.write(ctx, w); err != nil {
		t.Fatal(err)
	}
	if err := w.commit(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM inbound_messages`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Errorf("%d keys stored, want 5", n)
	}
	// Stored, they are found as before.
	if acc, err := s.ApplyOrder(ctx, mk("C1", "a", "A1")); err != nil || !acc.Duplicate || acc.OrderID != first.OrderID {
		t.Errorf("the first message once more: %+v, %v", acc, err)
	}
}

// TestSameMessageAtOnce: the same message sent on many connections at
// once (batched together) is stored once.
func TestSameMessageAtOnce(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	for round := range 5 {
		o := order("birpis", fmt.Sprintf("R%d@%032x", round, round), fmt.Sprint("P", round), domain.ActionNew)
		o.SourceControlID = fmt.Sprint("R", round)
		var wg sync.WaitGroup
		accs := make([]domain.Accepted, 16)
		errs := make([]error, 16)
		for i := range accs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				accs[i], errs[i] = s.ApplyOrder(ctx, o)
			}()
		}
		wg.Wait()
		stored := 0
		for i, a := range accs {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if !a.Duplicate {
				stored++
			}
			if a.OrderID != accs[0].OrderID {
				t.Errorf("round %d: orders %s and %s for one message", round, a.OrderID, accs[0].OrderID)
			}
		}
		if stored != 1 {
			t.Errorf("round %d: stored %d times, want once", round, stored)
		}
	}
	var n int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM orders`).Scan(&n); err != nil || n != 5 {
		t.Errorf("%d orders, want 5 (%v)", n, err)
	}
}
