// Package control is the hub's control API: one interface covering what a
// person does with the hub (status, worklist, results and their delivery,
// tablets, groups, connections, diagnostics) and a change-event stream, so
// that the Dashboard, the tray and the command line never reach around the
// hub into its database. The hub implements API in-process; Serve exposes
// an API on a local endpoint only the same OS user can reach, and Client
// speaks to it from another process.
package control

import (
	"context"
	"encoding/json"
	"time"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/retention"
	"github.com/mesi/mconnect/connectors/connector"
)

// API is everything the user interfaces ask of a hub. Errors are *Error
// with a Kind; never a Go error chain for people.
type API interface {
	// Status describes the hub and the health of every component.
	Status(ctx context.Context) (Status, error)

	// Orders lists appointments (newest first) matching q.
	Orders(ctx context.Context, q OrderQuery) ([]domain.Order, error)
	// CountOrders counts the appointments matching q (its Limit and
	// Summary aside) by group ID.
	CountOrders(ctx context.Context, q OrderQuery) (map[string]int, error)
	// Order returns one appointment with every field.
	Order(ctx context.Context, id string) (domain.Order, error)
	// DeleteOrder takes an appointment off the worklist (audit-logged with
	// the reason; the tablets of its group are woken).
	DeleteOrder(ctx context.Context, req DeleteOrderRequest) (domain.Order, error)

	// Deliveries lists result deliveries (newest first) matching q.
	Deliveries(ctx context.Context, q DeliveryQuery) ([]domain.Delivery, error)
	// Delivery returns one delivery with every attempt.
	Delivery(ctx context.Context, id int64) (DeliveryDetail, error)
	// Resend sends one delivery again, or every failed / ambiguous one.
	Resend(ctx context.Context, req ResendRequest) (ResendResult, error)
	// Cancel gives up a delivery.
	Cancel(ctx context.Context, req CancelRequest) (domain.Delivery, error)
	// Result returns a stored result with the path of its PDF report.
	Result(ctx context.Context, id string) (ResultDetail, error)
	// Results lists the newest results with their patient, tablet and
	// deliveries, for the Dashboard's Results tab.
	Results(ctx context.Context, q ResultQuery) ([]ResultSummary, error)

	// Tablets lists the paired tablets.
	Tablets(ctx context.Context) ([]domain.Device, error)
	// UpdateTablet renames, moves or revokes a tablet.
	UpdateTablet(ctx context.Context, req TabletChange) (domain.Device, error)
	// NewPairingCode creates a one-time code and the pairing URL (the QR
	// code's content) for a tablet joining group (empty: the default).
	NewPairingCode(ctx context.Context, group string) (Pairing, error)

	// Groups lists the tablet groups.
	Groups(ctx context.Context) ([]domain.Group, error)
	// SaveGroup creates a group (empty ID) or renames one; Default makes it
	// the group that orders without a mapping go to.
	SaveGroup(ctx context.Context, g domain.Group) (domain.Group, error)
	// DeleteGroup deletes a group without tablets or open appointments.
	DeleteGroup(ctx context.Context, id string) error

	// Connections describes each connector with its endpoints, checks and
	// health.
	Connections(ctx context.Context) ([]Connection, error)
	// TestConnection runs the checks of a connection.
	TestConnection(ctx context.Context, name string) ([]CheckOutcome, error)

	// APIClients lists the clients registered for the Integration API of a
	// pushing EHR (Join, ZipLaneRx); conn empty: every connection.
	APIClients(ctx context.Context, conn string) ([]APIClient, error)
	// AddAPIClient registers a client; its secret is in the answer only
	// (the hub keeps a hash).
	AddAPIClient(ctx context.Context, req AddAPIClientRequest) (APICredentials, error)
	// RevokeAPIClient revokes a client at once (its tokens stop working).
	RevokeAPIClient(ctx context.Context, req RevokeAPIClientRequest) (APIClient, error)

	// LogTail returns the newest lines of the hub's log (oldest first).
	LogTail(ctx context.Context, q LogQuery) ([]LogLine, error)

	// Config returns the configuration file in use.
	Config(ctx context.Context) (ConfigDoc, error)
	// ValidateConfig checks a configuration without saving it.
	ValidateConfig(ctx context.Context, doc ConfigDoc) (ConfigCheck, error)
	// SaveConfig validates, saves atomically and applies a configuration by
	// restarting the hub in place. With problems nothing is saved; when the
	// new configuration cannot start, the previous one is restored and runs
	// again, and the error says why.
	SaveConfig(ctx context.Context, doc ConfigDoc) (ConfigCheck, error)

	// ExportDiagnostics writes the support bundle, with live health.
	ExportDiagnostics(ctx context.Context, req DiagRequest) (DiagResult, error)

	// Subscribe streams change events until ctx is done; the channel is
	// closed then (or when the hub goes away).
	Subscribe(ctx context.Context) (<-chan Event, error)
	// Show asks the desktop application attached to the hub to bring its
	// Dashboard to the front (ErrNoWindow-kind Unavailable when none).
	Show(ctx context.Context, tab string) error
}

