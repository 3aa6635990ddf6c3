package integration

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mesi/mconnect/app/store"
)

// ClientStore keeps the built-in token endpoint's clients.
type ClientStore interface {
	AddIntegrationClient(ctx context.Context, c store.IntegrationClient, actor string) (store.IntegrationClient, error)
	IntegrationClientByID(ctx context.Context, id string) (store.IntegrationClient, error)
	IntegrationClients(ctx context.Context, conn string) ([]store.IntegrationClient, error)
	RevokeIntegrationClient(ctx context.Context, id, actor, reason string) (store.IntegrationClient, error)
	TouchIntegrationClient(ctx context.Context, id string, at time.Time) error
}

// Credentials are a new client's ID and secret. The secret is shown this
// once: the hub keeps only its SHA-256.
type Credentials struct {
	ClientID     string    `json:"clientId"`
	ClientSecret string    `json:"clientSecret"`
	Name         string    `json:"name"`
	Connection   string    `json:"connection"`
	CreatedAt    time.Time `json:"createdAt"`
}

// Prefixes of client IDs and secrets: a secret found in a log or a ticket
// is recognisable as one.
const (
	clientIDPrefix     = "mci_"
	clientSecretPrefix = "mcs_"
)

// AddClient registers a client of connection conn's token endpoint
// (`mconnect integration client add`), audited as actor. The secret is 256
// random bits; since it is not a password a person chose, one SHA-256 is
// as safe to keep as a slow hash and keeps the token endpoint cheap.
func AddClient(ctx context.Context, st ClientStore, conn, name, actor string) (Credentials, error) {
	name = strings.TrimSpace(name)
	if conn == "" {
		return Credentials{}, errors.New("integration: a client belongs to a connection (join, ziplanerx)")
	}
	if name == "" || len(name) > 100 {
		return Credentials{}, errors.New("integration: name the client (1-100 characters), e.g. \"Join production\"")
	}
	if actor == "" {
		actor = "cli"
	}
	id, err := randomText(8, hex.EncodeToString)
	if err != nil {
		return Credentials{}, err
	}
	secret, err := randomText(32, base64.RawURLEncoding.EncodeToString)
	if err != nil {
		return Credentials{}, err
	}
	c, err := st.AddIntegrationClient(ctx, store.IntegrationClient{ID: clientIDPrefix + id, Connection: conn, Name: name,
		SecretHash: HashSecret(clientSecretPrefix + secret)}, actor)
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{ClientID: c.ID, ClientSecret: clientSecretPrefix + secret, Name: c.Name, Connection: conn, CreatedAt: c.CreatedAt}, nil
}

// ListClients returns the clients of conn (every connection's when empty).
func ListClients(ctx context.Context, st ClientStore, conn string) ([]store.IntegrationClient, error) {
	return st.IntegrationClients(ctx, conn)
}

// RevokeClient revokes a client at once: the token endpoint refuses it and
// the Integration API refuses the tokens it holds.
func RevokeClient(ctx context.Context, st ClientStore, id, actor, reason string) (store.IntegrationClient, error) {
	if actor == "" {
		actor = "cli"
	}
	return st.RevokeIntegrationClient(ctx, id, actor, reason)
}

// WriteClients prints clients as a table for the command line; secrets
// are never shown (only their existence is known).
func WriteClients(w io.Writer, clients []store.IntegrationClient) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT ID\tCONNECTION\tNAME\tCREATED\tLAST TOKEN\tSTATE")
	for _, c := range clients {
		state := "active"
		if c.Revoked() {
			state = "revoked " + c.RevokedAt.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Connection, c.Name, c.CreatedAt.Local().Format("2006-01-02 15:04"),
			when(c.LastUsedAt), state)
	}
	return tw.Flush()
}

// WriteCredentials prints a new client's credentials, once.
func WriteCredentials(w io.Writer, c Credentials) error {
	_, err := fmt.Fprintf(w, "Client registered for %s: %s\n  client_id:     %s\n  client_secret: %s\n"+
		"The secret is shown only now: hand it to the EHR vendor over a secure channel. To replace it, add a new client and revoke this one.\n",
		c.Connection, c.Name, c.ClientID, c.ClientSecret)
	return err
}

func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Local().Format("2006-01-02 15:04")
}

// HashSecret is what the store keeps of a client secret.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// secretMatches compares in constant time.
func secretMatches(secret, hash string) bool {
	got := HashSecret(secret)
	return subtle.ConstantTimeCompare([]byte(got), []byte(hash)) == 1
}

func randomText(n int, enc func([]byte) string) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("integration: no randomness: %w", err)
	}
	return enc(b), nil
}
