package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/store"
	"github.com/mesi/mconnect/connectors/catalogue"
	"github.com/mesi/mconnect/connectors/hl7net"
	"github.com/mesi/mconnect/connectors/registry"
)

// binary is the mconnect binary built once for the CLI tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mconnect-cli-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "mconnect")
	out, err := exec.Command("go", "build", "-o", binary, "github.com/mesi/mconnect").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build mconnect: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

func mconnect(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, o.String(), e.String()}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// exampleConfig writes the example config of ehr with loopback ports under dir.
func exampleConfig(t *testing.T, ehr, dir string) (string, *config.Config) {
	t.Helper()
	r := mconnect(t, nil, "config", "example", "--ehr", ehr, "--data", filepath.Join(dir, "data"))
	if r.code != 0 {
		t.Fatalf("config example: %d %s", r.code, r.stderr)
	}
	c, err := registry.Parse([]byte(r.stdout))
	if err != nil {
		t.Fatalf("example does not parse: %v", err)
	}
	c.Device.Listen = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	if config.SectionOf[*hl7net.MLLPConfig](c, hl7net.MLLPSection) != nil {
		config.SectionOf[*hl7net.MLLPConfig](c, hl7net.MLLPSection).Listen = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	}
	path := filepath.Join(dir, ehr+".json")
	if err := c.Save(path, registry.Default); err != nil {
		t.Fatal(err)
	}
	return path, c
}

func TestConfigExamplesValidate(t *testing.T) {
	for _, id := range catalogue.IDs() {
		t.Run(id, func(t *testing.T) {
			dir := t.TempDir()
			r := mconnect(t, nil, "config", "example", "--ehr", id, "--data", dir)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			path := filepath.Join(dir, "c.json")
			os.WriteFile(path, []byte(r.stdout), 0o600)
			if v := mconnect(t, nil, "config", "validate", "--config", path); v.code != 0 {
				t.Fatalf("example of %s does not validate: %s", id, v.stderr)
			}
			if !strings.Contains(r.stdout, dir) {
				t.Fatalf("--data %s not used:\n%s", dir, r.stdout)
			}
		})
	}
}

