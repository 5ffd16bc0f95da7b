package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/lib/identity"
	"github.com/apache/openserverless-deployer/lib/openwhisk"
)

func nowMillis() int64 { return time.Now().UnixMilli() }

func parseInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	require.NoError(t, err, "%q", s)
	return n
}

// verify checks token the way the actions do, against the gateway as API host.
func verify(t *testing.T, apiHost, token string) string {
	t.Helper()
	ns, err := openwhisk.Namespaces{}.Verify(context.Background(), apiHost, token)
	require.NoError(t, err)
	return ns
}

func TestNamespacesAPI(t *testing.T) {
	subjects := NewSubjects()
	alice := subjects.Add("alice")
	bob := subjects.Add("bob")
	g := startGateway(t, Options{Actions: map[string]string{"start": echoPath}, Subjects: subjects})

	t.Run("openwhisk-client-go sees the namespace of each key", func(t *testing.T) {
		assert.Equal(t, "alice", verify(t, g.URL(), alice))
		assert.Equal(t, "bob", verify(t, g.URL(), bob))
	})
	t.Run("openwhisk-client-go sees a wrong key rejected", func(t *testing.T) {
		id, _, _ := strings.Cut(alice, ":")
		_, err := openwhisk.Namespaces{}.Verify(context.Background(), g.URL(), id+":wrong")
		assert.ErrorIs(t, err, identity.ErrRejected)
	})

	aliceID, aliceKey, _ := strings.Cut(alice, ":")
	_, bobKey, _ := strings.Cut(bob, ":")
	tests := []struct {
		name       string
		method     string
		user, pass string
		noAuth     bool
		want       int
		wantBody   []string
		wantError  string
	}{
		{name: "good key", method: "GET", user: aliceID, pass: aliceKey, want: 200, wantBody: []string{"alice"}},
		{name: "another subject's key", method: "GET", user: aliceID, pass: bobKey, want: 401, wantError: msgAuthInvalid},
		{name: "unknown uuid", method: "GET", user: uuid.NewString(), pass: aliceKey, want: 401, wantError: msgAuthInvalid},
		{name: "no authorization", method: "GET", noAuth: true, want: 401, wantError: msgAuthMissing},
		{name: "not GET", method: "POST", user: aliceID, pass: aliceKey, want: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, g.URL()+"/api/v1/namespaces", nil)
			require.NoError(t, err)
			if !tt.noAuth {
				req.SetBasicAuth(tt.user, tt.pass)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, tt.want, resp.StatusCode)
			switch {
			case tt.wantBody != nil:
				var got []string
				require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
				assert.Equal(t, tt.wantBody, got)
			case tt.wantError != "":
				var got struct{ Error string }
				require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
				assert.Equal(t, tt.wantError, got.Error)
			}
		})
	}
}

func TestSubjectsTokens(t *testing.T) {
	s := NewSubjects()
	seen := map[string]bool{}
	for i := 0; i < 20; i++ {
		token := s.Add("alice")
		id, key, ok := strings.Cut(token, ":")
		require.True(t, ok)
		u, err := uuid.Parse(id)
		require.NoError(t, err)
		assert.Equal(t, uuid.Version(4), u.Version())
		assert.Regexp(t, `^[A-Za-z0-9]{64}$`, key)
		assert.False(t, seen[token], "tokens are unique")
		seen[token] = true
	}
	_, ok := s.Token("nobody")
	assert.False(t, ok)
}

func TestSubjectsSaveAndLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "subjects.json")

	s := NewSubjects()
	alice := s.Add("alice")
	bob := s.Add("bob")
	require.NoError(t, s.Save(path))
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	loaded := NewSubjects()
	carol := loaded.Add("carol")
	require.NoError(t, loaded.Load(path))
	for ns, want := range map[string]string{"alice": alice, "bob": bob, "carol": carol} {
		got, ok := loaded.Token(ns)
		assert.True(t, ok, ns)
		assert.Equal(t, want, got, ns)
	}
	require.NoError(t, loaded.Load(path), "loading the same keys again")
	assert.Len(t, loaded.all, 3, "a key already held is replaced, not repeated")

	// Saving over an existing, wider file leaves it 0600.
	require.NoError(t, os.Chmod(path, 0o644))
	require.NoError(t, loaded.Save(path))
	info, err = os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file is left behind")

	bad := []struct{ name, content, want string }{
		{"not JSON", "{", "unexpected end"},
		{"no namespace", `{"subjects":[{"namespace":"","uuid":"` + uuid.NewString() + `","key":"k"}]}`, "no namespace"},
		{"bad uuid", `{"subjects":[{"namespace":"a","uuid":"x","key":"k"}]}`, "not a UUID"},
		{"key with a colon", `{"subjects":[{"namespace":"a","uuid":"` + uuid.NewString() + `","key":"k:k"}]}`, "separator"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "s.json")
			require.NoError(t, os.WriteFile(p, []byte(tt.content), 0o600))
			s := NewSubjects()
			err := s.Load(p)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Empty(t, s.all, "nothing is loaded from a bad file")
		})
	}
	t.Run("missing file", func(t *testing.T) {
		err := NewSubjects().Load(filepath.Join(t.TempDir(), "missing.json"))
		assert.True(t, errors.Is(err, fs.ErrNotExist), "%v", err)
	})
}
