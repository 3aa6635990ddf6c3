package pull

import (
	"strings"

	"github.com/mesi/mconnect/app/config"
)

// Routing decides which tablet group's worklist an appointment goes to
// and which measurement it asks for. The maps of the embedded Mapping are
// keyed by the appointment's type (HALO: AppointmentType; Leyr: the
// healthcare service ID), those of ByProvider by its provider (HALO:
// Provider; Leyr: the resource ID). The type's entry wins; the provider's
// is used where the type has none; then the default group and
// DefaultMeasurement.
type Routing struct {
	config.Mapping
	ByProvider config.Mapping `json:"byProvider,omitzero"`
	// DefaultMeasurement is the measurement of an appointment no map
	// names one for (default ECG).
	DefaultMeasurement string `json:"defaultMeasurement"`
	// OnlyMapped leaves out appointments whose type and provider are in no
	// map (a practice's GP consultations that are no measurement).
	OnlyMapped bool `json:"onlyMapped"`
}

// ApplyDefaults fills empty values.
func (r *Routing) ApplyDefaults() {
	if r.DefaultMeasurement == "" {
		r.DefaultMeasurement = "ECG"
	}
}

// Validate reports every invalid key.
func (r *Routing) Validate(ck *config.Checker) {
	ck.Mapping(r.Mapping)
	ck.In("byProvider").Mapping(r.ByProvider)
	if strings.TrimSpace(r.DefaultMeasurement) == "" {
		ck.Add("defaultMeasurement", "must not be empty")
	}
}

// Route returns the group ("" for the default group) and the measurement
// of an appointment of type typ with provider; ok is false when
// OnlyMapped leaves it out.
func (r Routing) Route(typ, provider string) (group, measurement string, ok bool) {
	mapped := false
	pick := func(byType, byProvider map[string]string) string {
		if v, found := lookup(byType, typ); found {
			mapped = true
			return v
		}
		if v, found := lookup(byProvider, provider); found {
			mapped = true
			return v
		}
		return ""
	}
	group = pick(r.GroupMap, r.ByProvider.GroupMap)
	measurement = pick(r.MeasurementMap, r.ByProvider.MeasurementMap)
	if measurement == "" {
		measurement = r.DefaultMeasurement
	}
	if r.OnlyMapped && !mapped {
		return "", "", false
	}
	return group, measurement, true
}

// lookup finds key in m exactly, else ignoring case and surrounding
// spaces (EHR codes are typed by people).
func lookup(m map[string]string, key string) (string, bool) {
	if key == "" || len(m) == 0 {
		return "", false
	}
	if v, ok := m[key]; ok {
		return v, true
	}
	k := strings.TrimSpace(key)
	for mk, v := range m {
		if strings.EqualFold(strings.TrimSpace(mk), k) {
			return v, true
		}
	}
	return "", false
}
