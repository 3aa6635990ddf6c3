package setup

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mesi/mconnect/connectors/catalogue"
	"github.com/mesi/mconnect/connectors/connector"
	"github.com/mesi/mconnect/connectors/probe"
)

// The checks are a declarative list apart from the screens, each
// {what, subject, required, run}: the wizard shows them green or red
// with what to do, and keeps Save disabled until the required ones pass.
// A check that asks the EHR may be overridden after a confirm (the EHR
// may simply be off). Answers are codes with arguments; strings.go turns
// them into words.

// Check kinds (what is tested).
const (
	checkPort    = "port"
	checkFolder  = "folder"
	checkKeyring = "keyring"
	checkEHR     = "ehr"
	checkFTP     = "ftp"
)

// Outcome codes beside probe's (reachable, refused, timeout, unreachable,
// http-status, auth-refused).
const (
	codePortFree       = "port-free"
	codePortOurs       = "port-ours" // held by the hub that runs now
	codePortInUse      = "port-in-use"
	codePortBad        = "port-bad"
	codeFolderOK       = "folder-ok"
	codeFolderNew      = "folder-new" // missing; the hub creates it
	codeFolderNoCreate = "folder-cannot-create"
	codeFolderNoWrite  = "folder-not-writable"
	codeDiskFull       = "disk-full"
	codeKeyringOK      = "keyring-ok"
	codeKeyringNo      = "keyring-unreachable"
	codeReachableOnly  = "reachable-untested" // answers; the stored credential was not tried
)

// minFreeBytes is the free space a folder's disk must have: the store,
// PDF reports and exchange files grow there.
const minFreeBytes = 500 << 20

// Check is one preflight check.
type Check struct {
	What     string // checkPort, checkFolder, ...
	Subject  string // the port, folder, address or URL tested
	Field    string // the config key it is about ("" for the keyring)
	Required bool   // false: may be overridden after a confirm
	Run      func(ctx context.Context) Outcome
}

// Outcome is a check's answer in codes; Detail is technical text.
type Outcome struct {
	OK     bool
	Code   string
	Args   map[string]string
	Detail string
}

// checkEnv is what the checks need beside the config.
type checkEnv struct {
	// own are the listen addresses the running hub holds (its config's):
	// such a port is in use by the hub itself, which is fine.
	own     map[string]bool
	secrets interface{ Check() error }
	client  *http.Client
	minFree uint64
}

