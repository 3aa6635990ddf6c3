package view

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/domain"
)

// resultsLimit is how many of the newest results the tab lists.
const resultsLimit = 500

// Result filters.
const (
	resultFilterAll       = "all"
	resultFilterAttention = "attention" // failed or ambiguous: a person is needed
	resultFilterWaiting   = "waiting"   // queued, being sent or retrying
	resultFilterDelivered = "delivered"
)

var resultFilters = []string{resultFilterAll, resultFilterAttention, resultFilterWaiting, resultFilterDelivered}

// results is the Results tab: the newest results, each with patient,
// measurement, time and tablet, and where its delivery to each connection
// stands; the selected one's deliveries with their attempts, resend and
// cancel (each confirmed with a reason for the audit log), its PDF report.
// Its widgets are touched only on Fyne's goroutine.
type results struct {
	env *tabEnv

	search      *widget.Entry
	filter      *widget.Select
	count       *widget.Label
	message     *messageBox
	list        *widget.List
	resendFail  *widget.Button
	resendAmbig *widget.Button

	title     *widget.Label
	facts     *widget.Form
	reportBt  *widget.Button
	folderBt  *widget.Button
	delivBox  *fyne.Container
	actMsg    *messageBox
	detailBox *fyne.Container
	root      fyne.CanvasObject

	all      []control.ResultSummary
	shown    []control.ResultSummary
	selected string
	report   string // the selected result's PDF, when it has one
	attempts map[int64][]domain.Attempt
	seq      int
	follow   follower // reloads on change events, one at a time
	loadErr  error
	// dialog is the open resend / cancel dialog (nil when closed).
	dialog *reasonDialog
}

func newResults(env *tabEnv) *results {
	r := &results{env: env, follow: follower{env: env}, attempts: map[int64][]domain.Attempt{}}
	r.search = widget.NewEntry()
	r.search.SetPlaceHolder(txtResultsSearch())
	r.search.OnChanged = func(string) { r.reload() }
	labels := make([]string, len(resultFilters))
	for i, f := range resultFilters {
		labels[i] = txtResultFilter(f)
	}
	r.filter = widget.NewSelect(labels, nil)
	r.filter.SetSelectedIndex(0)
	r.filter.OnChanged = func(string) { r.applyFilter() }
	r.count = widget.NewLabel("")
	r.count.SizeName = theme.SizeNameCaptionText
	r.message = newMessageBox()
	r.resendFail = widget.NewButtonWithIcon(txtResendAllFailed(), theme.ViewRefreshIcon(), func() { r.askResendAll(false) })
	r.resendAmbig = widget.NewButtonWithIcon(txtResendAllAmbiguous(), theme.ViewRefreshIcon(), func() { r.askResendAll(true) })
	r.list = widget.NewList(func() int { return len(r.shown) }, newResultRow, r.updateRow)
	r.list.OnSelected = func(id widget.ListItemID) {
		if id >= 0 && id < len(r.shown) {
			r.selected = r.shown[id].ID
			r.showDetail()
			r.loadAttempts()
		}
	}

	r.title = widget.NewLabel("")
	r.title.TextStyle.Bold = true
	r.title.Wrapping = fyne.TextWrapWord
	r.facts = widget.NewForm()
	r.reportBt = widget.NewButtonWithIcon(txtOpenReport(), theme.DocumentIcon(), r.openReport)
	r.folderBt = widget.NewButtonWithIcon(txtShowInFolder(), theme.FolderOpenIcon(), r.openFolder)
	r.delivBox = container.NewVBox()
	r.actMsg = newMessageBox()
	r.detailBox = container.NewVBox(r.facts, container.NewHBox(r.reportBt, r.folderBt), widget.NewSeparator(), r.delivBox)

	top := container.NewVBox(
		container.NewBorder(nil, nil, nil, r.filter, r.search),
		container.NewHBox(r.resendFail, r.resendAmbig, layout.NewSpacer(), r.count),
		r.message.root)
	right := container.NewVScroll(container.NewVBox(r.title, r.actMsg.root, r.detailBox))
	split := container.NewHSplit(r.list, right)
	split.Offset = 0.5
	r.root = container.NewBorder(top, nil, nil, nil, split)
	r.showDetail()
	return r
}

