package hl7

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mesi/mconnect/app/domain"
)

// Meta keys an order carries for its answer.
const (
	MetaVersion           = "hl7.version"
	MetaSendingApp        = "hl7.sendingApp"
	MetaSendingFacility   = "hl7.sendingFacility"
	MetaReceivingApp      = "hl7.receivingApp"
	MetaReceivingFacility = "hl7.receivingFacility"
	MetaCharset           = "hl7.charset"
	MetaProcessingID      = "hl7.processingId"
	MetaPlacerNamespace   = "hl7.placerNamespace"
	MetaFillerNamespace   = "hl7.fillerNamespace"
	MetaDiagnosticSection = "hl7.diagnosticSection"
	MetaOrderIndex        = "hl7.orderIndex"
	// MetaDeclaredCharset is MSH-18 when the bytes disagreed with it and
	// the message was read in the connection's default charset instead.
	MetaDeclaredCharset = "hl7.declaredCharset"
	// MetaTextCut lists the fields (keys, comma-separated) whose text was
	// cut to MapOptions.MaxText; absent when none was.
	MetaTextCut = "hl7.textCut"

	// WEDA keys (MapOptions.WEDA).
	MetaRequestedDate = "requestedDate"
	MetaTaskType      = "task_type"
	MetaActivityID    = "activity_id"
)

// DefaultMeasurementMap maps EHR service codes and texts (upper case) to the
// hub's measurement names.
func DefaultMeasurementMap() map[string]string {
	return map[string]string{
		"ECG": "ECG", "EKG": "ECG", "RESTING ECG": "ECG", "EKG01": "ECG", "11524-6": "ECG", "34534-8": "ECG",
		"ABI": "ABI", "ANKLE BRACHIAL INDEX": "ABI",
		"TBI": "TBI", "TOE BRACHIAL INDEX": "TBI",
		"SPO2": "SPO2", "SPO₂": "SPO2", "PULSE OXIMETRY": "SPO2", "59408-5": "SPO2",
		"BP": "BP", "NIBP": "BP", "BLOOD PRESSURE": "BP", "85354-9": "BP",
	}
}

// DefaultRaceMap maps HL7/CDC race codes (table 0005) and common texts to
// the hub's internal race_code values. Connections override it per site.
func DefaultRaceMap() map[string]string {
	return map[string]string{
		"2106-3": "caucasian", "WHITE": "caucasian", "CAUCASIAN": "caucasian", "W": "caucasian", "C": "caucasian",
		"2054-5": "black", "BLACK": "black", "BLACK OR AFRICAN AMERICAN": "black", "B": "black",
		"2028-9": "asian", "ASIAN": "asian", "A": "asian",
		"1002-5": "native_american", "AMERICAN INDIAN OR ALASKA NATIVE": "native_american",
		"2076-8": "pacific_islander", "NATIVE HAWAIIAN OR OTHER PACIFIC ISLANDER": "pacific_islander",
		"2131-1": "other", "OTHER": "other", "OTHER RACE": "other", "O": "other",
	}
}

// MapOptions configure the ORM^O01 -> domain.Order mapping of one connection.
type MapOptions struct {
	// Connection is the connection's name, copied into Order.Connection.
	Connection string
	// RaceMap maps PID-10.1 (or PID-10.2 text) to the internal race_code;
	// keys compare case-insensitively. Nil: DefaultRaceMap.
	RaceMap map[string]string
	// GroupMap maps the service (OBR-4.1, else OBR-4.2) to a tablet group ID;
	// an unmapped service gives "" (the hub's default group).
	GroupMap map[string]string
	// MeasurementMap maps the service (OBR-4.1, else OBR-4.2) to the hub's
	// measurement name. Nil: DefaultMeasurementMap.
	MeasurementMap map[string]string
	// WEDA stamps Meta["requestedDate"] with the current time and derives
	// Meta["task_type"] and Meta["activity_id"] from ORC-2 (see WEDATask).
	WEDA bool
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Location reads timestamps without an offset, and is the zone in which
	// Field.Text shows times (time.Local when nil).
	Location *time.Location
	// Parse configures the parser (default charset).
	Parse ParseOptions
	// MaxText bounds, in characters, every text an order keeps: each
	// source field's value and readable text (notes NTE-3 included) and
	// the service text (default DefaultMaxText; negative: no bound). A cut
	// text ends with "…" and is named in Meta[MetaTextCut].
	MaxText int
}

