package device

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/problem"
)

// MaxIdempotencyKey bounds the Idempotency-Key header.
const MaxIdempotencyKey = 200

// ParseResult validates a result part against the schema and maps it to a
// domain.Result (without device, key and report). It is the parser the
// fuzz target exercises.
func (s *Server) parseResult(data []byte) (domain.Result, *problem.Problem) {
	if p := validateResultJSON(s.schema, bytes.NewReader(data)); p != nil {
		return domain.Result{}, p
	}
	if p := checkResultText(data); p != nil {
		return domain.Result{}, p
	}
	var doc ResultDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return domain.Result{}, jsonProblem(err, 0, "result.")
	}
	at, err := time.Parse(time.RFC3339Nano, doc.PerformedAt)
	if err != nil {
		return domain.Result{}, problem.New(http.StatusUnprocessableEntity, "invalid-result", "Invalid result",
			fmt.Sprintf("result.performedAt must be an RFC 3339 date-time, not %q", doc.PerformedAt)).WithField("result.performedAt")
	}
	r := domain.Result{
		OrderID: doc.AppointmentID, Measurement: doc.Measurement, PerformedAt: at.UTC(), Operator: doc.Operator,
		Interpretation: doc.Interpretation, Device: domain.DeviceInfo{Serial: doc.Device.Serial, Model: doc.Device.Model},
		Observations: make([]domain.Observation, 0, len(doc.Observations)),
	}
	if doc.Patient != nil {
		p := doc.Patient.Domain()
		r.Patient = &p
	}
	for _, o := range doc.Observations {
		r.Observations = append(r.Observations, domain.Observation{Code: o.Code, Name: o.Name, Value: string(o.Value),
			Unit: o.Unit, Low: string(o.Low), High: string(o.High), Flag: o.Flag})
	}
	return r, nil
}

// upload collects the parts of one POST /results.
type upload struct {
	result    *domain.Result
	tmp       string // the report's temp file, removed unless committed
	final     string
	size      int64
	sum       string
	committed bool
}

func (u *upload) cleanup() {
	if u.committed {
		return
	}
	if u.tmp != "" {
		os.Remove(u.tmp)
	}
	if u.final != "" {
		os.Remove(u.final)
	}
}

func (s *Server) handleResult(w http.ResponseWriter, r *http.Request, dev domain.Device) {
	key := r.Header.Get("Idempotency-Key")
	if p := checkIdempotencyKey(key); p != nil {
		writeProblem(w, p)
		return
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		writeProblem(w, problem.New(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
			"the body must be multipart/form-data with the parts 'result' (JSON) and 'report' (PDF)").WithField("Content-Type"))
		return
	}
	limit := s.opts.MaxReportBytes + s.opts.MaxJSONBytes + 1<<20
	if r.ContentLength > limit {
		writeProblem(w, tooLarge(s.opts.MaxReportBytes))
		return
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	mr := multipart.NewReader(body, params["boundary"])
	u := &upload{}
	defer u.cleanup()
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			writeProblem(w, s.bodyProblem(err))
			return
		}
		var p *problem.Problem
		switch part.FormName() {
		case "result":
			p = s.readResultPart(r, part, u, dev)
		case "report":
			p = s.readReportPart(part, u)
		default:
			// Unknown parts are skipped (bounded by the body limit), so newer
			// tablets can send more.
			_, err = io.Copy(io.Discard, part)
			if err != nil {
				p = s.bodyProblem(err)
			}
		}
		part.Close()
		if p != nil {
			writeProblem(w, p)
			return
		}
	}
	if u.result == nil {
		writeProblem(w, problem.New(http.StatusUnprocessableEntity, "missing-part", "Missing part",
			"the multipart body has no part named 'result' (the result JSON)").WithField("result"))
		return
	}
	if u.tmp == "" {
		writeProblem(w, problem.New(http.StatusUnprocessableEntity, "missing-part", "Missing part",
			"the multipart body has no part named 'report' (the PDF report)").WithField("report"))
		return
	}
	res := *u.result
	res.ID = newResultID()
	res.DeviceID = dev.ID
	res.IdempotencyKey = key
	if res.Device.Serial == "" {
		res.Device.Serial = dev.Serial
	}
	if res.Device.Model == "" {
		res.Device.Model = dev.Model
	}
	u.final = filepath.Join(s.reportsDir, res.ID+".pdf")
	if err := os.Rename(u.tmp, u.final); err != nil {
		s.log.WithError(err).Error("device: store report")
		writeProblem(w, storeProblem())
		return
	}
	u.tmp = ""
	if err := syncDir(s.reportsDir); err != nil {
		s.log.WithError(err).Error("device: sync reports folder")
		writeProblem(w, storeProblem())
		return
	}
	res.Report = &domain.Attachment{Path: u.final, ContentType: "application/pdf", Size: u.size, SHA256: u.sum}
	stored, dup, err := s.hub.AcceptResult(r.Context(), res)
	if err != nil {
		s.log.WithError(err).WithFields(map[string]any{"device": dev.ID, "order": res.OrderID}).Error("device: result not stored")
		writeProblem(w, storeProblem())
		return
	}
	if dup {
		// The first upload's report is the one kept; this copy goes, unless
		// the first one's file is missing (its upload failed after the store
		// had written the result): then this identical copy takes its place.
		s.restoreReport(stored, u)
		u.committed = true
		w.Header().Set("Idempotent-Replayed", "true")
		s.log.WithFields(map[string]any{"device": dev.ID, "result": stored.ID}).Info("device: repeated result upload answered from the first")
		writeJSON(w, http.StatusCreated, ResultCreated{ResultID: stored.ID})
		return
	}
	u.committed = true
	s.log.WithFields(map[string]any{"device": dev.ID, "result": stored.ID, "order": stored.OrderID,
		"measurement": stored.Measurement, "reportBytes": u.size}).Info("device: result stored")
	writeJSON(w, http.StatusCreated, ResultCreated{ResultID: stored.ID})
}

