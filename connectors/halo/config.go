package halo

import (
	"strings"
	"time"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/connectors/credurl"
	"github.com/mesi/mconnect/connectors/pull"
)

// Section is the config key of Config.
const Section = "halo"

// Config is the "halo" config section: Best Practice (Bp Premier) through
// HALO Connect's integrator API.
type Config struct {
	// BaseURL is HALO's API (default https://api.haloconnect.io; stage
	// https://api.stage.haloconnect.io).
	BaseURL string `json:"baseURL"`
	// SiteID is the practice's Halo GUID (from the site pairing).
	SiteID string `json:"siteId"`
	// APIKey is a secret reference (keyring:NAME or env:VAR) to the
	// integrator subscription key, sent as Ocp-Apim-Subscription-Key.
	APIKey string `json:"apiKey"`
	// Catalogue is the HALO catalogue (database) the queries run against.
	Catalogue string `json:"catalogue"`
	// Appointments is how the worklist is read.
	Appointments AppointmentsConfig `json:"appointments"`
	// Results is how results are written back.
	Results ResultsConfig `json:"results"`
	pull.Settings
}

// AppointmentsConfig is the immediate reader query of the appointments.
type AppointmentsConfig struct {
	// Query is the SQL text; @from and @to (DateTime, the practice's
	// local time) bound the window.
	Query string `json:"query"`
	// MaxTimeInQueue is HALO's maxTimeInQueue (default 15s, up to 60s).
	MaxTimeInQueue config.Duration `json:"maxTimeInQueue"`
	// Columns names the query's columns.
	Columns Columns `json:"columns"`
	// CancelledStatuses are the Status values that take an appointment
	// off the worklist.
	CancelledStatuses []string `json:"cancelledStatuses"`
}

// Columns maps the query's columns to what the hub reads from them. ID,
// PatientID and Date are required; Time may be empty when Date carries
// the time of day.
type Columns struct {
	ID         string `json:"id"`
	PatientID  string `json:"patientId"`
	GivenName  string `json:"givenName"`
	FamilyName string `json:"familyName"`
	BirthDate  string `json:"birthDate"`
	Sex        string `json:"sex"`
	Status     string `json:"status"`
	// Date is the appointment's date (and time, when Time is empty);
	// Time the time of day in seconds after midnight (Bp Premier's
	// AppointmentTime) or as HH:MM[:SS].
	Date     string `json:"date"`
	Time     string `json:"time"`
	Provider string `json:"provider"`
	Type     string `json:"type"`
}

// ResultsConfig is the async nonQuery command that writes a result.
type ResultsConfig struct {
	// Command is the SQL text; it gets @resultId, @appointmentId,
	// @patientId, @resultJson (the result JSON, docs/result-json.md) and
	// @pdf (the PDF report).
	Command string `json:"command"`
	// CommandType is HALO's command type: text (default) or storedProcedure.
	CommandType string `json:"commandType"`
	// PDFType is the type of @pdf: VarBinary (default; the value is the
	// PDF in base64, HALO's encoding of binary values) or NVarChar (the
	// base64 text itself).
	PDFType string `json:"pdfType"`
	// MaxTimeInQueue is HALO's maxTimeInQueue (default 1h, up to 2h).
	MaxTimeInQueue config.Duration `json:"maxTimeInQueue"`
	// PollMax is the longest pause between two reads of the query's
	// status (default 15s; pauses start at 1s and double); PollFor is how
	// long one attempt reads before it leaves the rest to the next
	// attempt (default 90s).
	PollMax config.Duration `json:"pollMax"`
	PollFor config.Duration `json:"pollFor"`
	// Timeout bounds one HTTP call (default 30s).
	Timeout config.Duration `json:"timeout"`
}

// DefaultBaseURL is HALO Connect's production API.
const DefaultBaseURL = "https://api.haloconnect.io"

// DefaultQuery reads Bp Premier's appointments of the window with their
// patients. Bp Premier stores the date at midnight and the time of day in
// seconds; the hub narrows the day to the window.
const DefaultQuery = `SELECT a.RecordID AS AppointmentID, a.InternalID, p.Firstname, p.Surname, p.DOB, p.Sex,
       a.Status, a.AppointmentDate, a.AppointmentTime, a.Provider, a.AppointmentType
FROM dbo.BPS_Appointments a
JOIN dbo.BPS_Patients p ON p.InternalID = a.InternalID
WHERE a.AppointmentDate >= CAST(@from AS date) AND a.AppointmentDate <= CAST(@to AS date)
ORDER BY a.AppointmentDate, a.AppointmentTime`

