package view

import (
	"net/url"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/connectors/connector"
)

func TestConnectionCardsTest(t *testing.T) {
	api := &fakeAPI{
		conns: []control.Connection{{Name: "tomedo", Section: "gdt", Label: "Tomedo (GDT files)", Checks: []string{"outbox folder", "EHR"},
			Endpoints: []connector.Endpoint{
				{Kind: connector.EndpointFolder, Label: "results out", Value: "/srv/gdt/out"},
				{Kind: connector.EndpointListen, Label: "FTP", Value: ":2121"},
			}}},
		outcomes: []control.CheckOutcome{
			{What: "Results folder", Result: connector.CheckResult{OK: true, Code: "writable", Args: map[string]string{"folder": "/srv/gdt/out", "free": "12.0 GB"}}},
			{What: "FTP", Result: connector.CheckResult{Code: "refused", Args: map[string]string{"addr": "127.0.0.1:2121"}, Detail: "dial tcp 127.0.0.1:2121: connect: connection refused"}},
		},
	}
	tt := newTabTest(t, api)
	var opened []string
	tt.env.open = func(u *url.URL) error { opened = append(opened, u.String()); return nil }
	c := newConnTests(tt.env)
	tt.win.SetContent(c.root)
	c.load()

	labels := visibleLabels(c.root)
	for _, want := range []string{"Results out:", "/srv/gdt/out", "FTP:", ":2121"} {
		if !hasText(labels, want) {
			t.Errorf("no label %q: %q", want, texts(labels))
		}
	}
	test.Tap(findButton(c.root, "Open folder"))
	if len(opened) != 1 || opened[0] != "file:///srv/gdt/out" {
		t.Errorf("opened %q", opened)
	}

	test.Tap(findButton(c.root, "Test connection"))
	if len(api.tested) != 1 || api.tested[0] != "tomedo" {
		t.Fatalf("tested %q", api.tested)
	}
	labels = visibleLabels(c.root)
	if !hasText(labels, "Results folder: The folder /srv/gdt/out exists and can be written; 12.0 GB free.") {
		t.Errorf("ok outcome missing: %q", texts(labels))
	}
	l := findLabel(labels, "FTP: Nothing answers at 127.0.0.1:2121")
	if l == nil || l.Importance != widget.DangerImportance {
		t.Errorf("failed check not shown in red: %q", texts(labels))
	}
	if hasText(labels, "connect: connection refused") {
		t.Error("the technical text is shown before Details")
	}
	if c.spinners["tomedo/gdt"].Visible() || c.buttons["tomedo/gdt"].Disabled() {
		t.Error("spinner still shown or button still disabled after the test")
	}
}