func (s *Server) restoreReport(stored domain.Result, u *upload) {
	if stored.Report == nil || stored.Report.Path == u.final {
		return
	}
	if _, err := os.Stat(stored.Report.Path); errors.Is(err, os.ErrNotExist) &&
		stored.Report.SHA256 == u.sum && filepath.Dir(stored.Report.Path) == s.reportsDir {
		if err := os.Rename(u.final, stored.Report.Path); err == nil {
			_ = syncDir(s.reportsDir)
			s.log.WithField("result", stored.ID).Warn("device: report of a stored result was missing; restored from the repeated upload")
			return
		}
	}
	os.Remove(u.final)
}

func checkIdempotencyKey(key string) *problem.Problem {
	if key == "" {
		return problem.New(http.StatusBadRequest, "idempotency-key-missing", "Idempotency-Key required",
			"send a unique Idempotency-Key header with every result upload, and the same key when retrying it").WithField("Idempotency-Key")
	}
	if len(key) > MaxIdempotencyKey {
		return problem.New(http.StatusBadRequest, "idempotency-key-invalid", "Invalid Idempotency-Key",
			fmt.Sprintf("the Idempotency-Key is longer than %d characters", MaxIdempotencyKey)).WithField("Idempotency-Key")
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return problem.New(http.StatusBadRequest, "idempotency-key-invalid", "Invalid Idempotency-Key",
				"the Idempotency-Key must be printable ASCII without spaces").WithField("Idempotency-Key")
		}
	}
	return nil
}

func (s *Server) readResultPart(r *http.Request, part *multipart.Part, u *upload, dev domain.Device) *problem.Problem {
	if u.result != nil {
		return problem.New(http.StatusBadRequest, "duplicate-part", "Duplicate part", "the part 'result' appears twice").WithField("result")
	}
	if ct := part.Header.Get("Content-Type"); ct != "" {
		if p := requireJSON(ct); p != nil {
			p.Detail = fmt.Sprintf("the part 'result' must be application/json, not %q", ct)
			p.Field = "result"
			return p
		}
	}
	data, err := io.ReadAll(io.LimitReader(part, s.opts.MaxJSONBytes+1))
	if err != nil {
		return s.bodyProblem(err)
	}
	if int64(len(data)) > s.opts.MaxJSONBytes {
		return problem.New(http.StatusRequestEntityTooLarge, "too-large", "Part too large",
			fmt.Sprintf("the part 'result' is larger than %d bytes", s.opts.MaxJSONBytes)).WithField("result")
	}
	res, p := s.parseResult(data)
	if p != nil {
		return p
	}
	if res.OrderID != "" {
		if _, p := s.ownOrder(r, res.OrderID, dev.Group); p != nil {
			if p.Status == http.StatusNotFound {
				return problem.New(http.StatusUnprocessableEntity, "appointment-unknown", "Unknown appointment",
					fmt.Sprintf("result.appointmentId %q is not an appointment of this tablet's group", res.OrderID)).WithField("result.appointmentId")
			}
			return p
		}
	}
	u.result = &res
	return nil
}

// pdfMagic is how every PDF file starts.
var pdfMagic = []byte("%PDF-")