// buildChecks lists the checks of a configuration for the EHR's profile.
func buildChecks(p catalogue.Profile, d *document, env checkEnv) []Check {
	if env.client == nil {
		env.client = &http.Client{Timeout: 10 * time.Second}
	}
	if env.minFree == 0 {
		env.minFree = minFreeBytes
	}
	var out []Check
	seen := map[string]bool{}
	port := func(what, key string) {
		addr := d.text(key)
		out = append(out, Check{What: what, Subject: addr, Field: key, Required: true,
			Run: func(context.Context) Outcome { return portFree(addr, env.own[key+"="+addr]) }})
	}
	folder := func(key string) {
		dir := d.text(key)
		if seen[dir] {
			return
		}
		seen[dir] = true
		out = append(out, Check{What: checkFolder, Subject: dir, Field: key, Required: true,
			Run: func(context.Context) Outcome { return folderUsable(dir, env.minFree) }})
	}
	keyring := false
	port(checkPort, "device.listen")
	if d.text("hub.dataDir") != "" {
		folder("hub.dataDir")
	}
	for _, s := range p.Sections {
		switch s {
		case "hl7":
			port(checkPort, "hl7.listen")
			addr := d.text("hl7.resultHost")
			out = append(out, Check{What: checkEHR, Subject: addr, Field: "hl7.resultHost",
				Run: func(ctx context.Context) Outcome { return fromProbe(probe.TCP(ctx, addr)) }})
		case "weda":
			folder("weda.inboundDir")
			keyring = true
			u, header, token := d.text("weda.resultURL"), d.text("weda.tokenHeader"), d.pending["weda.token"]
			out = append(out, Check{What: checkEHR, Subject: u, Field: "weda.resultURL",
				Run: func(ctx context.Context) Outcome {
					if header == "" {
						header = "Authorization"
					}
					value := token
					if strings.EqualFold(header, "Authorization") {
						value = "Bearer " + token
					}
					return askHTTP(ctx, env.client, http.MethodHead, u, nil, token != "", map[string]string{header: value}, "weda.token")
				}})
		case "gdt":
			folder("gdt.inboundDir")
			folder("gdt.resultDir")
			folder("gdt.pdfDir")
			if d.boolean("gdt.ftp.enabled") {
				keyring = true
				port(checkFTP, "gdt.ftp.listen")
			}
		case "halo":
			keyring = true
			base, site, key := strings.TrimRight(d.text("halo.baseURL"), "/"), d.text("halo.siteId"), d.pending["halo.apiKey"]
			u := base + "/integrator/sites/" + url.PathEscape(site)
			out = append(out, Check{What: checkEHR, Subject: base, Field: "halo.baseURL",
				Run: func(ctx context.Context) Outcome {
					return askHTTP(ctx, env.client, http.MethodGet, u, nil, key != "", map[string]string{"Ocp-Apim-Subscription-Key": key}, "halo.apiKey")
				}})
		case "leyr":
			keyring = true
			base := strings.TrimRight(d.text("leyr.baseURL"), "/")
			u := base + "/emrs/" + url.PathEscape(d.text("leyr.emr")) + "/care-units/" + url.PathEscape(d.text("leyr.careUnitId")) + "/healthcare-services"
			id, secret := d.text("leyr.clientId"), d.pending["leyr.clientSecret"]
			out = append(out, Check{What: checkEHR, Subject: base, Field: "leyr.baseURL",
				Run: func(ctx context.Context) Outcome {
					return askHTTP(ctx, env.client, http.MethodGet, u, nil, secret != "",
						map[string]string{"x-leyr-client-id": id, "x-leyr-client-secret": secret}, "leyr.clientSecret")
				}})
		case "join", "ziplanerx":
			keyring = true
			port(checkPort, s+".api.listen")
			tokenURL, id, secret := d.text(s+".results.tokenURL"), d.text(s+".results.clientId"), d.pending[s+".results.clientSecret"]
			post := d.text(s+".results.authStyle") == "post"
			out = append(out, Check{What: checkEHR, Subject: tokenURL, Field: s + ".results.tokenURL",
				Run: func(ctx context.Context) Outcome {
					form := url.Values{"grant_type": {"client_credentials"}}
					headers := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
					if post {
						form.Set("client_id", id)
						form.Set("client_secret", secret)
					}
					return askHTTP(ctx, env.client, http.MethodPost, tokenURL, form, secret != "", headers, s+".results.clientSecret",
						func(r *http.Request) {
							if !post {
								r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
							}
						})
				}})
		}
	}
	if keyring && env.secrets != nil {
		sec := env.secrets
		out = append(out, Check{What: checkKeyring, Required: true,
			Run: func(context.Context) Outcome { return keyringReachable(sec) }})
	}
	return out
}

// portFree reports whether the port of a listen address can be opened
// here; ours: the running hub holds it (its own config's address).
func portFree(addr string, ours bool) Outcome {
	o := Outcome{Args: map[string]string{"addr": addr}}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		o.Code, o.Detail = codePortBad, err.Error()
		return o
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		o.Code, o.Detail = codePortBad, "port "+port+" is not 1..65535"
		return o
	}
	o.Args["port"] = port
	l, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err == nil {
		l.Close()
		o.OK, o.Code = true, codePortFree
		return o
	}
	o.Detail = err.Error()
	if ours {
		// The running hub holds it: it must answer there.
		if r := probe.TCP(context.Background(), probe.LocalAddr(addr)); r.OK {
			o.OK, o.Code = true, codePortOurs
			return o
		}
	}
	o.Code = codePortInUse
	return o
}

