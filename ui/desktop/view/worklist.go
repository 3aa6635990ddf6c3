package view

import (
	"context"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/domain"
)

// worklistLimit is how many appointments the Worklist asks the hub for at
// once; the list is virtualised, so it stays fast at this size.
const worklistLimit = 10000

// State filter choices besides the single order states.
const (
	stateFilterOpen = "open" // scheduled and in progress: the worklist
	stateFilterAll  = "all"
)

var stateFilters = []string{stateFilterOpen,
	string(domain.OrderScheduled), string(domain.OrderInProgress), string(domain.OrderDone),
	string(domain.OrderCancelled), string(domain.OrderDeleted), stateFilterAll}

// worklist is the Worklist tab: appointments found by search and filters
// in a virtualised list, the selected one's every field beside it, and
// deleting with a reason. It follows the hub's order events. Its widgets
// are touched only on Fyne's goroutine.
type worklist struct {
	env *tabEnv

	search    *widget.Entry
	group     *widget.Select
	state     *widget.Select
	day       *widget.Select
	count     *widget.Label
	message   *messageBox
	list      *widget.List
	raw       *widget.Check
	deleteBt  *widget.Button
	detail    *fyne.Container
	detailMsg *messageBox
	root      fyne.CanvasObject

	orders   []domain.Order
	groups   []domain.Group
	selected string        // ID of the selected order
	current  *domain.Order // the selected order with every field
	seq      int           // generation of the last query: older answers are dropped
	follow   follower      // reloads on change events, one at a time
	// deleteDialog is the open delete dialog (nil when closed).
	deleteDialog *reasonDialog
}

func newWorklist(env *tabEnv) *worklist {
	w := &worklist{env: env, follow: follower{env: env}}

	w.search = widget.NewEntry()
	w.search.SetPlaceHolder(txtSearchPlaceholder())
	w.search.ActionItem = widget.NewIcon(theme.SearchIcon())
	w.search.OnChanged = func(string) { w.reload() }

	w.group = widget.NewSelect([]string{txtAllGroups()}, nil)
	w.group.SetSelectedIndex(0)
	w.group.OnChanged = func(string) { w.reload() }
	labels := make([]string, len(stateFilters))
	for i, s := range stateFilters {
		labels[i] = txtStateFilter(s)
	}
	w.state = widget.NewSelect(labels, nil)
	w.state.SetSelectedIndex(0)
	w.state.OnChanged = func(string) { w.reload() }

	dayLabels := make([]string, len(dayFilters))
	for i, d := range dayFilters {
		dayLabels[i] = txtDayFilter(d)
	}
	w.day = widget.NewSelect(dayLabels, nil)
	w.day.SetSelectedIndex(0)
	w.day.OnChanged = func(string) { w.reload() }

	w.count = widget.NewLabel("")
	w.count.SizeName = theme.SizeNameCaptionText
	w.message = newMessageBox()

	w.list = widget.NewList(w.length, newOrderRow, w.updateRow)
	w.list.OnSelected = func(id widget.ListItemID) {
		if id >= 0 && id < len(w.orders) {
			w.selectOrder(w.orders[id].ID)
		}
	}

	w.raw = widget.NewCheck(txtShowRaw(), func(bool) { w.showDetail() })
	w.deleteBt = widget.NewButtonWithIcon(txtDelete(), theme.DeleteIcon(), w.askDelete)
	w.deleteBt.Importance = widget.DangerImportance
	w.deleteBt.Disable()
	w.detail = container.NewVBox()
	w.detailMsg = newMessageBox()

	filters := container.NewVBox(w.search, container.NewGridWithColumns(3, w.group, w.state, w.day))
	left := container.NewBorder(container.NewVBox(filters, w.message.root, w.count), nil, nil, nil, w.list)
	right := container.NewBorder(
		container.NewVBox(w.detailMsg.root, container.NewHBox(w.raw, layout.NewSpacer(), w.deleteBt)),
		nil, nil, nil, container.NewVScroll(w.detail))
	split := container.NewHSplit(left, right)
	split.Offset = 0.5
	w.root = split
	w.showDetail()
	return w
}