// State is where the hub is in its life.
type State string

// Hub states.
const (
	StateNotConfigured State = "not-configured"
	StateStarting      State = "starting"
	StateRunning       State = "running"
	StateFailed        State = "failed"
	StateStopping      State = "stopping"
)

// Status describes a hub.
type Status struct {
	State       State     `json:"state"`
	Version     string    `json:"version"`
	HubID       string    `json:"hubId,omitempty"`
	HubName     string    `json:"hubName"`
	EHR         string    `json:"ehr,omitempty"`
	ConfigPath  string    `json:"configPath"`
	DataDir     string    `json:"dataDir"`
	LANAddress  string    `json:"lanAddress,omitempty"`
	Fingerprint string    `json:"fingerprint,omitempty"`
	StartedAt   time.Time `json:"startedAt,omitempty"`
	PID         int       `json:"pid"`
	// Desktop is true when the hub runs inside the desktop application,
	// whose window a second launch brings forward (Show).
	Desktop bool `json:"desktop,omitempty"`
	// Storage is the disk and data sizes and the daily clean-up's last and
	// next run (nil: not known).
	Storage *retention.Status `json:"storage,omitempty"`
	// Problem says why the hub is not running (failed / not configured),
	// technical text behind "Details".
	Problem string          `json:"problem,omitempty"`
	Health  []domain.Health `json:"health"`
	// Update is a newer signed version people may install (nil: none
	// known, or update.check is off). The hub never installs it itself.
	Update *UpdateNotice `json:"update,omitempty"`
}

// UpdateNotice describes a newer version of the hub: its version, release
// date (YYYY-MM-DD), release notes by language ("en" always) and the
// address of its download page or installer.
type UpdateNotice struct {
	Version string            `json:"version"`
	Date    string            `json:"date"`
	Notes   map[string]string `json:"notes"`
	URL     string            `json:"url"`
}

// Worst returns the highest severity among the components.
func (s Status) Worst() domain.Severity {
	w := domain.SeverityOK
	if s.State == StateFailed {
		w = domain.SeverityError
	}
	for _, h := range s.Health {
		if h.Severity > w {
			w = h.Severity
		}
	}
	return w
}

// OrderQuery filters appointments.
type OrderQuery struct {
	Group  string              `json:"group,omitempty"`
	States []domain.OrderState `json:"states,omitempty"`
	// Text matches name, patient ID, order number and other text.
	Text  string `json:"text,omitempty"`
	Limit int    `json:"limit,omitempty"`
	// Summary leaves out what only an appointment's details show (Fields,
	// Meta: most of it), for a list; Order returns the whole appointment.
	Summary bool `json:"summary,omitempty"`
}