// DefaultCommand calls the practice's stored procedure that files a result
// (docs/CLOUD-SETUP.md); it must ignore a @resultId it has filed before.
const DefaultCommand = `EXEC dbo.MESI_SaveResult @ResultId = @resultId, @AppointmentId = @appointmentId, @PatientId = @patientId, @ResultJson = @resultJson, @Pdf = @pdf`

// DefaultColumns are the columns of DefaultQuery.
var DefaultColumns = Columns{
	ID: "AppointmentID", PatientID: "InternalID", GivenName: "Firstname", FamilyName: "Surname",
	BirthDate: "DOB", Sex: "Sex", Status: "Status", Date: "AppointmentDate", Time: "AppointmentTime",
	Provider: "Provider", Type: "AppointmentType",
}

// ApplyDefaults fills empty values.
func (c *Config) ApplyDefaults() {
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	a := &c.Appointments
	if a.Query == "" {
		a.Query = DefaultQuery
	}
	if a.MaxTimeInQueue == 0 {
		a.MaxTimeInQueue = config.Duration(15 * time.Second)
	}
	if a.Columns == (Columns{}) {
		a.Columns = DefaultColumns
	}
	if a.CancelledStatuses == nil {
		a.CancelledStatuses = []string{"Cancelled"}
	}
	r := &c.Results
	if r.Command == "" {
		r.Command = DefaultCommand
	}
	if r.CommandType == "" {
		r.CommandType = "text"
	}
	if r.PDFType == "" {
		r.PDFType = "VarBinary"
	}
	if r.MaxTimeInQueue == 0 {
		r.MaxTimeInQueue = config.Duration(time.Hour)
	}
	if r.PollMax == 0 {
		r.PollMax = config.Duration(15 * time.Second)
	}
	if r.PollFor == 0 {
		r.PollFor = config.Duration(90 * time.Second)
	}
	if r.Timeout == 0 {
		r.Timeout = config.Duration(30 * time.Second)
	}
	c.Settings.ApplyDefaults()
}

// Validate reports every invalid key.
func (c *Config) Validate(ck *config.Checker) {
	pull.CheckBaseURL(ck, "baseURL", c.BaseURL)
	credurl.NoCredentials(ck, "baseURL", c.BaseURL)
	if strings.TrimSpace(c.SiteID) == "" {
		ck.Add("siteId", "must name the practice's Halo GUID (shown when the site was paired in HALO)")
	} else if strings.ContainsAny(c.SiteID, "/?#% ") {
		ck.Add("siteId", "%q is not a Halo GUID", c.SiteID)
	}
	ck.SecretRef("apiKey", c.APIKey)
	a := c.Appointments
	if !strings.Contains(a.Query, "@from") || !strings.Contains(a.Query, "@to") {
		ck.Add("appointments.query", "must use @from and @to (the window's bounds)")
	}
	ck.RangeDur("appointments.maxTimeInQueue", a.MaxTimeInQueue.D(), 0, 60*time.Second)
	for key, v := range map[string]string{"id": a.Columns.ID, "patientId": a.Columns.PatientID, "date": a.Columns.Date} {
		if strings.TrimSpace(v) == "" {
			ck.Add("appointments.columns."+key, "must name a column of the query")
		}
	}
	r := c.Results
	if strings.TrimSpace(r.Command) == "" {
		ck.Add("results.command", "must not be empty")
	}
	if r.CommandType != "text" && r.CommandType != "storedProcedure" {
		ck.Add("results.commandType", "%q is not text or storedProcedure", r.CommandType)
	}
	if r.PDFType != "VarBinary" && r.PDFType != "NVarChar" {
		ck.Add("results.pdfType", "%q is not VarBinary or NVarChar", r.PDFType)
	}
	ck.RangeDur("results.maxTimeInQueue", r.MaxTimeInQueue.D(), 0, 2*time.Hour)
	ck.RangeDur("results.pollMax", r.PollMax.D(), 100*time.Millisecond, 5*time.Minute)
	ck.RangeDur("results.pollFor", r.PollFor.D(), 100*time.Millisecond, 10*time.Minute)
	ck.RangeDur("results.timeout", r.Timeout.D(), time.Second, 5*time.Minute)
	c.Settings.Validate(ck)
}
