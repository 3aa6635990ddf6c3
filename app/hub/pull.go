package hub

// The pull path: EHRs that push nothing (cloud EHRs: Best Practice through
// HALO Connect, Vena and Webdoc through Leyr) are asked for appointments
// when a tablet reads its worklist. What they answer is stored through the
// order path, so results, the Dashboard and the audit work as for every
// other connection:
//   - an appointment new or changed since the last answer is stored (one
//     transaction for all of them); an unchanged one costs nothing;
//   - an appointment the EHR cancelled, or no longer lists, leaves the
//     worklist (one a tablet has started stays: the measurement may
//     finish);
//   - an appointment whose order is done, or that staff deleted in the
//     Dashboard, stays off however often the EHR lists it again (the
//     order is its tombstone); the EHR's data is never changed by a pull;
//   - when the EHR cannot be asked, tablets get the stored worklist at
//     once, marked stale (the LAN API's stale field), and health says why;
//   - while tablets wait for changes (long polls), the EHR is asked again
//     every pollInterval, so that a new appointment wakes them.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/connector"
	"github.com/mesi/mconnect/device"
)

// versionedSource is a pull source that says which upstream answer it
// served (connectors/pull.Source does): the hub stores each answer once.
type versionedSource interface {
	PullVersioned(ctx context.Context, group string) ([]domain.Order, uint64, error)
}

// pollingSource says how often to ask again while tablets wait.
type pollingSource interface {
	PollInterval() time.Duration
}

// Defaults of the pull path.
const (
	defaultPollInterval = 30 * time.Second
	// activeFor is how long after a tablet of a group last read its
	// worklist the group is asked for again: longer than a long poll
	// (60 s by default) with room for a tablet's pause between polls.
	activeFor = 3 * time.Minute
	// applyChunk bounds the orders stored in one transaction.
	applyChunk = 500
)

// pullState is what the pull path keeps, per tablet group.
type pullState struct {
	mu     sync.Mutex
	groups map[string]*groupPull
}

// groupPull is one group's pull state.
type groupPull struct {
	mu    sync.Mutex // serialises storing answers for the group
	asked time.Time  // a tablet last read the worklist (under pullState.mu)
	src   []*sourcePull
	// Staleness (under mu): okAt is when every source last answered.
	stale bool
	okAt  time.Time
}

// sourcePull is one source's state within a group.
type sourcePull struct {
	version uint64            // the answer last stored (0: none)
	seen    map[string]string // placer number -> fingerprint of what was stored
}

func (h *Hub) groupState(group string, asked bool) *groupPull {
	ps := &h.pulled
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.groups == nil {
		ps.groups = map[string]*groupPull{}
	}
	g := ps.groups[group]
	if g == nil {
		g = &groupPull{}
		for range h.pulls {
			g.src = append(g.src, &sourcePull{seen: map[string]string{}})
		}
		ps.groups[group] = g
	}
	if asked {
		g.asked = time.Now()
	}
	return g
}

// activeGroups are the groups a tablet read within activeFor.
func (h *Hub) activeGroups() []string {
	ps := &h.pulled
	ps.mu.Lock()
	defer ps.mu.Unlock()
	var out []string
	for name, g := range ps.groups {
		if time.Since(g.asked) < activeFor {
			out = append(out, name)
		}
	}
	return out
}

// Worklist returns the open orders of a group, oldest first (device.Hub).
// Pull-type connections are asked first; what they answer is stored
// through the usual order path.
func (h *Hub) Worklist(ctx context.Context, group string) ([]domain.Order, error) {
	a, err := h.WorklistAnswer(ctx, group)
	return a.Orders, err
}

// WorklistAnswer is Worklist with how current it is (device.StaleWorklists):
// stale when a pull-type connection could not be asked.
func (h *Hub) WorklistAnswer(ctx context.Context, group string) (device.WorklistAnswer, error) {
	h.health.touch("device")
	var ans device.WorklistAnswer
	if len(h.pulls) > 0 {
		ans.Stale, ans.StaleSince = h.pullGroup(ctx, group, true)
	}
	orders, err := h.store.Worklist(ctx, group)
	if err != nil {
		return ans, err
	}
	ans.Orders = orders
	return ans, nil
}

// pullGroup asks every pull source for the group's appointments and stores
// what changed. It reports whether the worklist is stale and since when
// (the last time every source answered).
func (h *Hub) pullGroup(ctx context.Context, group string, asked bool) (stale bool, since time.Time) {
	g := h.groupState(group, asked)
	failed := false
	for i, p := range h.pulls {
		orders, version, err := pullFrom(ctx, p, group)
		if err != nil {
			failed = true
			h.log.WithError(err).WithField("group", group).Debug("pull source not reachable; serving the stored worklist")
			continue
		}
		if err := h.applyAnswer(ctx, g, g.src[i], group, orders, version); err != nil {
			failed = true
		}
	}
	g.mu.Lock()
	was := g.stale
	g.stale = failed
	if !failed {
		g.okAt = time.Now()
	}
	since = g.okAt
	g.mu.Unlock()
	if was != failed {
		// The answer's stale field changed: waiting tablets should see it.
		h.log.WithFields(logrus.Fields{"group": group, "stale": failed}).Info("worklist staleness changed")
		h.wakeGroup(group)
	}
	return failed, since
}