// DeleteOrderRequest deletes an appointment; Reason is required.
type DeleteOrderRequest struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
	Actor  string `json:"actor,omitempty"`
}

// DeliveryQuery filters deliveries.
type DeliveryQuery struct {
	ResultID   string                 `json:"resultId,omitempty"`
	Connection string                 `json:"connection,omitempty"`
	States     []domain.DeliveryState `json:"states,omitempty"`
	BeforeID   int64                  `json:"beforeId,omitempty"`
	Limit      int                    `json:"limit,omitempty"`
}

// DeliveryDetail is a delivery with its attempts.
type DeliveryDetail struct {
	Delivery domain.Delivery  `json:"delivery"`
	Attempts []domain.Attempt `json:"attempts"`
}

// ResendRequest names one delivery (ID), or all failed / all ambiguous
// ones (of Connection, empty: every connection). Reason is required.
type ResendRequest struct {
	ID         int64  `json:"id,omitempty"`
	Failed     bool   `json:"failed,omitempty"`
	Ambiguous  bool   `json:"ambiguous,omitempty"`
	Connection string `json:"connection,omitempty"`
	Reason     string `json:"reason"`
	Actor      string `json:"actor,omitempty"`
}

// ResendResult counts the deliveries queued again.
type ResendResult struct {
	Count int `json:"count"`
}

// CancelRequest gives up a delivery; Reason is required.
type CancelRequest struct {
	ID     int64  `json:"id"`
	Reason string `json:"reason"`
	Actor  string `json:"actor,omitempty"`
}

// ResultDetail is a result with where its report is.
type ResultDetail struct {
	Result     domain.Result     `json:"result"`
	ReportPath string            `json:"reportPath,omitempty"`
	Deliveries []domain.Delivery `json:"deliveries"`
}

// ResultQuery filters results: Limit is how many of the newest (default
// 200, at most 2000); Text matches patient name, patient ID, measurement
// or tablet.
type ResultQuery struct {
	Limit int    `json:"limit,omitempty"`
	Text  string `json:"text,omitempty"`
}

// ResultSummary is one result as the Results tab lists it: who, what,
// when, which tablet, and where each delivery stands. Observations and the
// report are left out (Result has them).
type ResultSummary struct {
	ID          string            `json:"id"`
	OrderID     string            `json:"orderId,omitempty"`
	PatientName string            `json:"patientName,omitempty"`
	PatientID   string            `json:"patientId,omitempty"`
	Measurement string            `json:"measurement"`
	PerformedAt time.Time         `json:"performedAt"`
	ReceivedAt  time.Time         `json:"receivedAt"`
	DeviceID    string            `json:"deviceId,omitempty"`
	DeviceName  string            `json:"deviceName,omitempty"`
	HasReport   bool              `json:"hasReport,omitempty"`
	Deliveries  []domain.Delivery `json:"deliveries"`
}

// TabletChange changes a tablet: any of a new name, a new group, revoke.
type TabletChange struct {
	ID     string  `json:"id"`
	Name   *string `json:"name,omitempty"`
	Group  *string `json:"group,omitempty"`
	Revoke bool    `json:"revoke,omitempty"`
	Reason string  `json:"reason,omitempty"`
	Actor  string  `json:"actor,omitempty"`
}

// Pairing is a one-time pairing code.
type Pairing struct {
	Code        string    `json:"code"`
	Expires     time.Time `json:"expires"`
	Group       string    `json:"group"`
	URL         string    `json:"url"` // what the QR code holds
	Fingerprint string    `json:"fingerprint,omitempty"`
}

// Connection describes one connector of the hub.
type Connection struct {
	Name      string               `json:"name"`
	Section   string               `json:"section"`
	Label     string               `json:"label,omitempty"`
	Endpoints []connector.Endpoint `json:"endpoints"`
	Checks    []string             `json:"checks"`
	Health    []domain.Health      `json:"health"`
}

