package view

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/domain"
)

// tickEvery is how often the Tablets tab updates its clock-driven texts:
// the pairing countdown and, through onlineEvery, online / offline (which
// changes with time alone, without a report from the hub).
// Tests of Start set tickEvery to 0 (no ticker) and call tick themselves.
var tickEvery = time.Second

const onlineEvery = 15

// tablets is the Tablets tab: the paired tablets with whether each is
// online, battery, app version, last seen, address and group; pairing a
// new one by code and QR code; renaming, moving and revoking. It follows
// the hub's tablet and group events. Its widgets are touched only on
// Fyne's goroutine.
type tablets struct {
	env *tabEnv

	count   *widget.Label
	message *messageBox
	list    *widget.List

	// The selected tablet's actions.
	detail   *fyne.Container
	title    *widget.Label
	name     *widget.Entry
	renameBt *widget.Button
	group    *widget.Select
	moveBt   *widget.Button
	revokeBt *widget.Button
	actMsg   *messageBox

	// Pairing.
	pairGroup *widget.Select
	pairBt    *widget.Button
	pairBox   *fyne.Container
	pairCode  *canvas.Text
	pairLeft  *widget.Label
	pairQR    *canvas.Image
	pairURL   *widget.Label
	pairNew   *widget.Button
	pairMsg   *messageBox
	pairing   *control.Pairing

	root fyne.CanvasObject

	devices  []domain.Device
	groups   []domain.Group
	selected string
	ticks    int
	visible  bool // the tab is on screen (the window shown, the tab open)
	// revokeDialog is the open revoke confirmation (nil when closed).
	revokeDialog *confirmDialog
}

func newTablets(env *tabEnv) *tablets {
	t := &tablets{env: env}
	t.count = widget.NewLabel("")
	t.count.SizeName = theme.SizeNameCaptionText
	t.message = newMessageBox()
	t.list = widget.NewList(func() int { return len(t.devices) }, newTabletRow, t.updateRow)
	t.list.OnSelected = func(id widget.ListItemID) {
		if id >= 0 && id < len(t.devices) {
			t.selected = t.devices[id].ID
			t.showDetail()
		}
	}

	t.title = widget.NewLabel("")
	t.title.TextStyle.Bold = true
	t.title.Wrapping = fyne.TextWrapWord
	t.name = widget.NewEntry()
	t.renameBt = widget.NewButton(txtRename(), t.rename)
	t.group = widget.NewSelect(nil, nil)
	t.moveBt = widget.NewButton(txtMove(), t.move)
	t.revokeBt = widget.NewButtonWithIcon(txtRevoke(), theme.CancelIcon(), t.askRevoke)
	t.revokeBt.Importance = widget.DangerImportance
	t.actMsg = newMessageBox()
	form := widget.NewForm(
		widget.NewFormItem(txtTabletName(), container.NewBorder(nil, nil, nil, t.renameBt, t.name)),
		widget.NewFormItem(txtGroup(), container.NewBorder(nil, nil, nil, t.moveBt, t.group)),
	)
	t.detail = container.NewVBox(t.title, form, container.NewHBox(layout.NewSpacer(), t.revokeBt))

	t.pairGroup = widget.NewSelect(nil, nil)
	t.pairBt = widget.NewButtonWithIcon(txtPairTablet(), theme.ContentAddIcon(), t.pair)
	t.pairBt.Importance = widget.HighImportance
	t.pairCode = canvas.NewText("", theme.Color(theme.ColorNameForeground))
	t.pairCode.TextSize = 44
	t.pairCode.TextStyle = fyne.TextStyle{Monospace: true}
	t.pairCode.Alignment = fyne.TextAlignCenter
	t.pairLeft = widget.NewLabel("")
	t.pairLeft.Alignment = fyne.TextAlignCenter
	t.pairQR = canvas.NewImageFromImage(nil)
	t.pairQR.FillMode = canvas.ImageFillContain
	t.pairQR.ScaleMode = canvas.ImageScalePixels
	t.pairQR.SetMinSize(fyne.NewSquareSize(260))
	t.pairURL = widget.NewLabel("")
	t.pairURL.SizeName = theme.SizeNameCaptionText
	t.pairURL.Wrapping = fyne.TextWrapBreak
	t.pairURL.Selectable = true
	t.pairURL.Alignment = fyne.TextAlignCenter
	t.pairNew = widget.NewButton(txtPairNew(), t.pair)
	t.pairMsg = newMessageBox()
	pairTitle := widget.NewLabel(txtPairTitle())
	pairTitle.TextStyle.Bold = true
	t.pairBox = container.NewVBox(pairTitle, wrapped(txtPairText()), t.pairQR, t.pairCode, t.pairLeft,
		container.NewHBox(layout.NewSpacer(), t.pairNew, widget.NewButton(txtPairClose(), t.closePairing), layout.NewSpacer()),
		t.pairURL)
	t.pairBox.Hide()

	top := container.NewVBox(
		container.NewHBox(t.pairBt, widget.NewLabel(txtPairGroup()), t.pairGroup, layout.NewSpacer(), t.count),
		t.message.root, t.pairMsg.root)
	right := container.NewVScroll(container.NewVBox(t.pairBox, t.actMsg.root, t.detail))
	split := container.NewHSplit(t.list, right)
	split.Offset = 0.55
	t.root = container.NewBorder(top, nil, nil, nil, split)
	t.showDetail()
	return t
}

