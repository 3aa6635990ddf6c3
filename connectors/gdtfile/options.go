// Package gdtfile is the GDT connection of the hub for Doctolib and tomedo:
// it combines the GDT codec (connectors/gdt), the exchange-folder transport
// (connectors/folder) and, when configured, the embedded FTP endpoint
// (connectors/ftp).
//
// Inbound watches the inbound folder: each complete file is parsed, mapped
// to a domain.Order and handed to the hub's OrderSink; only after the sink
// has stored it durably is the file archived (or deleted). Files that can
// never be processed go to error/ with a note naming the line, field and
// problem; when the store is unavailable the file stays and is retried.
//
// Outbound (a domain.Outbound) writes the PDF report and then a 6310 result
// GDT file into the configured folders, never over a file the EHR has not
// picked up yet: each through a staging file of the delivery, published by
// one rename, with the steps recorded as resumable progress so that a send
// cut off by a crash is finished or written again, never left ambiguous.
package gdtfile

import (
	"crypto/tls"
	"time"

	"github.com/mesi/mconnect/connectors/catalogue"
	"github.com/mesi/mconnect/connectors/gdt"
)

// Naming says how result files are named.
type Naming string

// Result file naming modes.
const (
	// NamingFixed writes ResultFileName every time; while the EHR has not
	// picked up the previous file, delivery waits (temporary error).
	NamingFixed Naming = "fixed"
	// NamingCounting writes ResultFileName.000, .001 ... (next free number).
	NamingCounting Naming = "counting"
)

// FTPOptions configure the embedded FTP endpoint serving the inbound folder.
type FTPOptions struct {
	Enabled bool
	// Addr is the IPv4 listen address, e.g. "0.0.0.0:2121".
	Addr string
	// User and Password are resolved from the keyring by the hub.
	User, Password string
	// PassivePorts is the passive port range, e.g. "30000-30009".
	PassivePorts string
	// PublicIP is announced in PASV replies (NAT); usually empty.
	PublicIP string
	// TLSConfig enables explicit FTPS; RequireTLS refuses plain sessions.
	TLSConfig  *tls.Config
	RequireTLS bool
	// MaxConnections bounds concurrent logged-in sessions (default 8);
	// connections that have not logged in do not count.
	MaxConnections int
	// MaxConnectionsPerIP bounds connections from one address (default 4)
	// and MaxPendingLogins those not logged in yet (default 16); at either
	// bound the oldest connection without login makes room.
	MaxConnectionsPerIP, MaxPendingLogins int
	// LoginTimeout closes a connection that has not logged in (default
	// 30 s); IdleTimeout a logged-in session without commands (default 5 min).
	LoginTimeout, IdleTimeout time.Duration
	// MaxLoginFailures wrong passwords from one address lock it out for
	// LockDuration, doubling with each further lock up to MaxLockDuration
	// (defaults 5, 1 min, 1 h); wrong passwords are answered after
	// FailureDelay, doubling per failure (default 500 ms, at most 5 s).
	MaxLoginFailures              int
	LockDuration, MaxLockDuration time.Duration
	FailureDelay                  time.Duration
	// ServeResults mounts the result folder as /results (and the PDF folder
	// as /pdf when different) so the EHR can fetch results over FTP too.
	ServeResults bool
}