func (r *results) content() fyne.CanvasObject { return r.root }

// start loads the results and follows the hub's delivery events (and
// health, which changes when a delivery fails, retries or succeeds) until
// cancel is called.
func (r *results) start() (cancel func()) {
	r.reload()
	if r.env.api == nil {
		return func() {}
	}
	var pending bool
	return r.env.subscribe(func(ev control.Event) {
		if ev.Kind == control.EventHealth {
			// Health arrives often; reload once per burst.
			if pending {
				return
			}
			pending = true
			r.env.post(func() { pending = false; r.follow.changed(r.reload) })
			return
		}
		r.follow.changed(r.reload)
	}, control.EventDeliveries, control.EventOrders, control.EventHealth)
}

func (r *results) reload() {
	if r.env.api == nil {
		r.message.info(txtNoHub())
		r.resendFail.Disable()
		r.resendAmbig.Disable()
		return
	}
	q := control.ResultQuery{Text: strings.TrimSpace(r.search.Text), Limit: resultsLimit}
	r.seq++
	seq := r.seq
	r.follow.asked()
	call(r.env, func(ctx context.Context, api control.API) ([]control.ResultSummary, error) {
		return api.Results(ctx, q)
	}, func(rs []control.ResultSummary, err error) {
		defer r.follow.answered(r.reload)
		if seq != r.seq {
			return
		}
		r.all, r.loadErr = rs, err
		r.applyFilter()
		if r.selected != "" {
			r.loadAttempts()
		}
	})
}

// applyFilter shows the results the state filter selects.
func (r *results) applyFilter() {
	f := resultFilters[max(r.filter.SelectedIndex(), 0)]
	r.shown = r.shown[:0]
	failed, ambiguous := 0, 0
	for _, s := range r.all {
		for _, d := range s.Deliveries {
			switch d.State {
			case domain.DeliveryFailed:
				failed++
			case domain.DeliveryAmbiguous:
				ambiguous++
			}
		}
		if resultMatches(s, f) {
			r.shown = append(r.shown, s)
		}
	}
	r.resendFail.SetText(txtResendAllFailedN(failed))
	r.resendAmbig.SetText(txtResendAllAmbiguousN(ambiguous))
	enable(r.resendFail, failed > 0)
	enable(r.resendAmbig, ambiguous > 0)
	switch {
	case r.loadErr != nil:
		r.message.problem(r.loadErr)
	case len(r.all) == 0 && strings.TrimSpace(r.search.Text) == "":
		r.message.info(txtNoResults())
	case len(r.shown) == 0:
		r.message.info(txtNoResultsMatch())
	default:
		r.message.clear()
	}
	if len(r.all) >= resultsLimit {
		r.count.SetText(txtResultCountCapped(len(r.all)))
	} else {
		r.count.SetText(txtResultCount(len(r.shown)))
	}
	r.list.UnselectAll()
	if i := slices.IndexFunc(r.shown, func(s control.ResultSummary) bool { return s.ID == r.selected }); i >= 0 {
		r.list.Select(i)
	} else {
		r.selected = ""
		r.showDetail()
	}
	r.list.Refresh()
	r.root.Refresh()
}

func enable(w fyne.Disableable, on bool) {
	if on {
		w.Enable()
	} else {
		w.Disable()
	}
}

func resultMatches(s control.ResultSummary, filter string) bool {
	switch filter {
	case resultFilterAttention:
		return slices.ContainsFunc(s.Deliveries, func(d domain.Delivery) bool {
			return d.State == domain.DeliveryFailed || d.State == domain.DeliveryAmbiguous
		})
	case resultFilterWaiting:
		return slices.ContainsFunc(s.Deliveries, func(d domain.Delivery) bool {
			return d.State == domain.DeliveryQueued || d.State == domain.DeliveryInflight || d.State == domain.DeliveryRetrying
		})
	case resultFilterDelivered:
		return len(s.Deliveries) > 0 && !slices.ContainsFunc(s.Deliveries, func(d domain.Delivery) bool {
			return d.State != domain.DeliveryDelivered
		})
	default:
		return true
	}
}

