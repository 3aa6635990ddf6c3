// Package registry lists the connector kinds this build provides and
// answers, for the config and the hub, which kinds an EHR's profile is
// made of. Adding a connector is one new package and one line in kinds.
package registry

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/connectors/catalogue"
	"github.com/mesi/mconnect/connectors/connector"
	"github.com/mesi/mconnect/connectors/gdtfile"
	"github.com/mesi/mconnect/connectors/halo"
	"github.com/mesi/mconnect/connectors/hl7net"
	"github.com/mesi/mconnect/connectors/leyr"
	"github.com/mesi/mconnect/connectors/pushjson"
)

// kinds are the connector kinds of this build, one line each.
var kinds = []connector.Kind{
	hl7net.MLLPKind(),
	hl7net.WEDAKind(),
	gdtfile.Kind(),
	halo.Kind(),
	leyr.Kind(),
	pushjson.JoinKind(),
	pushjson.ZipLaneRxKind(),
}

// ErrNotBuilt is returned for an EHR whose connection is made of kinds this
// build does not provide.
var ErrNotBuilt = errors.New("connection not built in this version")

// Registry is a set of connector kinds and the EHR profiles made of them.
type Registry struct {
	kinds map[string]connector.Kind
	// extra are profiles beside the catalogue's (tests' toy EHRs).
	extra map[string]catalogue.Profile
}

// Default is the registry of this build.
var Default = New(kinds...)

// New returns a registry of the given kinds (tests add their own).
func New(ks ...connector.Kind) *Registry {
	r := &Registry{kinds: map[string]connector.Kind{}, extra: map[string]catalogue.Profile{}}
	for _, k := range ks {
		r.kinds[k.Section] = k
	}
	return r
}

// With returns a registry with k added (or replacing the kind of its
// section) and, when p is given, the profiles p.
func (r *Registry) With(k connector.Kind, ps ...catalogue.Profile) *Registry {
	n := &Registry{kinds: map[string]connector.Kind{}, extra: map[string]catalogue.Profile{}}
	for s, v := range r.kinds {
		n.kinds[s] = v
	}
	for id, p := range r.extra {
		n.extra[id] = p
	}
	n.kinds[k.Section] = k
	for _, p := range ps {
		n.extra[p.ID] = p
	}
	return n
}

// Profile returns the EHR's profile: the catalogue's, or one added With.
func (r *Registry) Profile(ehr string) (catalogue.Profile, error) {
	if p, ok := r.extra[ehr]; ok {
		return p, nil
	}
	return catalogue.Lookup(ehr)
}

// Kind returns the kind owning a config section.
func (r *Registry) Kind(section string) (connector.Kind, bool) {
	k, ok := r.kinds[section]
	return k, ok
}

// Built reports whether every kind of the profile is in the registry.
func (r *Registry) Built(p catalogue.Profile) bool {
	for _, s := range p.Sections {
		if _, ok := r.kinds[s]; !ok {
			return false
		}
	}
	return true
}

// KindsFor returns the kinds of the EHR's profile, in the profile's order;
// ErrNotBuilt when one is missing.
func (r *Registry) KindsFor(p catalogue.Profile) ([]connector.Kind, error) {
	var out []connector.Kind
	for _, s := range p.Sections {
		k, ok := r.kinds[s]
		if !ok {
			return nil, fmt.Errorf("%w: the %s connection (%s, catalogue section %s) is not built in this version of mCONNECT Hub; nothing was started",
				ErrNotBuilt, p.Name, p.Format, p.Section)
		}
		out = append(out, k)
	}
	return out, nil
}

// SectionsFor implements config.Schema: the sections of the EHR that this
// build provides.
func (r *Registry) SectionsFor(ehr string) ([]string, error) {
	p, err := r.Profile(ehr)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range p.Sections {
		if _, ok := r.kinds[s]; ok {
			out = append(out, s)
		}
	}
	return out, nil
}

// NewSection implements config.Schema.
func (r *Registry) NewSection(ehr, key string) (config.Section, bool) {
	k, ok := r.kinds[key]
	if !ok {
		return nil, false
	}
	p, _ := r.Profile(ehr)
	return k.New(p), true
}

// Example returns a complete, valid configuration for the EHR with every
// folder and the database under dataDir (empty: the OS user data dir).
func (r *Registry) Example(ehr, dataDir string) (*config.Config, error) {
	p, err := r.Profile(ehr)
	if err != nil {
		return nil, err
	}
	if dataDir == "" {
		dataDir = config.DefaultDataDir()
	}
	if dataDir, err = filepath.Abs(dataDir); err != nil {
		return nil, err
	}
	c := config.Core(p.ID, dataDir)
	for _, s := range p.Sections {
		if k, ok := r.kinds[s]; ok {
			if c.Sections == nil {
				c.Sections = map[string]config.Section{}
			}
			c.Sections[s] = k.Example(p, dataDir)
		}
	}
	c.ApplyDefaults()
	return c, nil
}

// Endpoints lists the folders, ports and addresses of every section of c.
func (r *Registry) Endpoints(c *config.Config) []connector.Endpoint {
	var out []connector.Endpoint
	p, err := r.Profile(c.EHR)
	if err != nil {
		return nil
	}
	for _, s := range p.Sections {
		k, ok := r.kinds[s]
		sec, has := c.Sections[s]
		if ok && has && k.Endpoints != nil {
			out = append(out, k.Endpoints(sec)...)
		}
	}
	return out
}

// Load reads and validates a config file with the default registry.
func Load(path string) (*config.Config, error) { return config.Load(path, Default) }

// Parse decodes and validates a config with the default registry.
func Parse(data []byte) (*config.Config, error) { return config.Parse(data, Default) }

// Example returns the default registry's example config for the EHR.
func Example(ehr, dataDir string) (*config.Config, error) { return Default.Example(ehr, dataDir) }
