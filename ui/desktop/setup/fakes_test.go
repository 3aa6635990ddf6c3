package setup

import (
	"context"
	"errors"
	"sync"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/registry"
)

// fakeAPI is a hub behind the control API: it holds one configuration
// file's JSON, validates with the default registry as the hub does and
// records what it was asked. What a test does not set up answers
// Unavailable.
type fakeAPI struct {
	mu       sync.Mutex
	config   []byte
	status   control.Status
	saveErr  error // the answer of SaveConfig (after validation)
	diag     control.DiagResult
	diagErr  error
	validate []control.ConfigDoc
	saves    []control.ConfigDoc
	diags    []control.DiagRequest
}

func unavailable(what string) error {
	return control.Errorf(control.Unavailable, "%s is not part of this test", what)
}

func (f *fakeAPI) Status(context.Context) (control.Status, error) { return f.status, nil }

func (f *fakeAPI) Config(context.Context) (control.ConfigDoc, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.config == nil {
		return control.ConfigDoc{}, control.Errorf(control.NotFound, "no configuration file yet")
	}
	return control.ConfigDoc{Path: "/etc/mconnect/config.json", JSON: append([]byte(nil), f.config...)}, nil
}

func check(doc control.ConfigDoc) control.ConfigCheck {
	if _, err := registry.Parse(doc.JSON); err != nil {
		var ve *config.ValidationError
		if errors.As(err, &ve) {
			return control.ConfigCheck{Problems: ve.Problems}
		}
		return control.ConfigCheck{Problems: []config.Problem{{Problem: err.Error()}}}
	}
	return control.ConfigCheck{}
}

func (f *fakeAPI) ValidateConfig(_ context.Context, doc control.ConfigDoc) (control.ConfigCheck, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.validate = append(f.validate, doc)
	return check(doc), nil
}

func (f *fakeAPI) SaveConfig(_ context.Context, doc control.ConfigDoc) (control.ConfigCheck, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.saves = append(f.saves, doc)
	chk := check(doc)
	if len(chk.Problems) > 0 {
		return chk, nil
	}
	if f.saveErr != nil {
		return chk, f.saveErr
	}
	f.config = append([]byte(nil), doc.JSON...)
	return chk, nil
}

func (f *fakeAPI) ExportDiagnostics(_ context.Context, req control.DiagRequest) (control.DiagResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.diags = append(f.diags, req)
	return f.diag, f.diagErr
}

func (f *fakeAPI) Orders(context.Context, control.OrderQuery) ([]domain.Order, error) {
	return nil, unavailable("orders")
}
func (f *fakeAPI) CountOrders(context.Context, control.OrderQuery) (map[string]int, error) {
	return nil, unavailable("counts")
}
func (f *fakeAPI) Order(context.Context, string) (domain.Order, error) {
	return domain.Order{}, unavailable("order")
}
func (f *fakeAPI) DeleteOrder(context.Context, control.DeleteOrderRequest) (domain.Order, error) {
	return domain.Order{}, unavailable("delete")
}
func (f *fakeAPI) Deliveries(context.Context, control.DeliveryQuery) ([]domain.Delivery, error) {
	return nil, unavailable("deliveries")
}
func (f *fakeAPI) Delivery(context.Context, int64) (control.DeliveryDetail, error) {
	return control.DeliveryDetail{}, unavailable("delivery")
}
func (f *fakeAPI) Resend(context.Context, control.ResendRequest) (control.ResendResult, error) {
	return control.ResendResult{}, unavailable("resend")
}
func (f *fakeAPI) Cancel(context.Context, control.CancelRequest) (domain.Delivery, error) {
	return domain.Delivery{}, unavailable("cancel")
}
func (f *fakeAPI) Result(context.Context, string) (control.ResultDetail, error) {
	return control.ResultDetail{}, unavailable("result")
}
func (f *fakeAPI) Results(context.Context, control.ResultQuery) ([]control.ResultSummary, error) {
	return nil, unavailable("results")
}
func (f *fakeAPI) Tablets(context.Context) ([]domain.Device, error) {
	return nil, unavailable("tablets")
}
func (f *fakeAPI) UpdateTablet(context.Context, control.TabletChange) (domain.Device, error) {
	return domain.Device{}, unavailable("tablet change")
}
func (f *fakeAPI) NewPairingCode(context.Context, string) (control.Pairing, error) {
	return control.Pairing{}, unavailable("pairing")
}
func (f *fakeAPI) Groups(context.Context) ([]domain.Group, error) { return nil, unavailable("groups") }
func (f *fakeAPI) SaveGroup(context.Context, domain.Group) (domain.Group, error) {
	return domain.Group{}, unavailable("save group")
}
func (f *fakeAPI) DeleteGroup(context.Context, string) error { return unavailable("delete group") }
func (f *fakeAPI) Connections(context.Context) ([]control.Connection, error) {
	return nil, unavailable("connections")
}
func (f *fakeAPI) TestConnection(context.Context, string) ([]control.CheckOutcome, error) {
	return nil, unavailable("test connection")
}
func (f *fakeAPI) APIClients(context.Context, string) ([]control.APIClient, error) {
	return nil, unavailable("API clients")
}
func (f *fakeAPI) AddAPIClient(context.Context, control.AddAPIClientRequest) (control.APICredentials, error) {
	return control.APICredentials{}, unavailable("add API client")
}
func (f *fakeAPI) RevokeAPIClient(context.Context, control.RevokeAPIClientRequest) (control.APIClient, error) {
	return control.APIClient{}, unavailable("revoke API client")
}
func (f *fakeAPI) LogTail(context.Context, control.LogQuery) ([]control.LogLine, error) {
	return nil, unavailable("log")
}
func (f *fakeAPI) Subscribe(context.Context) (<-chan control.Event, error) {
	return nil, unavailable("events")
}
func (f *fakeAPI) Show(context.Context, string) error { return unavailable("show") }

// fakeSecrets records what would go to the OS keyring.
type fakeSecrets struct {
	mu       sync.Mutex
	stored   map[string]string
	checkErr error
	setErr   error
}

func newSecrets() *fakeSecrets { return &fakeSecrets{stored: map[string]string{}} }

func (s *fakeSecrets) Set(name, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.setErr != nil {
		return s.setErr
	}
	s.stored[name] = value
	return nil
}

func (s *fakeSecrets) Check() error { return s.checkErr }

// fakeAutostart keeps the start-at-login state.
type fakeAutostart struct {
	on     bool
	setErr error
	sets   []bool
}

func (a *fakeAutostart) Enabled() (bool, error) { return a.on, nil }
func (a *fakeAutostart) SetEnabled(on bool) error {
	a.sets = append(a.sets, on)
	if a.setErr != nil {
		return a.setErr
	}
	a.on = on
	return nil
}

func inline(f func()) { f() }