func TestBadInvocationsExit2(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"ehr":"birpis","hl7":{"listen":":99999","whitelist":["1.2.3.4"],"resultHost":"ehr:1"}}`), 0o600)
	syntax := filepath.Join(dir, "syntax.json")
	os.WriteFile(syntax, []byte("{\n \"ehr\": \"birpis\",\n}"), 0o600)
	noKeyring, _ := exampleConfig(t, "join", dir)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown command", []string{"frobnicate"}, []string{"unknown command"}},
		{"example without ehr", []string{"config", "example"}, []string{"--ehr is required"}},
		{"example unknown ehr", []string{"config", "example", "--ehr", "medis"}, []string{"unknown EHR", "medis"}},
		{"invalid value", []string{"serve", "--config", bad}, []string{bad, "hl7.listen: port 99999 out of range"}},
		{"syntax error", []string{"serve", "--config", syntax}, []string{syntax, "line 3"}},
		{"missing file", []string{"serve", "--config", filepath.Join(dir, "nope.json")}, []string{"nope.json", "does not exist"}},
		{"unreadable config", []string{"serve", "--config", dir}, []string{dir}},
		{"secret not reachable", []string{"serve", "--config", noKeyring}, []string{"join.results.clientSecret", "join-results-secret"}},
		{"bad flag", []string{"serve", "--confg", "x"}, []string{"confg"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := mconnect(t, nil, tc.args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2; stderr: %s", r.code, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not mention %q", r.stderr, w)
				}
			}
		})
	}
}

// startServe runs `mconnect serve` and waits until the tablet endpoint answers.
func startServe(t *testing.T, path string, c *config.Config) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(binary, "serve", "--config", path)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.Get("https://" + c.Device.Listen + "/api/v1/health")
		if err == nil {
			var h map[string]any
			json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
			if h["status"] == "ok" {
				return cmd, &logs
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("serve did not come up:\n%s", logs.String())
	return nil, nil
}

func TestServeStopsCleanlyAndRefusesSecondInstance(t *testing.T) {
	dir := t.TempDir()
	path, c := exampleConfig(t, "birpis", dir)
	cmd, logs := startServe(t, path, c)

	r := mconnect(t, nil, "serve", "--config", path)
	if r.code != 1 || !strings.Contains(r.stderr, "already running on this data folder") {
		t.Fatalf("second instance: exit %d: %s", r.code, r.stderr)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM:\n%s", err, logs)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not stop after SIGTERM:\n%s", logs)
	}
	if !strings.Contains(logs.String(), "hub stopped") {
		t.Fatalf("no clean stop in the log:\n%s", logs)
	}
	// The lock is released: it starts again.
	cmd2, _ := startServe(t, path, c)
	cmd2.Process.Signal(syscall.SIGINT)
	if err := cmd2.Wait(); err != nil {
		t.Fatalf("restart then SIGINT: %v", err)
	}
}

func TestUnresolvableSecretIsAConfigError(t *testing.T) {
	dir := t.TempDir()
	path, c := exampleConfig(t, "weda", dir)
	config.SectionOf[*hl7net.WEDAConfig](c, hl7net.WEDASection).Token = "env:MCONNECT_TEST_UNSET_TOKEN"
	c.Save(path, registry.Default)
	r := mconnect(t, []string{"MCONNECT_TEST_UNSET_TOKEN="}, "serve", "--config", path)
	if r.code != 2 || !strings.Contains(r.stderr, "weda.token") || !strings.Contains(r.stderr, "MCONNECT_TEST_UNSET_TOKEN is not set") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
}

func TestDataDirNotWritable(t *testing.T) {
	dir := t.TempDir()
	path, c := exampleConfig(t, "birpis", dir)
	file := filepath.Join(dir, "a-file")
	os.WriteFile(file, nil, 0o600)
	c.Hub.DataDir = filepath.Join(file, "data")
	c.Save(path, registry.Default)
	r := mconnect(t, nil, "serve", "--config", path)
	if r.code == 0 || !strings.Contains(r.stderr, "data folder "+c.Hub.DataDir) {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
}

func TestRefusesNewerOrCorruptDatabase(t *testing.T) {
	newer := func(t *testing.T, db string) {
		st, err := store.Open(db, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.DB().Exec("PRAGMA user_version = 99"); err != nil {
			t.Fatal(err)
		}
		st.Close()
	}
	for _, tc := range []struct {
		name, content, want string
		make                func(t *testing.T, db string)
	}{
		{"corrupt", "garbage, not a database, certainly not SQLite", "damaged", nil},
		{"newer schema", "", "newer version", newer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path, c := exampleConfig(t, "birpis", dir)
			os.MkdirAll(c.Hub.DataDir, 0o700)
			db := filepath.Join(c.Hub.DataDir, "mconnect.db")
			if tc.make != nil {
				tc.make(t, db)
			} else {
				os.WriteFile(db, []byte(tc.content), 0o600)
			}
			before, _ := os.ReadFile(db)
			r := mconnect(t, nil, "serve", "--config", path)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, db) {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if b, _ := os.ReadFile(db); string(b) != string(before) {
				t.Fatal("the database file was changed")
			}
		})
	}
}

func TestPairCodeAndVersion(t *testing.T) {
	dir := t.TempDir()
	path, _ := exampleConfig(t, "tomedo", dir)
	r := mconnect(t, nil, "pair-code", "--config", path)
	if r.code != 0 || !strings.Contains(r.stdout, "Pairing code: ") || !strings.Contains(r.stdout, "mconnect://") {
		t.Fatalf("pair-code: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := mconnect(t, nil, "pair-code", "--config", path, "--group", "nope"); r.code != 2 {
		t.Fatalf("unknown group: exit %d", r.code)
	}
	v := mconnect(t, nil, "version", "--config", path)
	if v.code != 0 || !strings.Contains(v.stdout, "mCONNECT Hub") || !strings.Contains(v.stdout, "fingerprint") {
		t.Fatalf("version: %d %s %s", v.code, v.stdout, v.stderr)
	}
	_ = context.Background
}

// TestHelp: --help, -h and help print the command list and exit 0.
func TestHelp(t *testing.T) {
	for _, arg := range []string{"--help", "-h", "help"} {
		r := mconnect(t, nil, arg)
		if r.code != 0 || !strings.Contains(r.stdout, "mconnect serve") || !strings.Contains(r.stdout, "mconnect status") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", arg, r.code, r.stdout, r.stderr)
		}
	}
}