// DefaultMaxText is MapOptions.MaxText unless set: a long clinical note
// fits; a message stuffed with megabytes does not reach the store and the
// tablets.
const DefaultMaxText = 4000

// Mapper turns ORM^O01 messages into orders.
type Mapper struct {
	opts  MapOptions
	race  map[string]string
	group map[string]string
	meas  map[string]string
}

// NewMapper returns a mapper with the options' maps normalised.
func NewMapper(opts MapOptions) *Mapper {
	if opts.RaceMap == nil {
		opts.RaceMap = DefaultRaceMap()
	}
	if opts.MeasurementMap == nil {
		opts.MeasurementMap = DefaultMeasurementMap()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.MaxText == 0 {
		opts.MaxText = DefaultMaxText
	}
	return &Mapper{opts: opts, race: upperKeys(opts.RaceMap), group: upperKeys(opts.GroupMap), meas: upperKeys(opts.MeasurementMap)}
}

func upperKeys(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToUpper(strings.TrimSpace(k))] = v
	}
	return out
}

// Decode parses data and maps it: the parsed message (nil when unparseable)
// and one order per ORC group.
func (m *Mapper) Decode(data []byte) (*Message, []domain.Order, error) {
	msg, err := ParseWith(data, m.opts.Parse)
	if err != nil {
		return nil, nil, err
	}
	orders, err := m.Orders(msg)
	return msg, orders, err
}

// WEDATask derives WEDA's task_type and activity_id from ORC-2: ORC-2.1 of
// the form "TYPE-ID" splits at its first '-' (task_type "TYPE", activity_id
// "ID"); without a '-' the whole ORC-2.1 is the activity_id and ORC-2.2
// (the placer's namespace) the task_type.
func WEDATask(orc2_1, orc2_2 string) (taskType, activityID string) {
	if t, id, ok := strings.Cut(orc2_1, "-"); ok && t != "" && id != "" {
		return t, id
	}
	return orc2_2, orc2_1
}

// CheckHeader validates MSH for an ORM^O01 the hub can take.
func CheckHeader(msg *Message) error {
	msh := msg.Segment("MSH")
	if msh == nil {
		return &Error{Code: CodeSegmentSequence, Reject: true, Problem: "MSH segment missing"}
	}
	typ, ev := msh.C(9, 1), msh.C(9, 2)
	if typ == "" {
		return errAt(msh, 9, 1, CodeRequiredMissing, "message type (MSH-9) missing").reject()
	}
	if typ != "ORM" {
		return errAt(msh, 9, 1, CodeUnsupportedMessage, "unsupported message type %q: the hub accepts ORM^O01", typ).reject()
	}
	if ev != "O01" {
		return errAt(msh, 9, 2, CodeUnsupportedEvent, "unsupported trigger event %q: the hub accepts ORM^O01", ev).reject()
	}
	if msh.C(10, 1) == "" {
		return errAt(msh, 10, 0, CodeRequiredMissing, "message control ID (MSH-10) missing").reject()
	}
	if v := msh.C(12, 1); v != "" && !strings.HasPrefix(v, "2.") {
		return errAt(msh, 12, 0, CodeUnsupportedVersion, "unsupported HL7 version %q: the hub reads v2.x", v).reject()
	}
	return nil
}

func (e *Error) reject() *Error { e.Reject = true; return e }

