package view

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/domain"
)

// groupInfo is a group with what the Groups tab says about it.
type groupInfo struct {
	domain.Group
	tablets int      // paired, not revoked
	open    int      // appointments scheduled or being measured
	codes   []string // the EHR's codes whose orders land in the group
}

// groups is the Groups tab: the tablet groups with their tablets, open
// appointments and which of the EHR's orders land in each; create,
// rename, make default and delete (refused, saying what to move first,
// while a group has tablets or open appointments; the default group
// cannot be deleted). Its widgets are touched only on Fyne's goroutine.
type groups struct {
	env *tabEnv

	newName  *widget.Entry
	createBt *widget.Button
	message  *messageBox
	list     *widget.List

	title    *widget.Label
	name     *widget.Entry
	renameBt *widget.Button
	defBt    *widget.Button
	deleteBt *widget.Button
	facts    *widget.Label
	mapping  *widget.Label
	actMsg   *messageBox
	detail   *fyne.Container
	root     fyne.CanvasObject

	items    []groupInfo
	selected string
	seq      int
	follow   follower // reloads on change events, one at a time
	// deleteDialog is the open delete confirmation (nil when closed).
	deleteDialog *confirmDialog
}

func newGroups(env *tabEnv) *groups {
	g := &groups{env: env, follow: follower{env: env}}
	g.newName = widget.NewEntry()
	g.newName.SetPlaceHolder(txtGroupNewPlaceholder())
	g.createBt = widget.NewButtonWithIcon(txtGroupCreate(), theme.ContentAddIcon(), g.create)
	g.newName.OnSubmitted = func(string) { g.create() }
	g.message = newMessageBox()
	g.list = widget.NewList(func() int { return len(g.items) }, newTabletRow, g.updateRow)
	g.list.OnSelected = func(id widget.ListItemID) {
		if id >= 0 && id < len(g.items) {
			g.selected = g.items[id].ID
			g.showDetail()
		}
	}
	g.title = widget.NewLabel("")
	g.title.TextStyle.Bold = true
	g.name = widget.NewEntry()
	g.renameBt = widget.NewButton(txtRename(), g.rename)
	g.defBt = widget.NewButtonWithIcon(txtGroupMakeDefault(), theme.ConfirmIcon(), g.makeDefault)
	g.deleteBt = widget.NewButtonWithIcon(txtGroupDelete(), theme.DeleteIcon(), g.askDelete)
	g.deleteBt.Importance = widget.DangerImportance
	g.facts = wrapped("")
	g.mapping = wrapped("")
	g.actMsg = newMessageBox()
	form := widget.NewForm(widget.NewFormItem(txtTabletName(), container.NewBorder(nil, nil, nil, g.renameBt, g.name)))
	mapTitle := widget.NewLabel(txtGroupMappingTitle())
	mapTitle.TextStyle.Bold = true
	g.detail = container.NewVBox(form, g.facts, widget.NewSeparator(), mapTitle, g.mapping,
		container.NewHBox(g.defBt, layout.NewSpacer(), g.deleteBt))

	top := container.NewVBox(container.NewBorder(nil, nil, widget.NewLabel(txtGroupNew()), g.createBt, g.newName),
		g.message.root)
	right := container.NewVScroll(container.NewVBox(g.title, g.actMsg.root, g.detail))
	split := container.NewHSplit(g.list, right)
	split.Offset = 0.45
	g.root = container.NewBorder(top, nil, nil, nil, split)
	g.showDetail()
	return g
}

func (g *groups) content() fyne.CanvasObject { return g.root }

// start loads the groups and follows group, tablet and order events.
func (g *groups) start() (cancel func()) {
	g.reload()
	return g.env.subscribe(func(control.Event) { g.follow.changed(g.reload) },
		control.EventGroups, control.EventTablets, control.EventOrders)
}

// groupFacts is what reload gathers in one call.
type groupFacts struct {
	groups  []domain.Group
	tablets []domain.Device
	open    map[string]int // open appointments by group
	codes   map[string][]string
}

func (g *groups) reload() {
	if g.env.api == nil {
		g.message.info(txtNoHub())
		g.createBt.Disable()
		return
	}
	g.seq++
	seq := g.seq
	g.follow.asked()
	call(g.env, func(ctx context.Context, api control.API) (groupFacts, error) {
		var f groupFacts
		var err error
		if f.groups, err = api.Groups(ctx); err != nil {
			return f, err
		}
		if f.tablets, err = api.Tablets(ctx); err != nil {
			return f, err
		}
		// Counted by the hub: neither it nor the tab decodes the appointments.
		if f.open, err = api.CountOrders(ctx, control.OrderQuery{States: []domain.OrderState{domain.OrderScheduled,
			domain.OrderInProgress}}); err != nil {
			return f, err
		}
		if doc, err := api.Config(ctx); err == nil {
			f.codes = groupCodes(doc.JSON)
		}
		return f, nil
	}, func(f groupFacts, err error) {
		defer g.follow.answered(g.reload)
		if seq != g.seq {
			return
		}
		if err != nil {
			g.items = nil
			g.message.problem(err)
		} else {
			g.message.clear()
			g.items = make([]groupInfo, len(f.groups))
			for i, gr := range f.groups {
				it := groupInfo{Group: gr, codes: f.codes[gr.ID]}
				for _, d := range f.tablets {
					if d.Group == gr.ID && !d.Revoked {
						it.tablets++
					}
				}
				it.open = f.open[gr.ID]
				g.items[i] = it
			}
		}
		g.list.UnselectAll()
		if i := slices.IndexFunc(g.items, func(it groupInfo) bool { return it.ID == g.selected }); i >= 0 {
			g.list.Select(i)
		} else {
			g.selected = ""
			g.showDetail()
		}
		g.list.Refresh()
		g.root.Refresh()
	})
}

