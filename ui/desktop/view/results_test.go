package view

import (
	"net/url"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/domain"
)

func sampleResults() *fakeAPI {
	return &fakeAPI{
		report: "/data/reports/r-1.pdf",
		results: []control.ResultSummary{
			{ID: "r-1", OrderID: "o-1", PatientName: "Janez Novak", PatientID: "P-1001", Measurement: "ECG",
				PerformedAt: testNow.Add(-10 * time.Minute), ReceivedAt: testNow.Add(-9 * time.Minute),
				DeviceName: "Exam room 1", HasReport: true,
				Deliveries: []domain.Delivery{{ID: 11, ResultID: "r-1", Connection: "birpis", State: domain.DeliveryDelivered,
					Attempts: 1, UpdatedAt: testNow.Add(-8 * time.Minute)}}},
			{ID: "r-2", OrderID: "o-2", PatientName: "Ana Kos", PatientID: "P-1002", Measurement: "Spirometry",
				PerformedAt: testNow.Add(-20 * time.Minute), DeviceName: "Exam room 2",
				Deliveries: []domain.Delivery{{ID: 12, ResultID: "r-2", Connection: "birpis", State: domain.DeliveryFailed,
					Attempts: 2, LastError: "permanent delivery error: hl7net: AR (EHR answered: MSA|AR|...)"}}},
			{ID: "r-3", PatientName: "Walk In", Measurement: "ABI", ReceivedAt: testNow.Add(-30 * time.Minute),
				Deliveries: []domain.Delivery{{ID: 13, ResultID: "r-3", Connection: "birpis", State: domain.DeliveryAmbiguous, Attempts: 1}}},
		},
		attempts: map[int64][]domain.Attempt{12: {
			{DeliveryID: 12, At: testNow.Add(-19 * time.Minute), Duration: 40 * time.Millisecond, Answer: "MSA|AR|ORU-1|unknown patient"},
		}},
	}
}

func startResults(t *testing.T, api control.API) (*tabTest, *results) {
	t.Helper()
	tt := newTabTest(t, api)
	r := newResults(tt.env)
	tt.win.SetContent(r.content())
	t.Cleanup(r.start())
	return tt, r
}

func TestResultsList(t *testing.T) {
	_, r := startResults(t, sampleResults())
	if r.list.Length() != 3 {
		t.Fatalf("%d rows, want 3", r.list.Length())
	}
	labels := visibleLabels(r.content())
	for _, want := range []string{"Janez Novak — ECG", "15:20:00  ·  Exam room 1  ·  P-1001", "In the EHR", "Failed",
		"Unclear", "3 results"} {
		if !hasText(labels, want) {
			t.Errorf("no label shows %q; labels %q", want, texts(labels))
		}
	}
	if l := findLabel(labels, "Failed"); l == nil || l.Importance != widget.DangerImportance {
		t.Error("a failed result is not shown as a danger")
	}
	if r.resendFail.Text != "Resend 1 failed…" || r.resendFail.Disabled() || r.resendAmbig.Disabled() {
		t.Errorf("resend-all buttons %q (disabled %v / %v)", r.resendFail.Text, r.resendFail.Disabled(), r.resendAmbig.Disabled())
	}

	r.filter.SetSelectedIndex(1) // needs a person
	if r.list.Length() != 2 {
		t.Errorf("needs-a-person filter shows %d, want 2", r.list.Length())
	}
	r.filter.SetSelectedIndex(3) // delivered
	if r.list.Length() != 1 || r.shown[0].ID != "r-1" {
		t.Errorf("delivered filter shows %+v", r.shown)
	}
}

