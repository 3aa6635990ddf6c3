package pull

import (
	"fmt"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

// Window is the span of appointment times a pull asks for.
type Window struct {
	From, To time.Time
}

// Contains reports whether t lies in the window (both ends included).
func (w Window) Contains(t time.Time) bool { return !t.Before(w.From) && !t.After(w.To) }

// Batch is what one upstream call brought: every appointment of the
// window, mapped to orders (of every tablet group), and notes on rows that
// were skipped or read with a problem.
type Batch struct {
	Orders []domain.Order
	Notes  []Note
}

// Note is a problem with one row of an answer.
type Note struct {
	// Row is the row's position in the answer, from 1.
	Row int
	// ID is the appointment's ID, when the row had one.
	ID      string
	Problem string
	// Skipped says the row was left out; otherwise it was read without the
	// faulty value.
	Skipped bool
}

func (n Note) String() string {
	s := fmt.Sprintf("row %d", n.Row)
	if n.ID != "" {
		s += fmt.Sprintf(" (appointment %s)", n.ID)
	}
	s += ": " + n.Problem
	if n.Skipped {
		s += "; skipped"
	}
	return s
}
