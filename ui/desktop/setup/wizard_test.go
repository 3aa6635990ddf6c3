package setup

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/mesi/mconnect/connectors/catalogue"
	"github.com/mesi/mconnect/connectors/registry"
)

const goodSecret = "typed-s3cret-Ä"

// ehrPeer is the EHR seen from the hub: a TCP listener for MLLP results
// and an HTTP server that accepts only goodSecret.
type ehrPeer struct {
	tcp  net.Listener
	http *httptest.Server
}

func newPeer(t *testing.T) *ehrPeer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, basic, _ := r.BasicAuth()
		basic, _ = url.QueryUnescape(basic) // client_secret_basic is form-encoded (RFC 6749 2.3.1)
		if r.Header.Get("Authorization") == "Bearer "+goodSecret || r.Header.Get("Ocp-Apim-Subscription-Key") == goodSecret ||
			r.Header.Get("x-leyr-client-secret") == goodSecret || basic == goodSecret {
			w.Write([]byte(`{"availability":"online","access_token":"t"}`))
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(func() { l.Close(); srv.Close() })
	return &ehrPeer{tcp: l, http: srv}
}

// freePorts returns n ports free a moment ago, all different.
func freePorts(t *testing.T, n int) []string {
	t.Helper()
	var ls []net.Listener
	var out []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		out = append(out, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
	for _, l := range ls {
		l.Close()
	}
	return out
}

// fills are what a person types on the EHR's page; $EHR_URL, $EHR_ADDR,
// $PORT1 and $DATA stand for the test's own.
var fills = map[string]map[string]string{
	"hl7": {"hl7.resultHost": "$EHR_ADDR", "hl7.listen": ":$PORT1", "hl7.receivingApp": "CLINIC-EHR"},
	"weda": {"weda.resultURL": "$EHR_URL/api/mesi/results", "weda.token": goodSecret,
		"weda.inboundDir": "$DATA/weda/orders"},
	"gdt":  {"gdt.ehrId": "PRAXIS01", "gdt.inboundDir": "$DATA/gdt/in", "gdt.resultDir": "$DATA/gdt/out", "gdt.pdfDir": "$DATA/gdt/pdf"},
	"halo": {"halo.baseURL": "$EHR_URL", "halo.siteId": "4f1c2a7e-0d5b-4c61-9d0e-2b7f3a9c8e11", "halo.apiKey": goodSecret},
	"leyr": {"leyr.baseURL": "$EHR_URL/api", "leyr.careUnitId": "cu-0815", "leyr.clientId": "clinic-7", "leyr.clientSecret": goodSecret},
	"join": {"join.api.listen": ":$PORT1", "join.results.url": "$EHR_URL/results/{externalId}", "join.results.tokenURL": "$EHR_URL/token",
		"join.results.clientId": "hub-7", "join.results.clientSecret": goodSecret},
	"ziplanerx": {"ziplanerx.api.listen": ":$PORT1", "ziplanerx.results.url": "$EHR_URL/results/{externalId}",
		"ziplanerx.results.tokenURL": "$EHR_URL/token", "ziplanerx.results.clientId": "hub-7", "ziplanerx.results.clientSecret": goodSecret},
}

func typeInto(t *testing.T, r *fieldRow, v string) {
	t.Helper()
	switch {
	case r.entry != nil:
		r.entry.SetText("")
		test.Type(r.entry, v)
	case r.check != nil:
		test.Tap(r.check)
	case r.sel != nil:
		r.sel.SetSelectedIndex(indexOf(r.values, v))
	}
}

// TestWizardEachEHR goes through the wizard for each of the 13 EHRs with
// no hub running: fill, check, save. The file written validates and
// equals testdata/wizard-<ehr>.json; secrets are only references.
func TestWizardEachEHR(t *testing.T) {
	for _, p := range catalogue.All() {
		t.Run(p.ID, func(t *testing.T) {
			a := test.NewTempApp(t)
			win := a.NewWindow("wizard")
			data := t.TempDir()
			cfgPath := filepath.Join(t.TempDir(), "conf", "config.json")
			peer := newPeer(t)
			ports := freePorts(t, 3)
			sec := newSecrets()
			auto := &fakeAutostart{}
			var dones []bool
			paired := false
			var langs []string
			w := NewWizard(Env{Window: win, ConfigPath: cfgPath, DataDir: data, Secrets: sec, Autostart: auto,
				SetLanguage: func(c string) { langs = append(langs, c) }, PairFirstTablet: func() { paired = true },
				Spawn: inline, Do: inline}, func(saved bool) { dones = append(dones, saved) })
			win.SetContent(w.Content())
			win.Resize(fyne.NewSize(900, 700))
			subst := strings.NewReplacer("$EHR_URL", peer.http.URL, "$EHR_ADDR", peer.tcp.Addr().String(),
				"$PORT1", ports[0], "$PORT2", ports[1], "$PORT3", ports[2], "$DATA", data)

			w.langGroup.SetSelected("Deutsch")
			w.langGroup.SetSelected("English")
			if strings.Join(langs, ",") != "de,en" {
				t.Fatalf("languages set %q", langs)
			}
			test.Tap(w.next)
			if !w.next.Disabled() {
				t.Fatal("Next is enabled before an EHR is chosen")
			}
			w.ehrGroup.SetSelected(w.ehrOption(p))
			test.Tap(w.next)
			if w.step != stepFields {
				t.Fatalf("at step %d, want the EHR's page", w.step)
			}
			// Only the EHR's own fields are on its page.
			for key := range w.fields.byKey {
				if !strings.HasPrefix(key, p.Sections[0]+".") {
					t.Errorf("field %s on %s's page", key, p.ID)
				}
			}
			for key, v := range fills[p.Sections[0]] {
				r := w.fields.byKey[key]
				if r == nil {
					t.Fatalf("no field %s", key)
				}
				typeInto(t, r, subst.Replace(v))
			}
			if p.ID == "tomedo" { // GDT over the hub's FTP endpoint
				if w.fields.byKey["gdt.ftp.password"].obj.Visible() {
					t.Fatal("FTP fields shown while FTP is off")
				}
				typeInto(t, w.fields.byKey["gdt.ftp.enabled"], "")
				if !w.fields.byKey["gdt.ftp.password"].obj.Visible() {
					t.Fatal("FTP fields hidden while FTP is on")
				}
				typeInto(t, w.fields.byKey["gdt.ftp.listen"], "127.0.0.1:"+ports[2])
				typeInto(t, w.fields.byKey["gdt.ftp.password"], goodSecret)
				typeInto(t, w.fields.byKey["gdt.charset"], "utf-8")
			}
			if p.Sections[0] == "hl7" {
				// The whitelist follows the EHR's address, never a network.
				wl := w.doc.text("hl7.whitelist")
				if wl != "127.0.0.1" {
					t.Errorf("whitelist %q, want the EHR's host only", wl)
				}
			}
			if len(w.problems) > 0 {
				t.Fatalf("problems after filling: %v", w.problems)
			}
			test.Tap(w.next)
			typeInto(t, w.tablets.byKey["device.listen"], ":"+ports[1])
			typeInto(t, w.tablets.byKey["hub.name"], "Praxis am See")
			test.Tap(w.next) // checks run on entering
			if w.step != stepChecks {
				t.Fatalf("at step %d, want checks", w.step)
			}
			for i, o := range w.outcomes {
				if o == nil || !o.OK {
					t.Errorf("check %s %s: %+v", w.checks[i].What, w.checks[i].Subject, o)
				}
			}
			if !w.checksPass() {
				t.Fatal("checks do not pass")
			}
			test.Tap(w.next)
			test.Tap(w.next) // autostart off (as it was)
			if w.step != stepSummary || w.save.Disabled() {
				t.Fatalf("step %d, save disabled %v; problems %v", w.step, w.save.Disabled(), w.problems)
			}
			if _, err := os.Stat(cfgPath); err == nil {
				t.Fatal("a file was written before Save")
			}
			test.Tap(w.save)
			if !w.saved {
				t.Fatalf("not saved: %s — %s", w.msg.text.Text, w.msg.detail.Text)
			}
			b, err := os.ReadFile(cfgPath)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := registry.Parse(b); err != nil {
				t.Fatalf("the file written does not validate: %v", err)
			}
			if bytes.Contains(b, []byte(goodSecret)) || bytes.Contains(b, []byte("typed-s3cret")) {
				t.Fatal("a secret is in the configuration file")
			}
			for name, v := range sec.stored {
				if v != goodSecret {
					t.Errorf("keyring %s = %q", name, v)
				}
				if !bytes.Contains(b, []byte(`"keyring:`+name+`"`)) {
					t.Errorf("secret %s stored but the file does not refer to it", name)
				}
			}
			if n := strings.Count(subst.Replace(strings.Join(values(fills[p.Sections[0]]), " ")), goodSecret); n != len(sec.stored) && p.ID != "tomedo" {
				t.Errorf("%d secrets stored, %d typed", len(sec.stored), n)
			}
			if len(auto.sets) != 0 {
				t.Errorf("autostart changed although left as it was: %v", auto.sets)
			}
			golden(t, "wizard-"+p.ID+".json", normalize(b, data, peer, ports))
			if len(dones) != 1 || !dones[0] {
				t.Fatalf("done after the save: %v", dones)
			}
			if paired {
				t.Fatal("pairing started before the person asked")
			}
			test.Tap(w.pairBtn)
			if !paired || len(dones) != 1 {
				t.Fatalf("pairing: paired %v, done %v", paired, dones)
			}
		})
	}
}

func values(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// normalize puts the test's own folders, ports and addresses back as
// placeholders so the golden files do not depend on the run.
func normalize(b []byte, data string, peer *ehrPeer, ports []string) []byte {
	s := strings.NewReplacer(peer.http.URL, "$EHR_URL", peer.tcp.Addr().String(), "$EHR_ADDR", data, "$DATA").Replace(string(b))
	for i, p := range ports {
		s = strings.ReplaceAll(s, ":"+p+`"`, ":$PORT"+strconv.Itoa(i+1)+`"`)
	}
	return []byte(s)
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update after review):\n%s", name, got)
	}
}
