package view

import (
	"context"
	"net/url"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/connectors/connector"
	"github.com/mesi/mconnect/ui/words"
)

// connTests is the part of the Connections tab that lists each of the
// EHR's connections with the folders, ports and addresses it uses (a
// folder can be opened) and tests it on request: the test runs in the
// background with a spinner and each check's outcome is shown in words,
// the technical text behind "Details". Its widgets are touched only on
// Fyne's goroutine.
type connTests struct {
	env     *tabEnv
	box     *fyne.Container
	message *messageBox
	root    fyne.CanvasObject

	conns []control.Connection
	// Per connection: its test button, spinner and outcome box.
	buttons  map[string]*widget.Button
	spinners map[string]*widget.Activity
	outcomes map[string]*fyne.Container
}

func newConnTests(env *tabEnv) *connTests {
	c := &connTests{env: env, box: container.NewVBox(), message: newMessageBox(),
		buttons: map[string]*widget.Button{}, spinners: map[string]*widget.Activity{}, outcomes: map[string]*fyne.Container{}}
	c.root = container.NewVBox(c.message.root, c.box)
	return c
}

// load asks the hub for its connections and builds one card each.
func (c *connTests) load() {
	if c.env.api == nil {
		c.root.Hide()
		return
	}
	call(c.env, func(ctx context.Context, api control.API) ([]control.Connection, error) {
		return api.Connections(ctx)
	}, func(cs []control.Connection, err error) {
		if err != nil {
			c.message.problem(err)
			return
		}
		c.message.clear()
		c.conns = cs
		c.box.Objects = nil
		for _, cn := range cs {
			c.box.Add(c.card(cn))
		}
		c.box.Refresh()
	})
}

func connTitle(cn control.Connection) string {
	if cn.Label != "" {
		return cn.Label
	}
	return cn.Name + " · " + cn.Section
}

func (c *connTests) card(cn control.Connection) fyne.CanvasObject {
	rows := container.NewVBox()
	for _, ep := range cn.Endpoints {
		caption := widget.NewLabel(endpointCaption(ep))
		caption.TextStyle.Bold = true
		value := widget.NewLabel(ep.Value)
		value.Selectable = true
		value.Wrapping = fyne.TextWrapBreak
		var right fyne.CanvasObject = layout.NewSpacer()
		if ep.Kind == connector.EndpointFolder {
			path := ep.Value
			right = widget.NewButtonWithIcon(txtOpenFolder(), theme.FolderOpenIcon(), func() { c.openFolder(path) })
		}
		rows.Add(container.NewBorder(nil, nil, caption, right, value))
	}
	key := cn.Name + "/" + cn.Section
	spin := widget.NewActivity()
	spin.Hide()
	out := container.NewVBox()
	bt := widget.NewButtonWithIcon(txtTestConnection(), theme.MediaPlayIcon(), func() { c.test(cn, key) })
	if len(cn.Checks) == 0 {
		bt.Disable()
	}
	c.buttons[key], c.spinners[key], c.outcomes[key] = bt, spin, out
	rows.Add(container.NewHBox(bt, spin))
	rows.Add(out)
	return widget.NewCard(connTitle(cn), "", rows)
}

func endpointCaption(ep connector.Endpoint) string {
	if ep.Label != "" {
		return sentence(ep.Label)[:len(sentence(ep.Label))-1] + ":"
	}
	switch ep.Kind {
	case connector.EndpointFolder:
		return txtEndpointFolder()
	case connector.EndpointListen:
		return txtEndpointListen()
	default:
		return txtEndpointRemote()
	}
}

func (c *connTests) openFolder(path string) {
	u, err := url.Parse(storage.NewFileURI(path).String())
	if err == nil && c.env.open != nil {
		err = c.env.open(u)
	}
	if err != nil {
		c.message.problem(&control.Error{Kind: control.Internal, Message: txtOpenFailed(), Detail: err.Error()})
	}
}

// test runs a connection's checks in the background.
func (c *connTests) test(cn control.Connection, key string) {
	bt, spin, out := c.buttons[key], c.spinners[key], c.outcomes[key]
	bt.Disable()
	spin.Show()
	spin.Start()
	out.Objects = nil
	out.Refresh()
	call(c.env, func(ctx context.Context, api control.API) ([]control.CheckOutcome, error) {
		return api.TestConnection(ctx, cn.Name)
	}, func(res []control.CheckOutcome, err error) {
		spin.Stop()
		spin.Hide()
		bt.Enable()
		if err != nil {
			m := newMessageBox()
			m.problem(err)
			out.Add(m.root)
		}
		for _, o := range res {
			out.Add(checkRow(o))
		}
		out.Refresh()
	})
}

// checkRow is one check's outcome: a green or red mark, the words, and
// the technical detail behind "Details".
func checkRow(o control.CheckOutcome) fyne.CanvasObject {
	icon := widget.NewIcon(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
	text := wrapped(words.Check(o.What, o.Result, langLookup))
	if !o.Result.OK {
		icon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
		text.Importance = widget.DangerImportance
	}
	var right fyne.CanvasObject
	if o.Result.Detail != "" {
		m := newMessageBox()
		detail := m.detail
		detail.SetText(o.Result.Detail)
		toggle := widget.NewButton(txtDetails(), func() {
			if detail.Visible() {
				detail.Hide()
			} else {
				detail.Show()
			}
		})
		toggle.Importance = widget.LowImportance
		right = toggle
		return container.NewVBox(container.NewBorder(nil, nil, icon, right, text), detail)
	}
	return container.NewBorder(nil, nil, icon, nil, text)
}
