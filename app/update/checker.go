package update

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// StateFile is the file in the data folder that keeps when the feed was
// last asked and the newest signed feed seen.
const StateFile = "update-check.json"

// Defaults of a Checker.
const (
	DefaultInterval   = 24 * time.Hour
	DefaultFirstDelay = 5 * time.Minute
)

// Notice is a newer version people may install.
type Notice struct {
	Version string            `json:"version"`
	Date    string            `json:"date"`
	Notes   map[string]string `json:"notes"`
	URL     string            `json:"url"`
	SHA256  string            `json:"sha256"`
}

// Options configure a Checker.
type Options struct {
	// Feed is the https address of the update feed.
	Feed string
	// Current is the running version.
	Current string
	// DataDir is the hub's data folder (StateFile is kept there).
	DataDir string
	// Client asks the feed (nil: a client with a 30 s timeout that
	// follows only https redirects, through the system's proxy settings).
	Client *http.Client
	// Log receives what happened (nil: discarded).
	Log logrus.FieldLogger
	// OnNotice, if set, is called when a newer version becomes known.
	OnNotice func(Notice)
	// Keys verify the feed (nil: the release keys compiled in). Only tests
	// set them.
	Keys []ed25519.PublicKey
}

// Checker asks the update feed at most once per interval and keeps the
// newest signed version.
type Checker struct {
	opts    Options
	current Version
	feed    *url.URL
	client  *http.Client
	log     logrus.FieldLogger

	// Replaceable in tests.
	keys       []ed25519.PublicKey
	interval   time.Duration
	firstDelay time.Duration
	now        func() time.Time
	after      func(time.Duration) <-chan time.Time

	mu        sync.Mutex
	checkedAt time.Time
	known     *Manifest // newest verified manifest
	knownFeed []byte    // its feed document, kept in StateFile
}

// New returns a checker for opts; it reads StateFile (a damaged one is
// logged and ignored). The feed must be an https address and Current a
// version.
func New(opts Options) (*Checker, error) {
	cur, err := ParseVersion(opts.Current)
	if err != nil {
		return nil, fmt.Errorf("update: running version: %w", err)
	}
	u, err := url.Parse(opts.Feed)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("update: feed %q is not an https address", opts.Feed)
	}
	log := opts.Log
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = l
	}
	client := opts.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second, CheckRedirect: httpsRedirectsOnly}
	}
	c := &Checker{opts: opts, current: cur, feed: u, client: client, log: log.WithField("feed", opts.Feed),
		keys: releaseKeys, interval: DefaultInterval, firstDelay: DefaultFirstDelay, now: time.Now, after: time.After}
	if opts.Keys != nil {
		c.keys = opts.Keys
	}
	c.load()
	return c, nil
}

func httpsRedirectsOnly(req *http.Request, via []*http.Request) error {
	if req.URL.Scheme != "https" {
		return fmt.Errorf("redirect to %s refused: not https", req.URL.Redacted())
	}
	if len(via) >= 5 {
		return errors.New("more than 5 redirects")
	}
	return nil
}

// Latest returns the newest signed version if it is newer than the running
// one, else nil.
func (c *Checker) Latest() *Notice {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.known == nil {
		return nil
	}
	v, _ := ParseVersion(c.known.Version)
	if v.Compare(c.current) <= 0 {
		return nil
	}
	return noticeOf(*c.known)
}

func noticeOf(m Manifest) *Notice {
	notes := make(map[string]string, len(m.Notes))
	for k, v := range m.Notes {
		notes[k] = v
	}
	return &Notice{Version: m.Version, Date: m.Date, Notes: notes, URL: m.URL, SHA256: m.SHA256}
}

// CheckedAt returns when the feed was last asked (zero: never).
func (c *Checker) CheckedAt() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.checkedAt
}

// Run asks the feed when a check is due (a day after the last one, and
// not in the first minutes after start) until ctx is done. Every attempt,
// answered or not, counts as the day's check.
func (c *Checker) Run(ctx context.Context) error {
	started := c.now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.after(c.wait(started)):
		}
		if ctx.Err() != nil {
			return nil
		}
		c.checkAndRecord(ctx)
	}
}

// wait returns how long until the next check is due.
func (c *Checker) wait(started time.Time) time.Duration {
	now := c.now()
	c.mu.Lock()
	last := c.checkedAt
	c.mu.Unlock()
	if last.After(now) { // the clock was set back
		last = now
	}
	due := last.Add(c.interval)
	if earliest := started.Add(c.firstDelay); due.Before(earliest) {
		due = earliest
	}
	if d := due.Sub(now); d > 0 {
		return d
	}
	return 0
}