// Options configure a GDT connection (both directions).
type Options struct {
	// Name is the connection name (orders carry it; logs and health name it).
	Name string
	// Profile is "doctolib" or "tomedo" (informational).
	Profile string

	// InboundDir is where the EHR drops order files.
	InboundDir string
	// ArchiveDir and ErrorDir default to InboundDir/archive and InboundDir/error.
	ArchiveDir, ErrorDir string
	// DeleteProcessed deletes processed files instead of archiving them.
	DeleteProcessed bool
	// Patterns select inbound files by name (case-insensitive globs);
	// default "*.gdt" and "*.[0-9][0-9][0-9]" (counting extensions).
	Patterns []string
	// Charset decodes inbound files; gdt.CharsetAuto (default) follows 9206
	// and detects UTF-8.
	Charset gdt.Charset
	// QuietPeriod: how long a file must be unchanged to count as complete
	// when its 8100 record length cannot tell (default 2 s).
	QuietPeriod time.Duration
	// RescanInterval: full folder scan period (default 5 s).
	RescanInterval time.Duration
	// MaxFileSize refuses larger inbound files unread (default 10 MB).
	MaxFileSize int64
	// IncompleteWait: how long a file that looks still being written (8100
	// promising more bytes than there are, no line end after the last
	// line) may stay unchanged before it is read as it is; also how long a
	// rejected file is watched in error/ for growth (default 2 min).
	IncompleteWait time.Duration
	// MaxRetries bounds the attempts at reading, archiving and moving a
	// file to error/ (default 10); see folder.Options.MaxRetries.
	MaxRetries int
	// Groups maps requested codes (8402, else 2998) to tablet group IDs;
	// unmapped codes go to the default group.
	Groups map[string]string
	// Measurements maps requested codes to measurement names, over
	// gdt.DefaultMeasurements.
	Measurements map[string]string
	// FTP serves InboundDir over FTP when enabled.
	FTP FTPOptions

	// ResultDir receives the 6310 result files; PDFDir the PDF reports
	// (may be the same folder; default ResultDir).
	ResultDir, PDFDir string
	// TempDir holds files being written (default: ".mconnect-tmp" beside
	// the target folder; must be on the same filesystem).
	TempDir string
	// ResultNaming and ResultFileName name result files. With NamingFixed
	// ResultFileName is the whole name (default: first four characters of
	// EHRID and of HubID + ".GDT", e.g. "TOMEMESI.GDT"); with
	// NamingCounting it is the stem before .000 ... .999.
	ResultNaming   Naming
	ResultFileName string
	// PDFFileName is the PDF name template: {patient} {result} {order}
	// {measurement} {date}; default "{patient}_{measurement}_{result}.pdf".
	PDFFileName string
	// PDFReference is the PDF folder as the EHR sees it, written in 6305
	// (e.g. `\\PRAXIS-PC\gdt\pdf`); default the PDFDir path.
	PDFReference string
	// EmbedPDF also embeds the PDF Base64-encoded (6329, GDT 3.x only).
	EmbedPDF bool
	// HubID is the hub's GDT ID (8315 of orders, 8316 of results) and EHRID
	// the EHR's (8316 of orders, 8315 of results). The order's own IDs win.
	HubID, EHRID string
	// Version (9218) and ResultCharset of results when the order does not
	// say (unsolicited results); ForceResultFormat makes them win always.
	Version           string
	ResultCharset     gdt.Charset
	ForceResultFormat bool
}

// DefaultPatterns are the inbound file name patterns used when none are set.
func DefaultPatterns() []string { return []string{"*.gdt", "*.[0-9][0-9][0-9]"} }

// ProfileDefaults returns the options of a GDT profile of the catalogue:
// its GDT IDs, version and charsets.
func ProfileDefaults(p catalogue.Profile) Options {
	cs := gdt.CharsetCP437
	if p.GDT.ResultCharset != "" {
		if c, err := gdt.ParseCharset(p.GDT.ResultCharset); err == nil {
			cs = c
		}
	}
	version := gdt.Version21
	if p.GDT.Version == "03.00" {
		version = gdt.Version30
	}
	return Options{
		Name:          p.ID,
		Profile:       p.ID,
		Patterns:      DefaultPatterns(),
		Charset:       gdt.CharsetAuto,
		QuietPeriod:   2 * time.Second,
		ResultNaming:  NamingFixed,
		HubID:         p.GDT.HubID,
		EHRID:         p.GDT.EHRID,
		Version:       version,
		ResultCharset: cs,
		PDFFileName:   "{patient}_{measurement}_{result}.pdf",
	}
}

// DoctolibDefaults returns the Doctolib profile: GDT 2.1, results in CP437
// unless the order says otherwise.
func DoctolibDefaults() Options { return ProfileDefaults(mustProfile("doctolib")) }

// TomedoDefaults returns the tomedo profile: tomedo's GDT export writes
// UTF-8 by default and speaks GDT 3.0; results are answered in the order's
// version and charset (UTF-8, 3.0 unless the order says otherwise).
func TomedoDefaults() Options { return ProfileDefaults(mustProfile("tomedo")) }

func mustProfile(id string) catalogue.Profile {
	p, err := catalogue.Lookup(id)
	if err != nil {
		panic(err)
	}
	return p
}
