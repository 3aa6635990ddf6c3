package view

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/domain"
)

// tabTest is a tab's environment in a test: calls run at once on the
// test's goroutine; change events are queued in posted until the test
// runs them.
type tabTest struct {
	env    *tabEnv
	win    fyne.Window
	posted chan func()
}

func newTabTest(t testing.TB, api control.API) *tabTest {
	t.Helper()
	test.NewTempApp(t)
	tt := &tabTest{posted: make(chan func(), 16), win: test.NewWindow(nil)}
	t.Cleanup(tt.win.Close)
	tt.win.Resize(fyne.NewSize(1280, 800))
	tt.env = &tabEnv{now: fixedNow, win: tt.win,
		spawn: func(f func()) { f() }, do: func(f func()) { f() },
		post: func(f func()) { tt.posted <- f }}
	if api != nil { // a nil *fakeAPI would be a non-nil interface
		tt.env.api = api
	}
	return tt
}

// runPosted waits for the next change event the tab handed to Fyne's
// goroutine and runs it.
func (tt *tabTest) runPosted(t *testing.T) {
	t.Helper()
	select {
	case f := <-tt.posted:
		f()
	case <-time.After(5 * time.Second):
		t.Fatal("no change event reached the tab")
	}
}

// visibleLabels are the labels shown in o (hidden ones and those inside
// hidden containers left out).
func visibleLabels(o fyne.CanvasObject) []*widget.Label {
	var out []*widget.Label
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		if l, ok := o.(*widget.Label); ok {
			out = append(out, l)
		}
		switch c := o.(type) {
		case *fyne.Container:
			for _, ch := range c.Objects {
				walk(ch)
			}
		case fyne.Widget:
			for _, ch := range test.WidgetRenderer(c).Objects() {
				walk(ch)
			}
		}
	}
	walk(o)
	return out
}

func hasText(labels []*widget.Label, s string) bool { return findLabel(labels, s) != nil }

func hl7Order() domain.Order {
	return domain.Order{
		ID: "o-1", Connection: "birpis", State: domain.OrderScheduled, Group: "cardio",
		PlacerNumber: "ORD-7781", Measurement: "ECG", ServiceText: "Resting ECG",
		ScheduledAt: testNow.Add(-time.Hour), ReceivedAt: testNow.Add(-2 * time.Hour),
		Patient: domain.Patient{ID: "P-1001", BirthDate: "1961-04-02",
			Name: domain.PersonName{Given: "Janez", Family: "Novak"}},
		Visit: domain.Visit{Location: "AMB^101^1",
			AssignedLocation: domain.Location{PointOfCare: "AMB", Room: "101", Bed: "1"}},
		OrderingProvider: domain.Provider{ID: "D7", Name: domain.PersonName{Given: "Ana", Family: "Kos"}},
		Fields: []domain.Field{
			{Key: "PID-5", Label: "Patient name", Value: "Novak^Janez", Text: "Janez Novak"},
			{Key: "PID-10", Label: "Race", Value: "2054-5^Black^HL70005", Text: "Black or African American (2054-5)"},
			{Key: "PV1-3", Label: "Assigned location", Value: "AMB^101^1", Text: "AMB, room 101, bed 1"},
			{Key: "ORC-12", Label: "Ordering provider", Value: "D7^Kos^Ana", Text: "Ana Kos (D7)"},
			{Key: "OBR-4", Label: "Service", Value: "ECG^Resting ECG", Text: "Resting ECG (ECG)"},
			{Key: "ZDS-1", Value: "1.2.840.1234^Study"},
		},
	}
}

func gdtOrder() domain.Order {
	return domain.Order{
		ID: "o-2", Connection: "weda", State: domain.OrderScheduled, Group: "default",
		PlacerNumber: "8310-55", Measurement: "ABI", ReceivedAt: testNow.Add(-3 * time.Hour),
		Patient: domain.Patient{ID: "4711", Name: domain.PersonName{Given: "Maria", Family: "Huber"}},
		Fields: []domain.Field{
			{Key: "3103", Label: "Date of birth", Value: "02041961", Text: "1961-04-02"},
			{Key: "8402", Label: "Test", Value: "ABI01"},
		},
	}
}

