package hub

import (
	"context"
	"strings"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/store"
	"github.com/mesi/mconnect/connectors/catalogue"
	"github.com/mesi/mconnect/connectors/integration"
)

// The Integration API's clients (Join, ZipLaneRx): registered, listed and
// revoked through the control API; the connector reads them on every
// request, so a change takes effect at once.

func apiClientOf(c store.IntegrationClient) control.APIClient {
	return control.APIClient{ID: c.ID, Connection: c.Connection, Name: c.Name, CreatedAt: c.CreatedAt,
		LastUsedAt: c.LastUsedAt, RevokedAt: c.RevokedAt}
}

// APIClients implements control.API.
func (h *Hub) APIClients(ctx context.Context, conn string) ([]control.APIClient, error) {
	cs, err := integration.ListClients(ctx, h.store, conn)
	if err != nil {
		return nil, typed(err)
	}
	out := make([]control.APIClient, len(cs))
	for i, c := range cs {
		out[i] = apiClientOf(c)
	}
	return out, nil
}

// AddAPIClient implements control.API: only for the hub's own EHR, when it
// pushes through the Integration API.
func (h *Hub) AddAPIClient(ctx context.Context, req control.AddAPIClientRequest) (control.APICredentials, error) {
	conn := req.Connection
	if conn == "" {
		conn = h.profile.ID
	}
	if conn != h.profile.ID || !h.pushes() {
		return control.APICredentials{}, control.InvalidField("connection",
			"%s does not send appointments through the Integration API (only Join and ZipLaneRx do)", h.profile.Name)
	}
	if strings.TrimSpace(req.Name) == "" {
		return control.APICredentials{}, control.InvalidField("name", "name the client, e.g. \"Join production\"")
	}
	c, err := integration.AddClient(ctx, h.store, conn, req.Name, actor(req.Actor, "dashboard"))
	if err != nil {
		return control.APICredentials{}, typed(err)
	}
	return control.APICredentials{ClientID: c.ClientID, ClientSecret: c.ClientSecret, Name: c.Name,
		Connection: c.Connection, CreatedAt: c.CreatedAt}, nil
}

// RevokeAPIClient implements control.API.
func (h *Hub) RevokeAPIClient(ctx context.Context, req control.RevokeAPIClientRequest) (control.APIClient, error) {
	if strings.TrimSpace(req.Reason) == "" {
		return control.APIClient{}, control.InvalidField("reason", "say why the client is revoked")
	}
	c, err := integration.RevokeClient(ctx, h.store, req.ID, actor(req.Actor, "dashboard"), req.Reason)
	return apiClientOf(c), typed(err)
}

// pushes reports whether the hub's EHR sends appointments through the
// Integration API.
func (h *Hub) pushes() bool { return h.profile.Inbound == catalogue.InPushedJSON }
