package view

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mesi/mconnect/app/control"
)

// pushSections are the connection kinds whose EHR sends orders to the
// hub's Integration API and needs a client ID and secret.
var pushSections = map[string]bool{"join": true, "ziplanerx": true}

// apiClients is a connection card's part for the Integration API: the
// clients the EHR's cloud service signs in with, adding one (its secret is
// shown once) and revoking one with a reason.
type apiClients struct {
	env  *tabEnv
	conn string
	list *fyne.Container
	msg  *messageBox
	root fyne.CanvasObject
	// dialogs open (nil when closed), for tests.
	addDialog    *reasonDialog
	revokeDialog *reasonDialog
	shown        *control.APICredentials
}

func newAPIClients(env *tabEnv, conn string) *apiClients {
	a := &apiClients{env: env, conn: conn, list: container.NewVBox(), msg: newMessageBox()}
	head := widget.NewLabel(txtAPIClientsTitle())
	head.TextStyle.Bold = true
	add := widget.NewButtonWithIcon(txtAPIClientAdd(), theme.ContentAddIcon(), a.askAdd)
	a.root = container.NewVBox(container.NewBorder(nil, nil, nil, add, head), a.msg.root, a.list)
	return a
}

func (a *apiClients) load() {
	call(a.env, func(ctx context.Context, api control.API) ([]control.APIClient, error) {
		return api.APIClients(ctx, a.conn)
	}, func(cs []control.APIClient, err error) {
		if err != nil {
			a.msg.problem(err)
			return
		}
		a.list.Objects = nil
		for _, c := range cs {
			a.list.Add(a.row(c))
		}
		if len(cs) == 0 {
			a.list.Add(wrapped(txtAPIClientsNone()))
		}
		a.list.Refresh()
	})
}

func (a *apiClients) row(c control.APIClient) fyne.CanvasObject {
	now := a.env.now()
	facts := []string{c.ID, txtAPIClientCreated(formatTime(c.CreatedAt, now))}
	if !c.LastUsedAt.IsZero() {
		facts = append(facts, txtAPIClientUsed(formatTime(c.LastUsedAt, now)))
	}
	name := widget.NewLabel(c.Name)
	name.TextStyle.Bold = true
	sub := widget.NewLabel(strings.Join(facts, "  ·  "))
	sub.SizeName = theme.SizeNameCaptionText
	var right fyne.CanvasObject = layout.NewSpacer()
	if c.RevokedAt.IsZero() {
		id, label := c.ID, c.Name
		b := widget.NewButton(txtRevoke(), func() { a.askRevoke(id, label) })
		b.Importance = widget.DangerImportance
		right = b
	} else {
		r := widget.NewLabel(txtRevoked())
		r.Importance = widget.DangerImportance
		right = r
	}
	return container.NewBorder(nil, nil, nil, right, tight(name, sub))
}

// askAdd asks for the client's name (what it is, for the audit log).
func (a *apiClients) askAdd() {
	if a.env.win == nil {
		return
	}
	a.addDialog = askReason(a.env.win, txtAPIClientAddTitle(), txtAPIClientAddText(), txtAPIClientName(),
		txtAPIClientAddConfirm(), false, func(name string) {
			call(a.env, func(ctx context.Context, api control.API) (control.APICredentials, error) {
				return api.AddAPIClient(ctx, control.AddAPIClientRequest{Connection: a.conn, Name: name, Actor: actor})
			}, func(cr control.APICredentials, err error) {
				if err != nil {
					a.msg.problem(err)
					return
				}
				a.msg.clear()
				a.showSecret(cr)
				a.load()
			})
		}, func() { a.addDialog = nil })
}

// showSecret shows a new client's ID and secret once, to copy into the
// EHR's settings.
func (a *apiClients) showSecret(cr control.APICredentials) {
	a.shown = &cr
	id := widget.NewEntry()
	id.SetText(cr.ClientID)
	secret := widget.NewEntry()
	secret.SetText(cr.ClientSecret)
	copyOf := func(e *widget.Entry) fyne.CanvasObject {
		return widget.NewButtonWithIcon("", theme.ContentCopyIcon(), func() {
			if app := fyne.CurrentApp(); app != nil {
				app.Clipboard().SetContent(e.Text)
			}
		})
	}
	form := widget.NewForm(
		widget.NewFormItem(txtAPIClientID(), container.NewBorder(nil, nil, nil, copyOf(id), id)),
		widget.NewFormItem(txtAPIClientSecret(), container.NewBorder(nil, nil, nil, copyOf(secret), secret)))
	warn := wrapped(txtAPIClientSecretOnce())
	warn.Importance = widget.WarningImportance
	var pop *widget.PopUp
	done := widget.NewButton(txtPairClose(), func() { pop.Hide(); a.shown = nil })
	done.Importance = widget.HighImportance
	head := widget.NewLabel(txtAPIClientAdded(cr.Name))
	head.TextStyle.Bold = true
	pop = widget.NewModalPopUp(container.NewPadded(container.NewVBox(head, warn, form,
		container.NewHBox(layout.NewSpacer(), done))), a.env.win.Canvas())
	pop.Resize(fyne.NewSize(560, pop.MinSize().Height))
	pop.Show()
}

func (a *apiClients) askRevoke(id, name string) {
	if a.env.win == nil {
		return
	}
	a.revokeDialog = askReason(a.env.win, txtAPIClientRevokeTitle(), txtAPIClientRevokeText(name), txtReasonPlaceholder(),
		txtRevokeConfirm(), true, func(reason string) {
			call(a.env, func(ctx context.Context, api control.API) (control.APIClient, error) {
				return api.RevokeAPIClient(ctx, control.RevokeAPIClientRequest{ID: id, Reason: reason, Actor: actor})
			}, func(_ control.APIClient, err error) {
				if err != nil {
					a.msg.problem(err)
				}
				a.load()
			})
		}, func() { a.revokeDialog = nil })
}