// folderUsable reports whether dir takes a new file and its disk has
// room. A missing folder is fine when it can be created (the hub creates
// its folders at start); one that cannot is red.
func folderUsable(dir string, minFree uint64) Outcome {
	o := Outcome{Args: map[string]string{"folder": dir}}
	if !filepath.IsAbs(dir) {
		o.Code, o.Detail = codeFolderNoCreate, dir+" is not an absolute path"
		return o
	}
	at := dir
	fi, err := os.Stat(dir)
	switch {
	case err == nil && !fi.IsDir():
		o.Code, o.Detail = codeFolderNoCreate, dir+" is a file, not a folder"
		return o
	case err != nil:
		parent, cerr := creatable(dir)
		if cerr != nil {
			o.Code, o.Detail = codeFolderNoCreate, cerr.Error()
			return o
		}
		at = parent
	default:
		if r := probe.Folder(dir); !r.OK {
			o.Code, o.Detail = codeFolderNoWrite, r.Detail
			return o
		}
	}
	if free, err := freeBytes(at); err == nil && free < minFree {
		o.Code = codeDiskFull
		o.Args["free"] = strconv.FormatUint(free>>20, 10)
		o.Detail = "free " + strconv.FormatUint(free, 10) + " bytes on the disk of " + at + ", needs " + strconv.FormatUint(minFree, 10)
		return o
	}
	o.OK, o.Code = true, codeFolderOK
	if at != dir {
		o.Code = codeFolderNew
	}
	return o
}

// creatable tells whether MkdirAll(dir) could succeed: the nearest
// existing parent is a folder this user may write into (returned).
func creatable(dir string) (string, error) {
	p := dir
	for {
		parent := filepath.Dir(p)
		fi, err := os.Stat(parent)
		if err == nil {
			if !fi.IsDir() {
				return "", errors.New(parent + " is a file, not a folder")
			}
			return parent, probeWrite(parent)
		}
		if parent == p {
			return "", err
		}
		p = parent
	}
}

func probeWrite(dir string) error {
	f, err := os.CreateTemp(dir, ".mconnect-check-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// createFolder makes dir (the "Create" button of a folder field).
func createFolder(dir string) error {
	if !filepath.IsAbs(dir) {
		return errors.New(dir + " is not an absolute path")
	}
	return os.MkdirAll(dir, 0o755)
}

func keyringReachable(s interface{ Check() error }) Outcome {
	if err := s.Check(); err != nil {
		return Outcome{Code: codeKeyringNo, Detail: err.Error()}
	}
	return Outcome{OK: true, Code: codeKeyringOK}
}

// askHTTP sends one request and reports it with probe's codes; without a
// typed credential a 401/403 only shows the address answers.
func askHTTP(ctx context.Context, client *http.Client, method, u string, form url.Values, withCredential bool, headers map[string]string, credKey string, edit ...func(*http.Request)) Outcome {
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return Outcome{Code: probe.CodeUnreachable, Args: map[string]string{"url": u}, Detail: err.Error()}
	}
	for k, v := range headers {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	for _, e := range edit {
		e(req)
	}
	o := fromProbe(probe.HTTP(client, req))
	if o.Code == probe.CodeAuthRefused {
		if !withCredential {
			o.OK, o.Code = true, codeReachableOnly
		} else if credKey != "" {
			o.Args["field"] = credKey
		}
	}
	return o
}

func fromProbe(r connector.CheckResult) Outcome {
	args := map[string]string{}
	for k, v := range r.Args {
		args[k] = v
	}
	return Outcome{OK: r.OK, Code: r.Code, Args: args, Detail: r.Detail}
}