// CheckOutcome is the result of one check of a connection.
type CheckOutcome struct {
	What   string                `json:"what"`
	Result connector.CheckResult `json:"result"`
}

// APIClient is a client of the Integration API.
type APIClient struct {
	ID         string    `json:"id"`
	Connection string    `json:"connection"`
	Name       string    `json:"name"`
	CreatedAt  time.Time `json:"createdAt"`
	LastUsedAt time.Time `json:"lastUsedAt,omitempty"`
	RevokedAt  time.Time `json:"revokedAt,omitempty"`
}

// AddAPIClientRequest registers a client of a connection.
type AddAPIClientRequest struct {
	Connection string `json:"connection"`
	Name       string `json:"name"`
	Actor      string `json:"actor,omitempty"`
}

// APICredentials are a new client's ID and secret, shown once.
type APICredentials struct {
	ClientID     string    `json:"clientId"`
	ClientSecret string    `json:"clientSecret"`
	Name         string    `json:"name"`
	Connection   string    `json:"connection"`
	CreatedAt    time.Time `json:"createdAt"`
}

// RevokeAPIClientRequest revokes a client; Reason is required.
type RevokeAPIClientRequest struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
	Actor  string `json:"actor,omitempty"`
}

// LogQuery filters the log: Level is the lowest level shown (debug,
// info, warn, error; empty: info); Text matches message and fields.
type LogQuery struct {
	Level string `json:"level,omitempty"`
	Text  string `json:"text,omitempty"`
	Limit int    `json:"limit,omitempty"`
	// Summary leaves out what only an appointment's details show (Fields,
	// Meta: most of it), for a list; Order returns the whole appointment.
	Summary bool `json:"summary,omitempty"`
}

// LogLine is one log entry. Patient data is never logged above debug.
type LogLine struct {
	Time    time.Time         `json:"time"`
	Level   string            `json:"level"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// ConfigDoc is a configuration file: where it is and its JSON. Secrets in
// it are references (keyring:NAME, env:VAR), never values.
type ConfigDoc struct {
	Path string          `json:"path,omitempty"`
	JSON json.RawMessage `json:"json"`
}

// ConfigCheck lists what is wrong with a configuration, each problem
// naming its key ("hl7.listen: port 99999 out of range"); empty: valid.
type ConfigCheck struct {
	Problems []config.Problem `json:"problems,omitempty"`
}

// DiagRequest asks for a support bundle at Out (a .zip path).
type DiagRequest struct {
	Out                string `json:"out"`
	IncludePatientData bool   `json:"includePatientData,omitempty"`
}

// DiagResult describes the bundle written.
type DiagResult struct {
	Path     string        `json:"path"`
	Sections []DiagSection `json:"sections"`
}

// DiagSection is one part of the bundle; Problem says why it was left out.
type DiagSection struct {
	Name    string `json:"name"`
	Problem string `json:"problem,omitempty"`
}

// EventKind says what changed.
type EventKind string

// Event kinds.
const (
	EventHealth     EventKind = "health"     // Health holds every component
	EventOrders     EventKind = "orders"     // Group's worklist changed
	EventDeliveries EventKind = "deliveries" // a result or delivery changed
	EventTablets    EventKind = "tablets"    // a tablet was paired, changed or reported
	EventGroups     EventKind = "groups"
	EventShow       EventKind = "show" // a second launch asks the window to come forward
	EventState      EventKind = "state"
)

// Event is one change.
type Event struct {
	Kind   EventKind       `json:"kind"`
	Group  string          `json:"group,omitempty"`
	Health []domain.Health `json:"health,omitempty"`
	State  State           `json:"state,omitempty"`
	// Tab is the Dashboard tab a Show event asks for (empty: as it is).
	Tab string    `json:"tab,omitempty"`
	At  time.Time `json:"at"`
}
