package view

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"
)

// reasonDialog is an open confirmation that needs a reason for the audit
// log (delete an appointment, resend or cancel a delivery): its confirm
// button stays disabled until a reason is typed.
type reasonDialog struct {
	pop             *widget.PopUp
	reason          *widget.Entry
	confirm, cancel *widget.Button
}

// askReason opens a reasonDialog on win; onYes gets the reason typed,
// onClose runs when the dialog goes (either way).
func askReason(win fyne.Window, title, text, placeholder, yes string, danger bool,
	onYes func(reason string), onClose func()) *reasonDialog {
	d := &reasonDialog{reason: widget.NewMultiLineEntry()}
	d.reason.SetPlaceHolder(placeholder)
	d.reason.SetMinRowsVisible(3)
	closeIt := func() {
		d.pop.Hide()
		if onClose != nil {
			onClose()
		}
	}
	d.confirm = widget.NewButton(yes, func() {
		if strings.TrimSpace(d.reason.Text) == "" {
			return
		}
		closeIt()
		onYes(strings.TrimSpace(d.reason.Text))
	})
	if danger {
		d.confirm.Importance = widget.DangerImportance
	} else {
		d.confirm.Importance = widget.HighImportance
	}
	d.confirm.Disable()
	d.reason.OnChanged = func(s string) {
		if strings.TrimSpace(s) == "" {
			d.confirm.Disable()
		} else {
			d.confirm.Enable()
		}
	}
	d.cancel = widget.NewButton(txtCancel(), closeIt)
	head := widget.NewLabel(title)
	head.TextStyle.Bold = true
	body := container.NewBorder(container.NewVBox(head, wrapped(text)),
		container.NewHBox(layout.NewSpacer(), d.cancel, d.confirm), nil, nil, d.reason)
	d.pop = widget.NewModalPopUp(container.NewPadded(body), win.Canvas())
	d.pop.Resize(fyne.NewSize(480, 320))
	d.pop.Show()
	win.Canvas().Focus(d.reason)
	return d
}
