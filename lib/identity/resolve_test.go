package identity

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/webaction"
)

// fakeVerifier answers as a Verifier must (lib/openwhisk.Namespaces) for a fixed set of
// tokens and records what it was asked.
type fakeVerifier struct {
	mu      sync.Mutex
	answers map[string]string // token → namespace
	err     error             // returned for every token when set
	calls   []string          // apiHost + " " + token of each call
}

func (f *fakeVerifier) Verify(_ context.Context, apiHost, token string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, apiHost+" "+token)
	if f.err != nil {
		return "", f.err
	}
	ns, ok := f.answers[token]
	if !ok {
		return "", ErrRejected
	}
	return ns, nil
}

func (f *fakeVerifier) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

const (
	system   = "whisk-system"
	apiHost  = "https://ow.example"
	aliceKey = "uuid-alice:secret-alice"
)

// ownAction is the fully qualified name of an action the system namespace owns.
const ownAction = "/" + system + "/builder/status"

var settings = Settings{APIHost: apiHost, TokenTTL: time.Minute}

// as is the activation of ownAction running as namespace.
func as(namespace string) Activation { return Activation{Namespace: namespace, ActionName: ownAction} }

// webArgs are the parameters of a web call with the given headers.
func webArgs(headers map[string]any, extra map[string]any) map[string]any {
	args := map[string]any{"__ow_method": "post", "__ow_path": "", "__ow_headers": headers}
	for k, v := range extra {
		args[k] = v
	}
	return args
}

func auth(v string) map[string]any { return map[string]any{"authorization": v, "accept": "*/*"} }