// deliveryRank orders delivery states from what needs a person most.
func deliveryRank(s domain.DeliveryState) int {
	switch s {
	case domain.DeliveryAmbiguous:
		return 0
	case domain.DeliveryFailed:
		return 1
	case domain.DeliveryRetrying:
		return 2
	case domain.DeliveryInflight:
		return 3
	case domain.DeliveryQueued:
		return 4
	case domain.DeliveryCancelled:
		return 5
	default:
		return 6
	}
}

// overallDelivery is the state a result's row shows: its most urgent
// delivery's.
func overallDelivery(s control.ResultSummary) (domain.DeliveryState, bool) {
	if len(s.Deliveries) == 0 {
		return "", false
	}
	worst := s.Deliveries[0].State
	for _, d := range s.Deliveries[1:] {
		if deliveryRank(d.State) < deliveryRank(worst) {
			worst = d.State
		}
	}
	return worst, true
}

func deliveryImportance(s domain.DeliveryState) widget.Importance {
	switch s {
	case domain.DeliveryAmbiguous, domain.DeliveryFailed:
		return widget.DangerImportance
	case domain.DeliveryRetrying:
		return widget.WarningImportance
	case domain.DeliveryDelivered:
		return widget.SuccessImportance
	default:
		return widget.MediumImportance
	}
}

func newResultRow() fyne.CanvasObject { return newTabletRow() }

func (r *results) updateRow(id widget.ListItemID, obj fyne.CanvasObject) {
	if id < 0 || id >= len(r.shown) {
		return
	}
	s := r.shown[id]
	row := obj.(*fyne.Container)
	lines := row.Objects[0].(*fyne.Container)
	state := row.Objects[1].(*widget.Label)
	lines.Objects[0].(*widget.Label).SetText(resultTitle(s))
	lines.Objects[1].(*widget.Label).SetText(r.resultFacts(s))
	if st, ok := overallDelivery(s); ok {
		state.Importance = deliveryImportance(st)
		state.SetText(txtDeliveryState(st))
	} else {
		state.Importance = widget.MediumImportance
		state.SetText(txtNoDelivery())
	}
}

func resultTitle(s control.ResultSummary) string {
	name := strings.TrimSpace(s.PatientName)
	if name == "" {
		name = txtUnnamed()
	}
	if s.Measurement != "" {
		return name + " — " + s.Measurement
	}
	return name
}

func (r *results) resultFacts(s control.ResultSummary) string {
	parts := []string{formatTime(measuredAt(s), r.env.now())}
	if s.DeviceName != "" {
		parts = append(parts, s.DeviceName)
	}
	if s.PatientID != "" {
		parts = append(parts, s.PatientID)
	}
	return strings.Join(parts, "  ·  ")
}

func measuredAt(s control.ResultSummary) time.Time {
	if !s.PerformedAt.IsZero() {
		return s.PerformedAt
	}
	return s.ReceivedAt
}

func (r *results) current() (control.ResultSummary, bool) {
	i := slices.IndexFunc(r.shown, func(s control.ResultSummary) bool { return s.ID == r.selected })
	if i < 0 {
		return control.ResultSummary{}, false
	}
	return r.shown[i], true
}