func (t *tablets) content() fyne.CanvasObject { return t.root }

// start loads the tablets and groups, follows the hub's tablet and group
// events, and keeps the clock-driven texts current, until cancel is
// called.
func (t *tablets) start() (cancel func()) {
	t.reloadGroups()
	t.reload()
	if t.env.api == nil {
		t.pairBt.Disable()
		return func() {}
	}
	stopEvents := t.env.subscribe(func(ev control.Event) {
		if ev.Kind == control.EventGroups {
			t.reloadGroups()
		}
		t.reload()
	}, control.EventTablets, control.EventGroups)
	if tickEvery <= 0 {
		return stopEvents
	}
	ticker := time.NewTicker(tickEvery)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ticker.C:
				t.env.post(t.tick)
			case <-done:
				return
			}
		}
	}()
	return func() {
		ticker.Stop()
		close(done)
		stopEvents()
	}
}

// setOnScreen says whether the tab is on screen; coming on screen it
// shows the countdown and online / offline as they are now.
func (t *tablets) setOnScreen(on bool) {
	was := t.visible
	t.visible = on
	if on && !was {
		t.showCountdown()
		t.list.Refresh()
	}
}

// tick updates the pairing countdown and, now and then, online / offline;
// nothing while the tab is not on screen (another tab open, or the window
// in the tray): each refresh repaints the whole window.
func (t *tablets) tick() {
	if !t.visible {
		return
	}
	t.ticks++
	t.showCountdown()
	if t.ticks%onlineEvery == 0 {
		t.list.Refresh()
	}
}

func (t *tablets) reload() {
	if t.env.api == nil {
		t.message.info(txtNoHub())
		return
	}
	call(t.env, func(ctx context.Context, api control.API) ([]domain.Device, error) {
		return api.Tablets(ctx)
	}, func(ds []domain.Device, err error) {
		if err != nil {
			t.devices = nil
			t.message.problem(err)
			t.count.SetText("")
		} else {
			t.devices = ds
			if len(ds) == 0 {
				t.message.info(txtNoTablets())
			} else {
				t.message.clear()
			}
			t.count.SetText(txtTabletCount(len(ds)))
		}
		t.list.UnselectAll()
		t.list.Refresh()
		if i := slices.IndexFunc(t.devices, func(d domain.Device) bool { return d.ID == t.selected }); i >= 0 {
			t.list.Select(i)
		} else {
			t.selected = ""
			t.showDetail()
		}
		t.root.Refresh()
	})
}

func (t *tablets) reloadGroups() {
	if t.env.api == nil {
		return
	}
	call(t.env, func(ctx context.Context, api control.API) ([]domain.Group, error) {
		return api.Groups(ctx)
	}, func(gs []domain.Group, err error) {
		if err != nil {
			return // the tablets' list says what is wrong
		}
		t.groups = gs
		names := make([]string, len(gs))
		def := 0
		for i, g := range gs {
			names[i] = groupName(g)
			if g.Default {
				def = i
			}
		}
		keep := t.pairGroup.SelectedIndex()
		t.pairGroup.SetOptions(names)
		if keep < 0 || keep >= len(names) {
			keep = def
		}
		if len(names) > 0 {
			t.pairGroup.SetSelectedIndex(keep)
		}
		t.group.SetOptions(names)
		t.showDetail()
	})
}

// groupLabel names a group by its name when the tab knows it.
func (t *tablets) groupLabel(id string) string {
	for _, g := range t.groups {
		if g.ID == id {
			return groupName(g)
		}
	}
	return id
}