func (w *worklist) content() fyne.CanvasObject { return w.root }

// start loads the groups and the worklist and follows the hub's order
// and group events until the returned cancel is called.
func (w *worklist) start() (cancel func()) {
	w.reloadGroups()
	w.reload()
	return w.env.subscribe(func(ev control.Event) {
		if ev.Kind == control.EventGroups {
			w.reloadGroups()
			return
		}
		w.follow.changed(w.reload)
	}, control.EventOrders, control.EventGroups)
}

// query is what the search and filters ask for.
func (w *worklist) query() control.OrderQuery {
	// A summary: the rows show none of the source fields (the details ask
	// for the whole appointment).
	q := control.OrderQuery{Text: strings.TrimSpace(w.search.Text), Limit: worklistLimit, Summary: true}
	if i := w.group.SelectedIndex(); i > 0 && i-1 < len(w.groups) {
		q.Group = w.groups[i-1].ID
	}
	switch s := stateFilters[max(w.state.SelectedIndex(), 0)]; s {
	case stateFilterOpen:
		q.States = []domain.OrderState{domain.OrderScheduled, domain.OrderInProgress}
	case stateFilterAll:
	default:
		q.States = []domain.OrderState{domain.OrderState(s)}
	}
	return q
}

// Day filters: when the appointment is (or, without a time, when the
// order came).
const (
	dayAny       = "any"
	dayToday     = "today"
	dayTomorrow  = "tomorrow"
	dayYesterday = "yesterday"
	dayNext7     = "next7"
	dayPast7     = "past7"
)

var dayFilters = []string{dayAny, dayToday, dayTomorrow, dayYesterday, dayNext7, dayPast7}

// onDay keeps the appointments of the chosen days.
func (w *worklist) onDay(orders []domain.Order) []domain.Order {
	f := dayFilters[max(w.day.SelectedIndex(), 0)]
	if f == dayAny {
		return orders
	}
	now := w.env.now()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	from, to := today, today.AddDate(0, 0, 1)
	switch f {
	case dayTomorrow:
		from, to = today.AddDate(0, 0, 1), today.AddDate(0, 0, 2)
	case dayYesterday:
		from, to = today.AddDate(0, 0, -1), today
	case dayNext7:
		to = today.AddDate(0, 0, 7)
	case dayPast7:
		from = today.AddDate(0, 0, -6)
	}
	out := orders[:0:0]
	for _, o := range orders {
		at := o.ScheduledAt
		if at.IsZero() {
			at = o.ReceivedAt
		}
		at = at.In(now.Location())
		if !at.Before(from) && at.Before(to) {
			out = append(out, o)
		}
	}
	return out
}

// reload asks the hub for the appointments the search and filters select.
func (w *worklist) reload() {
	if w.env.api == nil {
		w.message.info(txtNoHub())
		w.count.SetText("")
		return
	}
	q := w.query()
	w.seq++
	seq := w.seq
	w.follow.asked()
	call(w.env, func(ctx context.Context, api control.API) ([]domain.Order, error) {
		return api.Orders(ctx, q)
	}, func(orders []domain.Order, err error) {
		defer w.follow.answered(w.reload)
		if seq != w.seq {
			return
		}
		w.show(orders, err, q)
	})
}

// listEntry is what the list keeps of an appointment: what its row shows
// and the day filter reads. The details ask the hub for the whole
// appointment, so the list does not hold every field of 10,000 of them
// (about 14 KB each for a Birpis order).
func listEntry(o *domain.Order) domain.Order {
	return domain.Order{ID: o.ID, State: o.State, PlacerNumber: o.PlacerNumber,
		Measurement: o.Measurement, ServiceText: o.ServiceText,
		ScheduledAt: o.ScheduledAt, ReceivedAt: o.ReceivedAt, Group: o.Group,
		Patient: domain.Patient{ID: o.Patient.ID, Name: o.Patient.Name}}
}