// Orders maps a parsed ORM^O01 into one order per ORC group.
func (m *Mapper) Orders(msg *Message) ([]domain.Order, error) {
	if err := CheckHeader(msg); err != nil {
		return nil, err
	}
	msh := msg.Segment("MSH")
	now := m.opts.Now()
	hash := ContentHash(msg)
	base := domain.Order{
		Connection:      m.opts.Connection,
		SourceMessageID: SourceKey(msh.C(10, 1), hash, 0),
		SourceControlID: msh.C(10, 1),
		ReceivedAt:      now,
		UpdatedAt:       now,
		Meta: map[string]string{
			MetaVersion:           msh.C(12, 1),
			MetaSendingApp:        msh.Text(3),
			MetaSendingFacility:   msh.Text(4),
			MetaReceivingApp:      msh.Text(5),
			MetaReceivingFacility: msh.Text(6),
			MetaCharset:           msg.Charset,
			MetaProcessingID:      msh.C(11, 1),
		},
	}
	if msg.DeclaredCharset != "" {
		base.Meta[MetaDeclaredCharset] = msg.DeclaredCharset
	}
	for k, v := range base.Meta {
		if v == "" {
			delete(base.Meta, k) // stored with every order: only what was sent
		}
	}
	var err error
	if base.MessageAt, err = m.time(msh, 7); err != nil {
		return nil, err
	}
	base.RequestedAt = base.MessageAt
	pid := msg.Segment("PID")
	pv1 := msg.Segment("PV1")
	// Room for every field of the segments an order's fields come from:
	// the slice is then allocated once (cloneOrder: once per order).
	base.Fields = make([]domain.Field, 0, 2+pid.NumFields()+pv1.NumFields())
	m.addFields(&base, msh, 7, 10)

	if pid == nil {
		return nil, &Error{Code: CodeSegmentSequence, Segment: "PID", Seq: 1, Problem: "PID segment missing: an order needs a patient"}
	}
	if base.Patient, err = m.patient(pid); err != nil {
		return nil, err
	}
	m.addFields(&base, pid)
	if pv1 != nil {
		base.Visit = m.visit(pv1)
		m.addFields(&base, pv1)
	}

	// Order groups: each ORC with the OBR (and NTE) segments that follow it.
	var orders []domain.Order
	var cur *domain.Order
	var curORC *Segment
	finish := func() error {
		if cur == nil {
			return nil
		}
		if err := m.checkOrder(cur, curORC); err != nil {
			return err
		}
		m.capText(cur)
		if m.opts.WEDA {
			// WEDA's values travel to the tablet and the Dashboard too.
			for _, k := range []string{MetaRequestedDate, MetaTaskType, MetaActivityID} {
				if v := cur.Meta[k]; v != "" {
					cur.Fields = append(cur.Fields, domain.Field{Key: k, Label: wedaLabels[k], Value: v, Text: m.wedaText(k, v)})
				}
			}
		}
		orders = append(orders, *cur)
		return nil
	}
	for _, seg := range msg.Segments {
		switch seg.Name {
		case "ORC":
			if err := finish(); err != nil {
				return nil, err
			}
			o := cloneOrder(base, orderFieldsRoom(msg))
			if err := m.orc(&o, seg); err != nil {
				return nil, err
			}
			cur, curORC = &o, seg
		case "OBR":
			if cur == nil {
				return nil, errAt(seg, 0, 0, CodeSegmentSequence, "OBR without a preceding ORC")
			}
			if _, seen := cur.Field("OBR-4"); seen || cur.ServiceCode != "" || cur.ServiceText != "" {
				return nil, errAt(seg, 0, 0, CodeSegmentSequence, "more than one OBR in the order group of ORC %d; send one ORC per OBR", curORC.Seq)
			}
			if err := m.obr(cur, seg); err != nil {
				return nil, err
			}
		case "NTE":
			if cur != nil {
				if t := seg.Text(3); t != "" {
					cur.Fields = append(cur.Fields, domain.Field{Key: "NTE-3", Label: labels["NTE-3"], Value: t,
						Text: FieldText("NTE-3", seg.Field(3), m.opts.Location)})
				}
			}
		}
	}
	if err := finish(); err != nil {
		return nil, err
	}
	if len(orders) == 0 {
		return nil, &Error{Code: CodeSegmentSequence, Segment: "ORC", Seq: 1, Problem: "ORC segment missing: the message holds no order"}
	}
	if len(orders) > 1 {
		// Each order of a multi-order message gets its own source ID so the
		// store's de-duplication (connection + source ID) keeps them apart.
		for i := range orders {
			orders[i].SourceMessageID = SourceKey(msh.C(10, 1), hash, i)
			orders[i].Meta[MetaOrderIndex] = fmt.Sprint(i + 1)
		}
	}
	return orders, nil
}

