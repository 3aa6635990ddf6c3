package words

import (
	"strings"
	"testing"
	"text/template"

	"github.com/mesi/mconnect/app/domain"
)

func TestHealthWords(t *testing.T) {
	tests := []struct {
		h           domain.Health
		title, text string
	}{
		{domain.Health{Component: "conn:birpis", Code: "listening", Args: map[string]string{"addr": ":2575"}},
			"Listening for orders", "Waiting for the EHR on :2575."},
		{domain.Health{Component: "conn:birpis/outbox", Code: "ehr-unreachable", Args: map[string]string{"connection": "Birpis", "retrying": "3", "next": "10:00:00"}},
			"Birpis does not answer", "Results waiting: 3. They are sent in order as soon as it answers; the next try is at 10:00:00."},
		{domain.Health{Component: "conn:tomedo/gdt-in", Code: "file-rejected", Args: map[string]string{"file": "A.GDT"}},
			"An order file was rejected", "See the note beside A.GDT in the error folder."},
		{domain.Health{Component: "conn:x/gdt-in", Code: "restarting", Args: map[string]string{"next": "4s"}},
			"Stopped unexpectedly, restarting", "It is started again by itself (next try in 4s)"},
		{domain.Health{Component: "store", Code: "ready"}, "Database ready", "Orders and results are stored in ."},
		{domain.Health{Component: "conn:x/halo", Code: "brand-new", Detail: "why"}, "conn:x/halo: brand-new", "why"},
	}
	for _, tc := range tests {
		title, text := Health(tc.h, nil)
		if title != tc.title || !strings.HasPrefix(text, tc.text) {
			t.Errorf("%s %s: %q / %q, want %q / %q…", tc.h.Component, tc.h.Code, title, text, tc.title, tc.text)
		}
	}
}

// TestHealthTemplatesParse: every text is a valid template naming only
// arguments, and none is empty.
func TestHealthTemplatesParse(t *testing.T) {
	for k, v := range HealthTexts() {
		if strings.TrimSpace(v) == "" {
			t.Errorf("%s is empty", k)
		}
		if _, err := template.New(k).Parse(v); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
}

func TestLookupTranslates(t *testing.T) {
	de := func(key, english string, data map[string]any) string {
		if key == "health.mllp.listening.title" {
			return "Wartet auf Aufträge"
		}
		return English(key, english, data)
	}
	if title, _ := Health(domain.Health{Component: "conn:iris", Code: "listening"}, de); title != "Wartet auf Aufträge" {
		t.Errorf("translated title %q", title)
	}
}
