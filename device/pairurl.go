package device

import (
	"fmt"
	"net"
	"net/url"
)

// PairingScheme is the URI scheme of pairing URLs.
const PairingScheme = "mconnect"

// PairingURL returns what the Dashboard's QR code holds and what a person
// types into a tablet to pair it without discovery (docs/DISCOVERY.md):
//
//	mconnect://HOST:PORT?code=CODE&fp=FINGERPRINT
//
// listen is the endpoint's listen address (Options.Listen); TabletAddress
// turns it into one tablets can reach. fingerprint is the certificate's hex
// SHA-256 (Server.Fingerprint); an empty fingerprint means the endpoint
// serves plain HTTP, and the URL then says tls=0 instead. An empty code is
// left out (the tablet asks for it).
func PairingURL(listen, fingerprint, code string) string {
	return pairingURL(TabletAddress(listen), fingerprint, code)
}

func pairingURL(hostPort, fingerprint, code string) string {
	q := url.Values{}
	if code != "" {
		q.Set("code", code)
	}
	if fingerprint != "" {
		q.Set("fp", fingerprint)
	} else {
		q.Set("tls", "0")
	}
	return fmt.Sprintf("%s://%s?%s", PairingScheme, hostPort, q.Encode())
}

// TabletAddress is the HOST:PORT tablets reach a listen address at: the
// listen address itself when it names a host, else (":8443", "0.0.0.0:8443",
// "[::]:8443") this machine's LAN address with the port. IPv6 hosts are
// bracketed. A listen address that cannot be split is returned as it is.
func TabletAddress(listen string) string { return tabletAddress(listen, lanIP) }

func tabletAddress(listen string, lan func() string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = lan()
	}
	return net.JoinHostPort(host, port)
}

// lanIP returns the machine's first non-loopback IPv4 address, else 127.0.0.1.
func lanIP() string {
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
				return ipn.IP.String()
			}
		}
	}
	return "127.0.0.1"
}
