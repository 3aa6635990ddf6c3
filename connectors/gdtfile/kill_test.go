package gdtfile

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/outbox"
	"github.com/mesi/mconnect/app/store"
	"github.com/mesi/mconnect/connectors/gdt"
	"github.com/mesi/mconnect/internal/testfs"
)

// killResultName is the fixed result file name of the kill test.
const killResultName = "RESULT.GDT"

// killOptions are the outbound's options in the kill test's folder.
func killOptions(dir string) Options {
	o := DoctolibDefaults()
	o.Name = "gdt"
	o.ResultDir, o.PDFDir, o.TempDir = filepath.Join(dir, "out"), filepath.Join(dir, "pdf"), filepath.Join(dir, "tmp")
	o.ResultFileName = killResultName
	if os.Getenv("MCONNECT_GDT_CHILD_NAMING") == "counting" {
		o.ResultNaming, o.ResultFileName = NamingCounting, "RESULT"
	}
	return o
}

// TestGDTKillChild is the child side of TestResultFilesSurviveSIGKILL: a
// hub process delivering the stored results as GDT files until killed.
func TestGDTKillChild(t *testing.T) {
	dir := os.Getenv("MCONNECT_GDT_CHILD_DIR")
	if dir == "" {
		t.Skip("child process of TestResultFilesSurviveSIGKILL; runs only when that test starts it")
	}
	st, err := store.Open(filepath.Join(dir, "hub.db"), store.Options{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	out, err := NewOutbound(killOptions(dir), nil, nil)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	ob := outbox.New(st, outbox.Options{Backoff: outbox.Backoff{Initial: 2 * time.Millisecond, Max: 20 * time.Millisecond}, Recheck: 50 * time.Millisecond}, nil)
	// As app/hub wires an outbound that ResumesInterrupted.
	if err := ob.Register("gdt", out, outbox.Policy{Ambiguous: outbox.AmbiguousResend, PassAfter: 1000}); err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	go ob.Run(context.Background())
	fmt.Println("ready")
	select {}
}

// TestResultFilesSurviveSIGKILL kills a hub process with SIGKILL at
// random moments while it publishes GDT result files (fixed name, so the
// EHR must pick each one up before the next) and PDFs, restarting it each
// time, then lets a last one finish. Every result reaches the EHR exactly
// once with its PDF; no delivery ends ambiguous or failed; no staging file
// is left behind. MCONNECT_GDT_KILLS sets the number of kills.
func TestResultFilesSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes; skipped with -short")
	}
	for _, naming := range []string{"fixed", "counting"} {
		t.Run(naming, func(t *testing.T) { killRounds(t, naming) })
	}
}

