package store

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/internal/testfs"
)

// TestDurabilityWriter is the child side of TestSurvivesSIGKILL: it writes
// orders and results as fast as it can and reports each one that returned.
func TestDurabilityWriter(t *testing.T) {
	path := os.Getenv("MCONNECT_DURABILITY_DB")
	if path == "" {
		t.Skip("child process of TestSurvivesSIGKILL; runs only when that test starts it")
	}
	s, err := Open(path, Options{})
	if err != nil {
		fmt.Println("open-failed", err)
		os.Exit(3)
	}
	ctx := context.Background()
	start, _ := strconv.Atoi(os.Getenv("MCONNECT_DURABILITY_START"))
	for i := start; ; i++ {
		id := fmt.Sprintf("m%d", i)
		if i%2 == 0 {
			if _, err := s.ApplyOrder(ctx, order("kill", id, "P"+id, domain.ActionNew)); err != nil {
				fmt.Println("error", err)
				os.Exit(4)
			}
		} else {
			if _, _, err := s.SaveResult(ctx, domain.Result{DeviceID: "d", IdempotencyKey: id, Measurement: "ECG"}, []string{"a", "b"}); err != nil {
				fmt.Println("error", err)
				os.Exit(4)
			}
		}
		// Reported only after the write returned: the hub acknowledges at this point.
		fmt.Fprintf(os.Stdout, "done %d\n", i)
	}
}

// TestSurvivesSIGKILL kills a writer process at random moments and checks
// that every write it had reported done is in the database afterwards.
// MCONNECT_DURABILITY_ROUNDS sets the number of kills (default 5).
func TestSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes; skipped with -short")
	}
	rounds := 5
	if v, err := strconv.Atoi(os.Getenv("MCONNECT_DURABILITY_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	path := filepath.Join(testfs.TempDir(t), "hub.db")
	next := 0
	var confirmed []int
	for round := 0; round < rounds; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDurabilityWriter$", "-test.v=false")
		cmd.Env = append(os.Environ(), "MCONNECT_DURABILITY_DB="+path, "MCONNECT_DURABILITY_START="+strconv.Itoa(next))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killAfter := 20 + rand.IntN(200)
		sc := bufio.NewScanner(out)
		n := 0
		for sc.Scan() {
			line := sc.Text()
			if i, ok := strings.CutPrefix(line, "done "); ok {
				v, _ := strconv.Atoi(i)
				confirmed = append(confirmed, v)
				next = v + 1
				n++
				if n == killAfter {
					cmd.Process.Signal(syscall.SIGKILL)
				}
			} else if strings.HasPrefix(line, "error") || strings.HasPrefix(line, "open-failed") {
				cmd.Process.Kill()
				t.Fatalf("round %d: writer: %s", round, line)
			}
		}
		cmd.Wait()
		if n < killAfter {
			t.Fatalf("round %d: writer stopped after %d writes before it was killed", round, n)
		}
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("reopen after kills: %v", err)
	}
	defer s.Close()
	if err := s.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, i := range confirmed {
		id := fmt.Sprintf("m%d", i)
		if i%2 == 0 {
			var n int
			s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM inbound_messages WHERE connection='kill' AND message_id=?`, id).Scan(&n)
			if n != 1 {
				t.Fatalf("order %s was reported stored but is missing", id)
			}
		} else {
			var n, d int
			s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM results WHERE idempotency_key=?`, id).Scan(&n)
			s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries d JOIN results r ON r.id=d.result_id WHERE r.idempotency_key=?`, id).Scan(&d)
			if n != 1 || d != 2 {
				t.Fatalf("result %s was reported stored but has %d rows and %d deliveries", id, n, d)
			}
		}
	}
	t.Logf("%d kills, %d confirmed writes all present", rounds, len(confirmed))
}