// show puts a query's answer on screen.
func (w *worklist) show(orders []domain.Order, err error, q control.OrderQuery) {
	defer w.env.trimAfter(len(orders))
	orders = w.onDay(orders)
	entries := make([]domain.Order, len(orders))
	for i := range orders {
		entries[i] = listEntry(&orders[i])
	}
	orders = entries
	if err != nil {
		w.orders = nil
		w.message.problem(err)
		w.count.SetText("")
	} else {
		w.orders = orders
		switch {
		case len(orders) > 0:
			w.message.clear()
		case q.Text == "" && q.Group == "" && w.state.SelectedIndex() == 0 && w.day.SelectedIndex() == 0:
			w.message.info(txtNoOrders())
		default:
			w.message.info(txtNoOrdersMatch())
		}
		if len(orders) >= q.Limit && q.Limit > 0 {
			w.count.SetText(txtOrderCountCapped(len(orders)))
		} else {
			w.count.SetText(txtOrderCount(len(orders)))
		}
	}
	w.list.UnselectAll()
	if i := slices.IndexFunc(w.orders, func(o domain.Order) bool { return o.ID == w.selected }); i >= 0 {
		w.list.Select(i) // loads its details again: they may have changed
	} else if w.selected != "" {
		w.selected, w.current = "", nil
		w.showDetail()
	}
	w.root.Refresh() // the list's rows and the messages above it
}

func (w *worklist) reloadGroups() {
	if w.env.api == nil {
		return
	}
	call(w.env, func(ctx context.Context, api control.API) ([]domain.Group, error) {
		return api.Groups(ctx)
	}, func(gs []domain.Group, err error) {
		if err != nil {
			return // the filter keeps "All groups"; the list says what is wrong
		}
		var keep string
		if i := w.group.SelectedIndex(); i > 0 && i-1 < len(w.groups) {
			keep = w.groups[i-1].ID
		}
		w.groups = gs
		opts := []string{txtAllGroups()}
		sel := 0
		for i, g := range gs {
			opts = append(opts, groupName(g))
			if g.ID == keep {
				sel = i + 1
			}
		}
		w.group.OnChanged = nil
		w.group.SetOptions(opts)
		w.group.SetSelectedIndex(sel)
		w.group.OnChanged = func(string) { w.reload() }
	})
}

// groupLabel names a group by its name when the tab knows it.
func (w *worklist) groupLabel(id string) string {
	for _, g := range w.groups {
		if g.ID == id {
			return groupName(g)
		}
	}
	return id
}

func groupName(g domain.Group) string {
	if g.Name != "" {
		return g.Name
	}
	return g.ID
}

func (w *worklist) length() int { return len(w.orders) }

// newOrderRow is a list row: name and patient ID, then what and when,
// with the state on the right.
func newOrderRow() fyne.CanvasObject {
	name := widget.NewLabel("")
	name.TextStyle.Bold = true
	name.Truncation = fyne.TextTruncateEllipsis
	sub := widget.NewLabel("")
	sub.SizeName = theme.SizeNameCaptionText
	sub.Truncation = fyne.TextTruncateEllipsis
	state := widget.NewLabel("")
	return container.NewBorder(nil, nil, nil, state,
		container.New(layout.NewCustomPaddedVBoxLayout(-2*theme.Padding()), name, sub))
}

func (w *worklist) updateRow(id widget.ListItemID, obj fyne.CanvasObject) {
	if id < 0 || id >= len(w.orders) {
		return
	}
	o := &w.orders[id]
	row := obj.(*fyne.Container)
	lines := row.Objects[0].(*fyne.Container)
	state := row.Objects[1].(*widget.Label)
	lines.Objects[0].(*widget.Label).SetText(orderTitle(o))
	lines.Objects[1].(*widget.Label).SetText(orderSubline(o, w.env, w.groupLabel))
	state.SetText(txtOrderState(o.State))
}

// orderTitle is the list's first line: the patient's name and ID.
func orderTitle(o *domain.Order) string {
	name := o.Patient.Name.Full()
	if strings.TrimSpace(name) == "" {
		name = txtUnnamed()
	}
	if o.Patient.ID != "" {
		name += "  ·  " + o.Patient.ID
	}
	return name
}

