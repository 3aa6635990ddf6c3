package view

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/domain"
)

// fakeAPI is a hub behind the control API for the tabs' tests: it keeps
// orders, groups and tablets in memory and records what it was asked.
// What a test does not set up answers Unavailable.
type fakeAPI struct {
	mu      sync.Mutex
	orders  []domain.Order
	groups  []domain.Group
	tablets []domain.Device
	pairing control.Pairing
	// err, if set, is the answer of every call.
	err error

	queries  []control.OrderQuery
	counts   []control.OrderQuery // CountOrders' queries
	orderIDs []string
	deletes  []control.DeleteOrderRequest
	changes  []control.TabletChange
	pairings []string
	events   chan control.Event

	results        []control.ResultSummary
	attempts       map[int64][]domain.Attempt
	report         string // every result's report path
	resends        []control.ResendRequest
	cancels        []control.CancelRequest
	logLines       []control.LogLine
	logQs          []control.LogQuery
	savedGroups    []domain.Group
	deletedGroups  []string
	deleteGroupErr error
	configJSON     string
	conns          []control.Connection
	outcomes       []control.CheckOutcome
	tested         []string
	clients        []control.APIClient
	revokes        []control.RevokeAPIClientRequest
}

func unavailable(what string) error {
	return control.Errorf(control.Unavailable, "%s is not part of this test", what)
}

func (f *fakeAPI) Status(context.Context) (control.Status, error) {
	return control.Status{}, unavailable("status")
}