// showDetail shows the selected result: facts, report buttons, and one
// box per delivery with its state in words, attempts and actions.
func (r *results) showDetail() {
	s, ok := r.current()
	if !ok {
		r.title.SetText(txtSelectResult())
		r.detailBox.Hide()
		return
	}
	r.detailBox.Show()
	r.title.SetText(resultTitle(s))
	now := r.env.now()
	items := []*widget.FormItem{
		widget.NewFormItem(txtPatientID(), selectable(orEmpty(s.PatientID))),
		widget.NewFormItem(txtMeasurement(), selectable(orEmpty(s.Measurement))),
		widget.NewFormItem(txtMeasuredAt(), selectable(formatTime(measuredAt(s), now))),
		widget.NewFormItem(txtReceived(), selectable(formatTime(s.ReceivedAt, now))),
		widget.NewFormItem(txtTablet(), selectable(orEmpty(s.DeviceName))),
	}
	if s.OrderID != "" {
		items = append(items, widget.NewFormItem(txtAppointment(), selectable(s.OrderID)))
	} else {
		items = append(items, widget.NewFormItem(txtAppointment(), selectable(txtUnsolicited())))
	}
	r.facts.Items = items
	r.facts.Refresh()
	r.report = ""
	r.reportBt.Disable()
	r.folderBt.Disable()
	if s.HasReport {
		r.loadReport(s.ID)
	}
	r.delivBox.Objects = nil
	for _, d := range s.Deliveries {
		r.delivBox.Add(r.deliveryBox(d))
	}
	if len(s.Deliveries) == 0 {
		r.delivBox.Add(wrapped(txtNoDeliveryText()))
	}
	r.delivBox.Refresh()
}

func orEmpty(s string) string {
	if strings.TrimSpace(s) == "" {
		return txtEmptyValue()
	}
	return s
}

func selectable(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Selectable = true
	l.Wrapping = fyne.TextWrapWord
	return l
}

// deliveryBox is one connection's delivery of the selected result.
func (r *results) deliveryBox(d domain.Delivery) fyne.CanvasObject {
	now := r.env.now()
	head := widget.NewLabel(txtDeliveryTo(d.Connection))
	head.TextStyle.Bold = true
	state := widget.NewLabel(txtDeliveryState(d.State))
	state.TextStyle.Bold = true
	state.Importance = deliveryImportance(d.State)
	explain := wrapped(txtDeliveryExplain(d, now))
	box := container.NewVBox(container.NewBorder(nil, nil, nil, state, head), explain)
	if d.Attempts > 0 {
		box.Add(widget.NewLabel(txtAttemptCount(d.Attempts)))
	}

	// Technical detail: the last error and every attempt with the EHR's answer.
	var tech []string
	if d.LastError != "" {
		tech = append(tech, txtLastError(d.LastError))
	}
	for _, a := range r.attempts[d.ID] {
		line := fmt.Sprintf("%s  %s", a.At.Local().Format("2006-01-02 15:04:05"), a.Duration.Round(time.Millisecond))
		if a.Error != "" {
			line += "  " + a.Error
		}
		if a.Answer != "" {
			line += "  " + txtEHRAnswered(a.Answer)
		}
		tech = append(tech, line)
	}
	if len(tech) > 0 {
		detail := wrapped(strings.Join(tech, "\n"))
		detail.Selectable = true
		detail.TextStyle.Monospace = true
		detail.SizeName = theme.SizeNameCaptionText
		detail.Hide()
		toggle := widget.NewButton(txtDetails(), func() {
			if detail.Visible() {
				detail.Hide()
			} else {
				detail.Show()
			}
		})
		box.Add(container.NewHBox(toggle))
		box.Add(detail)
	}

	var buttons []fyne.CanvasObject
	if canResend(d.State) {
		b := widget.NewButtonWithIcon(txtResend(), theme.ViewRefreshIcon(), func() { r.askResend(d) })
		if d.State == domain.DeliveryFailed || d.State == domain.DeliveryAmbiguous {
			b.Importance = widget.HighImportance
		}
		buttons = append(buttons, b)
	}
	if canCancel(d.State) {
		b := widget.NewButtonWithIcon(txtCancelDelivery(), theme.CancelIcon(), func() { r.askCancel(d) })
		buttons = append(buttons, b)
	}
	if len(buttons) > 0 {
		box.Add(container.NewHBox(append([]fyne.CanvasObject{layout.NewSpacer()}, buttons...)...))
	}
	return widget.NewCard("", "", box)
}

func canResend(s domain.DeliveryState) bool {
	return s == domain.DeliveryFailed || s == domain.DeliveryAmbiguous || s == domain.DeliveryCancelled ||
		s == domain.DeliveryRetrying || s == domain.DeliveryDelivered
}

func canCancel(s domain.DeliveryState) bool {
	return s == domain.DeliveryFailed || s == domain.DeliveryAmbiguous || s == domain.DeliveryRetrying ||
		s == domain.DeliveryQueued
}