// capText cuts the texts of o to MaxText characters and names the cut
// fields in Meta[MetaTextCut].
func (m *Mapper) capText(o *domain.Order) {
	max := m.opts.MaxText
	if max <= 0 {
		return
	}
	var cut []string
	note := func(key string) {
		if !slices.Contains(cut, key) {
			cut = append(cut, key)
		}
	}
	if s, ok := cutText(o.ServiceText, max); ok {
		o.ServiceText = s
		note("OBR-4")
	}
	for i := range o.Fields {
		f := &o.Fields[i]
		v, cv := cutText(f.Value, max)
		t, ct := cutText(f.Text, max)
		if cv || ct {
			f.Value, f.Text = v, t
			note(f.Key)
		}
	}
	if len(cut) > 0 {
		o.Meta[MetaTextCut] = strings.Join(cut, ",")
	}
}

// cutText cuts s to max characters, the last one "…"; ok reports a cut.
func cutText(s string, max int) (string, bool) {
	if len(s) <= max || utf8.RuneCountInString(s) <= max {
		return s, false
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return s[:i] + "…", true
		}
		n++
	}
	return s, false
}

// orderFieldsRoom is how many fields an order's ORC and OBR may add to it
// (the first of each; OBR-27 and ORC-7 add two more each).
func orderFieldsRoom(msg *Message) int {
	return msg.Segment("ORC").NumFields() + msg.Segment("OBR").NumFields() + 4
}

// cloneOrder copies o with room for extra fields more.
func cloneOrder(o domain.Order, extra int) domain.Order {
	c := o
	c.Fields = append(make([]domain.Field, 0, len(o.Fields)+extra), o.Fields...)
	c.Meta = make(map[string]string, len(o.Meta)+4)
	for k, v := range o.Meta {
		c.Meta[k] = v
	}
	c.Patient.IDs = append([]domain.Identifier(nil), o.Patient.IDs...)
	c.Patient.Phones = append([]domain.Phone(nil), o.Patient.Phones...)
	return c
}

// addFields appends the non-empty fields of seg (all, or only those listed),
// each with its value as received and as readable text.
func (m *Mapper) addFields(o *domain.Order, seg *Segment, only ...int) {
	emit := func(i int) {
		f := seg.Field(i)
		v := fieldText(f)
		if v == "" {
			return
		}
		key := fieldKey(seg.Name, i)
		o.Fields = append(o.Fields, domain.Field{Key: key, Label: labels[key], Value: v, Text: FieldText(key, f, m.opts.Location)})
		if key == "OBR-27" || key == "ORC-7" {
			for _, c := range []int{4, 6} {
				if cv := seg.C(i, c); cv != "" {
					k := key + "." + strconv.Itoa(c)
					one := Field{{f[0][c-1]}}
					o.Fields = append(o.Fields, domain.Field{Key: k, Label: labels[k], Value: cv, Text: FieldText(k, one, m.opts.Location)})
				}
			}
		}
	}
	if len(only) > 0 {
		for _, i := range only {
			emit(i)
		}
		return
	}
	for i := 1; i <= seg.NumFields(); i++ {
		emit(i)
	}
}

// fieldKeys holds the keys ("PID-5") of the fields of the segments an
// order's fields come from, so that mapping builds no key string per field.
// Read only after init.
var fieldKeys = func() map[string][]string {
	m := make(map[string][]string)
	for _, seg := range []string{"MSH", "PID", "PV1", "ORC", "OBR"} {
		ks := make([]string, 64)
		for i := range ks {
			ks[i] = seg + "-" + strconv.Itoa(i)
		}
		m[seg] = ks
	}
	return m
}()

func fieldKey(seg string, i int) string {
	if ks := fieldKeys[seg]; i >= 0 && i < len(ks) {
		return ks[i]
	}
	return seg + "-" + strconv.Itoa(i)
}

func (m *Mapper) time(seg *Segment, field int) (time.Time, error) {
	v := seg.C(field, 1)
	t, err := ParseTime(v, m.opts.Location)
	if err != nil {
		return time.Time{}, errAt(seg, field, 1, CodeDataType, "%v", err)
	}
	return t, nil
}

