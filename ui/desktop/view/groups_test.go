package view

import (
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/domain"
)

func sampleGroups() *fakeAPI {
	api := sampleTablets()
	api.groups = append(api.groups, domain.Group{ID: "lung", Name: "Lung function"})
	api.orders = []domain.Order{hl7Order()} // in cardio, scheduled
	api.configJSON = `{"ehr": "birpis", "hl7": {"listen": ":2575", "groupMap": {"ECG": "cardio", "EKG": "cardio", "SPIRO": "lung"}}}`
	return api
}

func startGroups(t *testing.T, api control.API) (*tabTest, *groups) {
	t.Helper()
	tt := newTabTest(t, api)
	g := newGroups(tt.env)
	tt.win.SetContent(g.content())
	t.Cleanup(g.start())
	return tt, g
}

func TestGroupsList(t *testing.T) {
	_, g := startGroups(t, sampleGroups())
	if g.list.Length() != 3 {
		t.Fatalf("%d groups, want 3", g.list.Length())
	}
	labels := visibleLabels(g.content())
	for _, want := range []string{"Reception", "Default", "Cardiology", "Tablets: 1 · open appointments: 1", "Lung function",
		"Tablets: 0 · open appointments: 0"} {
		if !hasText(labels, want) {
			t.Errorf("no label %q; labels %q", want, texts(labels))
		}
	}
	g.list.Select(1)
	if !hasText(visibleLabels(g.content()), "Orders with these EHR codes land here: ECG, EKG.") {
		t.Errorf("mapping not shown: %q", texts(visibleLabels(g.content())))
	}
	g.list.Select(0)
	if !g.deleteBt.Disabled() || !g.defBt.Disabled() ||
		!hasText(visibleLabels(g.content()), "Every order the connection settings do not send to another group lands here.") {
		t.Error("the default group can be deleted, or its mapping is not explained")
	}
}

func TestGroupsChanges(t *testing.T) {
	api := sampleGroups()
	tt, g := startGroups(t, api)

	test.Type(g.newName, "Paediatrics")
	test.Tap(g.createBt)
	if len(api.savedGroups) != 1 || api.savedGroups[0].Name != "Paediatrics" || api.savedGroups[0].ID != "" {
		t.Fatalf("create sent %+v", api.savedGroups)
	}
	if g.list.Length() != 4 || g.newName.Text != "" {
		t.Errorf("after create: %d groups, entry %q", g.list.Length(), g.newName.Text)
	}

	// A group with a tablet and an open appointment: what to move first.
	g.list.Select(1)
	test.Tap(g.deleteBt)
	if g.deleteDialog != nil || len(api.deletedGroups) != 0 {
		t.Fatal("deleting a group in use was offered")
	}
	if !hasText(visibleLabels(g.content()), "This group still has tablets (1) or open appointments (1). Move its tablets") {
		t.Errorf("refusal: %q", texts(visibleLabels(g.content())))
	}

	// An empty one: confirmed, then deleted.
	g.list.Select(2)
	test.Tap(g.deleteBt)
	if g.deleteDialog == nil {
		t.Fatal("no confirmation")
	}
	test.Tap(g.deleteDialog.confirm)
	if len(api.deletedGroups) != 1 || api.deletedGroups[0] != "lung" {
		t.Fatalf("deleted %q", api.deletedGroups)
	}

	// The hub refuses (something moved in meanwhile): plain words, detail behind Details.
	api.deleteGroupErr = &control.Error{Kind: control.Conflict, Message: "store: group has 1 tablets"}
	for i, it := range g.items {
		if it.ID == "paediatrics" {
			g.list.Select(i)
		}
	}
	test.Tap(g.deleteBt)
	test.Tap(g.deleteDialog.confirm)
	labels := visibleLabels(tt.win.Content())
	if !hasText(labels, "The group got a tablet or an appointment just now.") || hasText(labels, "store:") {
		t.Errorf("conflict shown as %q", texts(labels))
	}

	// Rename and make default.
	g.list.Select(0)
	g.name.SetText("Front desk")
	test.Tap(g.renameBt)
	if last := api.savedGroups[len(api.savedGroups)-1]; last.ID != "default" || last.Name != "Front desk" {
		t.Errorf("rename sent %+v", last)
	}
	for i, it := range g.items {
		if it.ID == "cardio" {
			g.list.Select(i)
		}
	}
	test.Tap(g.defBt)
	if last := api.savedGroups[len(api.savedGroups)-1]; last.ID != "cardio" || !last.Default {
		t.Errorf("make default sent %+v", last)
	}
}
