package view

import (
	"image/color"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/retention"
	"github.com/mesi/mconnect/connectors/probe"
	"github.com/mesi/mconnect/ui/words"
)

// dashboard is the Dashboard window's content: a header with the overall
// state, the health of every component, and facts about the hub. Its
// widgets are touched only on Fyne's goroutine (build, then update inside
// fyne.Do).
type dashboard struct {
	info Info
	now  func() time.Time

	statusImg *canvas.Image
	heading   *widget.Label
	subline   *widget.Label
	rows      *fyne.Container
	tests     *fyne.Container // the connections' cards with Test connection
	onSetup   func()          // opens the setup wizard (first start)
	updBox    *fyne.Container // a newer version, when there is one
	storage   *widget.Label   // disk space, data sizes, the clean-up
	root      fyne.CanvasObject
}

// newDashboard builds the content. notice, if not empty, is shown under the
// header (why there is no tray icon); now is the clock for "updated" times.
func newDashboard(info Info, notice string, now func() time.Time) *dashboard {
	d := &dashboard{info: info, now: now}

	d.statusImg = canvas.NewImageFromResource(statusIcon(domain.SeverityOK))
	d.statusImg.FillMode = canvas.ImageFillContain
	d.statusImg.SetMinSize(fyne.NewSquareSize(44))
	d.heading = widget.NewLabel("")
	d.heading.TextStyle.Bold = true
	d.heading.SizeName = theme.SizeNameSubHeadingText
	d.subline = widget.NewLabel("")
	d.subline.SizeName = theme.SizeNameCaptionText
	header := container.NewBorder(nil, nil, container.NewCenter(d.statusImg), nil,
		container.NewVBox(d.heading, d.subline))

	// Only the header stays put; notices and both panels scroll together,
	// so that the window never needs to grow beyond its size.
	page := container.NewVBox()
	if notice != "" {
		page.Add(noticeBox(notice))
	}
	if info.Problem != "" {
		page.Add(problemBox(info.Problem))
	}
	if info.FirstRun {
		page.Add(firstRunBox(info.ConfigPath, func() {
			if d.onSetup != nil {
				d.onSetup()
			}
		}))
	}
	d.rows = container.NewVBox()
	d.tests = container.NewVBox()
	d.updBox = container.NewVBox()
	d.storage = wrapped("")
	d.storage.SizeName = theme.SizeNameCaptionText
	d.storage.Hide()
	split := container.NewHSplit(
		widget.NewCard(txtConnections(), "", container.NewVBox(d.tests, d.rows)),
		widget.NewCard(txtAbout(), "", container.NewVBox(d.updBox, aboutBox(info), d.storage)),
	)
	split.Offset = 0.62
	page.Add(split)

	d.root = container.NewBorder(container.NewVBox(header, widget.NewSeparator()), nil, nil, nil,
		container.NewVScroll(page))
	d.update(nil)
	return d
}

// showUpdate says that a newer version can be downloaded (the hub never
// installs by itself: the clinic's IT does).
func (d *dashboard) showUpdate(u *control.UpdateNotice, open func(string)) {
	notes := u.Notes[lang.SystemLocale().LanguageString()]
	if notes == "" {
		notes = u.Notes[strings.SplitN(lang.SystemLocale().String(), "-", 2)[0]]
	}
	if notes == "" {
		notes = u.Notes["en"]
	}
	title := widget.NewLabel(txtUpdateTitle(u.Version, u.Date))
	title.TextStyle.Bold = true
	link := widget.NewButtonWithIcon(txtUpdateDownload(), theme.DownloadIcon(), func() { open(u.URL) })
	d.updBox.Objects = []fyne.CanvasObject{panel(theme.Color(theme.ColorNamePrimary),
		tight(title, wrapped(notes), wrapped(txtUpdateHow()), container.NewHBox(link)))}
	d.updBox.Refresh()
}

// showStorage says how much disk is free, what the hub's data takes and
// when old data is cleaned up next.
func (d *dashboard) showStorage(st *retention.Status) {
	if st == nil || st.Disk.Total == 0 {
		d.storage.Hide()
		return
	}
	u := st.Usage
	data := uint64(max(u.DatabaseBytes+u.WALBytes+u.ReportsBytes+u.LogsBytes+u.ArchiveBytes, 0))
	text := txtStorage(probe.HumanBytes(st.Disk.Free), probe.HumanBytes(st.Disk.Total), probe.HumanBytes(data))
	if !st.NextSweep.IsZero() {
		text += "\n" + txtNextSweep(formatTime(st.NextSweep, d.now()))
	}
	d.storage.SetText(text)
	d.storage.Importance = widget.MediumImportance
	if st.DiskLow {
		d.storage.Importance = widget.DangerImportance
	}
	d.storage.Show()
}

