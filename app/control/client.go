package control

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

// ErrNoHub is returned by Dial when no hub runs on the data folder.
var ErrNoHub = errors.New("no hub is running on this data folder")

// Client speaks the control API to a hub in another process.
type Client struct {
	http  *http.Client
	token string
}

var _ API = (*Client)(nil)

// Dial connects to the hub running on dataDir; ErrNoHub when none answers.
func Dial(dataDir string) (*Client, error) {
	ep, err := readEndpoint(dataDir)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, ep.network, ep.address)
		},
		MaxIdleConns:    2,
		IdleConnTimeout: 30 * time.Second,
	}
	c := &Client{http: &http.Client{Transport: tr}, token: ep.token}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := c.Status(ctx); err != nil {
		var ne *net.OpError
		if errors.As(err, &ne) {
			return nil, ErrNoHub
		}
		return nil, err
	}
	return c, nil
}

// Close releases idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

func (c *Client) call(ctx context.Context, name string, req, resp any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://hub/v1/"+name, bytes.NewReader(body))
	if err != nil {
		return err
	}
	r.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		r.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(r)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		var e Error
		if json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&e) != nil || e.Kind == "" {
			return &Error{Kind: Internal, Message: fmt.Sprintf("the hub answered %s", res.Status)}
		}
		return &e
	}
	if resp == nil {
		return nil
	}
	if err := json.NewDecoder(res.Body).Decode(resp); err != nil {
		return &Error{Kind: Internal, Message: "unreadable answer from the hub", Detail: err.Error()}
	}
	return nil
}

// Status implements API.
func (c *Client) Status(ctx context.Context) (s Status, err error) {
	return s, c.call(ctx, "Status", none{}, &s)
}

// Orders implements API.
func (c *Client) Orders(ctx context.Context, q OrderQuery) (out []domain.Order, err error) {
	return out, c.call(ctx, "Orders", q, &out)
}

// CountOrders implements API.
func (c *Client) CountOrders(ctx context.Context, q OrderQuery) (out map[string]int, err error) {
	return out, c.call(ctx, "CountOrders", q, &out)
}

// Order implements API.
func (c *Client) Order(ctx context.Context, id string) (o domain.Order, err error) {
	return o, c.call(ctx, "Order", stringRequest{ID: id}, &o)
}

// DeleteOrder implements API.
func (c *Client) DeleteOrder(ctx context.Context, req DeleteOrderRequest) (o domain.Order, err error) {
	return o, c.call(ctx, "DeleteOrder", req, &o)
}

// Deliveries implements API.
func (c *Client) Deliveries(ctx context.Context, q DeliveryQuery) (out []domain.Delivery, err error) {
	return out, c.call(ctx, "Deliveries", q, &out)
}

// Delivery implements API.
func (c *Client) Delivery(ctx context.Context, id int64) (d DeliveryDetail, err error) {
	return d, c.call(ctx, "Delivery", idRequest{ID: id}, &d)
}

// Resend implements API.
func (c *Client) Resend(ctx context.Context, req ResendRequest) (r ResendResult, err error) {
	return r, c.call(ctx, "Resend", req, &r)
}

// Cancel implements API.
func (c *Client) Cancel(ctx context.Context, req CancelRequest) (d domain.Delivery, err error) {
	return d, c.call(ctx, "Cancel", req, &d)
}

// Result implements API.
func (c *Client) Result(ctx context.Context, id string) (r ResultDetail, err error) {
	return r, c.call(ctx, "Result", stringRequest{ID: id}, &r)
}

// Results implements API.
func (c *Client) Results(ctx context.Context, q ResultQuery) (out []ResultSummary, err error) {
	return out, c.call(ctx, "Results", q, &out)
}

// Tablets implements API.
func (c *Client) Tablets(ctx context.Context) (out []domain.Device, err error) {
	return out, c.call(ctx, "Tablets", none{}, &out)
}

// UpdateTablet implements API.
func (c *Client) UpdateTablet(ctx context.Context, req TabletChange) (d domain.Device, err error) {
	return d, c.call(ctx, "UpdateTablet", req, &d)
}

// NewPairingCode implements API.
func (c *Client) NewPairingCode(ctx context.Context, group string) (p Pairing, err error) {
	return p, c.call(ctx, "NewPairingCode", stringRequest{ID: group}, &p)
}

// Groups implements API.
func (c *Client) Groups(ctx context.Context) (out []domain.Group, err error) {
	return out, c.call(ctx, "Groups", none{}, &out)
}

// SaveGroup implements API.
func (c *Client) SaveGroup(ctx context.Context, g domain.Group) (out domain.Group, err error) {
	return out, c.call(ctx, "SaveGroup", g, &out)
}

// DeleteGroup implements API.
func (c *Client) DeleteGroup(ctx context.Context, id string) error {
	return c.call(ctx, "DeleteGroup", stringRequest{ID: id}, nil)
}

// Connections implements API.
func (c *Client) Connections(ctx context.Context) (out []Connection, err error) {
	return out, c.call(ctx, "Connections", none{}, &out)
}

// TestConnection implements API.
func (c *Client) TestConnection(ctx context.Context, name string) (out []CheckOutcome, err error) {
	return out, c.call(ctx, "TestConnection", stringRequest{ID: name}, &out)
}

// APIClients implements API.
func (c *Client) APIClients(ctx context.Context, conn string) (out []APIClient, err error) {
	return out, c.call(ctx, "APIClients", stringRequest{ID: conn}, &out)
}

// AddAPIClient implements API.
func (c *Client) AddAPIClient(ctx context.Context, req AddAPIClientRequest) (out APICredentials, err error) {
	return out, c.call(ctx, "AddAPIClient", req, &out)
}

// RevokeAPIClient implements API.
func (c *Client) RevokeAPIClient(ctx context.Context, req RevokeAPIClientRequest) (out APIClient, err error) {
	return out, c.call(ctx, "RevokeAPIClient", req, &out)
}

// LogTail implements API.
func (c *Client) LogTail(ctx context.Context, q LogQuery) (out []LogLine, err error) {
	return out, c.call(ctx, "LogTail", q, &out)
}

// Config implements API.
func (c *Client) Config(ctx context.Context) (d ConfigDoc, err error) {
	return d, c.call(ctx, "Config", none{}, &d)
}

// ValidateConfig implements API.
func (c *Client) ValidateConfig(ctx context.Context, doc ConfigDoc) (r ConfigCheck, err error) {
	return r, c.call(ctx, "ValidateConfig", doc, &r)
}

// SaveConfig implements API.
func (c *Client) SaveConfig(ctx context.Context, doc ConfigDoc) (r ConfigCheck, err error) {
	return r, c.call(ctx, "SaveConfig", doc, &r)
}

// ExportDiagnostics implements API.
func (c *Client) ExportDiagnostics(ctx context.Context, req DiagRequest) (r DiagResult, err error) {
	return r, c.call(ctx, "ExportDiagnostics", req, &r)
}

// Show implements API.
func (c *Client) Show(ctx context.Context, tab string) error {
	return c.call(ctx, "Show", showRequest{Tab: tab}, nil)
}

// Subscribe implements API: it reads the event stream until ctx is done or
// the hub goes away.
func (c *Client) Subscribe(ctx context.Context) (<-chan Event, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://hub/v1/events", nil)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		r.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(r)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		return nil, &Error{Kind: Unavailable, Message: "the hub refused the event stream: " + res.Status}
	}
	ch := make(chan Event, 16)
	go func() {
		defer close(ch)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			var ev Event
			if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Kind == "" {
				continue // keep-alive
			}
			select {
			case ch <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}
