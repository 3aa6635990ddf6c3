package domain

import "time"

// Observation is one measured value (HL7 OBX, GDT 8410 group).
type Observation struct {
	Code  string `json:"code"`
	Name  string `json:"name,omitempty"`
	Value string `json:"value"`
	Unit  string `json:"unit,omitempty"`
	Low   string `json:"low,omitempty"`
	High  string `json:"high,omitempty"`
	// Flag is the abnormal flag: "" or N normal, L low, H high, A abnormal.
	Flag string `json:"flag,omitempty"`
}

// DeviceInfo names the measuring instrument.
type DeviceInfo struct {
	Serial string `json:"serial,omitempty"`
	Model  string `json:"model,omitempty"`
}

// Attachment is a file stored in the hub's data directory (the PDF report).
type Attachment struct {
	Path        string `json:"path"` // absolute path of the stored file
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"` // hex
}

// Result is a measurement uploaded by a tablet.
type Result struct {
	ID string `json:"id"`
	// OrderID is the appointment the result answers; empty for an unsolicited
	// result, which then carries Patient itself.
	OrderID        string        `json:"orderId,omitempty"`
	DeviceID       string        `json:"deviceId,omitempty"`
	IdempotencyKey string        `json:"idempotencyKey,omitempty"`
	Measurement    string        `json:"measurement"`
	PerformedAt    time.Time     `json:"performedAt"`
	Operator       string        `json:"operator,omitempty"`
	Observations   []Observation `json:"observations"`
	Interpretation string        `json:"interpretation,omitempty"`
	Device         DeviceInfo    `json:"device"`
	Patient        *Patient      `json:"patient,omitempty"`
	Report         *Attachment   `json:"report,omitempty"`
	ReceivedAt     time.Time     `json:"receivedAt"`
}