func doneOrder() domain.Order {
	return domain.Order{ID: "o-3", Connection: "weda", State: domain.OrderDone, Group: "default",
		PlacerNumber: "8310-56", Measurement: "BP",
		Patient: domain.Patient{ID: "4712", Name: domain.PersonName{Given: "Peter", Family: "Berg"}}}
}

func sampleAPI() *fakeAPI {
	return &fakeAPI{
		orders: []domain.Order{hl7Order(), gdtOrder(), doneOrder()},
		groups: []domain.Group{{ID: "default", Name: "Reception", Default: true}, {ID: "cardio", Name: "Cardiology"}},
	}
}

func startWorklist(t *testing.T, api control.API) (*tabTest, *worklist) {
	t.Helper()
	tt := newTabTest(t, api)
	w := newWorklist(tt.env)
	tt.win.SetContent(w.content())
	t.Cleanup(w.start())
	return tt, w
}

func TestWorklistListsTheWorklist(t *testing.T) {
	api := sampleAPI()
	_, w := startWorklist(t, api)

	q := api.lastQuery()
	if !slices.Equal(q.States, []domain.OrderState{domain.OrderScheduled, domain.OrderInProgress}) || q.Group != "" || q.Text != "" {
		t.Errorf("first query = %+v, want the open worklist of every group", q)
	}
	if q.Limit != worklistLimit {
		t.Errorf("limit = %d, want %d", q.Limit, worklistLimit)
	}
	if w.list.Length() != 2 {
		t.Fatalf("list has %d rows, want the 2 open appointments", w.list.Length())
	}
	labels := visibleLabels(w.content())
	for _, want := range []string{"Janez Novak  ·  P-1001", "ECG (Resting ECG)  ·  ORD-7781  ·  14:30:00  ·  Cardiology",
		"Maria Huber  ·  4711", "Scheduled", "2 appointments"} {
		if !hasText(labels, want) {
			t.Errorf("no label shows %q; labels: %q", want, texts(labels))
		}
	}
	if hasText(labels, "Peter Berg") {
		t.Error("a done appointment is on the worklist")
	}
	if !hasText(labels, "Select an appointment to see every field") {
		t.Error("the details pane does not say what to do")
	}
	if got := w.group.Options; !slices.Equal(got, []string{"All groups", "Reception", "Cardiology"}) {
		t.Errorf("group filter offers %q", got)
	}
}

func TestWorklistSearchAndFilters(t *testing.T) {
	api := sampleAPI()
	tt, w := startWorklist(t, api)

	test.Type(w.search, "novak")
	if q := api.lastQuery(); q.Text != "novak" {
		t.Errorf("search sent Text %q", q.Text)
	}
	if w.list.Length() != 1 || w.orders[0].ID != "o-1" {
		t.Errorf("search for novak shows %d rows", w.list.Length())
	}

	w.search.SetText("8310-5")
	w.group.SetSelected("Reception")
	if q := api.lastQuery(); q.Group != "default" || q.Text != "8310-5" {
		t.Errorf("group filter sent %+v, want group default with the search kept", q)
	}
	w.state.SetSelected("Done")
	if q := api.lastQuery(); !slices.Equal(q.States, []domain.OrderState{domain.OrderDone}) {
		t.Errorf("state filter sent states %v", q.States)
	}
	if w.list.Length() != 1 || w.orders[0].ID != "o-3" {
		t.Errorf("done in Reception shows %d rows", w.list.Length())
	}
	w.state.SetSelected("Every state")
	if q := api.lastQuery(); len(q.States) != 0 {
		t.Errorf("every state sent states %v", q.States)
	}

	// Day filter: today's appointments (o-1 is an hour ago), none tomorrow.
	w.search.SetText("")
	w.group.SetSelectedIndex(0)
	w.day.SetSelected("Today")
	if !slices.ContainsFunc(w.orders, func(o domain.Order) bool { return o.ID == "o-1" }) {
		t.Errorf("today's appointments %d, without o-1", len(w.orders))
	}
	w.day.SetSelected("Tomorrow")
	if w.list.Length() != 0 {
		t.Errorf("tomorrow shows %d rows", w.list.Length())
	}
	w.day.SetSelected("Any day")

	w.search.SetText("nobody")
	if labels := visibleLabels(tt.win.Content()); !hasText(labels, "No appointments match the search and filters.") {
		t.Errorf("no-match state not shown; labels: %q", texts(labels))
	}
}

