package outbox

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

// Health codes a connection's outbox reports (domain.Health.Code).
const (
	CodeOK              = "ok"
	CodeRetrying        = "retrying"
	CodeEHRUnreachable  = "ehr-unreachable"
	CodeNeedsAttention  = "needs-attention"
	CodeStoreUnwritable = "store-unwritable"
	CodeStoreUnreadable = "store-unreadable"
)

func results(n int) string {
	if n == 1 {
		return "1 result"
	}
	return fmt.Sprintf("%d results", n)
}

// report works out the connection's health from the store and what the
// worker knows, and hands it to Options.Health when it changed.
func (w *worker) report(ctx context.Context) {
	w.reportMu.Lock()
	defer w.reportMu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	counts, countErr := w.ob.q.QueueCounts(ctx, w.name, domain.DeliveryRetrying, domain.DeliveryFailed, domain.DeliveryAmbiguous)

	w.mu.Lock()
	down, pause := w.down, w.pauseUntil
	writeFault, readFault := w.writeFault, w.readFault
	lastErr, lastMsg := w.lastError, w.lastMessage
	w.mu.Unlock()
	if readFault == nil {
		readFault = countErr
	}

	label := w.policy.Label
	held, retrying := 0, counts[domain.DeliveryRetrying]
	if w.policy.Ambiguous == AmbiguousHold {
		held = counts[domain.DeliveryAmbiguous]
	} else {
		retrying += counts[domain.DeliveryAmbiguous]
	}
	failed := counts[domain.DeliveryFailed]
	h := domain.Health{
		Component:     "conn:" + w.name + "/outbox",
		LastMessageAt: lastMsg,
		LastError:     lastErr,
		At:            w.ob.q.Now(),
	}
	lastErrText := ""
	if lastErr != "" {
		lastErrText = " Last error: " + lastErr
	}
	switch {
	case writeFault != nil:
		h.Code, h.Severity = CodeStoreUnwritable, domain.SeverityError
		h.Title = "Delivery progress cannot be saved"
		h.Text = fmt.Sprintf("The hub cannot write to its database (%v). Results already received are safe; delivery to %s resumes by itself when the database can be written again. Check the free disk space and that the data folder is writable.", writeFault, label)
	case readFault != nil:
		h.Code, h.Severity = CodeStoreUnreadable, domain.SeverityError
		h.Title = "The delivery queue cannot be read"
		h.Text = fmt.Sprintf("The hub cannot read its database (%v). Delivery to %s resumes by itself when it can. If this stays, export a diagnostic bundle for support.", readFault, label)
	case failed+held > 0:
		h.Code, h.Severity = CodeNeedsAttention, domain.SeverityError
		h.Title = fmt.Sprintf("%s for %s need attention", results(failed+held), label)
		var parts []string
		if failed > 0 {
			parts = append(parts, fmt.Sprintf("%s could not be delivered because %s refused them", results(failed), label))
		}
		if held > 0 {
			parts = append(parts, fmt.Sprintf("%s were being sent when the hub stopped, and nobody knows whether %s got them", results(held), label))
		}
		h.Text = strings.Join(parts, "; ") + ". Open Results to resend or cancel them." + lastErrText
	case down:
		h.Code, h.Severity = CodeEHRUnreachable, domain.SeverityWarning
		h.Title = label + " does not answer"
		h.Text = fmt.Sprintf("The hub cannot reach %s. %s wait and will be sent in order as soon as it answers; the next try is at %s.%s",
			label, results(retrying), pause.Local().Format("15:04:05"), lastErrText)
	case retrying > 0:
		h.Code, h.Severity = CodeRetrying, domain.SeverityWarning
		h.Title = fmt.Sprintf("Retrying %s for %s", results(retrying), label)
		h.Text = "They could not be delivered yet and are sent again automatically." + lastErrText
	default:
		h.Code, h.Severity = CodeOK, domain.SeverityOK
		h.Title = label + ": delivering"
		h.Text = "Results are delivered as they arrive."
	}
	w.mu.Lock()
	same := w.reported.Code == h.Code && w.reported.Severity == h.Severity && w.reported.Title == h.Title && w.reported.Text == h.Text
	if !same {
		w.reported = h
	}
	w.mu.Unlock()
	if !same && w.ob.opts.Health != nil {
		w.ob.opts.Health.Report(h)
	}
}
