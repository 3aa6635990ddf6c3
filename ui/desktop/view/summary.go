package view

import (
	"cmp"
	"slices"

	"github.com/mesi/mconnect/app/domain"
)

// summary is the overall state shown by the tray icon, the tray menu's
// status line and the Dashboard's header.
type summary struct {
	// Worst is the severity of the worst component; OK when there are none.
	Worst    domain.Severity
	Total    int
	Warnings int
	Errors   int
}

// Problems counts the components that are not OK.
func (s summary) Problems() int { return s.Warnings + s.Errors }

func summarize(hs []domain.Health) summary {
	s := summary{Total: len(hs)}
	for _, h := range hs {
		switch {
		case h.Severity >= domain.SeverityError:
			s.Errors++
		case h.Severity == domain.SeverityWarning:
			s.Warnings++
		}
		if h.Severity > s.Worst {
			s.Worst = min(h.Severity, domain.SeverityError)
		}
	}
	return s
}

// sortedHealth returns a copy of hs with the components that need a person
// first (errors, then warnings, then OK), each group by component name.
func sortedHealth(hs []domain.Health) []domain.Health {
	out := slices.Clone(hs)
	slices.SortStableFunc(out, func(a, b domain.Health) int {
		if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
			return c
		}
		return cmp.Compare(a.Component, b.Component)
	})
	return out
}
