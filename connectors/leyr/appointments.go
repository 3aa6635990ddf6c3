package leyr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/pull"
)

// appointments reads the care unit's appointments of the window, with
// their patients' and practitioners' details.
type appointments struct {
	c       *client
	conn    string
	cfg     AppointmentsConfig
	routing pull.Routing
	loc     *time.Location
	now     func() time.Time

	patients  details[Patient]
	resources details[Resource]
}

// details caches what Leyr said about patients or practitioners for a
// while, so that a pull every 15 s does not read every patient again.
type details[T any] struct {
	mu sync.Mutex
	m  map[string]detail[T]
}

type detail[T any] struct {
	v  T
	at time.Time
}

func (d *details[T]) get(id string, ttl time.Duration, now time.Time) (T, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.m[id]
	if !ok || now.Sub(e.at) >= ttl {
		var zero T
		return zero, false
	}
	return e.v, true
}

func (d *details[T]) put(id string, v T, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil {
		d.m = map[string]detail[T]{}
	}
	d.m[id] = detail[T]{v: v, at: now}
}

// prune drops entries older than ttl (called once per pull: the cache
// holds at most the patients of the last few windows).
func (d *details[T]) prune(ttl time.Duration, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, e := range d.m {
		if now.Sub(e.at) >= ttl {
			delete(d.m, id)
		}
	}
}

// fetch is the pull.Fetch of Leyr.
func (a *appointments) fetch(ctx context.Context, w pull.Window) (pull.Batch, error) {
	q := url.Values{}
	format := func(t time.Time) string {
		if a.cfg.DateFormat == "date" {
			return t.In(a.loc).Format("2006-01-02")
		}
		return t.In(a.loc).Format(time.RFC3339)
	}
	q.Set(a.cfg.FromParam, format(w.From))
	q.Set(a.cfg.ToParam, format(w.To))
	for _, r := range a.cfg.ResourceIDs {
		q.Add("resource_id", r)
	}
	body, err := a.c.do(ctx, http.MethodGet, "/appointments", q, nil)
	if err != nil {
		return pull.Batch{}, err
	}
	defer body.Close()
	var b pull.Batch
	var rows []row
	seen := map[string]bool{}
	err = decodeAppointments(body, func(n int, ap Appointment) {
		r, problem := a.read(n, ap)
		if problem != "" {
			b.Notes = append(b.Notes, pull.Note{Row: n, ID: ap.ID, Problem: problem, Skipped: true})
			return
		}
		if !w.Contains(r.start) {
			return
		}
		if seen[ap.ID] {
			b.Notes = append(b.Notes, pull.Note{Row: n, ID: ap.ID, Problem: "the appointment ID appears twice; the first is kept", Skipped: true})
			return
		}
		seen[ap.ID] = true
		rows = append(rows, r)
	})
	if err != nil {
		var pe *pull.Error
		if errors.As(err, &pe) {
			return pull.Batch{}, err
		}
		return pull.Batch{}, pull.Fail(pull.KindBadAnswer, pull.CodeBadAnswer, nil, fmt.Errorf("leyr: appointments: %w", err))
	}
	if err := a.lookUp(ctx, rows); err != nil {
		return pull.Batch{}, err
	}
	b.Orders = make([]domain.Order, 0, len(rows))
	for _, r := range rows {
		o, ok, note := a.order(r)
		if note != "" {
			b.Notes = append(b.Notes, pull.Note{Row: r.n, ID: r.ap.ID, Problem: note, Skipped: !ok})
		}
		if ok {
			b.Orders = append(b.Orders, o)
		}
	}
	now := a.now()
	a.patients.prune(a.cfg.DetailsTTL.D(), now)
	a.resources.prune(a.cfg.DetailsTTL.D(), now)
	return b, nil
}

// decodeAppointments reads Get Appointments' array one appointment at a
// time (a bare array; an object holding it under "data" is read too).
func decodeAppointments(r io.Reader, fn func(n int, ap Appointment)) error {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); ok && d == '{' {
		// {"data": [...]}: find the array.
		for {
			k, err := dec.Token()
			if err != nil {
				return fmt.Errorf("not JSON: %w", err)
			}
			if k == json.Delim('}') {
				return errors.New("an object without a data array")
			}
			if k == "data" {
				if tok, err = dec.Token(); err != nil {
					return fmt.Errorf("not JSON: %w", err)
				}
				break
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fmt.Errorf("not JSON: %w", err)
			}
		}
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("%v is not an array of appointments", tok)
	}
	for n := 1; dec.More(); n++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("appointment %d: %w", n, err)
		}
		var ap Appointment
		if err := json.Unmarshal(raw, &ap); err != nil {
			// One appointment of the wrong shape: note it, read the rest.
			fn(n, Appointment{ID: idOf(raw)})
			continue
		}
		fn(n, ap)
	}
	_, err = dec.Token()
	return err
}