// groupCodes finds every groupMap in a configuration (each order
// connection may have one) and lists the EHR codes per group.
func groupCodes(raw json.RawMessage) map[string][]string {
	var doc any
	if json.Unmarshal(raw, &doc) != nil {
		return nil
	}
	out := map[string][]string{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if m, ok := c.(map[string]any); ok && k == "groupMap" {
					for code, grp := range m {
						if s, ok := grp.(string); ok {
							out[s] = append(out[s], code)
						}
					}
					continue
				}
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(doc)
	for k := range out {
		sort.Strings(out[k])
	}
	return out
}

func (g *groups) updateRow(id widget.ListItemID, obj fyne.CanvasObject) {
	if id < 0 || id >= len(g.items) {
		return
	}
	it := g.items[id]
	row := obj.(*fyne.Container)
	lines := row.Objects[0].(*fyne.Container)
	mark := row.Objects[1].(*widget.Label)
	lines.Objects[0].(*widget.Label).SetText(groupName(it.Group))
	lines.Objects[1].(*widget.Label).SetText(txtGroupFacts(it.tablets, it.open))
	if it.Default {
		mark.SetText(txtGroupDefault())
		mark.Importance = widget.HighImportance
	} else {
		mark.SetText("")
	}
}

func (g *groups) current() (groupInfo, bool) {
	i := slices.IndexFunc(g.items, func(it groupInfo) bool { return it.ID == g.selected })
	if i < 0 {
		return groupInfo{}, false
	}
	return g.items[i], true
}

func (g *groups) showDetail() {
	it, ok := g.current()
	if !ok {
		g.title.SetText(txtSelectGroup())
		g.detail.Hide()
		return
	}
	g.detail.Show()
	g.title.SetText(groupName(it.Group))
	g.name.SetText(it.Name)
	g.facts.SetText(txtGroupFacts(it.tablets, it.open))
	switch {
	case len(it.codes) > 0:
		g.mapping.SetText(txtGroupMapped(strings.Join(it.codes, ", ")))
	case it.Default:
		g.mapping.SetText(txtGroupMappedDefault())
	default:
		g.mapping.SetText(txtGroupMappedNone())
	}
	enable(g.defBt, !it.Default)
	enable(g.deleteBt, !it.Default)
	if it.Default {
		g.deleteBt.SetText(txtGroupDefaultKept())
	} else {
		g.deleteBt.SetText(txtGroupDelete())
	}
}

func (g *groups) create() {
	name := strings.TrimSpace(g.newName.Text)
	if name == "" || g.env.api == nil {
		return
	}
	g.save(domain.Group{Name: name}, func(saved domain.Group) {
		g.newName.SetText("")
		g.selected = saved.ID
		g.actMsg.info(txtGroupCreated(saved.Name))
	})
}

func (g *groups) rename() {
	it, ok := g.current()
	name := strings.TrimSpace(g.name.Text)
	if !ok || name == "" || name == it.Name {
		return
	}
	g.save(domain.Group{ID: it.ID, Name: name, Default: it.Default}, func(saved domain.Group) {
		g.actMsg.info(txtGroupRenamed(saved.Name))
	})
}

func (g *groups) makeDefault() {
	it, ok := g.current()
	if !ok || it.Default {
		return
	}
	g.save(domain.Group{ID: it.ID, Name: it.Name, Default: true}, func(saved domain.Group) {
		g.actMsg.info(txtGroupIsDefault(saved.Name))
	})
}

func (g *groups) save(gr domain.Group, done func(domain.Group)) {
	call(g.env, func(ctx context.Context, api control.API) (domain.Group, error) {
		return api.SaveGroup(ctx, gr)
	}, func(saved domain.Group, err error) {
		if err != nil {
			g.actMsg.problem(err)
		} else {
			done(saved)
		}
		g.reload()
		g.root.Refresh()
	})
}

func (g *groups) askDelete() {
	it, ok := g.current()
	if !ok || it.Default || g.env.win == nil {
		return
	}
	if it.tablets > 0 || it.open > 0 {
		// Say at once what to move first; the hub would refuse too.
		g.actMsg.problem(&control.Error{Kind: control.Conflict, Message: txtGroupInUse(it.tablets, it.open)})
		g.root.Refresh()
		return
	}
	g.deleteDialog = confirm(g.env.win, txtGroupDeleteTitle(), txtGroupDeleteText(groupName(it.Group)), txtGroupDeleteConfirm(), func() {
		g.deleteDialog = nil
		call(g.env, func(ctx context.Context, api control.API) (struct{}, error) {
			return struct{}{}, api.DeleteGroup(ctx, it.ID)
		}, func(_ struct{}, err error) {
			if control.KindOf(err) == control.Conflict {
				// Something moved in meanwhile: say what, in words.
				err = &control.Error{Kind: control.Conflict, Message: txtGroupInUseNow(), Detail: err.Error()}
			}
			if err != nil {
				g.actMsg.problem(err)
			} else {
				g.actMsg.info(txtGroupDeleted(groupName(it.Group)))
			}
			g.reload()
			g.root.Refresh()
		})
	})
}