// showTests puts the connections' cards above the components' health.
func (d *dashboard) showTests(c *connTests) {
	d.tests.Objects = []fyne.CanvasObject{c.root}
	d.tests.Refresh()
}

// content is the window's content.
func (d *dashboard) content() fyne.CanvasObject { return d.root }

// update shows a new health snapshot; call it on Fyne's goroutine.
func (d *dashboard) update(hs []domain.Health) {
	s := summarize(hs)
	d.statusImg.Resource = statusIcon(overall(s, d.info))
	d.statusImg.Refresh()
	d.heading.SetText(statusLine(s, d.info))
	d.heading.Importance = importance(overall(s, d.info))
	d.heading.Refresh()
	if s.Total > 0 {
		d.subline.SetText(txtComponentCount(s.Total) + " · " + txtUpdated(formatTime(d.now(), d.now())))
		d.subline.Show()
	} else {
		d.subline.Hide()
	}

	objs := make([]fyne.CanvasObject, 0, 2*len(hs))
	for i, h := range sortedHealth(hs) {
		if i > 0 {
			objs = append(objs, widget.NewSeparator())
		}
		objs = append(objs, d.row(h))
	}
	if len(objs) == 0 {
		objs = append(objs, widget.NewLabel(txtNoHealth()))
	}
	d.rows.Objects = objs
	d.rows.Refresh()
}

// row shows one component: severity icon and word, title, text, the
// component's name with its last message time, and its last error.
func (d *dashboard) row(h domain.Health) fyne.CanvasObject {
	icon := widget.NewIcon(severityIcon(h.Severity))

	titleText, explanation := words.Health(h, langLookup)
	title := widget.NewLabel(titleText)
	title.TextStyle.Bold = true
	title.Wrapping = fyne.TextWrapWord
	sev := widget.NewLabel(txtSeverity(h.Severity))
	sev.TextStyle.Bold = true
	sev.Importance = importance(h.Severity)
	lines := []fyne.CanvasObject{container.NewBorder(nil, nil, nil, sev, title)}

	if explanation != "" {
		lines = append(lines, wrapped(explanation))
	}
	meta := widget.NewLabel(h.Component + "  ·  " + txtLastMessage(formatTime(h.LastMessageAt, d.now())))
	meta.SizeName = theme.SizeNameCaptionText
	meta.Wrapping = fyne.TextWrapWord
	lines = append(lines, meta)
	if tech := technical(h); tech != "" {
		// The technical text (an error chain, an EHR's answer) is for
		// support: behind "Details".
		detail := wrapped(tech)
		detail.SizeName = theme.SizeNameCaptionText
		detail.TextStyle.Monospace = true
		detail.Selectable = true
		detail.Hide()
		toggle := widget.NewButton(txtDetails(), func() {
			if detail.Visible() {
				detail.Hide()
			} else {
				detail.Show()
			}
		})
		toggle.Importance = widget.LowImportance
		lines = append(lines, container.NewHBox(toggle), detail)
	}
	return container.NewBorder(nil, nil, container.NewVBox(icon), nil, tight(lines...))
}

// technical is a report's text for support: its last error and detail.
func technical(h domain.Health) string {
	var parts []string
	if h.LastError != "" {
		parts = append(parts, txtLastError(h.LastError))
	}
	if h.Detail != "" && h.Detail != h.LastError {
		parts = append(parts, h.Detail)
	}
	return strings.Join(parts, "\n")
}

// noticeBox explains, in amber, something the person should know about
// how the GUI runs (no tray icon).
func noticeBox(text string) fyne.CanvasObject {
	l := wrapped(text)
	l.Importance = widget.WarningImportance
	return container.NewBorder(nil, nil,
		container.NewVBox(widget.NewIcon(theme.NewWarningThemedResource(theme.WarningIcon()))), nil, l)
}

