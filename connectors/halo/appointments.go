package halo

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/pull"
)

// appointments reads the worklist window with the immediate reader query.
type appointments struct {
	c       *client
	conn    string
	cfg     AppointmentsConfig
	routing pull.Routing
	loc     *time.Location
}

// localLayout is how @from and @to are sent: the practice's wall clock,
// as SQL Server's datetime has no zone.
const localLayout = "2006-01-02T15:04:05"

// fetch is the pull.Fetch of HALO.
func (a *appointments) fetch(ctx context.Context, w pull.Window) (pull.Batch, error) {
	req := QueryRequest{
		MaxTimeInQueue: millis(a.cfg.MaxTimeInQueue.D()),
		Catalogue:      a.c.catalogue,
		Command: Command{Text: a.cfg.Query, ExecutionMode: "reader", Type: "text", Parameters: []Parameter{
			{Name: "@from", Value: str(w.From.In(a.loc).Format(localLayout)), Direction: "input", Type: "DateTime"},
			{Name: "@to", Value: str(w.To.In(a.loc).Format(localLayout)), Direction: "input", Type: "DateTime"},
		}},
	}
	q, err := a.c.post(ctx, "immediate", req)
	if err != nil {
		return pull.Batch{}, err
	}
	if e := statusError(q); e != nil {
		return pull.Batch{}, e
	}
	if q.Status != StatusSuccessful {
		return pull.Batch{}, pull.Fail(pull.KindBadAnswer, pull.CodeBadAnswer, nil,
			fmt.Errorf("HALO answered the immediate query %s with status %q instead of a result", q.ID, q.Status))
	}
	if q.Result == nil || len(q.Result.Data) == 0 {
		return pull.Batch{}, pull.Fail(pull.KindBadAnswer, pull.CodeBadAnswer, nil,
			fmt.Errorf("HALO's result of query %s has no data", q.ID))
	}
	m := a.mapper(w)
	m.batch.Orders = make([]domain.Order, 0, min(max(q.Result.Rows, 0), 100000))
	if err := decodeRows(q.Result.Data, m.row); err != nil {
		return pull.Batch{}, pull.Fail(pull.KindBadAnswer, pull.CodeBadAnswer, nil, fmt.Errorf("HALO query %s: %w", q.ID, err))
	}
	return m.batch, nil
}

