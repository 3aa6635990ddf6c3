package leyr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/mesi/mconnect/connectors/pull"
)

// Leyr's wire shapes.

// Appointment is one appointment of Get Appointments.
type Appointment struct {
	ID                  string `json:"id"`
	Start               string `json:"start"`
	End                 string `json:"end"`
	PatientID           string `json:"patient_id"`
	ResourceID          string `json:"resource_id"`
	HealthcareServiceID string `json:"healthcare_service_id"`
	Status              string `json:"status"`
	Comment             string `json:"comment"`
}

// Patient is Get Patient's answer. Leyr normalises the EHRs' patients;
// the alternative names are read too.
type Patient struct {
	ID          string   `json:"id"`
	FirstName   string   `json:"first_name"`
	LastName    string   `json:"last_name"`
	BirthDate   string   `json:"birth_date"`
	DateOfBirth string   `json:"date_of_birth"`
	Gender      string   `json:"gender"`
	Email       string   `json:"email"`
	Phone       string   `json:"phone_number"`
	Address     *Address `json:"address"`
}

// Address is a patient's address.
type Address struct {
	Street        string `json:"street"`
	StreetAddress string `json:"street_address"`
	PostalCode    string `json:"postal_code"`
	ZipCode       string `json:"zip_code"`
	City          string `json:"city"`
	Country       string `json:"country"`
}

// Resource is a practitioner (Get Resource).
type Resource struct {
	ID        string `json:"id"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Title     string `json:"title"`
}

// MedicalNote is the body of Create Medical Note.
type MedicalNote struct {
	TemplateID  string      `json:"template_id"`
	Title       string      `json:"title"`
	CreatedByID string      `json:"created_by_id"`
	Content     NoteContent `json:"content"`
}

// NoteContent is an unstructured note's content.
type NoteContent struct {
	Unstructured string `json:"unstructured"`
}

// Document is the body of the document upload: the file in base64 with
// its MIME type.
type Document struct {
	Title         string `json:"title"`
	FileName      string `json:"file_name"`
	MimeType      string `json:"mime_type"`
	Content       string `json:"content"`
	MedicalNoteID string `json:"medical_note_id,omitempty"`
}

// Created is the answer of a create call.
type Created struct {
	ID string `json:"id"`
}

// Problem is Leyr's error (problem JSON).
type Problem struct {
	Code     string `json:"code"`
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance"`
}

const (
	headerClientID     = "x-leyr-client-id"
	headerClientSecret = "x-leyr-client-secret"
	credential         = "Leyr client ID and secret (leyr.clientId, leyr.clientSecret)"
	maxErrorBody       = 64 << 10
	userAgent          = "mCONNECT-Hub"
)

// Health codes of Leyr's own failures (besides pull's).
const (
	CodeCareUnitNotFound = "care-unit-not-found"
)

// client calls Leyr for one EHR and care unit.
type client struct {
	base     string // …/emrs/{emr}/care-units/{cu}, escaped
	id, key  string
	http     *http.Client
	maxBody  int64
	careUnit string
}

func newClient(c *Config, secret string, h *http.Client) *client {
	base := strings.TrimRight(c.BaseURL, "/") + "/emrs/" + url.PathEscape(c.EMR) + "/care-units/" + url.PathEscape(c.CareUnitID)
	return &client{base: base, id: c.ClientID, key: secret, http: h, maxBody: c.MaxAnswer(), careUnit: c.CareUnitID}
}

// do sends one request and returns the answer's body (2xx, up to limit
// bytes) for the caller to read, or a classified error naming Leyr's
// problem (never the secret).
func (c *client) do(ctx context.Context, method, path string, q url.Values, body any) (io.ReadCloser, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode Leyr request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("leyr: request %s: %w", path, err)
	}
	req.Header.Set(headerClientID, c.id)
	req.Header.Set(headerClientSecret, c.key)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, pull.Classify(fmt.Errorf("leyr: %s %s: %w", method, req.URL.Path, err))
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return struct {
			io.Reader
			io.Closer
		}{pull.LimitReader(resp.Body, c.maxBody, "Leyr's answer"), resp.Body}, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return nil, c.problem(resp, b, method, req.URL.Path)
}

// problem classifies an error answer, reading Leyr's problem JSON.
func (c *client) problem(resp *http.Response, body []byte, method, path string) error {
	var p Problem
	msg := ""
	if json.Unmarshal(body, &p) == nil && (p.Title != "" || p.Detail != "" || p.Code != "") {
		msg = strings.TrimSpace(strings.Join(nonEmpty(p.Title, p.Detail), ": "))
		if p.Code != "" {
			msg += " (" + p.Code + ")"
		}
	} else {
		s := strings.TrimSpace(string(body))
		if len(s) > 200 {
			s = s[:200] + "…"
		}
		msg = strconv.Quote(s)
	}
	err := fmt.Errorf("leyr: answered %s to %s %s: %s", resp.Status, method, path, msg)
	if resp.StatusCode == http.StatusNotFound && strings.Contains(strings.ToLower(p.Code+" "+p.Detail), "care unit") {
		return pull.Fail(pull.KindRefused, CodeCareUnitNotFound, map[string]string{"status": "404", "careUnit": c.careUnit}, err)
	}
	return pull.HTTPStatus(resp.StatusCode, resp.Header, credential, err)
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// getJSON reads one JSON object into v.
func (c *client) getJSON(ctx context.Context, path string, v any) error {
	body, err := c.do(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return err
	}
	defer body.Close()
	b, err := pull.ReadBody(body, c.maxBody, "Leyr's answer")
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return pull.Fail(pull.KindBadAnswer, pull.CodeBadAnswer, nil, fmt.Errorf("leyr: the answer to GET %s cannot be read: %w", path, err))
	}
	return nil
}

// create posts body and returns the created object's ID.
func (c *client) create(ctx context.Context, path string, body any) (string, error) {
	rd, err := c.do(ctx, http.MethodPost, path, nil, body)
	if err != nil {
		return "", err
	}
	defer rd.Close()
	b, err := pull.ReadBody(rd, 1<<20, "Leyr's answer")
	if err != nil {
		return "", err
	}
	var cr Created
	if err := json.Unmarshal(b, &cr); err != nil || cr.ID == "" {
		return "", pull.Fail(pull.KindBadAnswer, pull.CodeBadAnswer, nil, fmt.Errorf("leyr: the answer to POST %s names no created id (%v)", path, err))
	}
	return cr.ID, nil
}

// patientPath is …/patients/{id}, the ID kept in Leyr's {type}:{value} form.
func patientPath(id string) string { return "/patients/" + url.PathEscape(id) }