// loadAttempts fetches the attempts of the selected result's deliveries.
func (r *results) loadAttempts() {
	s, ok := r.current()
	if !ok || r.env.api == nil {
		return
	}
	for _, d := range s.Deliveries {
		if d.Attempts == 0 {
			continue
		}
		id := d.ID
		call(r.env, func(ctx context.Context, api control.API) (control.DeliveryDetail, error) {
			return api.Delivery(ctx, id)
		}, func(dd control.DeliveryDetail, err error) {
			if err != nil {
				return // the box still shows the last error
			}
			r.attempts[id] = dd.Attempts
			if cur, ok := r.current(); ok && slices.ContainsFunc(cur.Deliveries, func(x domain.Delivery) bool { return x.ID == id }) {
				r.showDetail()
			}
		})
	}
}

func (r *results) loadReport(id string) {
	call(r.env, func(ctx context.Context, api control.API) (control.ResultDetail, error) {
		return api.Result(ctx, id)
	}, func(rd control.ResultDetail, err error) {
		if err != nil || rd.ReportPath == "" || r.selected != id {
			return
		}
		r.report = rd.ReportPath
		r.reportBt.Enable()
		r.folderBt.Enable()
	})
}

func (r *results) openReport() {
	if r.report != "" {
		r.openPath(r.report)
	}
}

func (r *results) openFolder() {
	if r.report != "" {
		r.openPath(filepath.Dir(r.report))
	}
}

func (r *results) openPath(p string) {
	u, err := url.Parse(storage.NewFileURI(p).String())
	if err == nil && r.env.open != nil {
		err = r.env.open(u)
	}
	if err != nil {
		r.actMsg.problem(&control.Error{Kind: control.Internal, Message: txtOpenFailed(), Detail: err.Error()})
	}
}

func (r *results) askResend(d domain.Delivery) {
	if r.env.win == nil {
		return
	}
	r.dialog = askReason(r.env.win, txtResendTitle(), txtResendText(d), txtReasonPlaceholder(), txtResend(), false,
		func(reason string) {
			r.act(func(ctx context.Context, api control.API) (int, error) {
				res, err := api.Resend(ctx, control.ResendRequest{ID: d.ID, Reason: reason, Actor: actor})
				return res.Count, err
			})
		}, func() { r.dialog = nil })
}

func (r *results) askCancel(d domain.Delivery) {
	if r.env.win == nil {
		return
	}
	r.dialog = askReason(r.env.win, txtCancelTitle(), txtCancelText(d), txtReasonPlaceholder(), txtCancelDelivery(), true,
		func(reason string) {
			r.act(func(ctx context.Context, api control.API) (int, error) {
				_, err := api.Cancel(ctx, control.CancelRequest{ID: d.ID, Reason: reason, Actor: actor})
				return -1, err
			})
		}, func() { r.dialog = nil })
}

func (r *results) askResendAll(ambiguous bool) {
	if r.env.win == nil || r.env.api == nil {
		return
	}
	title, text := txtResendAllTitle(), txtResendAllFailedText()
	if ambiguous {
		text = txtResendAllAmbiguousText()
	}
	r.dialog = askReason(r.env.win, title, text, txtReasonPlaceholder(), txtResend(), false,
		func(reason string) {
			r.act(func(ctx context.Context, api control.API) (int, error) {
				res, err := api.Resend(ctx, control.ResendRequest{Failed: !ambiguous, Ambiguous: ambiguous,
					Reason: reason, Actor: actor})
				return res.Count, err
			})
		}, func() { r.dialog = nil })
}

// act runs a resend or cancel and says what came of it; n is how many
// deliveries were queued again (-1: a cancel).
func (r *results) act(fn func(ctx context.Context, api control.API) (int, error)) {
	call(r.env, fn, func(n int, err error) {
		switch {
		case err != nil:
			r.actMsg.problem(err)
		case n < 0:
			r.actMsg.info(txtCancelled())
		default:
			r.actMsg.info(txtResent(n))
		}
		r.reload()
		r.root.Refresh()
	})
}