// softTime reads an optional timestamp; an unreadable one stays only in Fields.
func (m *Mapper) softTime(seg *Segment, field, comp int) time.Time {
	t, _ := ParseTime(seg.C(field, comp), m.opts.Location)
	return t
}

func (m *Mapper) patient(pid *Segment) (domain.Patient, error) {
	var p domain.Patient
	for _, rep := range pid.Field(3) {
		id := domain.Identifier{Value: sub(rep, 1, 1), Authority: hd(rep, 4), Type: sub(rep, 5, 1)}
		if id.Value != "" {
			p.IDs = append(p.IDs, id)
		}
	}
	p.ID = pid.C(3, 1)
	if p.ID == "" {
		if len(p.IDs) > 0 {
			p.ID = p.IDs[0].Value
		} else if v := pid.C(2, 1); v != "" { // v2.3 external ID as a fallback
			p.ID = v
			p.IDs = append(p.IDs, domain.Identifier{Value: v, Authority: hd(pid.Field(2)[0], 4), Type: pid.C(2, 5)})
		} else {
			return p, errAt(pid, 3, 1, CodeRequiredMissing, "patient ID (PID-3.1) missing")
		}
	}
	if f := pid.Field(5); len(f) > 0 {
		p.Name = xpn(f[0])
	}
	if v := pid.C(7, 1); v != "" {
		t, err := ParseTime(v, time.UTC)
		if err != nil || len(v) < 8 {
			return p, errAt(pid, 7, 1, CodeDataType, "date of birth %q is not a date (YYYYMMDD)", v)
		}
		p.BirthDate = t.Format("2006-01-02")
	}
	p.SexCode = pid.C(8, 1)
	p.Sex = MapSex(p.SexCode)
	p.Race = pid.C(10, 1)
	raceText := pid.C(10, 2)
	if p.Race == "" {
		p.Race = raceText
	}
	if p.Race != "" {
		if c, ok := m.race[strings.ToUpper(p.Race)]; ok {
			p.RaceCode = c
		} else if c, ok := m.race[strings.ToUpper(raceText)]; ok {
			p.RaceCode = c
		}
	}
	if f := pid.Field(11); len(f) > 0 {
		r := f[0]
		p.Address = domain.Address{Street: sub(r, 1, 1), Other: sub(r, 2, 1), City: sub(r, 3, 1), State: sub(r, 4, 1),
			PostalCode: sub(r, 5, 1), Country: sub(r, 6, 1), Type: sub(r, 7, 1)}
	}
	for _, rep := range pid.Field(13) {
		num := sub(rep, 1, 1)
		if num == "" && sub(rep, 7, 1) != "" { // v2.5 structured number
			num = strings.TrimSpace(strings.Join([]string{sub(rep, 5, 1), sub(rep, 6, 1), sub(rep, 7, 1)}, " "))
			if x := sub(rep, 8, 1); x != "" {
				num += " x" + x
			}
		}
		if mail := sub(rep, 4, 1); mail != "" && p.Email == "" {
			p.Email = mail
		}
		if num != "" {
			p.Phones = append(p.Phones, domain.Phone{Number: num, Use: sub(rep, 2, 1), Equipment: sub(rep, 3, 1)})
		}
	}
	p.Language = pid.C(15, 1)
	if p.Language == "" {
		p.Language = pid.C(15, 2)
	}
	return p, nil
}

// MapSex maps an HL7 administrative sex code (table 0001 and common local
// variants) to the hub's value.
func MapSex(code string) domain.Sex {
	switch strings.ToUpper(strings.TrimSpace(code)) {
	case "M":
		return domain.SexMale
	case "F", "W":
		return domain.SexFemale
	case "O", "A", "X", "D":
		return domain.SexOther
	case "U", "N":
		return domain.SexUndiff
	}
	return domain.SexUnknown
}

func sub(r Repetition, c, s int) string {
	if c < 1 || c > len(r) || s < 1 || s > len(r[c-1]) {
		return ""
	}
	if v := r[c-1][s-1]; v != `""` { // HL7's explicit null: no value (see Segment.Get)
		return v
	}
	return ""
}