func TestWorklistEmptyAndErrorStates(t *testing.T) {
	t.Run("empty", func(t *testing.T) {
		tt, _ := startWorklist(t, &fakeAPI{})
		labels := visibleLabels(tt.win.Content())
		if !hasText(labels, "No appointments on the worklist.") || !hasText(labels, "0 appointments") {
			t.Errorf("empty state not shown; labels: %q", texts(labels))
		}
	})
	t.Run("no hub", func(t *testing.T) {
		tt, w := startWorklist(t, nil)
		if !hasText(visibleLabels(tt.win.Content()), "The hub is not running") {
			t.Error("no-hub state not shown")
		}
		if w.list.Length() != 0 {
			t.Error("rows without a hub")
		}
	})
	t.Run("control error", func(t *testing.T) {
		api := &fakeAPI{err: &control.Error{Kind: control.Unavailable, Message: "the database is busy",
			Detail: "store: orders: database is locked (SQLITE_BUSY)"}}
		tt, w := startWorklist(t, api)
		labels := visibleLabels(tt.win.Content())
		if l := findLabel(labels, "The database is busy."); l == nil || l.Importance != widget.DangerImportance {
			t.Errorf("problem not shown in red; labels: %q", texts(labels))
		}
		if hasText(labels, "SQLITE_BUSY") {
			t.Error("technical detail shown before Details is pressed")
		}
		test.Tap(w.message.toggle)
		if !hasText(visibleLabels(tt.win.Content()), "store: orders: database is locked (SQLITE_BUSY)") {
			t.Error("Details does not show the technical text")
		}
	})
	t.Run("untyped error", func(t *testing.T) {
		tt, _ := startWorklist(t, &fakeAPI{err: errors.New("dial unix /run/mconnect.sock: connect: refused")})
		labels := visibleLabels(tt.win.Content())
		if !hasText(labels, "The hub did not answer.") || hasText(labels, "dial unix") {
			t.Errorf("untyped error shown as %q", texts(labels))
		}
	})
}

func TestWorklistDetails(t *testing.T) {
	api := sampleAPI()
	tt, w := startWorklist(t, api)
	w.list.Select(0)
	if !slices.Contains(api.orderIDs, "o-1") {
		t.Fatalf("selecting did not load the appointment; loaded %v", api.orderIDs)
	}
	var cards []string
	for _, o := range w.detail.Objects {
		if c, ok := o.(*widget.Card); ok {
			cards = append(cards, c.Title)
		}
	}
	if want := []string{"Patient", "Visit", "Provider", "Order", "Other fields from the EHR"}; !slices.Equal(cards, want) {
		t.Errorf("sections = %q, want %q", cards, want)
	}
	labels := visibleLabels(w.detail)
	for _, want := range []string{"AMB, room 101, bed 1", "Janez Novak", "Black or African American (2054-5)",
		"Ana Kos (D7)", "1.2.840.1234^Study", "ORD-7781", "Cardiology"} {
		if !hasText(labels, want) {
			t.Errorf("details lack %q; labels: %q", want, texts(labels))
		}
	}
	if hasText(labels, "2054-5^Black^HL70005") {
		t.Error("raw value shown before the toggle")
	}
	if !w.deleteBt.Visible() || w.deleteBt.Disabled() {
		t.Error("delete is not offered for a scheduled appointment")
	}

	test.Tap(w.raw)
	labels = visibleLabels(w.detail)
	if !hasText(labels, "2054-5^Black^HL70005") || !hasText(labels, "Novak^Janez") {
		t.Errorf("raw toggle does not show values as received; labels: %q", texts(labels))
	}
	_ = tt
}