func newTabletRow() fyne.CanvasObject {
	name := widget.NewLabel("")
	name.TextStyle.Bold = true
	name.Truncation = fyne.TextTruncateEllipsis
	sub := widget.NewLabel("")
	sub.SizeName = theme.SizeNameCaptionText
	sub.Truncation = fyne.TextTruncateEllipsis
	state := widget.NewLabel("")
	state.TextStyle.Bold = true
	return container.NewBorder(nil, nil, nil, state,
		container.New(layout.NewCustomPaddedVBoxLayout(-2*theme.Padding()), name, sub))
}

func (t *tablets) updateRow(id widget.ListItemID, obj fyne.CanvasObject) {
	if id < 0 || id >= len(t.devices) {
		return
	}
	d := t.devices[id]
	row := obj.(*fyne.Container)
	lines := row.Objects[0].(*fyne.Container)
	state := row.Objects[1].(*widget.Label)
	lines.Objects[0].(*widget.Label).SetText(tabletName(d))
	lines.Objects[1].(*widget.Label).SetText(t.tabletFacts(d))
	text, imp := t.onlineState(d)
	state.Importance = imp
	state.SetText(text)
}

func tabletName(d domain.Device) string {
	if strings.TrimSpace(d.Name) != "" {
		return d.Name
	}
	if d.Serial != "" {
		return d.Serial
	}
	return d.ID
}

func (t *tablets) onlineState(d domain.Device) (string, widget.Importance) {
	switch {
	case d.Revoked:
		return txtRevoked(), widget.DangerImportance
	case d.Online(t.env.now()):
		return txtOnline(), widget.SuccessImportance
	default:
		return txtOffline(), widget.MediumImportance
	}
}

// tabletFacts is a tablet's second line: battery, app version, last seen,
// address and group.
func (t *tablets) tabletFacts(d domain.Device) string {
	parts := make([]string, 0, 5)
	if d.Battery > 0 || (d.Battery == 0 && !d.LastSeen.IsZero()) {
		parts = append(parts, txtBattery(d.Battery))
	} else {
		parts = append(parts, txtBatteryUnknown())
	}
	if d.AppVersion != "" {
		parts = append(parts, txtAppVersion(d.AppVersion))
	}
	parts = append(parts, txtLastSeen(formatTime(d.LastSeen, t.env.now())))
	if d.IP != "" {
		parts = append(parts, d.IP)
	}
	parts = append(parts, t.groupLabel(d.Group))
	return strings.Join(parts, "  ·  ")
}

func (t *tablets) current() (domain.Device, bool) {
	i := slices.IndexFunc(t.devices, func(d domain.Device) bool { return d.ID == t.selected })
	if i < 0 {
		return domain.Device{}, false
	}
	return t.devices[i], true
}

// showDetail shows the selected tablet's actions.
func (t *tablets) showDetail() {
	d, ok := t.current()
	if !ok {
		t.title.SetText(txtSelectTablet())
		for _, w := range []fyne.Disableable{t.name, t.renameBt, t.group, t.moveBt, t.revokeBt} {
			w.Disable()
		}
		return
	}
	t.title.SetText(tabletName(d))
	t.name.SetText(d.Name)
	t.group.ClearSelected()
	if i := slices.IndexFunc(t.groups, func(g domain.Group) bool { return g.ID == d.Group }); i >= 0 {
		t.group.SetSelectedIndex(i)
	}
	for _, w := range []fyne.Disableable{t.name, t.renameBt, t.group, t.moveBt, t.revokeBt} {
		if d.Revoked {
			w.Disable()
		} else {
			w.Enable()
		}
	}
}

func (t *tablets) rename() {
	d, ok := t.current()
	name := strings.TrimSpace(t.name.Text)
	if !ok || name == "" || name == d.Name {
		return
	}
	t.change(d, control.TabletChange{ID: d.ID, Name: &name, Actor: actor})
}

func (t *tablets) move() {
	d, ok := t.current()
	i := t.group.SelectedIndex()
	if !ok || i < 0 || i >= len(t.groups) || t.groups[i].ID == d.Group {
		return
	}
	g := t.groups[i].ID
	t.change(d, control.TabletChange{ID: d.ID, Group: &g, Actor: actor})
}

