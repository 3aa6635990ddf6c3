package setup

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/mesi/mconnect/app/secrets"
	"github.com/mesi/mconnect/app/sessionbus"
	"github.com/mesi/mconnect/connectors/catalogue"
	"github.com/mesi/mconnect/connectors/probe"
	"github.com/mesi/mconnect/connectors/registry"
)

func TestChecks(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyAddr := busy.Addr().String()
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		run    func() Outcome
		ok     bool
		code   string
		hasFix bool
	}{
		{"port in use", func() Outcome { return portFree(busyAddr, false) }, false, codePortInUse, true},
		{"port held by the running hub", func() Outcome { return portFree(busyAddr, true) }, true, codePortOurs, false},
		{"port free", func() Outcome { return portFree(freeAddr(t), false) }, true, codePortFree, false},
		{"port not a port", func() Outcome { return portFree("127.0.0.1:99999", false) }, false, codePortBad, true},
		{"folder writable", func() Outcome { return folderUsable(dir, 1) }, true, codeFolderOK, false},
		{"folder to be created", func() Outcome { return folderUsable(filepath.Join(dir, "new", "in"), 1) }, true, codeFolderNew, false},
		{"folder that cannot be created", func() Outcome { return folderUsable(filepath.Join(file, "sub"), 1) }, false, codeFolderNoCreate, true},
		{"folder is a file", func() Outcome { return folderUsable(file, 1) }, false, codeFolderNoCreate, true},
		{"folder not absolute", func() Outcome { return folderUsable("relative/dir", 1) }, false, codeFolderNoCreate, true},
		{"disk too full for what the hub needs", func() Outcome { return folderUsable(dir, 1<<62) }, false, codeDiskFull, true},
		{"keyring unreachable", func() Outcome {
			return keyringReachable(&fakeSecrets{checkErr: secrets.ErrNoKeyring})
		}, false, codeKeyringNo, true},
		{"keyring reachable", func() Outcome { return keyringReachable(newSecrets()) }, true, codeKeyringOK, false},
		{"EHR refuses the connection", func() Outcome {
			l, _ := net.Listen("tcp", "127.0.0.1:0")
			addr := l.Addr().String()
			l.Close()
			return fromProbe(probe.TCP(context.Background(), addr))
		}, false, probe.CodeRefused, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.run()
			if o.OK != tc.ok || o.Code != tc.code {
				t.Fatalf("outcome %+v, want ok=%v code %s", o, tc.ok, tc.code)
			}
			if text := outcomeText("", o); text == "" {
				t.Error("no words for the outcome")
			}
			if fix := outcomeFix(o); (fix != "") != tc.hasFix {
				t.Errorf("fix %q, want one: %v", fix, tc.hasFix)
			}
			if !o.OK && o.Detail == "" {
				t.Error("a failed check has no detail behind Details")
			}
		})
	}
}

