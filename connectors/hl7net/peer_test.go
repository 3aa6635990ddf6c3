package hl7net

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mesi/mconnect/connectors/hl7"
)

// TestMLLPSendPeer drives the listener with python3-hl7's mllp_send, an
// independent MLLP client, and checks its ACKs.
func TestMLLPSendPeer(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("mllp_send")
	if err != nil {
		t.Skip("mllp_send (Debian package python3-hl7) is not on PATH; CI installs it")
	}
	sink := &fakeSink{}
	addr, _ := startInbound(t, MLLPInboundOptions{}, sink, nil)
	_, port, _ := net.SplitHostPort(addr)

	// The file holds messages each ending with FS CR, as mllp_send expects.
	// mllp_send decodes the file as UTF-8, so the UTF-8 samples are used, plus
	// one bad message.
	var file bytes.Buffer
	for _, name := range []string{"hipokrat_orm.hl7", "nextgen_orm.hl7"} {
		file.Write(readFile(t, name))
		file.WriteString("\x1c\x0d")
	}
	file.WriteString("MSH|^~\\&|EHR|FAC|HUB|MESI|20240101||ADT^A01|BAD1|P|2.5\rPID|1||1\r\x1c\x0d")
	path := filepath.Join(t.TempDir(), "msgs.hl7")
	if err := os.WriteFile(path, file.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-p", port, "--file", path, "127.0.0.1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mllp_send: %v\n%s", err, out)
	}
	// mllp_send prints each reply as received, framing bytes included.
	text := strings.NewReplacer("\n", "\r", "\x0b", "", "\x1c", "").Replace(string(out))
	var acks []hl7.AckResult
	for _, chunk := range strings.Split(text, "MSH|") {
		if strings.TrimSpace(chunk) == "" {
			continue
		}
		a, err := hl7.ReadAck([]byte("MSH|" + chunk))
		if err != nil {
			t.Fatalf("reply %q: %v", chunk, err)
		}
		acks = append(acks, a)
	}
	want := []struct{ code, ctrl string }{{"AA", "HIP-77"}, {"CA", "NG20240704093015001"}, {"AR", "BAD1"}}
	if len(acks) != len(want) {
		t.Fatalf("%d ACKs in mllp_send output:\n%s", len(acks), out)
	}
	for i, w := range want {
		if string(acks[i].Code) != w.code || acks[i].ControlID != w.ctrl {
			t.Errorf("ACK %d = %+v, want %s %s", i, acks[i], w.code, w.ctrl)
		}
	}
	if orders, _ := sink.snapshot(); len(orders) != 2 {
		t.Errorf("%d orders stored", len(orders))
	}
}
