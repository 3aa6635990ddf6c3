package outbox

import (
	"context"
	"maps"
	"strconv"
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
	h.Args = map[string]string{"connection": label, "retrying": strconv.Itoa(retrying), "failed": strconv.Itoa(failed),
		"held": strconv.Itoa(held)}
	switch {
	case writeFault != nil:
		h.Code, h.Severity, h.Detail = CodeStoreUnwritable, domain.SeverityError, writeFault.Error()
	case readFault != nil:
		h.Code, h.Severity, h.Detail = CodeStoreUnreadable, domain.SeverityError, readFault.Error()
	case failed+held > 0:
		h.Code, h.Severity, h.Detail = CodeNeedsAttention, domain.SeverityError, lastErr
	case down:
		h.Code, h.Severity, h.Detail = CodeEHRUnreachable, domain.SeverityWarning, lastErr
		h.Args["next"] = pause.Local().Format("15:04:05")
	case retrying > 0:
		h.Code, h.Severity, h.Detail = CodeRetrying, domain.SeverityWarning, lastErr
	default:
		h.Code, h.Severity = CodeOK, domain.SeverityOK
	}
	w.mu.Lock()
	same := w.reported.Code == h.Code && w.reported.Severity == h.Severity && maps.Equal(w.reported.Args, h.Args) && w.reported.Detail == h.Detail
	if !same {
		w.reported = h
	}
	w.mu.Unlock()
	if !same && w.ob.opts.Health != nil {
		w.ob.opts.Health.Report(h)
	}
}