func (c *Checker) checkAndRecord(ctx context.Context) {
	err := c.Check(ctx)
	switch {
	case err == nil:
	case errors.Is(err, ErrSignature), errors.Is(err, ErrCorrupt), errors.Is(err, ErrDowngrade):
		c.log.WithError(err).Warn("update feed ignored")
	default:
		c.log.WithError(err).Info("update feed not reachable; asking again tomorrow")
	}
	c.mu.Lock()
	c.checkedAt = c.now()
	c.mu.Unlock()
	if err := c.save(); err != nil {
		c.log.WithError(err).Warn("cannot record the update check; the feed may be asked again sooner")
	}
}

// Check asks the feed once now. A newer signed version becomes Latest
// (and OnNotice is called); an older one, a bad signature or a malformed
// feed is refused with an error wrapping ErrDowngrade, ErrSignature or
// ErrCorrupt, and what was known stays. Check does not record the time
// (Run does).
func (c *Checker) Check(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.feed.String(), nil)
	if err != nil {
		return fmt.Errorf("update feed %s: %w", c.feed.Redacted(), err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "mCONNECT-Hub/"+c.opts.Current)
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("update feed: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("update feed %s: answered %s", c.feed.Redacted(), resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxFeedBytes+1))
	if err != nil {
		return fmt.Errorf("update feed %s: reading: %w", c.feed.Redacted(), err)
	}
	if len(data) > MaxFeedBytes {
		return fmt.Errorf("update feed %s: %w: larger than %d bytes", c.feed.Redacted(), ErrCorrupt, MaxFeedBytes)
	}
	m, err := Parse(data, c.keys)
	if err != nil {
		return fmt.Errorf("update feed %s: %w", c.feed.Redacted(), err)
	}
	return c.offer(m, data)
}

// offer takes a verified manifest if it is no downgrade.
func (c *Checker) offer(m Manifest, feed []byte) error {
	v, _ := ParseVersion(m.Version)
	if v.Compare(c.current) < 0 {
		return fmt.Errorf("update feed %s: %w: %s is older than the running %s", c.feed.Redacted(), ErrDowngrade, m.Version, c.opts.Current)
	}
	c.mu.Lock()
	if c.known != nil {
		kv, _ := ParseVersion(c.known.Version)
		switch cmp := v.Compare(kv); {
		case cmp < 0:
			c.mu.Unlock()
			return fmt.Errorf("update feed %s: %w: %s is older than %s announced before", c.feed.Redacted(), ErrDowngrade, m.Version, c.known.Version)
		case cmp == 0:
			c.known, c.knownFeed = &m, feed // notes may have been corrected
			c.mu.Unlock()
			return nil
		}
	}
	c.known, c.knownFeed = &m, feed
	c.mu.Unlock()
	if v.Compare(c.current) > 0 {
		c.log.WithFields(logrus.Fields{"version": m.Version, "date": m.Date, "url": m.URL}).Info("a newer version is available")
		if c.opts.OnNotice != nil {
			c.opts.OnNotice(*noticeOf(m))
		}
	}
	return nil
}

// state is StateFile's content. The feed is kept as it was served and
// verified again when read, so the file cannot announce a version itself.
type state struct {
	CheckedAt time.Time `json:"checkedAt"`
	Feed      []byte    `json:"feed,omitempty"` // base64 in the file
}

func (c *Checker) statePath() string { return filepath.Join(c.opts.DataDir, StateFile) }

func (c *Checker) load() {
	b, err := os.ReadFile(c.statePath())
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		c.log.WithError(err).Warn("cannot read the record of update checks; checking as if never checked")
		return
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		c.log.WithError(fmt.Errorf("%s: %w", c.statePath(), err)).Warn("record of update checks is damaged; checking as if never checked")
		return
	}
	c.checkedAt = st.CheckedAt
	if len(st.Feed) == 0 {
		return
	}
	m, err := Parse(st.Feed, c.keys)
	if err != nil {
		c.log.WithError(fmt.Errorf("%s: %w", c.statePath(), err)).Warn("the version recorded from the update feed is ignored")
		return
	}
	c.known, c.knownFeed = &m, st.Feed
}

func (c *Checker) save() error {
	c.mu.Lock()
	st := state{CheckedAt: c.checkedAt, Feed: c.knownFeed}
	c.mu.Unlock()
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("update state: encode: %w", err)
	}
	path := c.statePath()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".update-check-*.tmp")
	if err != nil {
		return fmt.Errorf("update state %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("update state %s: write: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("update state %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("update state %s: %w", path, err)
	}
	return nil
}
