package hl7net

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/mesi/mconnect/app/store"
	"github.com/mesi/mconnect/connectors/hl7"
)

// TestRealCorpus feeds every HL7 file of the real-sample corpus, bytes as
// stored, to the order handler of an MLLP connection (built as the
// connection builds it, storing in a real store on disk) and compares the
// outcome with testdata/corpus_hl7.tsv: the acknowledgment code and the
// one sent (none when MSH-15/16 ask for none), then for an accepted message
// the stored order's patient, order number and measurement, for a refused
// one the ERR location, code and text. A message that gets an answer is
// then sent again over MLLP on loopback: the same answer, nothing stored
// twice. A corpus file missing from the table fails, so does a table row
// without its file.
func TestRealCorpus(t *testing.T) {
	dir := filepath.Join(corpusDir(t), "hl7")
	want := readHL7CorpusTable(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.hl7"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, path := range files {
		name := filepath.Base(path)
		seen[name] = true
		row, ok := want[name]
		if !ok {
			t.Errorf("%s: no expected outcome in testdata/corpus_hl7.tsv", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			hdr := hl7.ReadHeader(data)
			if hdr.MessageType != row.msgType {
				t.Errorf("MSH-9 %q, want %q", hdr.MessageType, row.msgType)
			}
			st := openStore(t)
			in, err := NewMLLPInbound(MLLPInboundOptions{Name: "ehr", ListenAddr: "127.0.0.1:0",
				RaceMap:        map[string]string{"2106-3": "white", "2054-5": "black", "2028-9": "asian", "2131-1": "other"},
				MeasurementMap: map[string]string{"ECG": "ECG", "ABI": "ABI", "TBI": "TBI", "SPO2": "SPO2", "BP": "BP"},
			}, storeSink{st}, quietLog(), nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			out := in.handler.Handle(ctx, "127.0.0.1:50000", data)
			if string(out.Code) != row.code {
				t.Errorf("answer %s, want %s (%v)", out.Code, row.code, out.Err)
			}
			where, errCode, text := "", "", ""
			if row.sent == "none" {
				if out.ACK != nil {
					t.Errorf("sent %q, want no acknowledgment", out.ACK)
				}
				if e, ok := hl7.AsError(out.Err); ok {
					where, errCode, text = e.Location(), strconv.Itoa(e.Code), e.Problem
				}
			} else {
				ack, err := hl7.ReadAck(out.ACK)
				if err != nil {
					t.Fatalf("ACK %q: %v", out.ACK, err)
				}
				if string(ack.Code) != row.sent || ack.ControlID != hdr.ControlID {
					t.Errorf("sent %s for %q, want %s for %q", ack.Code, ack.ControlID, row.sent, hdr.ControlID)
				}
				if strings.ContainsFunc(string(out.ACK), func(r rune) bool { return r < ' ' && r != '\r' }) {
					t.Errorf("ACK holds a control character: %q", out.ACK)
				}
				m, err := hl7.Parse(out.ACK)
				if err != nil {
					t.Fatal(err)
				}
				where, errCode, text = ackError(m)
				// The same bytes again, framed, on the connection's listener
				// (loopback): the same answer, and nothing stored twice.
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				sctx, stop := context.WithCancel(ctx)
				done := make(chan error, 1)
				go func() { done <- in.Serve(sctx, ln) }()
				again, _ := exchange(t, ln.Addr().String(), data)
				stop()
				if err := <-done; err != nil {
					t.Errorf("Serve: %v", err)
				}
				if again.Code != ack.Code || again.ControlID != ack.ControlID {
					t.Errorf("over MLLP: %s for %q, first %s", again.Code, again.ControlID, ack.Code)
				}
			}
			stored, err := st.Orders(ctx, store.OrderFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if row.where == "-" {
				if where != "" || text != "" {
					t.Errorf("ERR %s %s %q, want none", where, errCode, text)
				}
				if len(stored) != 1 || len(out.Orders) != 1 || stored[0].ID != out.Orders[0].OrderID {
					t.Fatalf("store holds %d orders, the answer names %d; want one", len(stored), len(out.Orders))
				}
				o := stored[0]
				p := o.Patient
				got := strings.Join([]string{p.Name.Family, p.Name.Given, p.BirthDate, string(p.Sex), p.ID,
					o.PlacerNumber, o.ServiceCode, o.Measurement}, "|")
				if got != row.what {
					t.Errorf("stored %s, want %s", got, row.what)
				}
				return
			}
			if where == "" {
				where = "(none)"
			}
			if where != row.where || errCode != row.errCode || !strings.Contains(text, row.what) {
				t.Errorf("ERR at %q code %s %q, want at %q code %s %q", where, errCode, text, row.where, row.errCode, row.what)
			}
			if len(stored) != 0 {
				t.Errorf("refused, yet the store holds %d orders", len(stored))
			}
		})
	}
	var missing []string
	for name := range want {
		if !seen[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("table rows without a corpus file: %v", missing)
	}
}

// Two corpus files are refused for one thing each: repaired in that one
// place they are accepted, so the refusal is for that reason only (see
// docs/HL7-CONFORMANCE.md section 8).
func TestRealCorpusRepaired(t *testing.T) {
	dir := filepath.Join(corpusDir(t), "hl7")
	for _, c := range []struct{ file, old, new, want string }{
		// The OBR broken onto a second line inside OBR-17, joined again.
		{"catalyze_epic_orm_o01_v23_wrapped_obr.hl7", "(608)258-\n8866|", "(608)258-8866|", ""},
		// MSH-12 "1.0" as a v2 version; the UTF-8 text (no MSH-18) is read.
		{"apphl7send_dcm4chee_orm_zds_v10_utf8.hl7", "|P|1.0\n", "|P|2.3.1\n", "Olomoucká"},
	} {
		t.Run(c.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Count(string(data), c.old) != 1 {
				t.Fatalf("%q is no longer in the file once", c.old)
			}
			data = []byte(strings.Replace(string(data), c.old, c.new, 1))
			st := openStore(t)
			h := NewOrderHandler(OrderHandlerOptions{Connection: "ehr"}, storeSink{st}, quietLog(), nil)
			out := h.Handle(context.Background(), "test", data)
			if out.Code != hl7.AA || len(out.Orders) != 1 {
				t.Fatalf("repaired: %s, %d orders (%v)", out.Code, len(out.Orders), out.Err)
			}
			o, err := st.Order(context.Background(), out.Orders[0].OrderID)
			if err != nil {
				t.Fatal(err)
			}
			if o.Patient.ID == "" || o.PlacerNumber == "" || o.ServiceCode == "" {
				t.Errorf("stored %+v", o)
			}
			if b, _ := json.Marshal(o); !strings.Contains(string(b), c.want) {
				t.Errorf("stored order has no %q: %s", c.want, b)
			}
		})
	}
}

// ackError is the first ERR of an ACK: location, code and text, from
// ERR-2/3/8 (v2.5 and later) or ERR-1 (before).
func ackError(m *hl7.Message) (where, code, text string) {
	e := m.Segment("ERR")
	if e == nil {
		return "", "", ""
	}
	if e.Text(2) != "" || e.Text(3) != "" {
		return e.Text(2), e.C(3, 1), e.Text(8)
	}
	var loc []string
	for c := 1; c <= 3; c++ {
		if v := e.Get(1, 1, c, 1); v != "" || c == 1 {
			loc = append(loc, v)
		}
	}
	return strings.Join(loc, "^"), e.Get(1, 1, 4, 1), e.Get(1, 1, 4, 2)
}

type hl7CorpusRow struct{ msgType, code, sent, where, errCode, what string }

func readHL7CorpusTable(t *testing.T) map[string]hl7CorpusRow {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "corpus_hl7.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := map[string]hl7CorpusRow{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 7 || (c[4] == "-") != (c[5] == "-") || (c[4] == "-" && c[2] != "AA") {
			t.Fatalf("corpus_hl7.tsv:%d: want file, MSH-9, answer, sent, ERR location, ERR code, fields or text (7 columns; location and code \"-\" only for AA)", n)
		}
		if _, dup := rows[c[0]]; dup {
			t.Fatalf("corpus_hl7.tsv:%d: %s listed twice", n, c[0])
		}
		rows[c[0]] = hl7CorpusRow{msgType: c[1], code: c[2], sent: c[3], where: c[4], errCode: c[5], what: c[6]}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}
