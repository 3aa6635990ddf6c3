package device

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/problem"
)

// PairingStore keeps pairing codes (by hash). *store.Store satisfies it.
type PairingStore interface {
	AddPairingCode(ctx context.Context, codeHash string, expires time.Time, group string) error
}

// CodeDigits is the length of a pairing code.
const CodeDigits = 6

// NewPairingCode creates a one-time pairing code of six random digits valid
// for ttl (DefaultPairingTTL when ttl <= 0) that pairs a tablet into group
// (the default group when empty). Only the code's hash is stored: show the
// code to the person pairing, never log it.
func NewPairingCode(ctx context.Context, st PairingStore, ttl time.Duration, group string) (code string, expires time.Time, err error) {
	if ttl <= 0 {
		ttl = DefaultPairingTTL
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("device: pairing code: %w", err)
	}
	code = fmt.Sprintf("%06d", n.Int64())
	expires = time.Now().Add(ttl).UTC()
	if err := st.AddPairingCode(ctx, HashCode(code), expires, group); err != nil {
		return "", time.Time{}, fmt.Errorf("device: store pairing code: %w", err)
	}
	return code, expires, nil
}

// HashCode is how a pairing code is stored: hex SHA-256. A six-digit code
// is only safe because it is short-lived, one-time and guarded by the lockout.
func HashCode(code string) string {
	sum := sha256.Sum256([]byte("mconnect-pairing-code:" + code))
	return hex.EncodeToString(sum[:])
}

// HashToken is how a device token is stored: hex SHA-256 of the token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// newToken returns 256 random bits, base64url without padding (43 characters).
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("device: token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

const maxTextField = 200

func (s *Server) handlePair(w http.ResponseWriter, r *http.Request) {
	if d, global := s.lock.locked(remoteIP(r)); d > 0 {
		writeProblem(w, lockedProblem(d, global))
		return
	}
	var req pairingRequest
	if p := s.decodeJSON(w, r, &req); p != nil {
		writeProblem(w, p)
		return
	}
	req.Code = strings.TrimSpace(req.Code)
	req.Serial = strings.TrimSpace(req.Serial)
	req.Name = strings.TrimSpace(req.Name)
	if req.Code == "" {
		writeProblem(w, problem.New(http.StatusUnprocessableEntity, "missing-field", "Missing field", `"code" is required: the six-digit pairing code shown by the hub`).WithField("code"))
		return
	}
	if req.Serial == "" {
		writeProblem(w, problem.New(http.StatusUnprocessableEntity, "missing-field", "Missing field", `"serial" is required: the tablet's serial number`).WithField("serial"))
		return
	}
	for _, f := range []struct{ name, v string }{{"serial", req.Serial}, {"name", req.Name}, {"model", req.Model}, {"appVersion", req.AppVersion}} {
		if len(f.v) > maxTextField {
			writeProblem(w, problem.New(http.StatusUnprocessableEntity, "invalid-field", "Invalid field", fmt.Sprintf("%q is longer than %d characters", f.name, maxTextField)).WithField(f.name))
			return
		}
	}
	if !validCode(req.Code) {
		s.wrongCode(w, r, "the pairing code must be six digits")
		return
	}
	token, err := newToken()
	if err != nil {
		writeProblem(w, internalProblem())
		return
	}
	d := domain.Device{Serial: req.Serial, Name: req.Name, Model: req.Model, AppVersion: req.AppVersion, IP: remoteIP(r)}
	d, err = s.st.PairDevice(r.Context(), HashCode(req.Code), d, HashToken(token))
	if err != nil {
		if errors.Is(err, domain.ErrPairingCodeInvalid) {
			s.wrongCode(w, r, "the pairing code is unknown, was used already or has expired; create a new one on the hub")
			return
		}
		s.log.WithError(err).Error("device: pairing failed in the store")
		writeProblem(w, storeProblem())
		return
	}
	s.lock.succeed(remoteIP(r))
	s.log.WithFields(map[string]any{"device": d.ID, "serial": d.Serial, "group": d.Group, "ip": d.IP}).Info("device: tablet paired")
	writeJSON(w, http.StatusCreated, PairingResponse{DeviceID: d.ID, Token: token, Group: d.Group, HubID: s.opts.HubID})
}

func (s *Server) wrongCode(w http.ResponseWriter, r *http.Request, detail string) {
	ip := remoteIP(r)
	s.log.WithField("ip", ip).Warn("device: wrong pairing code")
	if d, global := s.lock.fail(ip); d > 0 {
		if global {
			s.log.WithField("for", d.Round(time.Second)).Warn("device: too many wrong pairing codes from several addresses, pairing locked for everybody until a new code is created")
		} else {
			s.log.WithFields(map[string]any{"ip": ip, "for": d.Round(time.Second)}).Warn("device: too many wrong pairing codes, pairing locked for this address")
		}
		writeProblem(w, lockedProblem(d, global))
		return
	}
	writeProblem(w, problem.New(http.StatusForbidden, "pairing-code-invalid", "Pairing code not accepted", detail).WithField("code"))
}

func lockedProblem(d time.Duration, global bool) *problem.Problem {
	secs := int((d + time.Second - 1) / time.Second)
	detail := fmt.Sprintf("too many wrong pairing codes from this address: pairing is locked for it for %d more seconds", secs)
	if global {
		detail = fmt.Sprintf("too many wrong pairing codes on this hub: pairing is locked for %d more seconds, or until a new code is created on the hub", secs)
	}
	p := problem.New(http.StatusTooManyRequests, "pairing-locked", "Pairing locked", detail)
	p.RetryAfter = secs
	return p
}

// NewPairingCode creates a one-time pairing code as the package's
// NewPairingCode does, in the server's store, and opens pairing for
// everybody (ResetPairingLockout): the person who asked for the code — the
// Dashboard's "Pair a tablet" — can pair with it at once, even while wrong
// codes had locked pairing.
func (s *Server) NewPairingCode(ctx context.Context, ttl time.Duration, group string) (code string, expires time.Time, err error) {
	code, expires, err = NewPairingCode(ctx, s.st, ttl, group)
	if err != nil {
		return "", time.Time{}, err
	}
	s.ResetPairingLockout()
	return code, expires, nil
}

// ResetPairingLockout forgets every wrong pairing code: addresses and the
// hub as a whole are open for pairing again. Call it when a person on the
// hub shows a pairing code (NewPairingCode does).
func (s *Server) ResetPairingLockout() {
	s.lock.reset()
	s.log.Info("device: pairing lockout reset for a new pairing code")
}

func validCode(c string) bool {
	if len(c) != CodeDigits {
		return false
	}
	for _, r := range c {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
