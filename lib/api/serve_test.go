package api

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/lib/identity"
	"github.com/apache/openserverless-deployer/lib/webaction"
	"github.com/apache/openserverless-deployer/tests/testweb"
)

// Tokens the fake verifier knows, in the raw uuid:key form ops sends.
const (
	aliceToken = "a11ce000-0000-4000-8000-000000000001:alicekey"
	bobToken   = "b0b00000-0000-4000-8000-000000000002:bobkey"
)

// countingVerifier answers as lib/openwhisk.Namespaces does for alice's and
// bob's tokens, and counts the calls.
type countingVerifier struct{ calls atomic.Int64 }

func (v *countingVerifier) Verify(_ context.Context, _, token string) (string, error) {
	v.calls.Add(1)
	switch token {
	case aliceToken:
		return "alice", nil
	case bobToken:
		return "bob", nil
	}
	return "", identity.ErrRejected
}

// testEnv is an Env of the system namespace's builder actions with vars
// added to its environment.
func testEnv(v identity.Verifier, vars map[string]string) Env {
	all := map[string]string{
		"__OW_NAMESPACE":     "whisk-system",
		"__OW_ACTION_NAME":   "/whisk-system/builder/capabilities",
		"__OW_API_HOST":      "https://openwhisk.example.com",
		"__OW_ACTIVATION_ID": "0123456789abcdef",
	}
	for k, val := range vars {
		all[k] = val
	}
	discard := logrus.New()
	discard.SetOutput(io.Discard)
	return Env{
		Lookup:   func(k string) (string, bool) { val, ok := all[k]; return val, ok },
		Verifier: v,
		Log:      discard,
		Tokens:   identity.NewCache(),
	}
}

// whoami answers the caller's user.
func whoami(_ context.Context, c Call) (webaction.Response, error) {
	return webaction.Reply(http.StatusOK, "", map[string]any{"user": c.Caller.User, "system": c.Caller.System}), nil
}

func TestServeResolvesTheCaller(t *testing.T) {
	tests := []struct {
		name       string
		args       map[string]any
		vars       map[string]string
		wantStatus int
		wantReason string
		wantUser   string
	}{
		{name: "web call with a token", args: testweb.Args("get", "", aliceToken, nil), wantStatus: http.StatusOK, wantUser: "alice"},
		{name: "web call, Basic form", args: testweb.Args("get", "", "Basic "+base64.StdEncoding.EncodeToString([]byte(bobToken)), nil), wantStatus: http.StatusOK, wantUser: "bob"},
		{name: "web call without a token", args: testweb.Args("get", "", "", nil), wantStatus: http.StatusUnauthorized, wantReason: "MissingAuthorization"},
		{name: "web call with an unknown token", args: testweb.Args("get", "", "c0ffee00-0000-4000-8000-000000000003:nokey", nil), wantStatus: http.StatusUnauthorized, wantReason: "InvalidAuthorization"},
		{name: "plain invoke of another namespace", args: map[string]any{}, vars: map[string]string{"__OW_NAMESPACE": "Carol"}, wantStatus: http.StatusOK, wantUser: "carol"},
		{name: "misconfigured", args: testweb.Args("get", "", aliceToken, nil), vars: map[string]string{"MAX_ACTIVE_BUILDS": "many"}, wantStatus: http.StatusInternalServerError, wantReason: "ConfigurationError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := Serve(context.Background(), testEnv(&countingVerifier{}, tt.vars), tt.args, whoami)
			require.Equal(t, tt.wantStatus, resp.Status, "%v", resp.Body)
			if tt.wantReason != "" {
				assert.Equal(t, "ko", resp.Body["status"])
				assert.Equal(t, tt.wantReason, resp.Body["reason"])
				assert.NotContains(t, resp.Body["message"], "alicekey")
				return
			}
			assert.Equal(t, tt.wantUser, resp.Body["user"])
		})
	}
}

// The token cache is the Env's: its activations share it, each with the
// TTL of its own settings, and another Env (another process, another test)
// starts empty.
func TestTokenCacheIsTheEnvs(t *testing.T) {
	v := &countingVerifier{}
	env := testEnv(v, nil)
	// The same process, with settings that turn the cache off.
	off := testEnv(v, map[string]string{"AUTH_CACHE_SECONDS": "0"})
	off.Tokens = env.Tokens
	call := func(e Env) {
		t.Helper()
		resp := Serve(context.Background(), e, testweb.Args("get", "", aliceToken, nil), whoami)
		require.Equal(t, http.StatusOK, resp.Status, "%v", resp.Body)
	}

	call(env)
	call(env)
	assert.Equal(t, int64(1), v.calls.Load(), "verified once for two activations")
	call(off)
	assert.Equal(t, int64(2), v.calls.Load(), "an activation whose settings turn the cache off verifies")
	call(env)
	assert.Equal(t, int64(2), v.calls.Load(), "the next activation's TTL is its own")
	call(testEnv(v, nil))
	assert.Equal(t, int64(3), v.calls.Load(), "another Env has its own cache")
}

func TestProcessIsOnePerProcess(t *testing.T) {
	a, b := Process(), Process()
	require.NotNil(t, a.Tokens)
	assert.Same(t, a.Tokens, b.Tokens, "every activation of the process shares the token cache")
}
