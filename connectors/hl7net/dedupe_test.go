package hl7net

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
	"github.com/mesi/mconnect/connectors/hl7"
)

// storeSink hands orders to a real store on disk.
type storeSink struct{ s *store.Store }

func (k storeSink) AcceptOrder(ctx context.Context, o domain.Order) (domain.Accepted, error) {
	return k.s.ApplyOrder(ctx, o)
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "hub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// corpusDir is ../shared/corpus/real beside the module root.
func corpusDir(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "corpus", "real")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("real corpus not available at %s: %v", dir, err)
	}
	return dir
}

func (h *healthLog) find(code string) (domain.Health, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, x := range h.hs {
		if x.Code == code {
			return x, true
		}
	}
	return domain.Health{}, false
}

// Two CDC example ORMs share control ID 31808297 but say different things:
// the second is stored (never dropped as a duplicate) and the re-use is
// reported in health; sending the second again is a duplicate.
func TestControlIDReusedWithOtherContent(t *testing.T) {
	dir := corpusDir(t)
	la, err := os.ReadFile(filepath.Join(dir, "hl7", "cdc_la_001_orm_o01_v251_nk1_first.hl7"))
	if err != nil {
		t.Fatal(err)
	}
	mn, err := os.ReadFile(filepath.Join(dir, "hl7", "cdc_mn_003_orm_o01_v251_simplified.hl7"))
	if err != nil {
		t.Fatal(err)
	}
	if hl7.ReadHeader(la).ControlID != "31808297" || hl7.ReadHeader(mn).ControlID != "31808297" {
		t.Fatal("the corpus files no longer share control ID 31808297")
	}
	st := openStore(t)
	health := &healthLog{}
	h := NewOrderHandler(OrderHandlerOptions{Connection: "cdc"}, storeSink{st}, quietLog(), health)
	ctx := context.Background()

	first := h.Handle(ctx, "test", la)
	if first.Code != hl7.AA || first.Duplicate || len(first.Orders) != 1 {
		t.Fatalf("first message: %+v", first)
	}
	if _, ok := health.find("control-id-reused"); ok {
		t.Fatal("first message reported as a re-used control ID")
	}
	second := h.Handle(ctx, "test", mn)
	if second.Code != hl7.AA || second.Duplicate || len(second.Orders) != 1 || !second.Orders[0].ControlIDReused {
		t.Fatalf("second message with the same control ID: %+v", second)
	}
	rep, ok := health.find("control-id-reused")
	if !ok || rep.Severity != domain.SeverityWarning || rep.Arg("control_id") != "31808297" {
		t.Fatalf("health: %+v (found %v)", rep, ok)
	}
	// The second message's content is what the store holds now (both name
	// placer 421832901, so the second updates the open order).
	o, err := st.Order(ctx, second.Orders[0].OrderID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(o.Meta[hl7.MetaSendingFacility], "Centracare") || !strings.HasPrefix(o.SourceMessageID, "31808297@") {
		t.Errorf("stored order is not the second message's: facility %q, source %q", o.Meta[hl7.MetaSendingFacility], o.SourceMessageID)
	}
	again := h.Handle(ctx, "test", mn)
	if again.Code != hl7.AA || !again.Duplicate {
		t.Errorf("same content again: %+v", again)
	}
}

// A message with two orders of which the second cannot be applied (a
// cancellation of an order the hub does not have): the first is stored and
// the answer is AA with one ERR naming the refused order — the ACK says
// what the store holds. A message whose every order is refused is AR and
// stores nothing.
func TestPartialMessageAnswersWhatWasStored(t *testing.T) {
	st := openStore(t)
	h := NewOrderHandler(OrderHandlerOptions{Connection: "ehr"}, storeSink{st}, quietLog(), nil)
	ctx := context.Background()
	msg := "MSH|^~\\&|EHR|FAC|HUB|MESI|20240101120000||ORM^O01|M1|P|2.5\r" +
		"PID|1||P1||Doe^Jane||19700101|F\r" +
		"ORC|NW|A1\rOBR|1|A1||ECG\r" +
		"ORC|CA|NOPE\r"
	out := h.Handle(ctx, "test", []byte(msg))
	ack, err := hl7.ReadAck(out.ACK)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := hl7.Parse(out.ACK)
	if err != nil {
		t.Fatal(err)
	}
	errs := parsed.All("ERR")
	if ack.Code != hl7.AA || len(out.Orders) != 1 || len(errs) != 1 {
		t.Fatalf("ACK %+v with %d ERR, %d orders stored", ack, len(errs), len(out.Orders))
	}
	if loc := errs[0].Text(2); loc != "ORC^2^2" || errs[0].C(3, 1) != "204" || strings.Contains(errs[0].Text(8), "store:") ||
		!strings.Contains(errs[0].Text(8), `"NOPE"`) {
		t.Errorf("ERR %q at %q", errs[0].Text(8), loc)
	}
	all, err := st.Orders(ctx, store.OrderFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].PlacerNumber != "A1" || all[0].ID != out.Orders[0].OrderID {
		t.Fatalf("store holds %+v", all)
	}

	only := "MSH|^~\\&|EHR|FAC|HUB|MESI|20240101120000||ORM^O01|M2|P|2.5\r" +
		"PID|1||P1||Doe^Jane||19700101|F\r" +
		"ORC|CA|NOPE\rORC|CA|NOPE2\r"
	out = h.Handle(ctx, "test", []byte(only))
	parsed, err = hl7.Parse(out.ACK)
	if err != nil {
		t.Fatal(err)
	}
	if out.Code != hl7.AR || len(parsed.All("ERR")) != 2 {
		t.Fatalf("all refused: %s", out.ACK)
	}
	if all, _ = st.Orders(ctx, store.OrderFilter{}); len(all) != 1 {
		t.Fatalf("store holds %d orders after a refused message", len(all))
	}
}