func TestWorklistDelete(t *testing.T) {
	api := sampleAPI()
	tt, w := startWorklist(t, api)
	w.list.Select(0)
	test.Tap(w.deleteBt)
	d := w.deleteDialog
	if d == nil || !d.pop.Visible() {
		t.Fatal("delete does not ask first")
	}
	if !hasText(visibleLabels(d.pop.Content), "Janez Novak  ·  P-1001 is taken off the worklist") {
		t.Error("the dialog does not say which appointment")
	}
	if !d.confirm.Disabled() {
		t.Error("Delete can be pressed without a reason")
	}
	test.Type(d.reason, "   ")
	if !d.confirm.Disabled() {
		t.Error("Delete can be pressed with a blank reason")
	}
	test.Tap(d.confirm)
	if len(api.deletes) != 0 {
		t.Fatal("deleted without a reason")
	}
	d.reason.SetText("patient left before the measurement")
	if d.confirm.Disabled() {
		t.Fatal("Delete stays disabled with a reason")
	}
	test.Tap(d.confirm)
	want := control.DeleteOrderRequest{ID: "o-1", Reason: "patient left before the measurement", Actor: "dashboard"}
	if !slices.Equal(api.deletes, []control.DeleteOrderRequest{want}) {
		t.Errorf("deletes = %+v, want %+v", api.deletes, want)
	}
	if d.pop.Visible() {
		t.Error("dialog still open")
	}
	if w.list.Length() != 1 {
		t.Errorf("worklist not reloaded: %d rows", w.list.Length())
	}
	if !hasText(visibleLabels(tt.win.Content()), "Janez Novak  ·  P-1001 was deleted from the worklist.") {
		t.Error("no confirmation shown")
	}

	t.Run("cancel", func(t *testing.T) {
		w.list.Select(0)
		test.Tap(w.deleteBt)
		test.Type(w.deleteDialog.reason, "wrong one")
		test.Tap(w.deleteDialog.cancel)
		if len(api.deletes) != 1 {
			t.Error("cancel deleted")
		}
	})
	t.Run("refused", func(t *testing.T) {
		w.list.Select(0)
		test.Tap(w.deleteBt)
		d := w.deleteDialog
		d.reason.SetText("duplicate")
		api.mu.Lock()
		api.err = &control.Error{Kind: control.Conflict, Message: "the measurement has started on a tablet", Detail: "order o-2 in_progress"}
		api.mu.Unlock()
		test.Tap(d.confirm)
		labels := visibleLabels(tt.win.Content())
		if !hasText(labels, "The measurement has started on a tablet.") {
			t.Errorf("refusal not shown; labels: %q", texts(labels))
		}
	})
}

func TestWorklistFollowsOrderEvents(t *testing.T) {
	api := sampleAPI()
	tt, w := startWorklist(t, api)
	if w.list.Length() != 2 {
		t.Fatalf("%d rows at start", w.list.Length())
	}
	n := len(api.queries)
	api.mu.Lock()
	o := gdtOrder()
	o.ID, o.Patient.Name.Given = "o-9", "Lena"
	api.orders = append(api.orders, o)
	api.events <- control.Event{Kind: control.EventHealth}
	api.events <- control.Event{Kind: control.EventOrders, Group: "default"}
	api.mu.Unlock()
	tt.runPosted(t)
	if len(api.queries) != n+1 {
		t.Errorf("%d queries after one order event, want %d", len(api.queries), n+1)
	}
	if w.list.Length() != 3 || !hasText(visibleLabels(w.content()), "Lena Huber") {
		t.Errorf("new appointment not shown: %d rows", w.list.Length())
	}
}