func TestResolve(t *testing.T) {
	tests := []struct {
		name        string
		args        map[string]any
		activation  string
		actionName  string // "" means ownAction; "-" sends none
		verifierErr error
		answers     map[string]string
		want        Caller
		wantKind    fault.Kind
		wantReason  string
		wantMessage string
		wantCalls   int
	}{
		{
			name: "web call with __ow_user", activation: system,
			args: webArgs(auth("Basic "+b64("uuid-x:forged")), map[string]any{"__ow_user": "Alice"}),
			want: Caller{User: "alice", Web: true},
		},
		{
			name: "web call with a Basic token", activation: system,
			args: webArgs(auth("Basic "+b64(aliceKey)), nil), answers: map[string]string{aliceKey: "Alice"},
			want: Caller{User: "alice", Web: true}, wantCalls: 1,
		},
		{
			name: "web call with a bare base64 token", activation: system,
			args: webArgs(auth(b64(aliceKey)), nil), answers: map[string]string{aliceKey: "alice"},
			want: Caller{User: "alice", Web: true}, wantCalls: 1,
		},
		{
			name: "web call with a raw token", activation: system,
			args: webArgs(auth(aliceKey), nil), answers: map[string]string{aliceKey: "alice"},
			want: Caller{User: "alice", Web: true}, wantCalls: 1,
		},
		{
			name: "web call with the header in another case", activation: system,
			args: webArgs(map[string]any{"Authorization": aliceKey}, nil), answers: map[string]string{aliceKey: "alice"},
			want: Caller{User: "alice", Web: true}, wantCalls: 1,
		},
		{
			name: "web call without a header", activation: system,
			args:     webArgs(map[string]any{"accept": "*/*"}, nil),
			wantKind: fault.Unauthorized, wantReason: "MissingAuthorization", wantMessage: "Missing authorization header",
		},
		{
			name: "web call with an empty header", activation: system,
			args:     webArgs(auth(" "), nil),
			wantKind: fault.Unauthorized, wantReason: "MissingAuthorization", wantMessage: "Missing authorization header",
		},
		{
			name: "web call with a malformed header", activation: system,
			args:     webArgs(auth("Bearer "+aliceKey), nil),
			wantKind: fault.Unauthorized, wantReason: "InvalidAuthorization", wantMessage: "Invalid authorization",
		},
		{
			name: "web call with a rejected key", activation: system,
			args:     webArgs(auth(aliceKey), nil),
			wantKind: fault.Unauthorized, wantReason: "InvalidAuthorization", wantMessage: "Invalid authorization", wantCalls: 1,
		},
		{
			name: "web call while OpenWhisk is unavailable", activation: system,
			args: webArgs(auth(aliceKey), nil), verifierErr: fmt.Errorf("verifying: %w: HTTP 502", ErrUnavailable),
			wantKind: fault.Unavailable, wantReason: "OpenWhiskUnavailable", wantCalls: 1,
		},
		{
			name: "web call when the verifier fails otherwise", activation: system,
			args: webArgs(auth(aliceKey), nil), verifierErr: errors.New("no API host configured"),
			wantKind: fault.Internal, wantReason: "VerificationFailed", wantCalls: 1,
		},
		{
			name: "web call whose namespace cannot be a user", activation: system,
			args: webArgs(auth(aliceKey), nil), answers: map[string]string{aliceKey: "Alice Smith"},
			wantKind: fault.Invalid, wantReason: "InvalidUser", wantCalls: 1,
		},
		{
			name: "web call with an invalid __ow_user", activation: system,
			args:     webArgs(nil, map[string]any{"__ow_user": "a/b"}),
			wantKind: fault.Invalid, wantReason: "InvalidUser",
		},
		{
			name: "web call as the system user is never system scope", activation: system,
			args: webArgs(nil, map[string]any{"__ow_user": system}),
			want: Caller{User: system, Web: true},
		},
		{
			name: "web call with the system namespace's key is never system scope", activation: system,
			args: webArgs(auth(aliceKey), nil), answers: map[string]string{aliceKey: system},
			want: Caller{User: system, Web: true}, wantCalls: 1,
		},
		{
			name: "non-web call from the system namespace", activation: system,
			args: map[string]any{"max_age_hours": "24"},
			want: Caller{User: system, System: true},
		},
		{
			name: "non-web call from another namespace", activation: "Bob",
			args: map[string]any{},
			want: Caller{User: "bob"},
		},
		{
			name: "non-web call from another namespace forging web facts", activation: "bob",
			args: webArgs(auth(aliceKey), map[string]any{"__ow_user": "alice"}), answers: map[string]string{aliceKey: "alice"},
			want: Caller{User: "bob"},
		},
		{
			name: "non-web call forging the system namespace as __ow_user", activation: "bob",
			args: webArgs(nil, map[string]any{"__ow_user": system}),
			want: Caller{User: "bob"},
		},
		{
			name: "no activation namespace", activation: "",
			args:     map[string]any{},
			wantKind: fault.Unauthorized, wantReason: "MissingNamespace",
		},
		{
			name: "activation namespace that cannot be a user", activation: "Bad Name",
			args:     map[string]any{},
			wantKind: fault.Invalid, wantReason: "InvalidUser",
		},
		{
			name: "activation namespace over 63 characters", activation: strings.Repeat("b", 64),
			args:     map[string]any{},
			wantKind: fault.Invalid, wantReason: "InvalidUser",
		},
		{
			name: "non-web call from the owner of an action outside a package", activation: "alice", actionName: "/alice/cleanup",
			args: map[string]any{},
			want: Caller{User: "alice", System: true},
		},
		{
			name: "non-web call from the owner of another deployment", activation: "ops-system", actionName: "/ops-system/builder/cleanup",
			args: map[string]any{},
			want: Caller{User: "ops-system", System: true},
		},
		{
			name: "non-web call from whisk-system to an action another namespace owns", activation: system, actionName: "/ops-system/builder/cleanup",
			args: map[string]any{},
			want: Caller{User: system},
		},
		{
			name: "web call when the activation is not the owner's", activation: system, actionName: "/ops-system/builder/status",
			args: webArgs(auth(aliceKey), map[string]any{"__ow_user": "alice"}), answers: map[string]string{aliceKey: "alice"},
			want: Caller{User: system},
		},
		{
			name: "non-web call from another namespace forging web facts, action of another owner", activation: "bob", actionName: "/bob-system/builder/cleanup",
			args: webArgs(auth(aliceKey), map[string]any{"__ow_user": system}),
			want: Caller{User: "bob"},
		},
		{
			name: "non-web call without an action name", activation: system, actionName: "-",
			args: map[string]any{},
			want: Caller{User: system},
		},
		{
			name: "non-web call with a malformed action name", activation: system, actionName: "whisk-system/builder/cleanup",
			args: map[string]any{},
			want: Caller{User: system},
		},
		{
			name: "non-web call with an action name of four segments", activation: system, actionName: "/whisk-system/builder/cleanup/x",
			args: map[string]any{},
			want: Caller{User: system},
		},
		{
			name: "web call without an action name", activation: system, actionName: "-",
			args:     webArgs(nil, map[string]any{"__ow_user": "alice"}),
			wantKind: fault.Internal, wantReason: "Misconfigured",
		},
		{
			name: "web call with a malformed action name", activation: system, actionName: "/whisk-system//status",
			args:     webArgs(auth(aliceKey), nil),
			wantKind: fault.Internal, wantReason: "Misconfigured",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &fakeVerifier{answers: tt.answers, err: tt.verifierErr}
			a := Activation{Namespace: tt.activation, ActionName: tt.actionName}
			switch tt.actionName {
			case "":
				a.ActionName = ownAction
			case "-":
				a.ActionName = ""
			}
			got, err := Resolve(context.Background(), webaction.Decode(tt.args), a, settings, v, NewCache())
			assert.Equal(t, tt.wantCalls, v.callCount(), "calls to OpenWhisk")
			for _, c := range v.calls {
				assert.True(t, strings.HasPrefix(c, apiHost+" "), "verified against the configured host: %s", c)
			}
			if tt.wantReason == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
				return
			}
			fe := fault.As(err)
			require.NotNil(t, fe, "a fault.Error, got %v", err)
			assert.Equal(t, tt.wantKind, fe.Kind)
			assert.Equal(t, tt.wantReason, fe.Reason)
			if tt.wantMessage != "" {
				assert.Equal(t, tt.wantMessage, fe.Message)
			}
			assert.NotContains(t, err.Error(), "secret-alice", "errors never hold the key")
			assert.Equal(t, Caller{}, got)
		})
	}
}

