package view

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// tablets is the Tablets tab.
type tablets struct {
	env  *tabEnv
	root fyne.CanvasObject
}

func newTablets(env *tabEnv) *tablets {
	return &tablets{env: env, root: widget.NewLabel("")}
}

func (t *tablets) content() fyne.CanvasObject { return t.root }

func (t *tablets) start() func() { return func() {} }