// hd reads a HD component: namespace ID, else universal ID.
func hd(r Repetition, c int) string {
	if v := sub(r, c, 1); v != "" {
		return v
	}
	return sub(r, c, 2)
}

func xpn(r Repetition) domain.PersonName {
	return domain.PersonName{Family: sub(r, 1, 1), Given: sub(r, 2, 1), Middle: sub(r, 3, 1), Suffix: sub(r, 4, 1),
		Prefix: sub(r, 5, 1), Degree: sub(r, 6, 1)}
}

func xcn(f Field) domain.Provider {
	if len(f) == 0 {
		return domain.Provider{}
	}
	r := f[0]
	return domain.Provider{ID: sub(r, 1, 1), Name: domain.PersonName{Family: sub(r, 2, 1), Given: sub(r, 3, 1),
		Middle: sub(r, 4, 1), Suffix: sub(r, 5, 1), Prefix: sub(r, 6, 1), Degree: sub(r, 7, 1)}}
}

// personText renders an XCN/CNN as "Given Family (ID)" for display fields.
func personText(p domain.Provider) string {
	n := p.Name.Full()
	switch {
	case n != "" && p.ID != "":
		return n + " (" + p.ID + ")"
	case n != "":
		return n
	}
	return p.ID
}

func (m *Mapper) visit(pv1 *Segment) domain.Visit {
	v := domain.Visit{
		Class:         pv1.C(2, 1),
		AdmissionType: pv1.C(4, 1),
		Attending:     xcn(pv1.Field(7)),
		Service:       pv1.C(10, 1),
		AdmitAt:       m.softTime(pv1, 44, 1),
		DischargeAt:   m.softTime(pv1, 45, 1),
	}
	if f := pv1.Field(3); len(f) > 0 {
		v.Location = repText(f[0])
		v.AssignedLocation = ReadLocation(f[0])
	}
	if f := pv1.Field(19); len(f) > 0 {
		v.Number = domain.Identifier{Value: sub(f[0], 1, 1), Authority: hd(f[0], 4), Type: sub(f[0], 5, 1)}
	}
	return v
}

func (m *Mapper) orc(o *domain.Order, orc *Segment) error {
	o.ControlCode = orc.C(1, 1)
	switch strings.ToUpper(o.ControlCode) {
	case "NW":
		o.Action, o.State = domain.ActionNew, domain.OrderScheduled
	case "XO":
		o.Action, o.State = domain.ActionUpdate, domain.OrderScheduled
	case "CA":
		o.Action, o.State = domain.ActionCancel, domain.OrderCancelled
	case "":
		return errAt(orc, 1, 0, CodeRequiredMissing, "order control (ORC-1) missing: send NW, XO or CA")
	default:
		return errAt(orc, 1, 0, CodeTableValue, "order control %q not supported: the hub takes NW (new), XO (change) and CA (cancel)", o.ControlCode)
	}
	o.PlacerNumber = orc.C(2, 1)
	setMeta(o.Meta, MetaPlacerNamespace, orc.C(2, 2))
	o.FillerNumber = orc.C(3, 1)
	setMeta(o.Meta, MetaFillerNamespace, orc.C(3, 2))
	o.GroupNumber = orc.C(4, 1)
	o.OrderStatus = orc.C(5, 1)
	o.ResponseFlag = orc.C(6, 1)
	o.Priority = orc.C(7, 6)
	o.ScheduledAt = m.softTime(orc, 7, 4)
	o.TransactionAt = m.softTime(orc, 9, 1)
	o.EnteredBy = personText(xcn(orc.Field(10)))
	o.OrderingProvider = xcn(orc.Field(12))
	o.CallbackPhone = orc.C(14, 1)
	o.EffectiveAt = m.softTime(orc, 15, 1)
	if m.opts.WEDA {
		o.Meta[MetaRequestedDate] = m.opts.Now().Format(time.RFC3339)
		o.Meta[MetaTaskType], o.Meta[MetaActivityID] = WEDATask(orc.C(2, 1), orc.C(2, 2))
	}
	m.addFields(o, orc)
	return nil
}

