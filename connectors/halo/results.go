package halo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/pull"
	"github.com/mesi/mconnect/connectors/resultjson"
)

// Outbound writes results into Bp Premier through HALO: an async nonQuery
// command gets the result JSON and the PDF as parameters; the hub then
// reads the query's status until HALO says how it ended. The query's ID is
// recorded (domain.Progress) before the first read, so that a retry, or a
// restart after a crash, reads that query's outcome instead of submitting
// the result again.
type Outbound struct {
	c     *client
	cfg   ResultsConfig
	hubID string
	log   logrus.FieldLogger
	// sleep waits between status reads (tests shorten it).
	sleep func(ctx context.Context, d time.Duration) bool
}

// progressPrefix starts the recorded step: "halo-query:<id>".
const progressPrefix = "halo-query:"

// Deliver implements domain.Outbound.
func (o *Outbound) Deliver(ctx context.Context, out domain.Outgoing) (string, error) {
	id, resumed := strings.CutPrefix(out.Progress.Step, progressPrefix)
	if !resumed || id == "" {
		q, err := o.submit(ctx, out)
		if err != nil {
			return "", err
		}
		id = q.ID
		if out.Record != nil {
			if err := out.Record(ctx, domain.Progress{Step: progressPrefix + id, Resumable: true}); err != nil {
				// Not recorded: a retry would submit again. Say so, and let
				// the outcome of this attempt decide (the stored procedure
				// ignores a result ID it has filed).
				o.log.WithError(err).WithField("query", id).Warn("HALO query submitted but its ID could not be recorded")
			}
		}
		if q.Status == StatusSuccessful {
			return answerOf(q), nil
		}
	}
	return o.await(ctx, out, id)
}

// submit posts the async nonQuery command with the result.
func (o *Outbound) submit(ctx context.Context, out domain.Outgoing) (Query, error) {
	params, err := o.parameters(out)
	if err != nil {
		return Query{}, err
	}
	req := QueryRequest{
		MaxTimeInQueue: millis(o.cfg.MaxTimeInQueue.D()),
		Catalogue:      o.c.catalogue,
		Command:        Command{Text: o.cfg.Command, ExecutionMode: "nonQuery", Type: o.cfg.CommandType, Parameters: params},
	}
	ctx, cancel := context.WithTimeout(ctx, o.cfg.Timeout.D())
	defer cancel()
	q, err := o.c.post(ctx, "async", req)
	if err != nil {
		return Query{}, deliveryError(err, "submitting the result")
	}
	if e := statusError(q); e != nil {
		return Query{}, deliveryError(e, "submitting the result")
	}
	return q, nil
}

// parameters are the command's parameters: @resultId, @appointmentId,
// @patientId, @resultJson and @pdf.
func (o *Outbound) parameters(out domain.Outgoing) ([]Parameter, error) {
	ext := ""
	if out.Order != nil {
		ext = out.Order.PlacerNumber
	}
	doc, err := resultjson.Build(out, nil, resultjson.Options{HubID: o.hubID, ExternalID: ext})
	if err != nil {
		return nil, domain.Permanent(fmt.Errorf("build the result JSON: %w", err), "")
	}
	js, err := json.Marshal(doc)
	if err != nil {
		return nil, domain.Permanent(fmt.Errorf("encode the result JSON: %w", err), "")
	}
	var pdf *string
	if r := out.Result.Report; r != nil && r.Path != "" {
		b, err := os.ReadFile(r.Path)
		if err != nil {
			return nil, domain.Temporary(fmt.Errorf("read the report of result %s: %w", out.Result.ID, err), "")
		}
		pdf = str(base64.StdEncoding.EncodeToString(b))
	}
	patient := doc.Patient.ID
	in := func(name, typ string, v *string, size int) Parameter {
		return Parameter{Name: name, Value: v, Direction: "input", Type: typ, Size: size}
	}
	var appt *string
	if ext != "" {
		appt = str(ext)
	}
	return []Parameter{
		in("@resultId", "NVarChar", str(out.Result.ID), 64),
		in("@appointmentId", "NVarChar", appt, 64),
		in("@patientId", "NVarChar", str(patient), 64),
		in("@resultJson", "NVarChar", str(string(js)), -1),
		in("@pdf", o.cfg.PDFType, pdf, -1),
	}, nil
}

// await reads the status of query id, pausing 1s, 2s, 4s … up to PollMax
// between reads, for at most PollFor; a query still running then is left
// for the next attempt (its ID stays recorded).
func (o *Outbound) await(ctx context.Context, out domain.Outgoing, id string) (string, error) {
	deadline := time.Now().Add(o.cfg.PollFor.D())
	pause := time.Second
	if max := o.cfg.PollMax.D(); pause > max {
		pause = max
	}
	for {
		rctx, cancel := context.WithTimeout(ctx, o.cfg.Timeout.D())
		q, err := o.c.query(rctx, id)
		cancel()
		if err != nil {
			var pe *pull.Error
			if errors.As(err, &pe) && (pe.Args["status"] == "404" || pe.Args["status"] == "410") {
				// HALO does not know the query (any more): whether it ran is
				// unknown. Forget it, and let a person decide.
				o.forget(ctx, out)
				return "", domain.Permanent(fmt.Errorf("HALO no longer knows query %s, so whether the result was filed is unknown; check Bp Premier, then resend or cancel: %w", id, err), "")
			}
			return "", deliveryError(err, "reading the status of query "+id)
		}
		if q.Status == StatusSuccessful {
			return answerOf(q), nil
		}
		if e := statusError(q); e != nil {
			// The query is over without success: a retry submits anew.
			o.forget(ctx, out)
			if e.Code == CodeQueryFailed {
				return "", domain.Permanent(e, "HALO query "+id+" "+q.Status)
			}
			return "", domain.Temporary(e, "HALO query "+id+" "+q.Status)
		}
		if time.Now().Add(pause).After(deadline) {
			return "", domain.Temporary(fmt.Errorf("HALO query %s is still %s; its outcome is read at the next attempt", id, q.Status),
				"HALO query "+id+" "+q.Status)
		}
		if !o.sleep(ctx, pause) {
			return "", ctx.Err()
		}
		pause = min(pause*2, o.cfg.PollMax.D())
	}
}

// forget drops the recorded query.
func (o *Outbound) forget(ctx context.Context, out domain.Outgoing) {
	if out.Record == nil {
		return
	}
	if err := out.Record(context.WithoutCancel(ctx), domain.Progress{}); err != nil {
		o.log.WithError(err).Warn("cannot forget the HALO query of a delivery")
	}
}

func answerOf(q Query) string {
	s := "HALO query " + q.ID + " successful"
	if q.Result != nil && q.Result.RowsAffected != nil {
		s += fmt.Sprintf(" (rowsAffected %d)", *q.Result.RowsAffected)
	}
	return s
}

// deliveryError classifies a failed call for the outbox: refused requests
// and credentials are permanent (a person must act), the rest retried.
func deliveryError(err error, doing string) error {
	e := pull.Classify(err)
	wrapped := fmt.Errorf("%s: %w", doing, e)
	answer := ""
	if e.Args["status"] != "" {
		answer = e.Error() // HALO answered, if with an error
	}
	switch e.Kind {
	case pull.KindAuth, pull.KindRefused:
		return domain.Permanent(wrapped, answer)
	}
	return domain.Temporary(wrapped, answer)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