func (t *tablets) change(d domain.Device, req control.TabletChange) {
	call(t.env, func(ctx context.Context, api control.API) (domain.Device, error) {
		return api.UpdateTablet(ctx, req)
	}, func(nd domain.Device, err error) {
		if err != nil {
			t.actMsg.problem(err)
			t.root.Refresh()
			return
		}
		t.actMsg.info(txtTabletSaved(tabletName(nd)))
		t.reload()
	})
}

// confirmDialog is an open confirmation's parts.
type confirmDialog struct {
	pop             *widget.PopUp
	confirm, cancel *widget.Button
}

// confirm asks before a change that cannot be undone from here.
func confirm(win fyne.Window, title, text, yes string, onYes func()) *confirmDialog {
	d := &confirmDialog{}
	head := widget.NewLabel(title)
	head.TextStyle.Bold = true
	d.confirm = widget.NewButton(yes, func() { d.pop.Hide(); onYes() })
	d.confirm.Importance = widget.DangerImportance
	d.cancel = widget.NewButton(txtCancel(), func() { d.pop.Hide() })
	body := container.NewVBox(head, wrapped(text), container.NewHBox(layout.NewSpacer(), d.cancel, d.confirm))
	d.pop = widget.NewModalPopUp(container.NewPadded(body), win.Canvas())
	d.pop.Resize(fyne.NewSize(420, body.MinSize().Height+4*theme.Padding()))
	d.pop.Show()
	return d
}

func (t *tablets) askRevoke() {
	d, ok := t.current()
	if !ok || d.Revoked || t.env.win == nil {
		return
	}
	t.revokeDialog = confirm(t.env.win, txtRevokeTitle(), txtRevokeText(tabletName(d)), txtRevokeConfirm(), func() {
		t.revokeDialog = nil
		t.change(d, control.TabletChange{ID: d.ID, Revoke: true, Reason: "revoked in the Dashboard", Actor: actor})
	})
}

// pair asks the hub for a pairing code for the chosen group and shows it
// with its QR code and countdown.
func (t *tablets) pair() {
	if t.env.api == nil {
		return
	}
	group := ""
	if i := t.pairGroup.SelectedIndex(); i >= 0 && i < len(t.groups) {
		group = t.groups[i].ID
	}
	call(t.env, func(ctx context.Context, api control.API) (control.Pairing, error) {
		return api.NewPairingCode(ctx, group)
	}, func(p control.Pairing, err error) {
		if err != nil {
			t.pairMsg.problem(err)
			t.root.Refresh()
			return
		}
		t.pairMsg.clear()
		t.pairing = &p
		t.pairCode.Text = spacedCode(p.Code)
		t.pairCode.Refresh()
		t.pairURL.SetText(p.URL)
		if img, qerr := qrImage(p.URL); qerr != nil {
			t.pairQR.Image = nil
			t.pairQR.Hide()
			t.pairMsg.problem(&control.Error{Kind: control.Internal, Message: txtPairQRFailed(), Detail: qerr.Error()})
		} else {
			t.pairQR.Image = img
			t.pairQR.Show()
		}
		t.pairQR.Refresh()
		t.pairBox.Show()
		t.showCountdown()
		t.root.Refresh()
	})
}

// spacedCode writes a 6-digit code as "123 456" to read out and type.
func spacedCode(c string) string {
	if len(c) == 6 {
		return c[:3] + " " + c[3:]
	}
	return c
}

func (t *tablets) showCountdown() {
	if t.pairing == nil {
		return
	}
	left := t.pairing.Expires.Sub(t.env.now())
	text, importance, colour := txtPairExpired(), widget.WarningImportance, theme.Color(theme.ColorNameDisabled)
	if left <= 0 {
		if t.pairQR.Visible() {
			t.pairQR.Hide()
			t.root.Refresh()
		}
	} else {
		secs := int(left.Round(time.Second) / time.Second)
		text = txtPairExpires(fmt.Sprintf("%d:%02d", secs/60, secs%60))
		importance, colour = widget.MediumImportance, theme.Color(theme.ColorNameForeground)
	}
	// Only what changed is redrawn: an expired code stays still.
	if text != t.pairLeft.Text || importance != t.pairLeft.Importance {
		t.pairLeft.Text, t.pairLeft.Importance = text, importance
		t.pairLeft.Refresh()
	}
	if colour != t.pairCode.Color {
		t.pairCode.Color = colour
		t.pairCode.Refresh()
	}
}

func (t *tablets) closePairing() {
	t.pairing = nil
	t.pairBox.Hide()
	t.root.Refresh()
}
