package leyr

import (
	"strings"
	"time"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/connectors/credurl"
	"github.com/mesi/mconnect/connectors/pull"
)

// Section is the config key of Config.
const Section = "leyr"

// Config is the "leyr" config section: an EHR reached through Leyr (Vena,
// Webdoc).
type Config struct {
	// BaseURL is Leyr's API (default https://api.leyr.io/api).
	BaseURL string `json:"baseURL"`
	// EMR is Leyr's code of the EHR ("webdoc"); CareUnitID the clinic's
	// care unit in it.
	EMR        string `json:"emr"`
	CareUnitID string `json:"careUnitId"`
	// ClientID is sent as x-leyr-client-id; ClientSecret is a secret
	// reference (keyring:NAME or env:VAR) sent as x-leyr-client-secret.
	ClientID     string             `json:"clientId"`
	ClientSecret string             `json:"clientSecret"`
	Appointments AppointmentsConfig `json:"appointments"`
	Results      ResultsConfig      `json:"results"`
	pull.Settings
}

// AppointmentsConfig is how the worklist is read.
type AppointmentsConfig struct {
	// FromParam and ToParam name the date-range query parameters of Get
	// Appointments (defaults "from" and "to"); DateFormat is how their
	// values are written: "datetime" (RFC 3339, default) or "date"
	// (YYYY-MM-DD).
	FromParam  string `json:"fromParam"`
	ToParam    string `json:"toParam"`
	DateFormat string `json:"dateFormat"`
	// ResourceIDs, when set, ask only for these practitioners'
	// appointments (resource_id, repeated).
	ResourceIDs []string `json:"resourceIds,omitempty"`
	// DetailsTTL is how long a patient's or practitioner's details are
	// reused across pulls (default 10m); Concurrency bounds the detail
	// reads in flight (default 4).
	DetailsTTL  config.Duration `json:"detailsTTL"`
	Concurrency int             `json:"concurrency"`
}

// ResultsConfig is how results are written back: a medical note, then
// the PDF as a document of the patient.
type ResultsConfig struct {
	// TemplateID is the note template (default leyr_unstructured; it must
	// be mapped in Leyr's portal for the EHR).
	TemplateID string `json:"templateId"`
	// CreatedByID is the note's author; empty: the appointment's
	// practitioner (its resource ID).
	CreatedByID string `json:"createdById"`
	// Title starts the note's title (default "MESI mTABLET"); the
	// measurement and its time follow.
	Title string `json:"title"`
	// DocumentPath is the patient's documents endpoint below
	// …/patients/{id}/ (default "documents").
	DocumentPath string `json:"documentPath"`
	// Timeout bounds one call (default 30s).
	Timeout config.Duration `json:"timeout"`
}

// DefaultBaseURL is Leyr's API.
const DefaultBaseURL = "https://api.leyr.io/api"

// ApplyDefaults fills empty values.
func (c *Config) ApplyDefaults() {
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	a := &c.Appointments
	if a.FromParam == "" {
		a.FromParam = "from"
	}
	if a.ToParam == "" {
		a.ToParam = "to"
	}
	if a.DateFormat == "" {
		a.DateFormat = "datetime"
	}
	if a.DetailsTTL == 0 {
		a.DetailsTTL = config.Duration(10 * time.Minute)
	}
	if a.Concurrency == 0 {
		a.Concurrency = 4
	}
	r := &c.Results
	if r.TemplateID == "" {
		r.TemplateID = "leyr_unstructured"
	}
	if r.Title == "" {
		r.Title = "MESI mTABLET"
	}
	if r.DocumentPath == "" {
		r.DocumentPath = "documents"
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
	for key, v := range map[string]string{"emr": c.EMR, "careUnitId": c.CareUnitID, "clientId": c.ClientID} {
		if strings.TrimSpace(v) == "" {
			ck.Add(key, "must not be empty (from the clinic's Leyr account)")
		} else if strings.ContainsAny(v, "/?#% ") {
			ck.Add(key, "%q must not contain / ? # %% or spaces", v)
		}
	}
	ck.SecretRef("clientSecret", c.ClientSecret)
	a := c.Appointments
	for key, v := range map[string]string{"appointments.fromParam": a.FromParam, "appointments.toParam": a.ToParam} {
		if strings.TrimSpace(v) == "" || strings.ContainsAny(v, "&=?# ") {
			ck.Add(key, "%q is not a query parameter name", v)
		}
	}
	if a.DateFormat != "datetime" && a.DateFormat != "date" {
		ck.Add("appointments.dateFormat", "%q is not datetime or date", a.DateFormat)
	}
	ck.RangeDur("appointments.detailsTTL", a.DetailsTTL.D(), 0, 24*time.Hour)
	ck.RangeInt("appointments.concurrency", a.Concurrency, 1, 32)
	r := c.Results
	if strings.TrimSpace(r.TemplateID) == "" {
		ck.Add("results.templateId", "must not be empty")
	}
	if strings.Trim(r.DocumentPath, "/") == "" || strings.ContainsAny(r.DocumentPath, "?# ") {
		ck.Add("results.documentPath", "%q is not a path", r.DocumentPath)
	}
	ck.RangeDur("results.timeout", r.Timeout.D(), time.Second, 5*time.Minute)
	c.Settings.Validate(ck)
}
