// Package outbox delivers stored results to the EHR: one durable queue per
// outbound connection, kept in the hub's SQLite store (the deliveries and
// attempts tables), so that nothing acknowledged to a tablet is lost.
//
// # States
//
//	queued    -> inflight -> delivered
//	                      -> retrying  (temporary error; due again after a backoff)
//	                      -> failed    (permanent error: HL7 AR, HTTP 4xx but 408/429; needs a person)
//	inflight at start     -> ambiguous (the hub stopped during the send; nobody knows if the EHR got it)
//	any but inflight      -> queued    (a person resends), cancelled (a person cancels)
//
// The claim (queued/retrying/ambiguous -> inflight, attempts+1) is written
// to disk before the send starts; the outcome and its attempt record are
// written in one transaction after the EHR answered, and the same
// transaction claims what comes next (store.Advance): one commit per step
// of the queue, not two per delivery. While the EHR answers quickly, a
// step claims a run of queued deliveries behind the next one (at most
// Options.ClaimAhead, and no more than the EHR answers in
// Options.AheadBudget at the pace of the last sends), sends them in order
// and records their outcomes together; an outcome that holds the queue up
// (a retry) ends the run, and the deliveries claimed behind it go back to
// queued, unsent, in the transaction that records it. A crash therefore
// finds at most one run in flight per connection. A delivery found in
// flight when the hub starts therefore was, or may have been, sent: it
// becomes ambiguous, an attempt saying so is recorded, and the
// connection's Policy decides: AmbiguousResend sends it again (for
// receivers that de-duplicate, or where a duplicate is better than a
// gap), AmbiguousHold leaves it for a person. A completion that no longer
// matches the current claim (a late or repeated answer) is recorded in
// the history but changes nothing.
//
// # Order and poison results
//
// Each connection sends one delivery at a time, oldest first by delivery
// ID: the order results were stored, across restarts. A delivery that fails
// temporarily holds up the ones behind it until it has failed
// Policy.PassAfter times (default 3: about 5 s + 10 s + 20 s with the
// default backoff); after that it is passed: later deliveries go on, and it
// is retried on its own schedule (in ID order with the others when due)
// until it succeeds, fails permanently or a person acts. PassAfter 1 never
// holds anything up (order is kept only among deliveries that succeed at
// the first try); a large PassAfter gives strict FIFO at the price of
// letting one bad result stop the connection. A permanent error never holds
// anything up.
//
// To tell a poison result from an EHR that is down, the worker watches the
// answers: when deliveries of two different results fail in a row without
// any answer from the EHR (connection refused, timeout), the connection is
// considered down. It then stops working through the queue and only
// probes, with the oldest delivery, at growing intervals (the backoff),
// trying the next-oldest now and then so that one bad result cannot hide
// that the EHR is back. When a probe gets an answer, every retrying
// delivery of the connection becomes due at once and the backlog drains in
// order. Any answer from the EHR, even an error, shows that it is up.
//
// # Faults of the store
//
// When the store cannot be read or written (disk full, read-only folder),
// the worker keeps running, reports the fault through the connection's
// health and tries again after a backoff. It never sends a delivery it
// could not claim, and never counts a send as delivered before that is
// written; an answer that cannot be written is kept in memory and written
// when the store recovers (or, if the hub stops first, the delivery is
// found in flight and becomes ambiguous).
//
// # Status
//
// Status, History and Deliveries read the tables themselves (never
// counters that could drift); health per connection goes to
// Options.Health. docs/DELIVERY.md explains all of this for support staff.
package outbox
