package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"testing"

	"github.com/mesi/mconnect/app/domain"
)

// TestOrdersSummary: a summary list is the full list without the source
// fields and connection data, the same orders in the same order, filters
// and all.
func TestOrdersSummary(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	for i := range 5 {
		o := order("c", fmt.Sprintf("m%d", i), fmt.Sprintf("A%d", i), domain.ActionNew)
		o.ServiceText = "Resting ECG"
		o.Fields = []domain.Field{{Key: "OBR-4", Value: "ECG"}, {Key: "ZXX-1", Value: fmt.Sprint(i)}}
		o.Meta = map[string]string{"hl7.version": "2.5"}
		if i == 3 {
			o.Patient.Name.Family = "Horvat"
		}
		if _, err := s.ApplyOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	one, err := s.OrderSummary(ctx, wl0(t, s).ID)
	if err != nil || one.Fields != nil || one.Meta != nil || one.Patient.ID != "P1" || one.ServiceText != "Resting ECG" {
		t.Fatalf("one order's summary: %+v %v", one, err)
	}
	if _, err := s.OrderSummary(ctx, "no-such-order"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("an unknown order's summary: %v", err)
	}
	wl, err := s.Worklist(ctx, domain.DefaultGroupID)
	if err != nil || len(wl) != 5 {
		t.Fatalf("worklist: %d orders, %v", len(wl), err)
	}
	for _, o := range wl {
		if o.Fields != nil || o.Meta != nil || o.ServiceText != "Resting ECG" || o.Patient.ID != "P1" {
			t.Fatalf("a worklist entry is not the order's summary: %+v", o)
		}
	}
	for _, f := range []OrderFilter{{}, {Search: "Horvat"}, {Limit: 2}, {States: []domain.OrderState{domain.OrderScheduled}}} {
		full, err := s.Orders(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		f.Summary = true
		sum, err := s.Orders(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(full) == 0 || len(sum) != len(full) {
			t.Fatalf("%+v: %d orders in the summary, %d in full", f, len(sum), len(full))
		}
		for i := range full {
			if len(full[i].Fields) != 2 || full[i].Meta == nil {
				t.Fatalf("the full list lost fields: %+v", full[i])
			}
			if sum[i].Fields != nil || sum[i].Meta != nil {
				t.Fatalf("the summary kept fields or meta: %+v", sum[i])
			}
			want := full[i]
			want.Fields, want.Meta = nil, nil
			if !reflect.DeepEqual(sum[i], want) {
				t.Fatalf("summary %d differs beyond fields and meta:\n got %+v\nwant %+v", i, sum[i], want)
			}
		}
	}
}

// wl0 is the first order of the store's full list.
func wl0(t *testing.T, s *Store) domain.Order {
	t.Helper()
	all, err := s.Orders(context.Background(), OrderFilter{})
	if err != nil || len(all) == 0 {
		t.Fatalf("orders: %d, %v", len(all), err)
	}
	return all[0]
}

func TestCountOrders(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	g, err := s.CreateGroup(ctx, "Cardiology", "test")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 6 {
		o := order("c", fmt.Sprintf("m%d", i), fmt.Sprintf("A%d", i), domain.ActionNew)
		if i%2 == 0 {
			o.Group = g.ID
		}
		acc, err := s.ApplyOrder(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, acc.OrderID)
	}
	if _, err := s.SetOrderState(ctx, ids[0], domain.OrderDeleted, "test", "wrong patient"); err != nil {
		t.Fatal(err)
	}
	open := []domain.OrderState{domain.OrderScheduled, domain.OrderInProgress}
	tests := []struct {
		name string
		f    OrderFilter
		want map[string]int
	}{
		{"open", OrderFilter{States: open}, map[string]int{g.ID: 2, domain.DefaultGroupID: 3}},
		{"all", OrderFilter{}, map[string]int{g.ID: 3, domain.DefaultGroupID: 3}},
		{"deleted", OrderFilter{States: []domain.OrderState{domain.OrderDeleted}}, map[string]int{g.ID: 1}},
		{"one group, limit aside", OrderFilter{States: open, Group: g.ID, Limit: 1}, map[string]int{g.ID: 2}},
		{"none", OrderFilter{Search: "nobody"}, map[string]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.CountOrders(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