// decodeRows reads result.data — a JSON string holding the base64 of a
// JSON array of row objects — one row at a time, so that a large answer
// is never held decoded in full. fn gets each row with its position.
func decodeRows(data json.RawMessage, fn func(n int, row map[string]json.RawMessage)) error {
	d := bytes.TrimSpace(data)
	if len(d) < 2 || d[0] != '"' || d[len(d)-1] != '"' {
		return errors.New("result.data is not a string")
	}
	inner := d[1 : len(d)-1]
	if bytes.IndexByte(inner, '\\') >= 0 {
		// JSON escapes (an escaped "/"): unquote it the slow way.
		var s string
		if err := json.Unmarshal(d, &s); err != nil {
			return fmt.Errorf("result.data: %w", err)
		}
		inner = []byte(s)
	}
	dec := json.NewDecoder(base64.NewDecoder(base64.StdEncoding, bytes.NewReader(inner)))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("result.data is not base64 of a JSON array: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("result.data holds %v, not a JSON array of rows", tok)
	}
	for n := 1; dec.More(); n++ {
		var row map[string]json.RawMessage
		if err := dec.Decode(&row); err != nil {
			return fmt.Errorf("row %d of result.data: %w", n, err)
		}
		fn(n, row)
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("result.data does not end its array: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("result.data has content after its array")
	}
	return nil
}

// mapper turns rows into orders.
type mapper struct {
	*appointments
	w     pull.Window
	batch pull.Batch
	seen  map[string]bool
}

func (a *appointments) mapper(w pull.Window) *mapper {
	return &mapper{appointments: a, w: w, seen: map[string]bool{}}
}

// value returns a column's value as text ("" for null or absent), and
// whether the column was there with a value.
func value(row map[string]json.RawMessage, col string) (string, bool) {
	if col == "" {
		return "", false
	}
	raw, ok := row[col]
	if !ok {
		return "", false
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		s = strings.TrimSpace(s)
		return s, s != ""
	}
	return string(raw), true
}

// column labels for the tablet, by what the column holds.
var labels = map[string]string{
	"id": "Appointment ID", "patientId": "Patient ID", "givenName": "First name", "familyName": "Surname",
	"birthDate": "Date of birth", "sex": "Sex", "status": "Status", "date": "Appointment date",
	"time": "Appointment time", "provider": "Provider", "type": "Appointment type",
}

func (m *mapper) note(n int, id, problem string, skipped bool) {
	m.batch.Notes = append(m.batch.Notes, pull.Note{Row: n, ID: id, Problem: problem, Skipped: skipped})
}

// row maps one row; a row that cannot be an appointment is noted and
// skipped, the others are kept.
func (m *mapper) row(n int, row map[string]json.RawMessage) {
	cols := m.cfg.Columns
	id, _ := value(row, cols.ID)
	if id == "" {
		m.note(n, "", fmt.Sprintf("no appointment ID (column %s is empty)", cols.ID), true)
		return
	}
	if m.seen[id] {
		m.note(n, id, "the appointment ID appears twice; the first row is kept", true)
		return
	}
	pid, _ := value(row, cols.PatientID)
	if pid == "" {
		m.note(n, id, fmt.Sprintf("no patient ID (column %s is empty)", cols.PatientID), true)
		return
	}
	start, problem := m.start(row)
	if problem != "" {
		m.note(n, id, problem, true)
		return
	}
	if !m.w.Contains(start) {
		return // the day's other appointments: not in the window
	}
	typ, _ := value(row, cols.Type)
	provider, _ := value(row, cols.Provider)
	group, meas, ok := m.routing.Route(typ, provider)
	if !ok {
		return
	}
	m.seen[id] = true
	status, _ := value(row, cols.Status)
	o := domain.Order{
		Connection: m.conn, Action: domain.ActionNew, PlacerNumber: id, OrderStatus: status,
		Measurement: meas, ServiceCode: typ, ServiceText: typ, ScheduledAt: start.UTC(),
		OrderingProvider: domain.Provider{ID: provider},
		Group:            group,
		Visit:            domain.Visit{Number: domain.Identifier{Value: id, Authority: "HALO", Type: "VN"}},
		Meta:             map[string]string{"halo.appointmentId": id, "halo.siteId": m.c.site},
	}
	if slices.ContainsFunc(m.cfg.CancelledStatuses, func(s string) bool { return strings.EqualFold(s, status) }) {
		o.Action = domain.ActionCancel
	}
	p := domain.Patient{ID: pid, IDs: []domain.Identifier{{Value: pid, Authority: "BPS", Type: "PI"}}}
	p.Name.Given, _ = value(row, cols.GivenName)
	p.Name.Family, _ = value(row, cols.FamilyName)
	if dob, ok := value(row, cols.BirthDate); ok {
		if d, err := pull.ParseDate(dob); err == nil {
			p.BirthDate = d
		} else {
			m.note(n, id, fmt.Sprintf("%s %q is not a date; read without a date of birth", cols.BirthDate, dob), false)
		}
	}
	if sex, ok := value(row, cols.Sex); ok {
		p.SexCode = sex
		p.Sex = sexOf(sex)
	}
	o.Patient = p
	o.Fields = m.fields(row, start)
	m.batch.Orders = append(m.batch.Orders, o)
}

// start reads the appointment's start in the practice's time zone.
func (m *mapper) start(row map[string]json.RawMessage) (time.Time, string) {
	cols := m.cfg.Columns
	ds, ok := value(row, cols.Date)
	if !ok {
		return time.Time{}, fmt.Sprintf("no appointment date (column %s is empty)", cols.Date)
	}
	day, err := pull.ParseTime(ds, m.loc)
	if err != nil {
		return time.Time{}, fmt.Sprintf("%s %q is not a date", cols.Date, ds)
	}
	day = day.In(m.loc)
	if cols.Time == "" {
		return day, ""
	}
	ts, ok := value(row, cols.Time)
	if !ok {
		return time.Time{}, fmt.Sprintf("no appointment time (column %s is empty)", cols.Time)
	}
	secs, err := secondsOfDay(ts)
	if err != nil {
		return time.Time{}, fmt.Sprintf("%s %q is not a time of day: %v", cols.Time, ts, err)
	}
	y, mo, d := day.Date()
	return time.Date(y, mo, d, secs/3600, secs/60%60, secs%60, 0, m.loc), ""
}

// secondsOfDay reads Bp Premier's AppointmentTime (seconds after
// midnight) or HH:MM[:SS].
func secondsOfDay(s string) (int, error) {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		if n < 0 || n >= 86400 || n != float64(int(n)) {
			return 0, errors.New("seconds after midnight must be a whole number 0..86399")
		}
		return int(n), nil
	}
	for _, l := range []string{"15:04:05", "15:04"} {
		if t, err := time.Parse(l, s); err == nil {
			return t.Hour()*3600 + t.Minute()*60 + t.Second(), nil
		}
	}
	return 0, errors.New("neither seconds after midnight nor HH:MM")
}

// fields lists every column of the row for the tablet: the mapped ones
// first, labelled, then the others by name.
func (m *mapper) fields(row map[string]json.RawMessage, start time.Time) []domain.Field {
	cols := m.cfg.Columns
	mapped := []struct{ what, col string }{
		{"id", cols.ID}, {"patientId", cols.PatientID}, {"givenName", cols.GivenName}, {"familyName", cols.FamilyName},
		{"birthDate", cols.BirthDate}, {"sex", cols.Sex}, {"status", cols.Status}, {"date", cols.Date},
		{"time", cols.Time}, {"provider", cols.Provider}, {"type", cols.Type},
	}
	var out []domain.Field
	done := map[string]bool{}
	for _, c := range mapped {
		v, ok := value(row, c.col)
		if !ok || done[c.col] {
			continue
		}
		done[c.col] = true
		f := domain.Field{Key: c.col, Label: labels[c.what], Value: v}
		switch c.what {
		case "date":
			f.Text = start.Format("2006-01-02")
		case "time":
			f.Text = start.Format("15:04")
		case "birthDate":
			if d, err := pull.ParseDate(v); err == nil {
				f.Text = d
			}
		}
		out = append(out, f)
	}
	var rest []string
	for k := range row {
		if !done[k] {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range rest {
		if v, ok := value(row, k); ok {
			out = append(out, domain.Field{Key: k, Value: v})
		}
	}
	return out
}

// sexOf maps Bp Premier's sex (text or code) to the hub's.
func sexOf(s string) domain.Sex {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "m", "male", "1":
		return domain.SexMale
	case "f", "female", "2":
		return domain.SexFemale
	case "i", "intersex", "x", "other", "o", "3", "indeterminate":
		return domain.SexOther
	case "u", "unknown", "not stated", "0", "9":
		return domain.SexUndiff
	}
	return domain.SexUnknown
}
