// Package catalogue lists the thirteen EHR connections of the mCONNECT
// services catalogue: for each EHR, its format, how orders reach the hub,
// how results leave it, how it authenticates, and the defaults a new
// configuration starts from. It holds facts only; app/config turns a
// profile into a configuration and app wires the connectors it names.
package catalogue

import (
	"fmt"
	"sort"
	"strings"
)

// Format is the EHR's data format.
type Format string

// Formats of the catalogue.
const (
	FormatHL7  Format = "HL7 v2"
	FormatGDT  Format = "GDT"
	FormatJSON Format = "JSON"
)

// Inbound says how orders reach the hub.
type Inbound string

// Inbound kinds.
const (
	InMLLP       Inbound = "mllp"        // EHR sends ORM^O01 over MLLP to the hub's listener
	InHL7Files   Inbound = "hl7-files"   // EHR drops HL7 files into a folder (WEDA)
	InGDTFiles   Inbound = "gdt-files"   // EHR drops GDT files into a folder, locally or over the hub's FTP endpoint
	InPull       Inbound = "pull"        // hub pulls appointments from a cloud API when a tablet asks
	InPushedJSON Inbound = "pushed-json" // EHR POSTs appointments to the hub's Integration API
)

// Outbound says how results leave the hub.
type Outbound string

// Outbound kinds.
const (
	OutMLLP      Outbound = "mllp"      // ORU^R01 over MLLP to the EHR's host:port
	OutHL7HTTP   Outbound = "hl7-http"  // HL7 POSTed to an HTTP endpoint (WEDA)
	OutGDTFiles  Outbound = "gdt-files" // result GDT + PDF written into folders
	OutHALO      Outbound = "halo"      // JSON POSTed to HALO Connect (Best Practice)
	OutLeyr      Outbound = "leyr"      // JSON POSTed to Leyr (Vena, Webdoc)
	OutJoin      Outbound = "join"      // JSON POSTed to Join
	OutZipLaneRx Outbound = "ziplanerx" // JSON POSTed to ZipLaneRx
)

// Profile is one EHR of the catalogue.
type Profile struct {
	ID       string // config ID: "birpis", "tomedo" ...
	Name     string // as clinics know it: "Best Practice", "WEDA" ...
	Format   Format
	Inbound  Inbound
	Outbound Outbound
	Auth     string // how the EHR side is authorised
	Section  string // the catalogue section describing it
	// Sections are the config sections (connector kinds) the EHR's
	// connection is made of; a profile whose kinds the registry lacks is
	// not built in this version.
	Sections []string
	// GDT defaults (GDT profiles only).
	GDT GDTDefaults
	// HL7 defaults (HL7 profiles only).
	HL7 HL7Defaults
}

// GDTDefaults are the starting values of a GDT connection.
type GDTDefaults struct {
	EHRID   string // the EHR's GDT ID (8316 of its orders, 8315 of our results)
	HubID   string // the hub's GDT ID
	Version string // "02.10" or "03.00"
	Charset string // "cp437", "utf-8", "windows-1252", "din66003", "iso-8859-15", "auto"
	// ResultCharset is what results are written in when the order did not
	// say (charset "auto"): "cp437" (GDT 2.1's default) or "utf-8".
	ResultCharset string
}

// HL7Defaults are the starting values of an HL7 connection.
type HL7Defaults struct {
	ReceivingApp string // the EHR's application name in MSH-5 of our results
}