// TestCredentialChecks asks a local server for each EHR that can be asked
// whether the credential is accepted; it answers 401 to a wrong one.
func TestCredentialChecks(t *testing.T) {
	const good = "s3cret-value"
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Method+" "+r.URL.Path)
		_, basic, _ := r.BasicAuth()
		switch {
		case r.Header.Get("Authorization") == "Bearer "+good, r.Header.Get("Ocp-Apim-Subscription-Key") == good,
			r.Header.Get("x-leyr-client-secret") == good, basic == good:
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"availability":"online","access_token":"t","token_type":"bearer"}`))
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer srv.Close()

	tests := []struct {
		ehr, urlKey, secretKey string
	}{
		{"weda", "weda.resultURL", "weda.token"},
		{"bestpractice", "halo.baseURL", "halo.apiKey"},
		{"vena", "leyr.baseURL", "leyr.clientSecret"},
		{"join", "join.results.tokenURL", "join.results.clientSecret"},
		{"ziplanerx", "ziplanerx.results.tokenURL", "ziplanerx.results.clientSecret"},
	}
	for _, tc := range tests {
		for _, typed := range []struct {
			secret string
			ok     bool
			code   string
		}{
			{"wrong", false, probe.CodeAuthRefused},
			{good, true, probe.CodeReachable},
			{"", true, codeReachableOnly},
		} {
			t.Run(tc.ehr+"/"+typed.code, func(t *testing.T) {
				d := exampleDoc(t, tc.ehr, t.TempDir())
				d.set(tc.urlKey, srv.URL+"/x")
				d.setSecret(tc.secretKey, typed.secret)
				p, _ := catalogue.Lookup(tc.ehr)
				var ehr *Check
				for _, c := range buildChecks(p, d, checkEnv{secrets: newSecrets()}) {
					if c.What == checkEHR {
						c := c
						ehr = &c
					}
				}
				if ehr == nil {
					t.Fatal("no EHR check")
				}
				if ehr.Required {
					t.Error("an EHR check must be overridable (the EHR may be off)")
				}
				o := ehr.Run(context.Background())
				if o.OK != typed.ok || o.Code != typed.code {
					t.Fatalf("outcome %+v, want ok=%v %s", o, typed.ok, typed.code)
				}
				if o.Code == probe.CodeAuthRefused && o.Args["field"] != tc.secretKey {
					t.Errorf("refused credential names %q, want %s", o.Args["field"], tc.secretKey)
				}
			})
		}
	}
	if len(seen) == 0 {
		t.Fatal("the server was never asked")
	}
}

// TestChecksOfEachEHR lists which checks each EHR gets: its ports, folders,
// the keyring where it has secrets, the EHR where it can be asked.
func TestChecksOfEachEHR(t *testing.T) {
	want := map[string][]string{
		"bestpractice": {"port device.listen", "folder hub.dataDir", "ehr halo.baseURL", "keyring "},
		"birpis":       {"port device.listen", "folder hub.dataDir", "port hl7.listen", "ehr hl7.resultHost"},
		"doctolib":     {"port device.listen", "folder hub.dataDir", "folder gdt.inboundDir", "folder gdt.resultDir", "ftp gdt.ftp.listen", "keyring "},
		"weda":         {"port device.listen", "folder hub.dataDir", "folder weda.inboundDir", "ehr weda.resultURL", "keyring "},
		"join":         {"port device.listen", "folder hub.dataDir", "port join.api.listen", "ehr join.results.tokenURL", "keyring "},
	}
	for ehr, w := range want {
		d := exampleDoc(t, ehr, "/srv/mconnect")
		if ehr == "doctolib" {
			d.set("gdt.ftp.enabled", true)
		}
		p, _ := catalogue.Lookup(ehr)
		var got []string
		for _, c := range buildChecks(p, d, checkEnv{secrets: newSecrets()}) {
			got = append(got, c.What+" "+c.Field)
		}
		if len(got) != len(w) {
			t.Errorf("%s: checks %q, want %q", ehr, got, w)
			continue
		}
		for i := range w {
			if got[i] != w[i] {
				t.Errorf("%s: checks %q, want %q", ehr, got, w)
				break
			}
		}
	}
}

func exampleDoc(t *testing.T, ehr, dataDir string) *document {
	t.Helper()
	c, err := registry.Example(ehr, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	d, err := parseDocument(b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestKeyringCheckRealStore asks the OS keyring through app/secrets as the
// desktop does. Without a D-Bus session bus (this test's usual case on a
// server) the store answers at once that no keyring is reachable.
func TestKeyringCheckRealStore(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the keyring is reached without a session bus on " + runtime.GOOS)
	}
	t.Setenv(sessionbus.EnvVar, sessionbus.Disabled)
	o := keyringReachable(secrets.New())
	if o.OK || o.Code != codeKeyringNo || o.Detail == "" {
		t.Fatalf("outcome %+v", o)
	}
}