func (f *fakeAPI) Orders(_ context.Context, q control.OrderQuery) ([]domain.Order, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	if f.err != nil {
		return nil, f.err
	}
	var out []domain.Order
	for _, o := range f.orders {
		if !orderMatches(o, q) {
			continue
		}
		if q.Summary {
			// As the hub: a list row's appointment without its fields.
			o.Fields, o.Meta = nil, nil
		}
		out = append(out, o)
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

func (f *fakeAPI) CountOrders(_ context.Context, q control.OrderQuery) (map[string]int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts = append(f.counts, q)
	if f.err != nil {
		return nil, f.err
	}
	out := map[string]int{}
	for _, o := range f.orders {
		if orderMatches(o, q) {
			out[o.Group]++
		}
	}
	return out, nil
}

// orderMatches filters as the hub does (text: name, patient ID, order number).
func orderMatches(o domain.Order, q control.OrderQuery) bool {
	text := strings.ToLower(q.Text)
	switch {
	case q.Group != "" && o.Group != q.Group:
		return false
	case len(q.States) > 0 && !slices.Contains(q.States, o.State):
		return false
	case text != "" && !strings.Contains(strings.ToLower(o.Patient.Name.Full()), text) &&
		!strings.Contains(strings.ToLower(o.Patient.ID), text) &&
		!strings.Contains(strings.ToLower(o.PlacerNumber), text):
		return false
	}
	return true
}

func (f *fakeAPI) Order(_ context.Context, id string) (domain.Order, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.orderIDs = append(f.orderIDs, id)
	if f.err != nil {
		return domain.Order{}, f.err
	}
	for _, o := range f.orders {
		if o.ID == id {
			return o, nil
		}
	}
	return domain.Order{}, control.Errorf(control.NotFound, "no appointment %s", id)
}

func (f *fakeAPI) DeleteOrder(_ context.Context, req control.DeleteOrderRequest) (domain.Order, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deletes = append(f.deletes, req)
	if f.err != nil {
		return domain.Order{}, f.err
	}
	if strings.TrimSpace(req.Reason) == "" {
		return domain.Order{}, control.InvalidField("reason", "say why the appointment is deleted")
	}
	for i, o := range f.orders {
		if o.ID == req.ID {
			f.orders[i].State = domain.OrderDeleted
			return f.orders[i], nil
		}
	}
	return domain.Order{}, control.Errorf(control.NotFound, "no appointment %s", req.ID)
}

func (f *fakeAPI) Deliveries(context.Context, control.DeliveryQuery) ([]domain.Delivery, error) {
	return nil, unavailable("deliveries")
}

func (f *fakeAPI) Delivery(_ context.Context, id int64) (control.DeliveryDetail, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.results {
		for _, d := range r.Deliveries {
			if d.ID == id {
				return control.DeliveryDetail{Delivery: d, Attempts: f.attempts[id]}, nil
			}
		}
	}
	return control.DeliveryDetail{}, control.Errorf(control.NotFound, "no delivery %d", id)
}

// setDeliveries changes the state of every delivery in states to to.
func (f *fakeAPI) setDeliveries(match func(domain.Delivery) bool, to domain.DeliveryState) int {
	n := 0
	for i := range f.results {
		for j, d := range f.results[i].Deliveries {
			if match(d) {
				f.results[i].Deliveries[j].State = to
				n++
			}
		}
	}
	return n
}

func (f *fakeAPI) Resend(_ context.Context, req control.ResendRequest) (control.ResendResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resends = append(f.resends, req)
	if f.err != nil {
		return control.ResendResult{}, f.err
	}
	if strings.TrimSpace(req.Reason) == "" {
		return control.ResendResult{}, control.InvalidField("reason", "say why the result is sent again")
	}
	n := f.setDeliveries(func(d domain.Delivery) bool {
		return (req.ID != 0 && d.ID == req.ID) || (req.Failed && d.State == domain.DeliveryFailed) ||
			(req.Ambiguous && d.State == domain.DeliveryAmbiguous)
	}, domain.DeliveryQueued)
	return control.ResendResult{Count: n}, nil
}

func (f *fakeAPI) Cancel(_ context.Context, req control.CancelRequest) (domain.Delivery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cancels = append(f.cancels, req)
	if f.err != nil {
		return domain.Delivery{}, f.err
	}
	f.setDeliveries(func(d domain.Delivery) bool { return d.ID == req.ID }, domain.DeliveryCancelled)
	return domain.Delivery{ID: req.ID, State: domain.DeliveryCancelled}, nil
}

func (f *fakeAPI) Result(_ context.Context, id string) (control.ResultDetail, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.results {
		if r.ID == id {
			return control.ResultDetail{Result: domain.Result{ID: id}, ReportPath: f.report, Deliveries: r.Deliveries}, nil
		}
	}
	return control.ResultDetail{}, control.Errorf(control.NotFound, "no result %s", id)
}

func (f *fakeAPI) Results(_ context.Context, q control.ResultQuery) ([]control.ResultSummary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	text := strings.ToLower(q.Text)
	var out []control.ResultSummary
	for _, r := range f.results {
		if text != "" && !strings.Contains(strings.ToLower(r.PatientName+" "+r.PatientID+" "+r.Measurement), text) {
			continue
		}
		r.Deliveries = slices.Clone(r.Deliveries)
		out = append(out, r)
	}
	return out, nil
}

func (f *fakeAPI) Tablets(context.Context) ([]domain.Device, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	return slices.Clone(f.tablets), nil
}

func (f *fakeAPI) UpdateTablet(_ context.Context, req control.TabletChange) (domain.Device, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changes = append(f.changes, req)
	if f.err != nil {
		return domain.Device{}, f.err
	}
	for i, d := range f.tablets {
		if d.ID != req.ID {
			continue
		}
		if req.Name != nil {
			f.tablets[i].Name = *req.Name
		}
		if req.Group != nil {
			f.tablets[i].Group = *req.Group
		}
		if req.Revoke {
			f.tablets[i].Revoked = true
		}
		return f.tablets[i], nil
	}
	return domain.Device{}, control.Errorf(control.NotFound, "no tablet %s", req.ID)
}

func (f *fakeAPI) NewPairingCode(_ context.Context, group string) (control.Pairing, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pairings = append(f.pairings, group)
	if f.err != nil {
		return control.Pairing{}, f.err
	}
	p := f.pairing
	p.Group = group
	return p, nil
}

func (f *fakeAPI) Groups(context.Context) ([]domain.Group, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	return slices.Clone(f.groups), nil
}
func (f *fakeAPI) SaveGroup(_ context.Context, g domain.Group) (domain.Group, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.savedGroups = append(f.savedGroups, g)
	if f.err != nil {
		return domain.Group{}, f.err
	}
	if g.ID == "" {
		g.ID = strings.ToLower(strings.ReplaceAll(g.Name, " ", "-"))
		f.groups = append(f.groups, g)
	}
	for i := range f.groups {
		if g.Default {
			f.groups[i].Default = f.groups[i].ID == g.ID
		}
		if f.groups[i].ID == g.ID {
			f.groups[i].Name = g.Name
		}
	}
	return g, nil
}

func (f *fakeAPI) DeleteGroup(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deletedGroups = append(f.deletedGroups, id)
	if f.deleteGroupErr != nil {
		return f.deleteGroupErr
	}
	f.groups = slices.DeleteFunc(f.groups, func(g domain.Group) bool { return g.ID == id })
	return nil
}
func (f *fakeAPI) Connections(context.Context) ([]control.Connection, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conns == nil {
		return nil, unavailable("connections")
	}
	return slices.Clone(f.conns), nil
}

func (f *fakeAPI) TestConnection(_ context.Context, name string) ([]control.CheckOutcome, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tested = append(f.tested, name)
	if f.err != nil {
		return nil, f.err
	}
	return f.outcomes, nil
}
func (f *fakeAPI) APIClients(_ context.Context, conn string) ([]control.APIClient, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.clients), nil
}

func (f *fakeAPI) AddAPIClient(_ context.Context, req control.AddAPIClientRequest) (control.APICredentials, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := control.APIClient{ID: "cl-" + req.Name, Connection: req.Connection, Name: req.Name}
	f.clients = append(f.clients, c)
	return control.APICredentials{ClientID: c.ID, ClientSecret: "s3cr3t-" + req.Name, Name: req.Name, Connection: req.Connection}, nil
}

func (f *fakeAPI) RevokeAPIClient(_ context.Context, req control.RevokeAPIClientRequest) (control.APIClient, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revokes = append(f.revokes, req)
	for i := range f.clients {
		if f.clients[i].ID == req.ID {
			f.clients[i].RevokedAt = testNow
			return f.clients[i], nil
		}
	}
	return control.APIClient{}, control.Errorf(control.NotFound, "no client %s", req.ID)
}

func (f *fakeAPI) LogTail(_ context.Context, q control.LogQuery) ([]control.LogLine, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logQs = append(f.logQs, q)
	if f.err != nil {
		return nil, f.err
	}
	var out []control.LogLine
	for _, l := range f.logLines {
		if q.Text == "" || strings.Contains(l.Message, q.Text) {
			out = append(out, l)
		}
	}
	return out, nil
}

func (f *fakeAPI) Config(context.Context) (control.ConfigDoc, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.configJSON == "" {
		return control.ConfigDoc{}, unavailable("config")
	}
	return control.ConfigDoc{JSON: []byte(f.configJSON)}, nil
}
func (f *fakeAPI) ValidateConfig(context.Context, control.ConfigDoc) (control.ConfigCheck, error) {
	return control.ConfigCheck{}, unavailable("config")
}
func (f *fakeAPI) SaveConfig(context.Context, control.ConfigDoc) (control.ConfigCheck, error) {
	return control.ConfigCheck{}, unavailable("config")
}
func (f *fakeAPI) ExportDiagnostics(context.Context, control.DiagRequest) (control.DiagResult, error) {
	return control.DiagResult{}, unavailable("diagnostics")
}

// Subscribe hands out the events channel (made on first use); the test
// sends on it.
func (f *fakeAPI) Subscribe(ctx context.Context) (<-chan control.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.events == nil {
		f.events = make(chan control.Event, 8)
	}
	return f.events, nil
}

func (f *fakeAPI) Show(context.Context, string) error { return unavailable("show") }

var _ control.API = (*fakeAPI)(nil)

// lastQuery is the newest order query the fake received.
func (f *fakeAPI) lastQuery() control.OrderQuery {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queries) == 0 {
		return control.OrderQuery{}
	}
	return f.queries[len(f.queries)-1]
}