// problemBox shows why the hub could not start, in red on a tinted panel.
func problemBox(problem string) fyne.CanvasObject {
	title := widget.NewLabel(txtProblemTitle())
	title.TextStyle.Bold = true
	title.Importance = widget.DangerImportance
	text := wrapped(problem)
	text.Importance = widget.DangerImportance
	text.Selectable = true
	icon := widget.NewIcon(theme.NewErrorThemedResource(theme.ErrorIcon()))
	return panel(theme.Color(theme.ColorNameError),
		container.NewBorder(nil, nil, container.NewVBox(icon), nil, tight(title, text)))
}

// firstRunBox tells clinic staff what to do when there is no
// configuration yet (the setup wizard), and IT how to script it, behind
// Details.
func firstRunBox(configPath string, setup func()) fyne.CanvasObject {
	path := configPath
	if path == "" {
		path = "FILE"
	}
	title := widget.NewLabel(txtFirstRunTitle())
	title.TextStyle.Bold = true
	start := widget.NewButtonWithIcon(txtFirstRunSetup(), theme.SettingsIcon(), setup)
	start.Importance = widget.HighImportance
	cmds := widget.NewLabel(txtFirstRunCommands(path))
	cmds.TextStyle.Monospace = true
	cmds.Selectable = true
	cmds.Wrapping = fyne.TextWrapBreak
	it := container.NewVBox(wrapped(txtFirstRunIT()), cmds, wrapped(txtFirstRunIDs()))
	it.Hide()
	more := widget.NewButton(txtDetails(), func() {
		if it.Visible() {
			it.Hide()
		} else {
			it.Show()
		}
	})
	more.Importance = widget.LowImportance
	icon := widget.NewIcon(theme.NewPrimaryThemedResource(theme.InfoIcon()))
	return panel(theme.Color(theme.ColorNamePrimary),
		container.NewBorder(nil, nil, container.NewVBox(icon), nil,
			tight(title, wrapped(txtFirstRunText()), container.NewHBox(start, more), it)))
}

// aboutBox lists what support and IT ask for: version, files, the address
// and certificate tablets pair with.
func aboutBox(info Info) fyne.CanvasObject {
	box := container.NewVBox()
	add := func(caption, value string, mono bool) {
		c := widget.NewLabel(caption)
		c.SizeName = theme.SizeNameCaptionText
		c.TextStyle.Bold = true
		if strings.TrimSpace(value) == "" {
			value = txtNotSet()
		}
		v := widget.NewLabel(value)
		v.Selectable = true
		v.Wrapping = fyne.TextWrapBreak
		v.TextStyle.Monospace = mono
		box.Add(container.New(layout.NewCustomPaddedVBoxLayout(-2*theme.Padding()), c, v))
	}
	add(txtVersion(), info.Version, false)
	add(txtHubName(), info.HubName, false)
	add(txtConfigFile(), info.ConfigPath, false)
	add(txtDataFolder(), info.DataDir, false)
	add(txtLANEndpoint(), info.LANAddress, false)
	add(txtTLSFingerprint(), info.TLSFingerprint, true)
	return box
}

// panel draws content on a lightly tinted, outlined background.
func panel(c color.Color, content fyne.CanvasObject) fyne.CanvasObject {
	r, g, b, _ := c.RGBA()
	bg := canvas.NewRectangle(color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 0x1c})
	bg.StrokeColor = c
	bg.StrokeWidth = 1
	bg.CornerRadius = theme.InputRadiusSize()
	return container.NewStack(bg, container.NewPadded(content))
}

// tight stacks objects vertically without the theme's padding between
// them; the labels' own inset keeps lines apart.
func tight(objs ...fyne.CanvasObject) fyne.CanvasObject {
	return container.New(layout.NewCustomPaddedVBoxLayout(0), objs...)
}

func wrapped(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

func severityIcon(s domain.Severity) fyne.Resource {
	switch s {
	case domain.SeverityOK:
		return theme.NewSuccessThemedResource(theme.ConfirmIcon())
	case domain.SeverityWarning:
		return theme.NewWarningThemedResource(theme.WarningIcon())
	default:
		return theme.NewErrorThemedResource(theme.ErrorIcon())
	}
}

func importance(s domain.Severity) widget.Importance {
	switch s {
	case domain.SeverityOK:
		return widget.SuccessImportance
	case domain.SeverityWarning:
		return widget.WarningImportance
	default:
		return widget.DangerImportance
	}
}

// langLookup translates the texts rendered from codes (ui/words).
func langLookup(key, english string, data map[string]any) string {
	return lang.X(key, english, data)
}
