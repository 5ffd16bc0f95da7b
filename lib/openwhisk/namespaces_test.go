package openwhisk

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/lib/identity"
)

// keys maps the keys the fake API host knows to its answer.
var keys = map[string]struct {
	status int
	body   string
}{
	"uuid-alice:key-alice":        {http.StatusOK, `["alice","alice-shared"]`},
	"uuid-down:secret-down":       {http.StatusInternalServerError, `{"error":"The server encountered an error","code":"x1"}`},
	"uuid-forbid:secret-forbid":   {http.StatusForbidden, `{"error":"forbidden","code":"x2"}`},
	"uuid-none:secret-none":       {http.StatusOK, `[]`},
	"uuid-html:secret-html":       {http.StatusOK, `<html>login</html>`},
	"uuid-missing:secret-missing": {http.StatusNotFound, `{"error":"not found","code":"x3"}`},
}

// namespacesHandler plays the OpenWhisk controller's GET /api/v1/namespaces.
func namespacesHandler(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || r.URL.Path != "/api/v1/namespaces" {
		http.Error(w, `{"error":"unexpected request","code":"x0"}`, http.StatusBadRequest)
		return
	}
	user, pass, ok := r.BasicAuth()
	k, known := keys[user+":"+pass]
	if !ok || !known {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"The supplied authentication is invalid","code":"x4"}`))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(k.status)
	_, _ = w.Write([]byte(k.body))
}

func TestVerify(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(namespacesHandler))
	defer srv.Close()

	tests := []struct {
		name        string
		token       string
		want        string
		rejected    bool
		unavailable bool
	}{
		{name: "good key", token: "uuid-alice:key-alice", want: "alice"},
		{name: "unknown key", token: "uuid-alice:wrong", rejected: true},
		{name: "forbidden", token: "uuid-forbid:secret-forbid", rejected: true},
		{name: "server error", token: "uuid-down:secret-down", unavailable: true},
		{name: "not found", token: "uuid-missing:secret-missing", unavailable: true},
		{name: "no namespace", token: "uuid-none:secret-none", unavailable: true},
		{name: "not JSON", token: "uuid-html:secret-html", unavailable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Namespaces{}.Verify(context.Background(), srv.URL, tt.token)
			switch {
			case tt.rejected:
				require.ErrorIs(t, err, identity.ErrRejected)
				assert.NotErrorIs(t, err, identity.ErrUnavailable)
			case tt.unavailable:
				require.ErrorIs(t, err, identity.ErrUnavailable)
				assert.NotErrorIs(t, err, identity.ErrRejected)
				assert.NotContains(t, err.Error(), strings.SplitN(tt.token, ":", 2)[1], "errors never hold the key")
			default:
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
			}
		})
	}
}

func TestVerifyHostForms(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(namespacesHandler))
	defer plain.Close()
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(namespacesHandler))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	bare := strings.TrimPrefix(tlsSrv.URL, "https://")

	tests := []struct {
		name        string
		n           Namespaces
		host        string
		unavailable bool
	}{
		{name: "http URL", host: plain.URL},
		{name: "http URL with a trailing slash and spaces", host: " " + plain.URL + "/ "},
		{name: "https URL, trusted client", n: Namespaces{HTTPClient: tlsSrv.Client()}, host: tlsSrv.URL},
		{name: "bare host means https", n: Namespaces{HTTPClient: tlsSrv.Client()}, host: bare},
		{name: "bare host, insecure", n: Namespaces{Insecure: true}, host: bare},
		{name: "bare localhost, insecure", n: Namespaces{Insecure: true}, host: "localhost:" + strconv.Itoa(tlsSrv.Listener.Addr().(*net.TCPAddr).Port)},
		{name: "https URL, insecure", n: Namespaces{Insecure: true}, host: tlsSrv.URL},
		{name: "self-signed certificate refused", host: tlsSrv.URL, unavailable: true},
		{name: "bare host, certificate refused", host: bare, unavailable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.n.Verify(context.Background(), tt.host, "uuid-alice:key-alice")
			if tt.unavailable {
				require.ErrorIs(t, err, identity.ErrUnavailable)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "alice", got)
		})
	}
}

func TestVerifyUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	_, err = Namespaces{}.Verify(context.Background(), "http://"+addr, "uuid-alice:key-alice")
	require.ErrorIs(t, err, identity.ErrUnavailable)
	assert.NotErrorIs(t, err, identity.ErrRejected)
}

func TestVerifyHonoursContext(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Namespaces{}.Verify(ctx, srv.URL, "uuid-alice:key-alice")
	require.ErrorIs(t, err, identity.ErrUnavailable)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second, "the context, not the client timeout, ended the call")
}

func TestVerifyLeavesGivenClientAlone(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(namespacesHandler))
	defer srv.Close()
	c := &http.Client{Timeout: 3 * time.Second}

	got, err := Namespaces{HTTPClient: c, Insecure: true}.Verify(context.Background(), srv.URL, "uuid-alice:key-alice")
	require.NoError(t, err)
	assert.Equal(t, "alice", got)
	assert.Nil(t, c.Transport)
	assert.Equal(t, 3*time.Second, c.Timeout)
}

func TestVerifyNeedsHost(t *testing.T) {
	_, err := Namespaces{}.Verify(context.Background(), "  ", "uuid-alice:key-alice")
	require.Error(t, err)
	assert.NotErrorIs(t, err, identity.ErrRejected)
}

// The fake must answer like OpenWhisk for the tests above to mean anything.
func TestNamespacesHandlerAnswersLikeOpenWhisk(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(namespacesHandler))
	defer srv.Close()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/namespaces", nil)
	require.NoError(t, err)
	req.SetBasicAuth("uuid-alice", "key-alice")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var names []string
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&names))
	assert.Equal(t, []string{"alice", "alice-shared"}, names)
}

// An API host that accepts the connection and never answers (a stopped
// process) is given up on after the timeout, not the activation's deadline.
func TestVerifyGivesUpOnASilentHost(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()

	start := time.Now()
	_, err = Namespaces{Timeout: time.Second}.Verify(context.Background(), "http://"+l.Addr().String(), "uuid-alice:key-alice")
	require.ErrorIs(t, err, identity.ErrUnavailable)
	assert.Less(t, time.Since(start), 3*time.Second)
}

func TestVerifyTimeoutChoice(t *testing.T) {
	tests := []struct {
		name string
		n    Namespaces
		want time.Duration
	}{
		{"default", Namespaces{}, DefaultTimeout},
		{"the client's own", Namespaces{HTTPClient: &http.Client{Timeout: 2 * time.Second}}, 2 * time.Second},
		{"a client without one", Namespaces{HTTPClient: &http.Client{}}, DefaultTimeout},
		{"Timeout over the client's", Namespaces{HTTPClient: &http.Client{Timeout: 2 * time.Second}, Timeout: 7 * time.Second}, 7 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, done := tt.n.client(context.Background())
			defer done()
			assert.Equal(t, tt.want, c.Timeout)
		})
	}
}
