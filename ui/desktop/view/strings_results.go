package view

import (
	"time"

	"fyne.io/fyne/v2/lang"

	"github.com/mesi/mconnect/app/domain"
)

// Texts of the Results tab; see strings.go.

func txtTabResults() string { return lang.X("tab.results", "Results") }

func txtResultsSearch() string {
	return lang.X("results.search", "Search by patient, patient ID, measurement or tablet")
}

func txtResultFilter(f string) string {
	switch f {
	case resultFilterAttention:
		return lang.X("results.filter.attention", "Needs a person")
	case resultFilterWaiting:
		return lang.X("results.filter.waiting", "Waiting to be sent")
	case resultFilterDelivered:
		return lang.X("results.filter.delivered", "Delivered")
	default:
		return lang.X("results.filter.all", "All results")
	}
}

func txtResendAllFailed() string    { return lang.X("results.resendFailed", "Resend failed…") }
func txtResendAllAmbiguous() string { return lang.X("results.resendAmbiguous", "Resend unclear…") }
func txtResendAllFailedN(n int) string {
	return lang.XN("results.resendFailedN", "Resend {{.Count}} failed…", n, map[string]any{"Count": n})
}
func txtResendAllAmbiguousN(n int) string {
	return lang.XN("results.resendAmbiguousN", "Resend {{.Count}} unclear…", n, map[string]any{"Count": n})
}
func txtNoResults() string {
	return lang.X("results.none", "No results yet. Results appear here as soon as a tablet sends one.")
}
func txtNoResultsMatch() string {
	return lang.X("results.noneMatch", "No results match the search and filter.")
}
func txtResultCount(n int) string {
	return lang.XN("results.count", "{{.Count}} results", n, map[string]any{"Count": n})
}
func txtResultCountCapped(n int) string {
	return lang.X("results.countCapped", "Showing the newest {{.Count}} results; search to find older ones",
		map[string]any{"Count": n})
}
func txtSelectResult() string {
	return lang.X("results.select", "Select a result to see whether it reached the EHR, and to send it again.")
}
func txtMeasuredAt() string  { return lang.X("results.measuredAt", "Measured") }
func txtTablet() string      { return lang.X("results.tablet", "Tablet") }
func txtAppointment() string { return lang.X("results.appointment", "Appointment") }
func txtUnsolicited() string {
	return lang.X("results.unsolicited", "None (measured without an appointment)")
}
func txtOpenReport() string     { return lang.X("results.openReport", "Open report (PDF)") }
func txtShowInFolder() string   { return lang.X("results.showInFolder", "Show in folder") }
func txtNoDelivery() string     { return lang.X("results.noDelivery", "Not sent") }
func txtOpenFailed() string     { return lang.X("results.openFailed", "The file could not be opened.") }
func txtResend() string         { return lang.X("results.resend", "Resend…") }
func txtCancelDelivery() string { return lang.X("results.cancel", "Cancel sending…") }
func txtNoDeliveryText() string {
	return lang.X("results.noDeliveryText", "This hub has no connection that results are sent to.")
}
func txtDeliveryTo(conn string) string {
	return lang.X("results.deliveryTo", "To {{.Connection}}", map[string]any{"Connection": conn})
}
func txtAttemptCount(n int) string {
	return lang.XN("results.attempts", "{{.Count}} attempts", n, map[string]any{"Count": n})
}
func txtEHRAnswered(a string) string {
	return lang.X("results.ehrAnswered", "EHR answered: {{.Answer}}", map[string]any{"Answer": a})
}

func txtDeliveryState(s domain.DeliveryState) string {
	switch s {
	case domain.DeliveryQueued:
		return lang.X("delivery.state.queued", "Waiting")
	case domain.DeliveryInflight:
		return lang.X("delivery.state.inflight", "Sending")
	case domain.DeliveryRetrying:
		return lang.X("delivery.state.retrying", "Will retry")
	case domain.DeliveryDelivered:
		return lang.X("delivery.state.delivered", "In the EHR")
	case domain.DeliveryFailed:
		return lang.X("delivery.state.failed", "Failed")
	case domain.DeliveryAmbiguous:
		return lang.X("delivery.state.ambiguous", "Unclear")
	case domain.DeliveryCancelled:
		return lang.X("delivery.state.cancelled", "Cancelled")
	default:
		return string(s)
	}
}

// txtDeliveryExplain says in plain words what a delivery's state means
// and what a person can do.
func txtDeliveryExplain(d domain.Delivery, now time.Time) string {
	switch d.State {
	case domain.DeliveryQueued:
		return lang.X("delivery.explain.queued", "Waiting for its turn; results go to the EHR in the order they were measured.")
	case domain.DeliveryInflight:
		return lang.X("delivery.explain.inflight", "Being sent to the EHR now.")
	case domain.DeliveryRetrying:
		return lang.X("delivery.explain.retrying",
			"The EHR could not take it yet. The hub tries again by itself ({{.Next}}); nothing is lost.",
			map[string]any{"Next": formatTime(d.NextAt, now)})
	case domain.DeliveryDelivered:
		return lang.X("delivery.explain.delivered", "The EHR confirmed that it has this result ({{.Time}}).",
			map[string]any{"Time": formatTime(d.UpdatedAt, now)})
	case domain.DeliveryFailed:
		return lang.X("delivery.explain.failed",
			"The EHR refused this result, so the hub stopped trying. Find out why under Details and in the Connections tab, fix it, then resend it. Cancel it only if the EHR has the result another way.")
	case domain.DeliveryAmbiguous:
		return lang.X("delivery.explain.ambiguous",
			"The hub stopped while this result was being sent, so it is not known whether the EHR received it. Look for it in the EHR: if it is there, cancel sending; if it is not, resend it (sent twice, the EHR may show it twice).")
	case domain.DeliveryCancelled:
		return lang.X("delivery.explain.cancelled", "A person cancelled sending; the hub will not send it unless it is resent.")
	default:
		return string(d.State)
	}
}

func txtResendTitle() string { return lang.X("results.resendTitle", "Send this result again?") }
func txtResendText(d domain.Delivery) string {
	return lang.X("results.resendText",
		"The result is sent to {{.Connection}} at once. If the EHR already has it, it may show it twice. Say why, for the audit log:",
		map[string]any{"Connection": d.Connection})
}
func txtCancelTitle() string { return lang.X("results.cancelTitle", "Stop sending this result?") }
func txtCancelText(d domain.Delivery) string {
	return lang.X("results.cancelText",
		"The hub will not send this result to {{.Connection}}; it stays stored here and can be resent later. Say why, for the audit log:",
		map[string]any{"Connection": d.Connection})
}
func txtResendAllTitle() string { return lang.X("results.resendAllTitle", "Send these results again?") }
func txtResendAllFailedText() string {
	return lang.X("results.resendAllFailedText",
		"Every result the EHR refused is sent again at once. Fix the cause first (see Details of a result), or they fail again. Say why, for the audit log:")
}
func txtResendAllAmbiguousText() string {
	return lang.X("results.resendAllAmbiguousText",
		"Every result whose delivery is unclear is sent again at once. Those the EHR already has may show twice there. Say why, for the audit log:")
}
func txtReasonPlaceholder() string { return lang.X("results.reason", "Reason (required)") }
func txtResent(n int) string {
	return lang.XN("results.resent", "{{.Count}} results are being sent again.", n, map[string]any{"Count": n})
}
func txtCancelled() string { return lang.X("results.cancelled", "Sending was cancelled.") }
