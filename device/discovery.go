package device

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sort"
	"strings"

	"github.com/pion/logging"
	"github.com/pion/mdns/v2"
	"github.com/sirupsen/logrus"
	"golang.org/x/net/ipv4"
)

// ServiceType is the DNS-SD service type the hub announces (docs/DISCOVERY.md).
const ServiceType = "_mconnect._tcp"

// TXT record keys of the announcement.
const (
	TXTID  = "id"  // hub ID
	TXTAPI = "api" // API path prefix, "/api/v1"
	TXTTLS = "tls" // "1" HTTPS, "0" plain HTTP
	TXTFP  = "fp"  // hex SHA-256 of the TLS certificate (absent without TLS)
)

// mdnsAddr is where mDNS listens (all IPv4 addresses, port 5353; the
// multicast group 224.0.0.251 is joined per interface).
const mdnsAddr = "224.0.0.0:5353"

// ifaceSet is the interfaces to announce on and a signature of their
// addresses; a changed signature means announcing again.
type ifaceSet struct {
	ifaces []net.Interface
	sig    string
}

// discoveryInterfaces lists the interfaces to announce on: the configured
// names, or every interface that is up, multicast-capable and has an IPv4
// address (loopback only when IncludeLoopback).
func discoveryInterfaces(opt DiscoveryOptions) (ifaceSet, error) {
	all, err := net.Interfaces()
	if err != nil {
		return ifaceSet{}, fmt.Errorf("device: list network interfaces: %w", err)
	}
	want := map[string]bool{}
	for _, n := range opt.Interfaces {
		want[n] = true
	}
	var set ifaceSet
	var sig []string
	for _, ifc := range all {
		if len(want) > 0 && !want[ifc.Name] {
			continue
		}
		loop := ifc.Flags&net.FlagLoopback != 0
		if ifc.Flags&net.FlagUp == 0 || (loop && !opt.IncludeLoopback) || (!loop && ifc.Flags&net.FlagMulticast == 0) {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		var v4 []string
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
				v4 = append(v4, n.IP.String())
			}
		}
		if len(v4) == 0 {
			continue
		}
		sort.Strings(v4)
		set.ifaces = append(set.ifaces, ifc)
		sig = append(sig, ifc.Name+"="+strings.Join(v4, ","))
	}
	sort.Strings(sig)
	set.sig = strings.Join(sig, ";")
	return set, nil
}

// txtRecords is the announcement's TXT data.
func (s *Server) txtRecords() []mdns.TXTEntry {
	tls := "1"
	if s.opts.PlainHTTP {
		tls = "0"
	}
	txt := []mdns.TXTEntry{
		mdns.NewTXTString(TXTID, s.opts.HubID),
		mdns.NewTXTString(TXTAPI, APIPrefix),
		mdns.NewTXTString(TXTTLS, tls),
	}
	if s.fingerprint != "" {
		txt = append(txt, mdns.NewTXTString(TXTFP, s.fingerprint))
	}
	return txt
}

// hostLabel is the host name as an mDNS label: letters, digits and hyphens.
func hostLabel() string {
	h, _ := os.Hostname()
	h = strings.TrimSuffix(strings.SplitN(h, ".", 2)[0], ".local")
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "mconnect-hub"
	}
	return b.String()
}

// announce starts an mDNS responder for the service on ifaces.
func (s *Server) announce(set ifaceSet, port int) (io.Closer, error) {
	laddr, err := net.ResolveUDPAddr("udp4", mdnsAddr)
	if err != nil {
		return nil, err
	}
	l, err := net.ListenUDP("udp4", laddr)
	if err != nil {
		return nil, fmt.Errorf("device: mDNS: listen on %s: %w", mdnsAddr, err)
	}
	host := hostLabel() + ".local"
	lf := logging.NewDefaultLoggerFactory()
	lf.Writer = logWriter{s.log}
	lf.DefaultLogLevel = logging.LogLevelWarn
	conn, err := mdns.NewServer(ipv4.NewPacketConn(l), nil,
		mdns.WithInterfaces(set.ifaces...),
		mdns.WithIncludeLoopback(s.opts.Discovery.IncludeLoopback),
		mdns.WithLocalNames(host),
		mdns.WithLoggerFactory(lf),
		mdns.WithService(mdns.ServiceInstance{
			Instance: truncateLabel(s.opts.Discovery.InstanceName),
			Service:  ServiceType,
			Domain:   "local",
			Host:     host + ".",
			Port:     uint16(port),
			Text:     s.txtRecords(),
		}),
	)
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("device: mDNS: %w", err)
	}
	return conn, nil
}

