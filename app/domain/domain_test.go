package domain

import (
	"errors"
	"testing"
	"time"
)

func TestDeliveryErrorClassification(t *testing.T) {
	base := errors.New("AR: unknown patient")
	tests := []struct {
		err       error
		permanent bool
		answer    string
	}{
		{Permanent(base, "MSA|AR"), true, "MSA|AR"},
		{Temporary(base, "HTTP 503"), false, "HTTP 503"},
		{base, false, ""},
		{errors.Join(errors.New("wrapped"), Permanent(base, "x")), true, "x"},
	}
	for _, tc := range tests {
		if IsPermanent(tc.err) != tc.permanent || AnswerOf(tc.err) != tc.answer {
			t.Errorf("%v: permanent=%v answer=%q", tc.err, IsPermanent(tc.err), AnswerOf(tc.err))
		}
		if tc.answer != "" && !errors.Is(tc.err, base) {
			t.Errorf("%v does not unwrap to its cause", tc.err)
		}
	}
}

func TestDeviceOnline(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		d    Device
		want bool
	}{
		{Device{LastSeen: now.Add(-time.Minute)}, true},
		{Device{LastSeen: now.Add(-3 * time.Minute)}, false},
		{Device{}, false},
		{Device{LastSeen: now, Revoked: true}, false},
	}
	for i, tc := range tests {
		if got := tc.d.Online(now); got != tc.want {
			t.Errorf("case %d: Online = %v", i, got)
		}
	}
}

func TestStatesAndNames(t *testing.T) {
	if !OrderScheduled.OnWorklist() || !OrderInProgress.OnWorklist() || OrderDone.OnWorklist() || OrderCancelled.OnWorklist() {
		t.Error("OnWorklist")
	}
	if !DeliveryDelivered.Final() || DeliveryRetrying.Final() || DeliveryAmbiguous.Final() {
		t.Error("Final")
	}
	if SeverityWarning.String() != "warning" {
		t.Error(SeverityWarning.String())
	}
	n := PersonName{Prefix: "dr.", Given: "Žiga", Family: "Čebašek"}
	if n.Full() != "dr. Žiga Čebašek" {
		t.Error(n.Full())
	}
	o := Order{Fields: []Field{{Key: "ORC-7", Value: "1^once"}}}
	if v, ok := o.Field("ORC-7"); !ok || v != "1^once" {
		t.Error("Field")
	}
}