func (s *Server) readReportPart(part *multipart.Part, u *upload) *problem.Problem {
	if u.tmp != "" {
		return problem.New(http.StatusBadRequest, "duplicate-part", "Duplicate part", "the part 'report' appears twice").WithField("report")
	}
	if ct := part.Header.Get("Content-Type"); ct != "" {
		mt, _, _ := mime.ParseMediaType(ct)
		if mt != "application/pdf" && mt != "application/octet-stream" {
			return problem.New(http.StatusUnsupportedMediaType, "report-not-pdf", "Report is not a PDF",
				fmt.Sprintf("the part 'report' must be application/pdf, not %q", ct)).WithField("report")
		}
	}
	f, err := os.CreateTemp(s.reportsDir, ".upload-*.tmp")
	if err != nil {
		s.log.WithError(err).Error("device: create report temp file")
		return storeProblem()
	}
	u.tmp = f.Name()
	h := sha256.New()
	pw := &pdfWriter{w: f, h: h, max: s.opts.MaxReportBytes}
	_, err = io.Copy(pw, part)
	if err == nil && pw.n < int64(len(pdfMagic)) {
		err = errNotPDF
	}
	if err == nil {
		err = f.Sync()
		if err != nil {
			err = fmt.Errorf("sync report: %w", err)
		}
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close report: %w", cerr)
	}
	switch {
	case err == nil:
	case errors.Is(err, errNotPDF):
		return problem.New(http.StatusUnsupportedMediaType, "report-not-pdf", "Report is not a PDF",
			"the part 'report' does not start with %PDF-: send the PDF report itself").WithField("report")
	case errors.Is(err, errReportTooLarge):
		return tooLarge(s.opts.MaxReportBytes)
	default:
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) || isReadErr(err) {
			return s.bodyProblem(err)
		}
		s.log.WithError(err).Error("device: write report")
		return storeProblem()
	}
	u.size = pw.n
	u.sum = hex.EncodeToString(h.Sum(nil))
	return nil
}

var (
	errNotPDF         = errors.New("report is not a PDF")
	errReportTooLarge = errors.New("report too large")
)

// readErr marks errors of the request body (not of the disk).
type readErr struct{ error }

func (e readErr) Unwrap() error { return e.error }

func isReadErr(err error) bool {
	var re readErr
	return errors.As(err, &re)
}

// pdfWriter writes to the temp file while hashing, counting, bounding the
// size and checking the PDF magic on the first bytes.
type pdfWriter struct {
	w    io.Writer
	h    hash.Hash
	n    int64
	max  int64
	head []byte
}

func (p *pdfWriter) Write(b []byte) (int, error) {
	if len(p.head) < len(pdfMagic) {
		need := len(pdfMagic) - len(p.head)
		if need > len(b) {
			need = len(b)
		}
		p.head = append(p.head, b[:need]...)
		if !bytes.HasPrefix(pdfMagic, p.head) {
			return 0, errNotPDF
		}
	}
	if p.n+int64(len(b)) > p.max {
		return 0, errReportTooLarge
	}
	n, err := p.w.Write(b)
	p.h.Write(b[:n])
	p.n += int64(n)
	return n, err
}

// ReadFrom keeps io.Copy from bypassing Write; it wraps read errors so they
// can be told from disk errors.
func (p *pdfWriter) ReadFrom(r io.Reader) (int64, error) {
	buf := make([]byte, 64<<10)
	var total int64
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := p.Write(buf[:n]); werr != nil {
				return total, werr
			}
			total += int64(n)
		}
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, readErr{err}
		}
	}
}

func tooLarge(max int64) *problem.Problem {
	return problem.New(http.StatusRequestEntityTooLarge, "too-large", "Report too large",
		fmt.Sprintf("the report is larger than the hub's limit of %d bytes", max)).WithField("report")
}

func (s *Server) bodyProblem(err error) *problem.Problem {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return problem.New(http.StatusRequestEntityTooLarge, "too-large", "Body too large",
			fmt.Sprintf("the upload is larger than the hub's limit of %d bytes", mbe.Limit))
	}
	return problem.New(http.StatusBadRequest, "malformed-multipart", "Malformed multipart body",
		fmt.Sprintf("the multipart body could not be read: %v", err))
}

func newResultID() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic("device: no randomness: " + err.Error())
	}
	return "res_" + hex.EncodeToString(b)
}

// removeStaleTemps removes unfinished uploads left by a crash.
func removeStaleTemps(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".upload-") && strings.HasSuffix(e.Name(), ".tmp") {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}
