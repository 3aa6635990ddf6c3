package device

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mesi/mconnect/app/domain"
)

// bigOrder is an order an EHR (or an attacker on the EHR's port) filled
// with text: seven free-text fields of size bytes each.
func bigOrder(placer string, size int) domain.Order {
	blob := strings.Repeat("Ž", size/2) // two bytes each
	return domain.Order{
		Connection: "birpis", SourceMessageID: "msg-" + placer, PlacerNumber: placer, Action: domain.ActionNew,
		Measurement: "ECG", ServiceCode: "93000", ServiceText: blob, Group: domain.DefaultGroupID, Priority: blob,
		RequestedAt: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC),
		Patient: domain.Patient{ID: "P-" + placer, Name: domain.PersonName{Family: blob, Given: "Ana"}, BirthDate: "1960-04-02",
			Address: domain.Address{Street: blob}},
		Visit:            domain.Visit{Location: blob},
		OrderingProvider: domain.Provider{ID: "D1", Name: domain.PersonName{Family: blob}},
		Fields:           []domain.Field{{Key: "NTE-3", Label: "Comment", Value: blob, Text: blob}},
	}
}

// TestWorklistOfBigOrdersStaysSmall: 16 orders of 1.75 MB of text each give
// a worklist under 1 MB, each text cut to MaxSummaryText characters and
// marked; GET /appointments/{id} still has the whole order.
func TestWorklistOfBigOrdersStaysSmall(t *testing.T) {
	e := newEnv(t, nil)
	tab := e.pair(domain.DefaultGroupID, "S1")
	const orders, size = 16, 256 << 10
	var ids []string
	for i := range orders {
		acc, err := e.st.ApplyOrder(context.Background(), bigOrder(fmt.Sprintf("BIG%d", i), size))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, acc.OrderID)
	}
	e.srv.GroupChanged(domain.DefaultGroupID)

	var wl Worklist
	r := e.do(http.MethodGet, "/worklist", tab.Token, nil, "", nil, &wl)
	body, _ := io.ReadAll(r.Body)
	if n := len(body); r.StatusCode != http.StatusOK || n >= 1<<20 {
		t.Errorf("the worklist of %d orders of %d bytes is %d bytes (status %d), want under 1 MB", orders, 7*size, n, r.StatusCode)
	}
	if len(wl.Appointments) != orders {
		t.Fatalf("%d appointments, want %d", len(wl.Appointments), orders)
	}
	for _, a := range wl.Appointments {
		for what, s := range map[string]string{"serviceText": a.ServiceText, "patient.name.family": a.Patient.Name.Family, "location": a.Location, "priority": a.Priority} {
			if utf8.RuneCountInString(s) != MaxSummaryText || !strings.HasSuffix(s, "…") {
				t.Errorf("%s: %s is %d characters, want cut to %d with …", a.ID, what, utf8.RuneCountInString(s), MaxSummaryText)
			}
		}
		if !a.Truncated {
			t.Errorf("%s: not marked truncated", a.ID)
		}
	}
	var full Appointment
	if r := e.do(http.MethodGet, "/appointments/"+ids[0], tab.Token, nil, "", nil, &full); r.StatusCode != http.StatusOK || len(full.ServiceText) != size/2*2 {
		t.Errorf("the appointment's details: %d, serviceText of %d bytes", r.StatusCode, len(full.ServiceText))
	}
}

// TestWorklistCapped: beyond Options.MaxWorklist the oldest are listed and
// the rest counted.
func TestWorklistCapped(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxWorklist = 3 })
	tab := e.pair(domain.DefaultGroupID, "S1")
	var ids []string
	for i := range 5 {
		ids = append(ids, e.addOrder(domain.DefaultGroupID, fmt.Sprintf("A%d", i)))
	}
	var wl Worklist
	if r := e.do(http.MethodGet, "/worklist", tab.Token, nil, "", nil, &wl); r.StatusCode != http.StatusOK {
		t.Fatalf("worklist: %d", r.StatusCode)
	}
	if len(wl.Appointments) != 3 || wl.Omitted != 2 || wl.Appointments[0].ID != ids[0] || wl.Appointments[2].ID != ids[2] {
		t.Fatalf("worklist %+v, want the 3 oldest and omitted 2", wl)
	}
}