// truncateLabel keeps an instance name within one DNS label (63 bytes).
func truncateLabel(s string) string {
	for len(s) > 63 {
		_, size := lastRune(s)
		s = s[:len(s)-size]
	}
	return s
}

func lastRune(s string) (rune, int) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i]&0xC0 != 0x80 {
			return rune(s[i]), len(s) - i
		}
	}
	return 0, 1
}

// runDiscovery announces the endpoint until ctx ends, checking the
// interfaces every PollInterval and announcing again when their addresses
// changed (a laptop moved to another network, DHCP renewed).
func (s *Server) runDiscovery(ctx context.Context) {
	list := s.listIfaces
	if list == nil {
		list = func() (ifaceSet, error) { return discoveryInterfaces(s.opts.Discovery) }
	}
	start := s.startAnnounce
	if start == nil {
		start = s.announce
	}
	port := 0
	if ta, ok := s.Addr().(*net.TCPAddr); ok {
		port = ta.Port
	}
	var cur io.Closer
	sig := "\x00" // never a real signature
	defer func() {
		if cur != nil {
			cur.Close()
		}
	}()
	t := newTicker(s.opts.Discovery.PollInterval)
	defer t.Stop()
	for {
		set, err := list()
		if err != nil {
			s.log.WithError(err).Warn("device: mDNS: cannot list interfaces")
		} else if set.sig != sig {
			if cur != nil {
				cur.Close()
				cur = nil
			}
			sig = set.sig
			if len(set.ifaces) == 0 {
				s.log.Warn("device: mDNS: no interface to announce on; tablets must be given the address by hand or QR code")
			} else if cur, err = start(set, port); err != nil {
				s.log.WithError(err).Warn("device: mDNS announcement failed; tablets must be given the address by hand or QR code")
				sig = "\x00" // try again next time
			} else {
				s.log.WithFields(logrus.Fields{"interfaces": set.sig, "port": port}).Info("device: announced over mDNS")
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Announcement is a hub found on the LAN.
type Announcement struct {
	Instance string
	Addr     netip.Addr
	Port     int
	ID       string
	API      string
	TLS      bool
	FP       string
}

// Discover browses for hubs on ifaces (all multicast interfaces when nil)
// and returns the first found, or ctx's error.
func Discover(ctx context.Context, ifaces []net.Interface, includeLoopback bool) (Announcement, error) {
	laddr, _ := net.ResolveUDPAddr("udp4", mdnsAddr)
	l, err := net.ListenUDP("udp4", laddr)
	if err != nil {
		return Announcement{}, fmt.Errorf("device: mDNS: listen: %w", err)
	}
	opts := []mdns.ServerOption{mdns.WithIncludeLoopback(includeLoopback)}
	if ifaces != nil {
		opts = append(opts, mdns.WithInterfaces(ifaces...))
	}
	lf := logging.NewDefaultLoggerFactory()
	lf.Writer = io.Discard
	opts = append(opts, mdns.WithLoggerFactory(lf))
	conn, err := mdns.NewServer(ipv4.NewPacketConn(l), nil, opts...)
	if err != nil {
		l.Close()
		return Announcement{}, fmt.Errorf("device: mDNS: %w", err)
	}
	defer conn.Close()
	found := make(chan Announcement, 1)
	conn.OnServiceDiscovered(func(ev mdns.ServiceEvent) {
		a := Announcement{Instance: ev.Instance.Instance, Addr: ev.Addr, Port: int(ev.Instance.Port)}
		for _, t := range ev.Instance.Text {
			switch t.Key {
			case TXTID:
				a.ID = string(t.Value)
			case TXTAPI:
				a.API = string(t.Value)
			case TXTTLS:
				a.TLS = string(t.Value) == "1"
			case TXTFP:
				a.FP = string(t.Value)
			}
		}
		select {
		case found <- a:
		default:
		}
	})
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := conn.Browse(bctx, ServiceType); err != nil {
		return Announcement{}, fmt.Errorf("device: mDNS browse: %w", err)
	}
	select {
	case a := <-found:
		return a, nil
	case <-ctx.Done():
		return Announcement{}, errors.Join(errors.New("device: no hub found over mDNS"), ctx.Err())
	}
}
