package hub

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mesi/mconnect/app/control"
)

// endpointFile reads the Windows endpoint's address and token.
func endpointFile(t *testing.T, h *Hub) (addr, token string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(h.dataDir, control.AddrFileName))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(b))
	if len(lines) != 2 {
		t.Fatalf("%s holds %q, want an address and a token", control.AddrFileName, b)
	}
	return lines[0], lines[1]
}

// rawControlPost posts body to /v1/method on the loopback endpoint, with
// the endpoint's token when withToken.
func rawControlPost(t *testing.T, h *Hub, method, body string, withToken bool) (int, []byte) {
	t.Helper()
	auth := ""
	if withToken {
		auth = "token"
	}
	return postWithAuth(t, h, method, body, auth)
}

// postWithAuth posts with "Authorization: Bearer <token>": auth "token" is
// the endpoint's own, "" none, anything else sent as it is.
func postWithAuth(t *testing.T, h *Hub, method, body, auth string) (int, []byte) {
	t.Helper()
	addr, token := endpointFile(t, h)
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/"+method, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	switch auth {
	case "":
	case "token":
		req.Header.Set("Authorization", "Bearer "+token)
	default:
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestControlEndpointNeedsItsToken: on Windows the endpoint is loopback
// TCP, which every local user can reach; only a request with the token
// from the user's own data folder is answered.
func TestControlEndpointNeedsItsToken(t *testing.T) {
	h, _ := newBirpisHub(t)
	dialControl(t, h)
	addr, token := endpointFile(t, h)
	if !strings.HasPrefix(addr, "127.0.0.1:") || len(token) != 64 {
		t.Fatalf("endpoint %q with a token of %d characters, want loopback and 64", addr, len(token))
	}
	for _, auth := range []string{"", "0000000000000000000000000000000000000000000000000000000000000000", token[:63]} {
		status, b := postWithAuth(t, h, "Status", "{}", auth)
		if status < 400 || !strings.Contains(string(b), "not allowed") || strings.Contains(string(b), h.hubID) {
			t.Errorf("token %q: %d %s, want refused", auth, status, b)
		}
	}
	status, b := postWithAuth(t, h, "Status", "{}", "token")
	if status != http.StatusOK || !strings.Contains(string(b), h.hubID) {
		t.Fatalf("with the token: %d %s", status, b)
	}
}
