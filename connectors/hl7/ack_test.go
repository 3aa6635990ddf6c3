package hl7

import (
	"strings"
	"testing"
	"time"
)

func TestBuildAck(t *testing.T) {
	t.Parallel()
	at := time.Date(2024, 3, 15, 8, 30, 1, 0, time.UTC)
	tests := []struct {
		name    string
		request string
		code    AckCode
		errs    []*Error
		want    []string // segments expected (exact)
	}{
		{
			name:    "AA original mode, 2.3, swapped apps",
			request: "MSH|^~\\&|BIRPIS|ZD LJ|MCONNECT|MESI|20240315083000||ORM^O01|BIR0001|P|2.3\r",
			code:    AA,
			want: []string{
				"MSH|^~\\&|MCONNECT|MESI|BIRPIS|ZD LJ|20240315083001+0000||ACK^O01^ACK|ACK1|P|2.3",
				"MSA|AA|BIR0001",
			},
		},
		{
			name:    "enhanced mode turns AA into CA",
			request: "MSH|^~\\&|NG|F|HUB|M|20240315083000||ORM^O01|NG1|T|2.5.1|||AL|AL\r",
			code:    AA,
			want: []string{
				"MSH|^~\\&|HUB|M|NG|F|20240315083001+0000||ACK^O01^ACK|ACK1|T|2.5.1",
				"MSA|CA|NG1",
			},
		},
		{
			name:    "AE with ERR in 2.5 layout",
			request: "MSH|^~\\&|H|F|HUB|M|20240315083000||ORM^O01|H1|P|2.5\r",
			code:    AE,
			errs:    []*Error{{Segment: "PID", Seq: 1, Field: 7, Component: 1, Code: CodeDataType, Problem: `date of birth "x|y" is not a date`}},
			want: []string{
				"MSH|^~\\&|HUB|M|H|F|20240315083001+0000||ACK^O01^ACK|ACK1|P|2.5",
				`MSA|AE|H1|date of birth "x\F\y" is not a date`,
				`ERR||PID^1^7^1^1|102^Data type error^HL70357|E||||date of birth "x\F\y" is not a date`,
			},
		},
		{
			name:    "AR with ERR in 2.3 layout",
			request: "MSH|^~\\&|I|F|HUB|M|20240315083000||ADT^A01|I1|P|2.3\r",
			code:    AR,
			errs:    []*Error{{Segment: "MSH", Seq: 1, Field: 9, Component: 1, Code: CodeUnsupportedMessage, Problem: "unsupported message type"}},
			want: []string{
				"MSH|^~\\&|HUB|M|I|F|20240315083001+0000||ACK^A01^ACK|ACK1|P|2.3",
				"MSA|AR|I1|unsupported message type",
				"ERR|MSH^1^9^200&unsupported message type&HL70357",
			},
		},
		{
			name:    "unparseable request: defaults",
			request: "\x00garbage",
			code:    AR,
			errs:    []*Error{{Code: CodeSegmentSequence, Problem: "message does not start with MSH"}},
			want: []string{
				"MSH|^~\\&|MESI mCONNECT||||20240315083001+0000||ACK^^ACK|ACK1|P|2.5",
				"MSA|AR||message does not start with MSH",
				"ERR|||207^Application internal error^HL70357|E||||message does not start with MSH",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.name == "unparseable request: defaults" {
				tt.errs[0].Code = 0
			}
			out, err := BuildAck(Ack{Request: ReadHeader([]byte(tt.request)), Code: tt.code, Errors: tt.errs,
				ControlID: "ACK1", At: at, SendingApp: DefaultApplication})
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Split(strings.TrimSuffix(string(out), "\r"), "\r")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("ACK:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			// Every ACK we build reads back.
			r, err := ReadAck(out)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(string(r.Code), string(tt.code)[1:]) {
				t.Errorf("read back code %s", r.Code)
			}
		})
	}
}

func TestAckInSenderCharset(t *testing.T) {
	t.Parallel()
	req, err := EncodeString("MSH|^~\\&|BIRPIS|ŽD|HUB|M|20240315083000||ORM^O01|B1|P|2.3|||||SI|8859/2\r", "8859/2")
	if err != nil {
		t.Fatal(err)
	}
	out, err := BuildAck(Ack{Request: ReadHeader(req), Code: AE, Text: "napaka: čšž", ControlID: "A", At: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "|8859/2") || !strings.Contains(string(out), "\xbe") { // ž in 8859-2
		t.Errorf("ACK not in 8859/2: %q", out)
	}
	r, err := ReadAck(out)
	if err != nil || r.Text != "napaka: čšž" || r.ControlID != "B1" {
		t.Errorf("read back %+v %v", r, err)
	}
}

func TestReadAck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in       string
		code     AckCode
		ctrl     string
		text     string
		accepted bool
		rejected bool
		bad      bool
	}{
		{"MSH|^~\\&|A|B|C|D|20240101||ACK|X|P|2.5\rMSA|AA|M1\r", AA, "M1", "", true, false, false},
		{"MSH|^~\\&|A|B|C|D|20240101||ACK|X|P|2.5\rMSA|CA|M1\r", CA, "M1", "", true, false, false},
		{"MSH|^~\\&|A|B|C|D|20240101||ACK|X|P|2.5\rMSA|AE|M2|busy\r", AE, "M2", "busy", false, false, false},
		{"MSH|^~\\&|A|B|C|D|20240101||ACK|X|P|2.5\rMSA|AR|M3\rERR||PID^1^3|101^Required^HL70357|E||||no patient\r", AR, "M3", "no patient", false, true, false},
		{"MSH|^~\\&|A|B|C|D|20240101||ACK|X|P|2.3\rMSA|CR|M3\rERR|PID^1^3^101&Required field missing\r", CR, "M3", "PID^1^3^101&Required field missing", false, true, false},
		{"MSH|^~\\&|A|B|C|D|20240101||ACK|X|P|2.5\r", "", "", "", false, false, true},
		{"MSH|^~\\&|A|B|C|D|20240101||ACK|X|P|2.5\rMSA|OK|M1\r", "", "", "", false, false, true},
		{"garbage", "", "", "", false, false, true},
	}
	for i, tt := range tests {
		r, err := ReadAck([]byte(tt.in))
		if tt.bad {
			if err == nil {
				t.Errorf("%d: accepted %+v", i, r)
			}
			continue
		}
		if err != nil || r.Code != tt.code || r.ControlID != tt.ctrl || r.Text != tt.text || r.Accepted() != tt.accepted || r.Rejected() != tt.rejected {
			t.Errorf("%d: %+v %v", i, r, err)
		}
	}
}
