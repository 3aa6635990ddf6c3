package app

import (
	"crypto/tls"
	"path/filepath"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/outbox"
	"github.com/mesi/mconnect/app/tlscert"
	"github.com/mesi/mconnect/connectors/gdt"
	"github.com/mesi/mconnect/connectors/gdtfile"
)

// wireGDT builds a GDT connection (Doctolib, Tomedo): the inbound folder
// (and the embedded FTP endpoint when enabled) and the result writer.
func (h *Hub) wireGDT(name string, c *config.GDTConfig, p outbox.Policy) error {
	var o gdtfile.Options
	if h.profile.ID == "tomedo" {
		o = gdtfile.TomedoDefaults()
	} else {
		o = gdtfile.DoctolibDefaults()
	}
	o.Name, o.Profile = name, h.profile.ID
	o.InboundDir = c.InboundDir
	o.DeleteProcessed = c.AfterProcess == "delete"
	cs, err := gdt.ParseCharset(c.Charset)
	if err != nil {
		return &ConfigError{Key: "gdt.charset", Err: err}
	}
	o.Charset = cs
	if cs != gdt.CharsetAuto {
		o.ResultCharset = cs
	}
	o.QuietPeriod = c.QuietPeriod.D()
	o.MaxFileSize = int64(c.MaxFileMB) << 20
	o.Groups, o.Measurements = c.GroupMap, c.MeasurementMap
	o.ResultDir, o.PDFDir = c.ResultDir, c.PDFDir
	o.TempDir = filepath.Join(h.dataDir, "tmp")
	if c.Naming == "counting" {
		o.ResultNaming = gdtfile.NamingCounting
	} else {
		o.ResultNaming = gdtfile.NamingFixed
	}
	o.EmbedPDF = c.EmbedPDF
	o.HubID, o.EHRID, o.Version = c.HubID, c.EHRID, c.Version
	if c.FTP.Enabled {
		pw, err := h.secret("gdt.ftp.password", c.FTP.Password)
		if err != nil {
			return err
		}
		o.FTP = gdtfile.FTPOptions{Enabled: true, Addr: c.FTP.Listen, User: c.FTP.User, Password: pw,
			PassivePorts: c.FTP.PassivePorts, RequireTLS: c.FTP.RequireTLS, MaxConnections: c.FTP.MaxConnections}
		if c.FTP.TLS {
			cert, _, err := tlscert.LoadOrCreate(h.dataDir)
			if err != nil {
				return err
			}
			o.FTP.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		}
	}
	in, err := gdtfile.NewInbound(o, h, h.log, h.health)
	if err != nil {
		return &ConfigError{Key: "gdt", Err: err}
	}
	h.inboundComp[name] = "conn:" + name + "/gdt-in"
	h.add("conn:"+name+"/gdt-in", in.Run)
	out, err := gdtfile.NewOutbound(o, h.log, h.health)
	if err != nil {
		return &ConfigError{Key: "gdt", Err: err}
	}
	return h.register(name, out, p, h.profile.Name+" (GDT files)")
}