func TestResultsDetailExplainsAndResends(t *testing.T) {
	api := sampleResults()
	tt, r := startResults(t, api)
	var opened []string
	tt.env.open = func(u *url.URL) error { opened = append(opened, u.String()); return nil }

	r.list.Select(1) // the failed one
	labels := visibleLabels(r.content())
	if !hasText(labels, "The EHR refused this result") || !hasText(labels, "2 attempts") {
		t.Errorf("failed delivery explained as %q", texts(labels))
	}
	if hasText(labels, "permanent delivery error") {
		t.Error("the technical error is shown before Details is pressed")
	}
	// The technical detail with the EHR's answer is behind Details.
	var details *widget.Label
	for _, l := range allLabels(r.content()) {
		if l.TextStyle.Monospace && !l.Visible() && l.Text != "" {
			details = l
		}
	}
	if details == nil || !contains(details.Text, "permanent delivery error") || !contains(details.Text, "unknown patient") {
		t.Fatalf("details %v", details)
	}

	resend := findButton(r.content(), "Resend…")
	if resend == nil {
		t.Fatal("no Resend button for a failed delivery")
	}
	test.Tap(resend)
	if r.dialog == nil || !r.dialog.confirm.Disabled() {
		t.Fatal("resend not confirmed with a required reason")
	}
	test.Type(r.dialog.reason, "patient registered in the EHR now")
	test.Tap(r.dialog.confirm)
	if len(api.resends) != 1 || api.resends[0].ID != 12 || api.resends[0].Reason != "patient registered in the EHR now" ||
		api.resends[0].Actor != "dashboard" {
		t.Fatalf("resends %+v", api.resends)
	}
	if !hasText(visibleLabels(r.content()), "1 result is being sent again.") {
		t.Errorf("after resend: %q", texts(visibleLabels(r.content())))
	}

	// The PDF opens in the OS viewer and its folder in the file manager.
	r.list.Select(0)
	test.Tap(r.reportBt)
	test.Tap(r.folderBt)
	if len(opened) != 2 || opened[0] != "file:///data/reports/r-1.pdf" || opened[1] != "file:///data/reports" {
		t.Errorf("opened %q", opened)
	}
}

func TestResultsAmbiguousAndResendAll(t *testing.T) {
	api := sampleResults()
	_, r := startResults(t, api)
	r.list.Select(2)
	if !hasText(visibleLabels(r.content()), "it is not known whether the EHR received it") {
		t.Error("an unclear delivery is not explained")
	}
	cancel := findButton(r.content(), "Cancel sending…")
	test.Tap(cancel)
	test.Type(r.dialog.reason, "found it in the EHR")
	test.Tap(r.dialog.confirm)
	if len(api.cancels) != 1 || api.cancels[0].ID != 13 {
		t.Fatalf("cancels %+v", api.cancels)
	}

	test.Tap(r.resendFail)
	test.Tap(r.dialog.cancel)
	if len(api.resends) != 0 {
		t.Fatal("cancelling the dialog resent")
	}
	test.Tap(r.resendFail)
	test.Type(r.dialog.reason, "EHR fixed")
	test.Tap(r.dialog.confirm)
	if len(api.resends) != 1 || !api.resends[0].Failed || api.resends[0].Ambiguous {
		t.Fatalf("resend all failed sent %+v", api.resends)
	}
	if !r.resendFail.Disabled() {
		t.Error("nothing failed any more, yet resend-all is offered")
	}
}

func TestResultsEmptyAndErrorStates(t *testing.T) {
	t.Run("empty", func(t *testing.T) {
		_, r := startResults(t, &fakeAPI{})
		if !hasText(visibleLabels(r.content()), "No results yet.") {
			t.Error("empty state not shown")
		}
	})
	t.Run("no hub", func(t *testing.T) {
		_, r := startResults(t, nil)
		if !hasText(visibleLabels(r.content()), "The hub is not running") || !r.resendFail.Disabled() {
			t.Error("no-hub state not shown")
		}
	})
	t.Run("error", func(t *testing.T) {
		api := &fakeAPI{err: &control.Error{Kind: control.Internal, Message: "results could not be read", Detail: "store: disk I/O error"}}
		_, r := startResults(t, api)
		labels := visibleLabels(r.content())
		if !hasText(labels, "Results could not be read.") || hasText(labels, "disk I/O") {
			t.Errorf("error shown as %q", texts(labels))
		}
	})
}

func TestResultsFollowEvents(t *testing.T) {
	api := sampleResults()
	tt, r := startResults(t, api)
	api.mu.Lock()
	api.results[1].Deliveries[0].State = domain.DeliveryDelivered
	api.mu.Unlock()
	api.events <- control.Event{Kind: control.EventDeliveries}
	(<-tt.posted)()
	if r.resendFail.Text != "Resend 0 failed…" || !r.resendFail.Disabled() {
		t.Errorf("after the event: %q", r.resendFail.Text)
	}
}