func TestFieldSections(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key, label string
		want       int
	}{
		{"PID-5", "Patient name", secPatient},
		{"PID-3[1].1", "", secPatient},
		{"PV1-3", "Assigned location", secVisit},
		{"PV1-7", "Attending doctor", secProvider},
		{"ORC-12", "Ordering provider", secProvider},
		{"OBR-16", "", secProvider},
		{"OBR-4", "Universal service ID", secOrder},
		{"TQ1-7", "", secOrder},
		{"MSH-4", "Sending facility", secOther},
		{"ZDS-1", "", secOther},
		{"3101", "Name", secPatient},
		{"3628", "Language", secPatient},
		{"8402", "Test", secOrder},
		{"6200", "", secOrder},
		{"8000", "Record type", secOther},
		{"patient_id", "Patient ID", secPatient},
		{"resource_id", "Practitioner", secProvider},
		{"end", "End", secOrder},
		{"fields.colour", "colour", secOther},
	}
	for _, tc := range tests {
		if got := fieldSectionOf(domain.Field{Key: tc.key, Label: tc.label}); got != tc.want {
			t.Errorf("%s (%s): section %d, want %d", tc.key, tc.label, got, tc.want)
		}
	}
}

func TestOrderSectionsKeepEveryField(t *testing.T) {
	t.Parallel()
	o := hl7Order()
	secs := orderSections(&o, testNow, func(id string) string { return id })
	var got []string
	for _, s := range secs {
		for _, r := range s.rows {
			got = append(got, r.raw)
		}
	}
	for _, f := range o.Fields {
		if !slices.Contains(got, f.Value) {
			t.Errorf("field %s (%q) missing from the details", f.Key, f.Value)
		}
	}
}

// BenchmarkWorklistSearch measures a search over 10,000 appointments: the
// query answered, the list refreshed and its visible rows bound.
func BenchmarkWorklistSearch(b *testing.B) {
	api := &fakeAPI{}
	for i := range 10000 {
		o := gdtOrder()
		o.ID = fmt.Sprintf("o-%d", i)
		o.Patient.ID = fmt.Sprintf("P%05d", i)
		o.PlacerNumber = fmt.Sprintf("N%05d", i)
		o.Patient.Name.Family = []string{"Novak", "Huber", "Berg", "Kos"}[i%4]
		api.orders = append(api.orders, o)
	}
	tt := newTabTest(b, api)
	w := newWorklist(tt.env)
	tt.win.SetContent(w.content())
	defer w.start()()
	if w.list.Length() != 10000 {
		b.Fatalf("%d rows", w.list.Length())
	}
	searches := []string{"novak", "P0123", "", "huber", "N099"}
	b.ResetTimer()
	for i := range b.N {
		w.search.SetText(searches[i%len(searches)])
		tt.win.Canvas().Refresh(w.list)
	}
	b.StopTimer()
	if strings.TrimSpace(w.count.Text) == "" {
		b.Fatal("no count shown")
	}
}

// BenchmarkWorklistShow measures the GUI's part alone: 10,000 or 2,500
// appointments put on the list, its visible rows bound and laid out.
func BenchmarkWorklistShow(b *testing.B) {
	var all []domain.Order
	for i := range 10000 {
		o := gdtOrder()
		o.ID = fmt.Sprintf("o-%d", i)
		o.Patient.ID = fmt.Sprintf("P%05d", i)
		all = append(all, o)
	}
	tt := newTabTest(b, &fakeAPI{})
	w := newWorklist(tt.env)
	tt.win.SetContent(w.content())
	defer w.start()()
	sets := [][]domain.Order{all, all[:2500]}
	q := control.OrderQuery{Limit: worklistLimit}
	b.ResetTimer()
	for i := range b.N {
		w.show(sets[i%2], nil, q)
	}
	b.StopTimer()
	if w.list.Length() == 0 {
		b.Fatal("empty list")
	}
}

