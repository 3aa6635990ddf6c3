package domain

import (
	"errors"
	"fmt"
	"time"
)

// DeliveryState is where one result's delivery to one outbound connection is.
type DeliveryState string

// Delivery states (docs/SUPPORT.md explains them for support staff).
const (
	DeliveryQueued    DeliveryState = "queued"    // waiting for its turn
	DeliveryInflight  DeliveryState = "inflight"  // a send is under way
	DeliveryRetrying  DeliveryState = "retrying"  // failed for now, next attempt scheduled
	DeliveryDelivered DeliveryState = "delivered" // the EHR confirmed it
	DeliveryFailed    DeliveryState = "failed"    // permanent error: needs a person
	DeliveryAmbiguous DeliveryState = "ambiguous" // the hub stopped while a send was in flight
	DeliveryCancelled DeliveryState = "cancelled" // a person cancelled it
)

// Final reports whether no more attempts will be made without a person.
func (s DeliveryState) Final() bool {
	return s == DeliveryDelivered || s == DeliveryFailed || s == DeliveryCancelled
}

// Delivery is one result on its way to one outbound connection.
type Delivery struct {
	ID         int64         `json:"id"` // also the FIFO sequence within a connection
	ResultID   string        `json:"resultId"`
	Connection string        `json:"connection"`
	State      DeliveryState `json:"state"`
	Attempts   int           `json:"attempts"`
	NextAt     time.Time     `json:"nextAt,omitempty"`
	LastError  string        `json:"lastError,omitempty"`
	CreatedAt  time.Time     `json:"createdAt"`
	UpdatedAt  time.Time     `json:"updatedAt"`
}

// Attempt records one try to deliver.
type Attempt struct {
	DeliveryID int64         `json:"deliveryId"`
	At         time.Time     `json:"at"`
	Duration   time.Duration `json:"duration"`
	Error      string        `json:"error,omitempty"`
	// Answer is what the EHR said (ACK text, HTTP status and body excerpt).
	Answer string `json:"answer,omitempty"`
}

// DeliveryError is returned by an outbound connector to classify a failure.
// Permanent errors (HL7 AR, HTTP 4xx other than 408/429) go straight to
// failed; anything else is retried.
type DeliveryError struct {
	Permanent bool
	Answer    string // what the EHR answered, for the attempt record
	Err       error
}

func (e *DeliveryError) Error() string {
	kind := "temporary"
	if e.Permanent {
		kind = "permanent"
	}
	if e.Answer != "" {
		return fmt.Sprintf("%s delivery error: %v (EHR answered: %s)", kind, e.Err, e.Answer)
	}
	return fmt.Sprintf("%s delivery error: %v", kind, e.Err)
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// Permanent wraps err as a permanent delivery error with the EHR's answer.
func Permanent(err error, answer string) error {
	return &DeliveryError{Permanent: true, Answer: answer, Err: err}
}

// Temporary wraps err as a retryable delivery error with the EHR's answer.
func Temporary(err error, answer string) error {
	return &DeliveryError{Answer: answer, Err: err}
}

// IsPermanent reports whether err (or an error it wraps) is a permanent DeliveryError.
func IsPermanent(err error) bool {
	var de *DeliveryError
	return errors.As(err, &de) && de.Permanent
}

// AnswerOf returns the EHR's answer recorded in err, if any.
func AnswerOf(err error) string {
	var de *DeliveryError
	if errors.As(err, &de) {
		return de.Answer
	}
	return ""
}
