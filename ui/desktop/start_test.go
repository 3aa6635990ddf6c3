package desktop

import (
	"context"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/domain"
)

// statusAPI answers Status and Subscribe; every other call is not part
// of the test (the embedded nil interface panics).
type statusAPI struct {
	control.API
	health []domain.Health
	events chan control.Event
}

func (a *statusAPI) Status(context.Context) (control.Status, error) {
	return control.Status{Health: a.health}, nil
}

func (a *statusAPI) Subscribe(context.Context) (<-chan control.Event, error) { return a.events, nil }

// TestSubscribeHealthStartsFresh: what the hub reported between the
// window's attach and its subscription reaches the subscriber (the tray
// showed only the first two components before).
func TestSubscribeHealthStartsFresh(t *testing.T) {
	early := []domain.Health{{Component: "store", Code: "ready"}}
	now := append(early, domain.Health{Component: "conn:birpis", Code: "listening"})
	api := &statusAPI{health: early, events: make(chan control.Event, 1)}
	g := &guiHub{}
	if err := g.attach(context.Background(), api); err != nil {
		t.Fatal(err)
	}
	api.health = now // reported before anyone subscribed
	got := make(chan []domain.Health, 4)
	cancel := g.SubscribeHealth(func(hs []domain.Health) { got <- hs })
	defer cancel()
	select {
	case hs := <-got:
		if len(hs) != 2 {
			t.Fatalf("first health = %v, want the hub's current %v", hs, now)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no health after subscribing")
	}
	if len(g.Health()) != 2 {
		t.Errorf("Health() = %v, want the current one", g.Health())
	}
	later := []domain.Health{{Component: "store", Code: "ready", Severity: domain.SeverityError}}
	api.events <- control.Event{Kind: control.EventHealth, Health: later}
	select {
	case hs := <-got:
		if len(hs) != 1 || hs[0].Severity != domain.SeverityError {
			t.Errorf("event health = %v, want %v", hs, later)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a health event did not arrive")
	}
}