// BenchmarkWorklistScroll measures one scroll step of the Worklist holding
// 10,000 appointments, against the 16.7 ms a frame has at 60 Hz: the
// list's offset moved, the rows coming into view bound and laid out
// (what Fyne's goroutine does before it can draw), and with "+paint" the
// whole 1280×800 window drawn by the test driver's software painter (a
// full repaint on the CPU, more than the GL driver does per frame).
// "wheel" moves by three rows (a mouse-wheel notch), "page" by the list's
// height (every visible row rebound).
func BenchmarkWorklistScroll(b *testing.B) {
	api := &fakeAPI{}
	for i := range 10000 {
		o := gdtOrder()
		o.ID = fmt.Sprintf("o-%d", i)
		o.Patient.ID = fmt.Sprintf("P%05d", i)
		o.Patient.Name.Family = []string{"Novak", "Huber", "Berg", "Kos"}[i%4]
		api.orders = append(api.orders, o)
	}
	tt := newTabTest(b, api)
	w := newWorklist(tt.env)
	tt.win.SetContent(w.content())
	defer w.start()()
	if w.list.Length() != 10000 {
		b.Fatalf("%d rows", w.list.Length())
	}
	rowHeight := newOrderRow().MinSize().Height + theme.Padding()
	for _, bc := range []struct {
		name  string
		step  float32
		paint bool
	}{
		{"wheel", 3 * rowHeight, false},
		{"wheel+paint", 3 * rowHeight, true},
		{"page", w.list.Size().Height, false},
		{"page+paint", w.list.Size().Height, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w.list.ScrollToTop()
			end := 10000*rowHeight - w.list.Size().Height
			var off float32
			for b.Loop() {
				off += bc.step
				if off > end {
					off = bc.step
				}
				w.list.ScrollToOffset(off)
				if bc.paint {
					tt.win.Canvas().Capture()
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/step")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N)/(1000.0/60), "frames/step")
			if w.list.GetScrollOffset() == 0 {
				b.Fatal("the list did not scroll")
			}
			top := w.list.GetScrollOffset()
			shown := visibleLabels(w.list)
			want := orderTitle(&w.orders[int(top/rowHeight)+1])
			if !hasText(shown, want) {
				b.Fatalf("at offset %.0f the rows shown lack %q", top, want)
			}
		})
	}
}

// TestWorklistCoalescesOrderEvents: orders arriving by the hundred while
// the hub answers make one more query after the answer, not one each.
func TestWorklistCoalescesOrderEvents(t *testing.T) {
	api := sampleAPI()
	tt := newTabTest(t, api)
	var calls []func() // the hub's answers, held back
	tt.env.spawn = func(f func()) { calls = append(calls, f) }
	w := newWorklist(tt.env)
	tt.win.SetContent(w.content())
	t.Cleanup(w.start())
	for _, f := range calls { // the groups and the first query
		f()
	}
	calls = nil
	queries := len(api.queries)

	for range 5 {
		api.events <- control.Event{Kind: control.EventOrders}
		tt.runPosted(t)
	}
	if len(calls) != 1 {
		t.Fatalf("5 order events while none was answered: %d queries under way, want 1", len(calls))
	}
	calls[0]() // the answer to the first comes; the other 4 events make one more query
	if len(calls) != 2 {
		t.Fatalf("after the answer: %d queries in all, want 2", len(calls))
	}
	calls[1]()
	if len(calls) != 2 || len(api.queries)-queries != 2 {
		t.Errorf("%d calls, %d queries asked; want 2, 2", len(calls), len(api.queries)-queries)
	}
	api.events <- control.Event{Kind: control.EventOrders} // nothing under way: at once
	tt.runPosted(t)
	if len(calls) != 3 {
		t.Errorf("an event with no query under way made %d calls in all, want 3", len(calls))
	}
}

// TestWorklistReloadsAfterAGap: with followGap, the query that events
// during an answer call for comes through Fyne's goroutine after the
// gap, not at once.
func TestWorklistReloadsAfterAGap(t *testing.T) {
	defer func(g time.Duration) { followGap = g }(followGap)
	followGap = time.Millisecond
	api := sampleAPI()
	tt := newTabTest(t, api)
	var calls []func()
	tt.env.spawn = func(f func()) { calls = append(calls, f) }
	w := newWorklist(tt.env)
	tt.win.SetContent(w.content())
	t.Cleanup(w.start())
	for _, f := range calls {
		f()
	}
	calls = nil

	api.events <- control.Event{Kind: control.EventOrders}
	tt.runPosted(t) // the first event asks at once
	api.events <- control.Event{Kind: control.EventOrders}
	tt.runPosted(t) // the second waits for the answer
	calls[0]()
	if len(calls) != 1 {
		t.Fatalf("%d queries right after the answer, want 1 (the next after the gap)", len(calls))
	}
	tt.runPosted(t) // the gap is over
	if len(calls) != 2 {
		t.Errorf("%d queries after the gap, want 2", len(calls))
	}
}

// TestWorklistKeepsOnlyWhatTheListShows: the list holds no source fields
// (the details ask the hub for them), and the rows still show the patient,
// what and when.
func TestWorklistKeepsOnlyWhatTheListShows(t *testing.T) {
	api := sampleAPI()
	_, w := startWorklist(t, api)
	if len(w.orders) == 0 {
		t.Fatal("empty list")
	}
	for _, o := range w.orders {
		if o.Fields != nil || o.Meta != nil || o.Patient.IDs != nil {
			t.Errorf("the list keeps %s with %d fields, %d meta values", o.ID, len(o.Fields), len(o.Meta))
		}
	}
	if !api.lastQuery().Summary {
		t.Error("the Worklist asked for every field of every appointment, not a summary")
	}
	src := api.orders[0]
	if len(src.Fields) == 0 {
		t.Fatal("the sample order has no fields to leave out")
	}
	got := listEntry(&src)
	if orderTitle(&got) != orderTitle(&src) || orderSubline(&got, w.env, w.groupLabel) != orderSubline(&src, w.env, w.groupLabel) ||
		got.State != src.State || got.ID != src.ID {
		t.Errorf("the row of the kept entry differs: %q / %q, want %q / %q", orderTitle(&got),
			orderSubline(&got, w.env, w.groupLabel), orderTitle(&src), orderSubline(&src, w.env, w.groupLabel))
	}
	w.list.Select(0)
	if w.current == nil || len(w.current.Fields) == 0 {
		t.Error("the selected appointment's details have no fields")
	}
}

// TestLargeAnswersHandMemoryBack: taking in thousands of appointments
// (the Worklist's list, the Groups tab's counts) asks for the garbage to
// be handed back; a small answer does not.
func TestLargeAnswersHandMemoryBack(t *testing.T) {
	api := sampleAPI()
	tt := newTabTest(t, api)
	trims := 0
	tt.env.trim = func() { trims++ }
	w := newWorklist(tt.env)
	tt.win.SetContent(w.content())
	t.Cleanup(w.start())
	if trims != 0 {
		t.Fatalf("3 appointments asked for %d trims, want 0", trims)
	}
	for i := range bigAnswer {
		o := gdtOrder()
		o.ID = fmt.Sprintf("o-%d", i)
		api.orders = append(api.orders, o)
	}
	w.reload()
	if trims != 1 {
		t.Errorf("the Worklist took in %d appointments: %d trims, want 1", len(w.orders), trims)
	}
	// The Groups tab has the hub count them: no appointments to take in.
	queries := len(api.queries)
	g := newGroups(tt.env)
	g.reload()
	if trims != 1 || len(api.queries) != queries || len(api.counts) != 1 {
		t.Errorf("the Groups tab with %d appointments: %d trims in all (want 1), %d order lists (want 0), %d counts (want 1)",
			len(api.orders), trims, len(api.queries)-queries, len(api.counts))
	}
	if n := len(g.items); n == 0 || g.items[0].open == 0 {
		t.Errorf("the Groups tab shows no open appointments: %+v", g.items)
	}
}
