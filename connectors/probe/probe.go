// Package probe has the "Test connection" checks shared by connectors:
// reach a TCP address, reach an HTTP URL, check a folder. Each answers in
// codes and arguments that the UI renders, with the technical text as the
// detail.
package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/mesi/mconnect/connectors/connector"
)

// Codes of the check results.
const (
	CodeReachable    = "reachable"
	CodeRefused      = "refused"
	CodeTimeout      = "timeout"
	CodeUnreachable  = "unreachable"
	CodeHTTPStatus   = "http-status"
	CodeAuthRefused  = "auth-refused"
	CodeWritable     = "writable"
	CodeNotWritable  = "not-writable"
	CodeMissing      = "missing"
	CodeDiskNearFull = "disk-nearly-full"
)

// TCP connects to addr and closes again.
func TCP(ctx context.Context, addr string) connector.CheckResult {
	start := time.Now()
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	r := connector.CheckResult{Args: map[string]string{"addr": addr}}
	r.Duration = time.Since(start)
	if err != nil {
		r.Detail = err.Error()
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			r.Code = CodeTimeout
		case isRefused(err):
			r.Code = CodeRefused
		default:
			r.Code = CodeUnreachable
		}
		return r
	}
	c.Close()
	r.OK, r.Code = true, CodeReachable
	return r
}

// HTTP sends req with client and reports the status: 2xx-4xx other than
// 401/403 count as reachable (the URL answers), 401/403 as refused
// credentials, 5xx as a failure.
func HTTP(client *http.Client, req *http.Request) connector.CheckResult {
	start := time.Now()
	r := connector.CheckResult{Args: map[string]string{"url": req.URL.Redacted()}}
	resp, err := client.Do(req)
	r.Duration = time.Since(start)
	if err != nil {
		r.Detail = err.Error()
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			r.Code = CodeTimeout
		} else {
			r.Code = CodeUnreachable
		}
		return r
	}
	resp.Body.Close()
	r.Args["status"] = strconv.Itoa(resp.StatusCode)
	r.Detail = resp.Status
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		r.Code = CodeAuthRefused
	case resp.StatusCode >= 500:
		r.Code = CodeHTTPStatus
	default:
		r.OK, r.Code = true, CodeReachable
	}
	return r
}

// Folder checks that dir exists and a file can be created in it.
func Folder(dir string) connector.CheckResult {
	start := time.Now()
	r := connector.CheckResult{Args: map[string]string{"folder": dir}}
	defer func() { r.Duration = time.Since(start) }()
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		r.Code = CodeMissing
		if err != nil {
			r.Detail = err.Error()
		} else {
			r.Detail = fmt.Sprintf("%s is not a folder", dir)
		}
		return r
	}
	f, err := os.CreateTemp(dir, ".mconnect-check-*")
	if err != nil {
		r.Code, r.Detail = CodeNotWritable, err.Error()
		return r
	}
	f.Close()
	os.Remove(filepath.Clean(f.Name()))
	r.OK, r.Code = true, CodeWritable
	if free, ok := freeBytes(dir); ok {
		r.Args["free"] = HumanBytes(free)
		if free < NearlyFull {
			r.OK, r.Code = false, CodeDiskNearFull
		}
	}
	return r
}

// NearlyFull is the free space below which a folder check fails: writers
// and the database would soon.
const NearlyFull = 200 << 20

// HumanBytes writes n as people read disk space: "1.5 GB", "320 MB".
func HumanBytes(n uint64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTP"[exp])
}

// LocalAddr turns a listen address (":2121", "0.0.0.0:2121") into one this
// machine can dial.
func LocalAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