// idOf reads just the id of a malformed appointment, for its note.
func idOf(raw json.RawMessage) string {
	var v struct {
		ID any `json:"id"`
	}
	if json.Unmarshal(raw, &v) != nil || v.ID == nil {
		return ""
	}
	return fmt.Sprint(v.ID)
}

// row is an appointment read, before its details.
type row struct {
	n     int
	ap    Appointment
	start time.Time
	end   time.Time
}

func (a *appointments) read(n int, ap Appointment) (row, string) {
	switch {
	case strings.TrimSpace(ap.ID) == "":
		return row{}, "no appointment ID"
	case strings.TrimSpace(ap.PatientID) == "":
		return row{}, "no patient_id"
	case ap.Start == "":
		return row{}, "no start"
	}
	start, err := pull.ParseTime(ap.Start, a.loc)
	if err != nil {
		return row{}, fmt.Sprintf("start %q is not a date and time", ap.Start)
	}
	r := row{n: n, ap: ap, start: start}
	if ap.End != "" {
		if end, err := pull.ParseTime(ap.End, a.loc); err == nil {
			r.end = end
		}
	}
	return r, ""
}

// lookUp reads the details of the rows' patients and practitioners that
// are not cached, Concurrency at a time. Refused credentials end the pull;
// any other failure leaves that appointment without the details (noted).
func (a *appointments) lookUp(ctx context.Context, rows []row) error {
	now := a.now()
	ttl := a.cfg.DetailsTTL.D()
	type job struct {
		patient bool
		id      string
	}
	var jobs []job
	want := map[job]bool{}
	for _, r := range rows {
		for _, j := range []job{{true, r.ap.PatientID}, {false, r.ap.ResourceID}} {
			if j.id == "" || want[j] {
				continue
			}
			cached := false
			if j.patient {
				_, cached = a.patients.get(j.id, ttl, now)
			} else {
				_, cached = a.resources.get(j.id, ttl, now)
			}
			if !cached {
				want[j] = true
				jobs = append(jobs, j)
			}
		}
	}
	ch := make(chan job)
	var mu sync.Mutex
	var fatal error
	var wg sync.WaitGroup
	for range min(a.cfg.Concurrency, max(len(jobs), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				var err error
				if j.patient {
					var p Patient
					if err = a.c.getJSON(ctx, patientPath(j.id), &p); err == nil {
						a.patients.put(j.id, p, now)
					}
				} else {
					var r Resource
					if err = a.c.getJSON(ctx, "/resources/"+url.PathEscape(j.id), &r); err == nil {
						a.resources.put(j.id, r, now)
					}
				}
				var pe *pull.Error
				if err != nil && ((errors.As(err, &pe) && pe.Kind == pull.KindAuth) || ctx.Err() != nil) {
					mu.Lock()
					if fatal == nil {
						fatal = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, j := range jobs {
		mu.Lock()
		stop := fatal != nil
		mu.Unlock()
		if stop {
			break
		}
		ch <- j
	}
	close(ch)
	wg.Wait()
	if fatal != nil {
		return fatal
	}
	return ctx.Err()
}

// order maps a row with its details; a note says what is missing.
func (a *appointments) order(r row) (domain.Order, bool, string) {
	ap := r.ap
	group, meas, ok := a.routing.Route(ap.HealthcareServiceID, ap.ResourceID)
	if !ok {
		return domain.Order{}, false, ""
	}
	now, ttl := a.now(), a.cfg.DetailsTTL.D()
	var note string
	p, found := a.patients.get(ap.PatientID, ttl, now)
	if !found {
		note = fmt.Sprintf("patient %s could not be read; shown by ID only", ap.PatientID)
	}
	o := domain.Order{
		Connection: a.conn, Action: domain.ActionNew, PlacerNumber: ap.ID, OrderStatus: ap.Status,
		Measurement: meas, ServiceCode: ap.HealthcareServiceID, ScheduledAt: r.start.UTC(), Group: group,
		Visit: domain.Visit{Number: domain.Identifier{Value: ap.ID, Authority: "Leyr", Type: "VN"}},
		Meta:  map[string]string{"leyr.appointmentId": ap.ID, "leyr.resourceId": ap.ResourceID},
	}
	if strings.EqualFold(ap.Status, "cancelled") {
		o.Action = domain.ActionCancel
	}
	o.Patient = patientOf(ap.PatientID, p)
	if ap.ResourceID != "" {
		prov := domain.Provider{ID: ap.ResourceID}
		if res, ok := a.resources.get(ap.ResourceID, ttl, now); ok {
			prov.Name = domain.PersonName{Given: res.FirstName, Family: res.LastName, Prefix: res.Title}
		} else if note == "" {
			note = fmt.Sprintf("practitioner %s could not be read; shown by ID only", ap.ResourceID)
		}
		o.OrderingProvider, o.Visit.Attending = prov, prov
	}
	o.Fields = fields(r, o)
	return o, true, note
}

// patientOf maps Leyr's patient; the ID keeps Leyr's {type}:{value} form.
func patientOf(id string, p Patient) domain.Patient {
	typ, _, _ := strings.Cut(id, ":")
	out := domain.Patient{ID: id, IDs: []domain.Identifier{{Value: id, Authority: "Leyr", Type: typ}},
		Name: domain.PersonName{Given: p.FirstName, Family: p.LastName}, Email: p.Email}
	for _, d := range []string{p.BirthDate, p.DateOfBirth} {
		if d == "" {
			continue
		}
		if v, err := pull.ParseDate(d); err == nil {
			out.BirthDate = v
			break
		}
	}
	if out.BirthDate == "" && typ == "se_personal_number" {
		out.BirthDate = birthFromPersonalNumber(strings.TrimPrefix(id, typ+":"))
	}
	out.SexCode = p.Gender
	switch strings.ToLower(p.Gender) {
	case "male", "m":
		out.Sex = domain.SexMale
	case "female", "f":
		out.Sex = domain.SexFemale
	case "other", "o":
		out.Sex = domain.SexOther
	case "unknown", "u":
		out.Sex = domain.SexUndiff
	}
	if p.Phone != "" {
		out.Phones = []domain.Phone{{Number: p.Phone}}
	}
	if ad := p.Address; ad != nil {
		out.Address = domain.Address{Street: first(ad.Street, ad.StreetAddress), PostalCode: first(ad.PostalCode, ad.ZipCode),
			City: ad.City, Country: ad.Country}
	}
	return out
}

// birthFromPersonalNumber reads the birth date of a Swedish personal
// number in its 12-digit form (YYYYMMDDNNNN); "" when it is not one (a
// coordination number adds 60 to the day and gives none).
func birthFromPersonalNumber(n string) string {
	n = strings.ReplaceAll(n, "-", "")
	if len(n) != 12 {
		return ""
	}
	t, err := time.Parse("20060102", n[:8])
	if err != nil {
		return ""
	}
	return t.Format("2006-01-02")
}

func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// fields lists the appointment's values for the tablet.
func fields(r row, o domain.Order) []domain.Field {
	ap := r.ap
	f := []domain.Field{
		{Key: "id", Label: "Visit ID", Value: ap.ID},
		{Key: "start", Label: "Start", Value: ap.Start, Text: r.start.Format("2006-01-02 15:04")},
	}
	if ap.End != "" {
		t := ""
		if !r.end.IsZero() {
			t = r.end.Format("2006-01-02 15:04")
		}
		f = append(f, domain.Field{Key: "end", Label: "End", Value: ap.End, Text: t})
	}
	f = append(f, domain.Field{Key: "patient_id", Label: "Patient ID", Value: ap.PatientID})
	if ap.ResourceID != "" {
		f = append(f, domain.Field{Key: "resource_id", Label: "Practitioner", Value: ap.ResourceID, Text: o.OrderingProvider.Name.Full()})
	}
	for _, kv := range [][3]string{
		{"healthcare_service_id", "Healthcare service", ap.HealthcareServiceID},
		{"status", "Status", ap.Status}, {"comment", "Comment", ap.Comment},
	} {
		if kv[2] != "" {
			f = append(f, domain.Field{Key: kv[0], Label: kv[1], Value: kv[2]})
		}
	}
	return f
}