// pullFrom asks one source, with the answer's version when it has one.
func pullFrom(ctx context.Context, p connector.PullSource, group string) ([]domain.Order, uint64, error) {
	if v, ok := p.(versionedSource); ok {
		return v.PullVersioned(ctx, group)
	}
	orders, err := p.Pull(ctx, group)
	return orders, 0, err
}

// applyAnswer stores one answer of a source for the group: what is new or
// changed, then the removal of what the answer no longer lists.
func (h *Hub) applyAnswer(ctx context.Context, g *groupPull, sp *sourcePull, group string, orders []domain.Order, version uint64) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if version != 0 && version == sp.version {
		return nil // stored already (another tablet's request brought it)
	}
	conn := h.profile.ID
	present := make(map[string]bool, len(orders))
	var changed []domain.Order
	var prints []string
	for _, o := range orders {
		if o.PlacerNumber == "" {
			continue
		}
		if o.Connection == "" {
			o.Connection = conn
		}
		present[o.PlacerNumber] = true
		fp := fingerprint(o)
		if sp.seen[o.PlacerNumber] == fp {
			continue
		}
		changed = append(changed, o)
		prints = append(prints, fp)
	}
	woken := map[string]bool{}
	stored, kept := 0, 0
	for start := 0; start < len(changed); start += applyChunk {
		end := min(start+applyChunk, len(changed))
		outs, err := h.store.ApplyPulled(ctx, changed[start:end])
		if err != nil {
			h.storeFailed(err)
			return err
		}
		for i, r := range outs {
			o := changed[start+i]
			sp.seen[o.PlacerNumber] = prints[start+i]
			switch {
			case r.Err != nil:
				h.log.WithError(r.Err).WithField("appointment", o.PlacerNumber).Warn("pulled appointment refused")
			case r.Tombstone != "":
				kept++
			case r.Stored:
				stored++
				for _, grp := range r.Accepted.Groups {
					woken[grp] = true
				}
				h.log.WithFields(logrus.Fields{"connection": o.Connection, "order": r.Accepted.OrderID, "placer": o.PlacerNumber,
					"patient": o.Patient.ID, "action": o.Action, "state": r.Accepted.State}).Debug("pulled appointment stored")
			}
		}
	}
	// What the answer no longer lists leaves the worklist; an appointment
	// a tablet started stays.
	open, err := h.store.OpenOrders(ctx, conn, group)
	if err != nil {
		h.storeFailed(err)
		return err
	}
	var gone []domain.Order
	for _, o := range open {
		if o.State == domain.OrderScheduled && !present[o.PlacerNumber] {
			gone = append(gone, domain.Order{Connection: conn, PlacerNumber: o.PlacerNumber, Action: domain.ActionCancel})
		}
	}
	for start := 0; start < len(gone); start += applyChunk {
		outs, err := h.store.ApplyPulled(ctx, gone[start:min(start+applyChunk, len(gone))])
		if err != nil {
			h.storeFailed(err)
			return err
		}
		for _, r := range outs {
			for _, grp := range r.Accepted.Groups {
				woken[grp] = true
			}
		}
	}
	for placer := range sp.seen {
		if !present[placer] {
			delete(sp.seen, placer)
		}
	}
	sp.version = version
	if stored > 0 || len(gone) > 0 {
		h.log.WithFields(logrus.Fields{"group": group, "stored": stored, "removed": len(gone), "kept-off": kept,
			"listed": len(orders)}).Info("pulled appointments stored")
	}
	for grp := range woken {
		h.wakeGroup(grp)
	}
	return nil
}

func (h *Hub) storeFailed(err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	h.health.Report(domain.Health{Component: "store", Code: "order-write-failed", Severity: domain.SeverityError,
		Detail: err.Error(), LastError: err.Error()})
}

// fingerprint identifies what a source said about an appointment.
func fingerprint(o domain.Order) string {
	b, err := json.Marshal(o)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// runPulls asks the pull sources again every pollInterval for the groups
// whose tablets read their worklist lately (they long-poll), so that a
// change in the EHR reaches waiting tablets without their asking.
func (h *Hub) runPulls(ctx context.Context) error {
	every := defaultPollInterval
	for i, p := range h.pulls {
		if ps, ok := p.(pollingSource); ok && ps.PollInterval() > 0 && (i == 0 || ps.PollInterval() < every) {
			every = ps.PollInterval()
		}
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		for _, group := range h.activeGroups() {
			if ctx.Err() != nil {
				return nil
			}
			h.pullGroup(ctx, group, false)
		}
	}
}