func TestResolveUnavailableAsksToRetry(t *testing.T) {
	v := &fakeVerifier{err: fmt.Errorf("verifying: %w", ErrUnavailable)}
	_, err := Resolve(context.Background(), webaction.Decode(webArgs(auth(aliceKey), nil)), as(system), settings, v, nil)
	resp := webaction.FromError(err)
	assert.Equal(t, http.StatusServiceUnavailable, resp.Status)
	assert.Equal(t, "5", resp.Headers["Retry-After"])
}

func TestOwner(t *testing.T) {
	tests := []struct {
		name   string
		want   string
		wantOK bool
	}{
		{"/whisk-system/builder/cleanup", "whisk-system", true},
		{"/whisk-system/cleanup", "whisk-system", true},
		{"/alice@example.com/pkg/act", "alice@example.com", true},
		{"/ns/my pkg/act.v2", "ns", true},
		{"", "", false},
		{"/", "", false},
		{"/whisk-system", "", false},
		{"whisk-system/builder/cleanup", "", false},
		{"//builder/cleanup", "", false},
		{"/whisk-system/builder/", "", false},
		{"/whisk-system/builder/cleanup/", "", false},
		{"/whisk-system/builder/cleanup/more", "", false},
		{"/ whisk-system/builder/cleanup", "", false},
		{"/whisk-system /builder/cleanup", "", false},
		{"/-x/builder/cleanup", "", false},
		{"/whisk-system/builder/clean\nup", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Owner(tt.name)
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestResolveCachesVerifiedTokens(t *testing.T) {
	v := &fakeVerifier{answers: map[string]string{aliceKey: "Alice"}}
	c := NewCache()
	ctx := context.Background()
	resolve := func(header string, s Settings) (Caller, error) {
		return Resolve(ctx, webaction.Decode(webArgs(auth(header), nil)), as(system), s, v, c)
	}

	for _, header := range []string{aliceKey, "Basic " + b64(aliceKey), b64(aliceKey)} {
		got, err := resolve(header, settings)
		require.NoError(t, err)
		assert.Equal(t, Caller{User: "alice", Web: true}, got)
	}
	assert.Equal(t, 1, v.callCount(), "one token in three forms is verified once")

	_, err := resolve(aliceKey, Settings{APIHost: "https://other.example", TokenTTL: time.Minute})
	require.NoError(t, err)
	assert.Equal(t, 2, v.callCount(), "another API host verifies again")

	for i := 0; i < 2; i++ {
		_, err := resolve("uuid-mallory:guess", settings)
		require.Error(t, err)
	}
	assert.Equal(t, 4, v.callCount(), "a rejected token is not remembered")

	_, err = Resolve(ctx, webaction.Decode(webArgs(auth(aliceKey), nil)), as(system), settings, v, nil)
	require.NoError(t, err)
	assert.Equal(t, 5, v.callCount(), "without a cache every call is verified")

	for i := 0; i < 2; i++ {
		_, err := resolve(aliceKey, Settings{APIHost: apiHost})
		require.NoError(t, err)
	}
	assert.Equal(t, 7, v.callCount(), "with a TTL of zero every call is verified, the token cached or not")
}

func TestResolveWithoutVerifier(t *testing.T) {
	tests := []struct {
		name    string
		args    map[string]any
		wantErr bool
	}{
		{"a token to verify", webArgs(auth(aliceKey), nil), true},
		{"__ow_user needs no verifier", webArgs(nil, map[string]any{"__ow_user": "alice"}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(context.Background(), webaction.Decode(tt.args), as(system), settings, nil, nil)
			if tt.wantErr {
				assert.Equal(t, fault.Internal, fault.KindOf(err))
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, Caller{User: "alice", Web: true}, got)
		})
	}
}