// wedaText is the readable form of a WEDA value: the requested date in
// local time, the task values as they are.
func (m *Mapper) wedaText(key, v string) string {
	if key == MetaRequestedDate {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return FormatLocalTime(t, m.opts.Location)
		}
	}
	return shorten(clean(v, false), MaxTextRunes)
}

var wedaLabels = map[string]string{
	MetaRequestedDate: "Requested date (WEDA)",
	MetaTaskType:      "Task type (WEDA)",
	MetaActivityID:    "Activity ID (WEDA)",
}

// setMeta sets meta[key] to a value sent, and leaves out an empty one
// (every order's meta is stored with it; an absent key reads as "").
func setMeta(meta map[string]string, key, value string) {
	if value == "" {
		delete(meta, key)
		return
	}
	meta[key] = value
}

func (m *Mapper) obr(o *domain.Order, obr *Segment) error {
	if o.PlacerNumber == "" {
		o.PlacerNumber = obr.C(2, 1)
		if o.Meta[MetaPlacerNamespace] == "" {
			setMeta(o.Meta, MetaPlacerNamespace, obr.C(2, 2))
		}
		if m.opts.WEDA && o.PlacerNumber != "" {
			o.Meta[MetaTaskType], o.Meta[MetaActivityID] = WEDATask(obr.C(2, 1), obr.C(2, 2))
		}
	}
	if o.FillerNumber == "" {
		o.FillerNumber = obr.C(3, 1)
	}
	o.ServiceCode, o.ServiceText = obr.C(4, 1), obr.C(4, 2)
	if p := obr.C(5, 1); p != "" {
		o.Priority = p
	} else if p := obr.C(27, 6); p != "" {
		o.Priority = p
	}
	if t := m.softTime(obr, 6, 1); !t.IsZero() && o.MessageAt.IsZero() {
		o.RequestedAt = t
	}
	o.ObservationAt = m.softTime(obr, 7, 1)
	if p := xcn(obr.Field(16)); o.OrderingProvider.IsZero() {
		o.OrderingProvider = p
	}
	if o.CallbackPhone == "" {
		o.CallbackPhone = obr.C(17, 1)
	}
	if t := m.softTime(obr, 36, 1); !t.IsZero() {
		o.ScheduledAt = t
	} else if t := m.softTime(obr, 27, 4); !t.IsZero() {
		o.ScheduledAt = t
	}
	if r := obr.Field(34); len(r) > 0 {
		// OBR-34 NDL: name as CNN subcomponents ID&family&given...
		c := Component(nil)
		if len(r[0]) > 0 {
			c = r[0][0]
		}
		at := func(i int) string {
			if i < len(c) {
				return c[i]
			}
			return ""
		}
		o.Technician = personText(domain.Provider{ID: at(0), Name: domain.PersonName{Family: at(1), Given: at(2)}})
	}
	setMeta(o.Meta, MetaDiagnosticSection, obr.C(24, 1))
	service := o.ServiceCode
	if service == "" {
		service = o.ServiceText
	}
	o.Group = m.group[strings.ToUpper(service)]
	o.Measurement = m.meas[strings.ToUpper(service)]
	if o.Measurement == "" {
		o.Measurement = m.meas[strings.ToUpper(o.ServiceText)]
	}
	m.addFields(o, obr)
	return nil
}

func (m *Mapper) checkOrder(o *domain.Order, orc *Segment) error {
	if o.Action != domain.ActionNew && o.PlacerNumber == "" {
		return errAt(orc, 2, 1, CodeRequiredMissing, "placer order number (ORC-2 or OBR-2) missing: a change or cancellation must name the order")
	}
	if o.Action == domain.ActionNew && o.ServiceCode == "" && o.ServiceText == "" {
		if _, ok := o.Field("OBR-4"); !ok {
			return &Error{Pos: orc.Pos, Segment: "OBR", Seq: orc.Seq, Field: 4, Code: CodeRequiredMissing,
				Problem: "new order without OBR-4 universal service ID: the hub needs to know what to measure"}
		}
	}
	return nil
}

// AsError returns err as an *Error when it is one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
