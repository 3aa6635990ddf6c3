package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/mesi/mconnect/app/store"
)

// KeyStore keeps the built-in token endpoint's signing keys.
type KeyStore interface {
	SigningKeys(ctx context.Context, conn string) ([]store.SigningKey, error)
	RotateSigningKey(ctx context.Context, k store.SigningKey, dropBefore time.Time) error
}

// keyring holds a connection's ES256 signing keys: the current one signs,
// the retired ones keep verifying until every token they signed expired
// (retirement + token lifetime + clock skew). Rotation is lazy: the first
// token issued after KeyRotation elapsed is signed by a new key.
type keyring struct {
	st       KeyStore
	conn     string
	rotation time.Duration
	keep     time.Duration // how long a retired key verifies
	now      func() time.Time

	mu      sync.RWMutex
	loaded  bool
	current *ringKey
	keys    map[string]*ringKey
}

type ringKey struct {
	id      string
	priv    *ecdsa.PrivateKey
	created time.Time
	retired time.Time
}

func newKeyring(st KeyStore, conn string, rotation, tokenTTL time.Duration, now func() time.Time) *keyring {
	return &keyring{st: st, conn: conn, rotation: rotation, keep: tokenTTL + clockSkew, now: now, keys: map[string]*ringKey{}}
}

// load reads the stored keys (once).
func (k *keyring) load(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.loaded {
		return nil
	}
	stored, err := k.st.SigningKeys(ctx, k.conn)
	if err != nil {
		return err
	}
	for _, s := range stored {
		key, err := x509.ParsePKCS8PrivateKey(s.Private)
		if err != nil {
			return fmt.Errorf("integration: signing key %s of %s: %w", s.ID, k.conn, err)
		}
		ec, ok := key.(*ecdsa.PrivateKey)
		if !ok {
			return fmt.Errorf("integration: signing key %s of %s is a %T, not ECDSA", s.ID, k.conn, key)
		}
		rk := &ringKey{id: s.ID, priv: ec, created: s.CreatedAt, retired: s.RetiredAt}
		k.keys[s.ID] = rk
		if s.RetiredAt.IsZero() && (k.current == nil || s.CreatedAt.After(k.current.created)) {
			k.current = rk
		}
	}
	k.loaded = true
	return nil
}

// signer returns the current key, rotating first when it is due.
func (k *keyring) signer(ctx context.Context) (*ringKey, error) {
	if err := k.load(ctx); err != nil {
		return nil, err
	}
	now := k.now()
	k.mu.RLock()
	cur := k.current
	k.mu.RUnlock()
	if cur != nil && now.Sub(cur.created) < k.rotation {
		return cur, nil
	}
	return k.rotate(ctx, now)
}

// rotate makes a new current key; the old one retires.
func (k *keyring) rotate(ctx context.Context, now time.Time) (*ringKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if cur := k.current; cur != nil && now.Sub(cur.created) < k.rotation {
		return cur, nil // rotated by another caller meanwhile
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("integration: new signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("integration: encode signing key: %w", err)
	}
	id := make([]byte, 8)
	if _, err := rand.Read(id); err != nil {
		return nil, fmt.Errorf("integration: key ID: %w", err)
	}
	rk := &ringKey{id: hex.EncodeToString(id), priv: priv, created: now.UTC()}
	if err := k.st.RotateSigningKey(ctx, store.SigningKey{ID: rk.id, Connection: k.conn, Private: der, CreatedAt: rk.created},
		now.Add(-k.keep)); err != nil {
		return nil, err
	}
	for id, old := range k.keys {
		if old.retired.IsZero() {
			old.retired = rk.created
		}
		if now.Sub(old.retired) > k.keep {
			delete(k.keys, id)
		}
	}
	k.keys[rk.id] = rk
	k.current = rk
	return rk, nil
}

// public returns the key that verifies tokens of kid, if it still does.
func (k *keyring) public(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	if err := k.load(ctx); err != nil {
		return nil, err
	}
	k.mu.RLock()
	rk, ok := k.keys[kid]
	k.mu.RUnlock()
	if !ok || (!rk.retired.IsZero() && k.now().Sub(rk.retired) > k.keep) {
		return nil, errUnknownKey
	}
	return &rk.priv.PublicKey, nil
}