// orderSubline is the second line: measurement, order number, when.
func orderSubline(o *domain.Order, env *tabEnv, groupOf func(id string) string) string {
	parts := make([]string, 0, 4)
	for _, p := range []string{measurementName(o), o.PlacerNumber} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	at := o.ScheduledAt
	if at.IsZero() {
		at = o.ReceivedAt
	}
	if !at.IsZero() {
		parts = append(parts, formatTime(at, env.now()))
	}
	if o.Group != "" {
		parts = append(parts, groupOf(o.Group))
	}
	return strings.Join(parts, "  ·  ")
}

func measurementName(o *domain.Order) string {
	switch {
	case o.Measurement != "" && o.ServiceText != "" && !strings.EqualFold(o.Measurement, o.ServiceText):
		return o.Measurement + " (" + o.ServiceText + ")"
	case o.Measurement != "":
		return o.Measurement
	default:
		return o.ServiceText
	}
}

// selectOrder loads one appointment with every field into the details.
func (w *worklist) selectOrder(id string) {
	w.selected = id
	call(w.env, func(ctx context.Context, api control.API) (domain.Order, error) {
		return api.Order(ctx, id)
	}, func(o domain.Order, err error) {
		if w.selected != id {
			return
		}
		if err != nil {
			w.current = nil
			w.detailMsg.problem(err)
		} else {
			w.current = &o
			w.detailMsg.clear()
		}
		w.showDetail()
		w.root.Refresh()
	})
}

// showDetail renders the selected appointment's fields by section, each
// field readable or, with the toggle, as received.
func (w *worklist) showDetail() {
	objs := []fyne.CanvasObject{}
	if w.current == nil {
		w.deleteBt.Disable()
		w.raw.Hide()
		objs = append(objs, wrapped(txtSelectOrder()))
		w.detail.Objects = objs
		w.detail.Refresh()
		return
	}
	o := w.current
	w.raw.Show()
	if o.State == domain.OrderDeleted {
		w.deleteBt.Disable()
	} else {
		w.deleteBt.Enable()
	}
	head := widget.NewLabel(orderTitle(o))
	head.TextStyle.Bold = true
	head.SizeName = theme.SizeNameSubHeadingText
	head.Wrapping = fyne.TextWrapWord
	objs = append(objs, head)
	for _, s := range orderSections(o, w.env.now(), w.groupLabel) {
		if len(s.rows) == 0 {
			continue
		}
		form := widget.NewForm()
		for _, r := range s.rows {
			v := r.text
			if w.raw.Checked || v == "" {
				v = r.raw
			}
			if v == "" {
				v = txtEmptyValue()
			}
			l := widget.NewLabel(v)
			l.Wrapping = fyne.TextWrapWord
			l.Selectable = true
			form.Append(r.label, l)
		}
		objs = append(objs, widget.NewCard(s.title, "", form))
	}
	w.detail.Objects = objs
	w.detail.Refresh()
}

// askDelete opens the delete dialog: Delete can be pressed only once a
// reason is written.
func (w *worklist) askDelete() {
	if w.current == nil || w.env.win == nil {
		return
	}
	o := *w.current
	w.deleteDialog = askReason(w.env.win, txtDeleteTitle(), txtDeleteText(orderTitle(&o)), txtDeleteReason(),
		txtDeleteConfirm(), true, func(reason string) { w.deleteOrder(o, reason) },
		func() { w.deleteDialog = nil })
}

func (w *worklist) deleteOrder(o domain.Order, reason string) {
	req := control.DeleteOrderRequest{ID: o.ID, Reason: strings.TrimSpace(reason), Actor: actor}
	call(w.env, func(ctx context.Context, api control.API) (domain.Order, error) {
		return api.DeleteOrder(ctx, req)
	}, func(_ domain.Order, err error) {
		if err != nil {
			w.detailMsg.problem(err)
			w.root.Refresh()
			return
		}
		w.detailMsg.info(txtDeleted(orderTitle(&o)))
		w.reload()
	})
}