func killRounds(t *testing.T, naming string) {
	kills, results := 20, 40
	if raceEnabled {
		kills, results = 8, 20
	}
	if v, err := strconv.Atoi(os.Getenv("MCONNECT_GDT_KILLS")); err == nil && v >= 0 {
		kills = v
	}
	dir := testfs.TempDir(t)
	ctx := context.Background()
	st, err := store.Open(filepath.Join(dir, "hub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reports := filepath.Join(dir, "reports")
	os.MkdirAll(reports, 0o755)
	pdfSum := map[string]string{} // result ID -> SHA-256 of its PDF
	for i := 0; i < results; i++ {
		pdf := []byte(fmt.Sprintf("%%PDF-1.4 report %d %s", i, strings.Repeat("x", rand.IntN(20000))))
		p := filepath.Join(reports, fmt.Sprintf("r%d.pdf", i))
		if err := os.WriteFile(p, pdf, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(pdf)
		res, _, err := st.SaveResult(ctx, domain.Result{Measurement: "ECG", DeviceID: "tab",
			Patient: &domain.Patient{ID: strconv.Itoa(1000 + i), Name: domain.PersonName{Family: "Kill", Given: "Test"}},
			Report:  &domain.Attachment{Path: p, ContentType: "application/pdf", Size: int64(len(pdf)), SHA256: hex.EncodeToString(sum[:])},
		}, []string{"gdt"})
		if err != nil {
			t.Fatal(err)
		}
		pdfSum[res.ID] = hex.EncodeToString(sum[:])
	}
	st.Close()

	// The EHR: picks up every result file as soon as it is there.
	outDir, picked := filepath.Join(dir, "out"), filepath.Join(dir, "picked")
	os.MkdirAll(outDir, 0o755)
	os.MkdirAll(picked, 0o755)
	stop := make(chan struct{})
	ehrDone := make(chan struct{})
	go func() {
		defer close(ehrDone)
		n := 0
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(rand.IntN(4)) * time.Millisecond):
			}
			entries, _ := os.ReadDir(outDir)
			for _, e := range entries {
				if !strings.HasPrefix(e.Name(), "RESULT") {
					continue
				}
				n++
				os.Rename(filepath.Join(outDir, e.Name()), filepath.Join(picked, fmt.Sprintf("%04d.gdt", n)))
			}
		}
	}()
	defer func() { close(stop); <-ehrDone }()

	for round := 0; round < kills; round++ {
		cmd, ready := startGDTChild(t, dir, naming)
		select {
		case <-ready:
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("round %d: child did not start", round)
		}
		time.Sleep(time.Duration(rand.IntN(60)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
	cmd, ready := startGDTChild(t, dir, naming)
	<-ready
	deadline := time.Now().Add(120 * time.Second)
	for {
		if n, _ := os.ReadDir(picked); len(n) >= results {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("not every result reached the EHR")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Let anything that would be written twice show up.
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	got := map[string]int{}
	entries, _ := os.ReadDir(picked)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(picked, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		rec, err := gdt.Parse(b, gdt.ParseOptions{})
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		id, _ := rec.Get(gdt.FieldArchiveID)
		got[id]++
		ref, _ := rec.Get(gdt.FieldFileReference)
		if sum, err := fileSHA(ref); err != nil || sum != pdfSum[id] {
			t.Errorf("result %s: PDF %s missing or not the report (%v)", id, ref, err)
		}
	}
	for id := range pdfSum {
		if got[id] != 1 {
			t.Errorf("result %s reached the EHR %d times", id, got[id])
		}
	}
	if len(got) != len(pdfSum) {
		t.Errorf("%d different results reached the EHR, %d were stored", len(got), len(pdfSum))
	}
	st, err = store.Open(filepath.Join(dir, "hub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, err := st.DB().QueryContext(ctx, `SELECT state, count(*) FROM deliveries GROUP BY state`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var state string
		var n int
		rows.Scan(&state, &n)
		if state != string(domain.DeliveryDelivered) {
			t.Errorf("%d deliveries %s", n, state)
		}
	}
	rows.Close()
	var resumed, ambiguous int
	st.DB().QueryRowContext(ctx, `SELECT count(*) FROM attempts WHERE error=?`, store.ResumedNote).Scan(&resumed)
	st.DB().QueryRowContext(ctx, `SELECT count(*) FROM attempts WHERE error=?`, store.AmbiguousNote).Scan(&ambiguous)
	if left, _ := filepath.Glob(filepath.Join(dir, "tmp", "gdt-*")); len(left) > 0 {
		t.Errorf("staging files left: %v", left)
	}
	t.Logf("%d kills, %d results: %d sends resumed from a recorded step, %d cut off before the first step (sent again)", kills, results, resumed, ambiguous)
}

func startGDTChild(t *testing.T, dir, naming string) (*exec.Cmd, <-chan struct{}) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestGDTKillChild$", "-test.v=false")
	cmd.Env = append(os.Environ(), "MCONNECT_GDT_CHILD_DIR="+dir, "MCONNECT_GDT_CHILD_NAMING="+naming)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			switch line := sc.Text(); {
			case line == "ready":
				close(ready)
			case strings.HasPrefix(line, "error"):
				fmt.Fprintln(os.Stderr, "child:", line)
			}
		}
	}()
	return cmd, ready
}