var profiles = []Profile{
	{ID: "bestpractice", Name: "Best Practice", Format: FormatJSON, Inbound: InPull, Outbound: OutHALO, Auth: "API key (HALO Connect)", Sections: []string{"halo"}, Section: "3.1"},
	{ID: "birpis", Name: "Birpis", Format: FormatHL7, Inbound: InMLLP, Outbound: OutMLLP, Auth: "IP whitelist", Sections: []string{"hl7"}, Section: "3.2",
		HL7: HL7Defaults{ReceivingApp: "BIRPIS"}},
	{ID: "doctolib", Name: "Doctolib", Format: FormatGDT, Inbound: InGDTFiles, Outbound: OutGDTFiles, Auth: "folder / FTP credentials", Sections: []string{"gdt"}, Section: "3.3",
		GDT: GDTDefaults{EHRID: "DOCTOLIB", HubID: "MESI", Version: "02.10", Charset: "auto", ResultCharset: "cp437"}},
	{ID: "hipokrat", Name: "Hipokrat", Format: FormatHL7, Inbound: InMLLP, Outbound: OutMLLP, Auth: "IP whitelist", Sections: []string{"hl7"}, Section: "3.4",
		HL7: HL7Defaults{ReceivingApp: "HIPOKRAT"}},
	{ID: "iris", Name: "Iris", Format: FormatHL7, Inbound: InMLLP, Outbound: OutMLLP, Auth: "IP whitelist", Sections: []string{"hl7"}, Section: "3.5",
		HL7: HL7Defaults{ReceivingApp: "IRIS"}},
	{ID: "isoz", Name: "Isoz", Format: FormatHL7, Inbound: InMLLP, Outbound: OutMLLP, Auth: "IP whitelist", Sections: []string{"hl7"}, Section: "3.6",
		HL7: HL7Defaults{ReceivingApp: "ISOZ"}},
	{ID: "join", Name: "Join", Format: FormatJSON, Inbound: InPushedJSON, Outbound: OutJoin, Auth: "OAuth 2.0 bearer token", Sections: []string{"join"}, Section: "3.7"},
	{ID: "nextgen", Name: "NextGen", Format: FormatHL7, Inbound: InMLLP, Outbound: OutMLLP, Auth: "IP whitelist", Sections: []string{"hl7"}, Section: "3.8",
		HL7: HL7Defaults{ReceivingApp: "NEXTGEN"}},
	{ID: "tomedo", Name: "Tomedo", Format: FormatGDT, Inbound: InGDTFiles, Outbound: OutGDTFiles, Auth: "folder / FTP credentials", Sections: []string{"gdt"}, Section: "3.9",
		GDT: GDTDefaults{EHRID: "TOMEDO", HubID: "MESI", Version: "03.00", Charset: "auto", ResultCharset: "utf-8"}}, // UTF-8 (tomedo's default) is recognised; ISO-8859-15 files declare 9206=4
	{ID: "vena", Name: "Vena", Format: FormatJSON, Inbound: InPull, Outbound: OutLeyr, Auth: "client ID/secret (Leyr)", Sections: []string{"leyr"}, Section: "3.10"},
	{ID: "webdoc", Name: "Webdoc", Format: FormatJSON, Inbound: InPull, Outbound: OutLeyr, Auth: "client ID/secret (Leyr)", Sections: []string{"leyr"}, Section: "3.11"},
	{ID: "weda", Name: "WEDA", Format: FormatHL7, Inbound: InHL7Files, Outbound: OutHL7HTTP, Auth: "API token", Sections: []string{"weda"}, Section: "3.12",
		HL7: HL7Defaults{ReceivingApp: "WEDA"}},
	{ID: "ziplanerx", Name: "ZipLaneRx", Format: FormatJSON, Inbound: InPushedJSON, Outbound: OutZipLaneRx, Auth: "OAuth 2.0 client credentials", Sections: []string{"ziplanerx"}, Section: "3.13"},
}

// All returns every profile, ordered by ID.
func All() []Profile {
	out := append([]Profile(nil), profiles...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// IDs returns every profile ID, sorted.
func IDs() []string {
	var ids []string
	for _, p := range All() {
		ids = append(ids, p.ID)
	}
	return ids
}

// Lookup returns the profile with the given ID (case-insensitive).
func Lookup(id string) (Profile, error) {
	id = strings.ToLower(strings.TrimSpace(id))
	for _, p := range profiles {
		if p.ID == id {
			return p, nil
		}
	}
	return Profile{}, fmt.Errorf("unknown EHR %q (known: %s)", id, strings.Join(IDs(), ", "))
}
