package userenv

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/lib/fault"
)

const (
	adminUser     = "whisk_admin"
	adminPassword = "couch-s3cret"
	// secretValue stands for a credential kept in an environment.
	secretValue = "registry-user:registry-pa55word"
)

// couch is a CouchDB stand-in: one database of documents, answering Mango
// _find on "login" with $eq as CouchDB does, behind basic authentication.
type couch struct {
	srv  *httptest.Server
	db   string
	docs []map[string]any

	mu       sync.Mutex
	requests []seen
}

// seen is what the stand-in recorded of one request.
type seen struct {
	method, path, contentType string
	user, password            string
	authorized                bool
	query                     map[string]any
}

func newCouch(t *testing.T, db string, docs ...map[string]any) *couch {
	t.Helper()
	c := &couch{db: db, docs: docs}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *couch) serve(w http.ResponseWriter, r *http.Request) {
	s := seen{method: r.Method, path: r.URL.Path, contentType: r.Header.Get("Content-Type")}
	s.user, s.password, s.authorized = r.BasicAuth()
	_ = json.NewDecoder(r.Body).Decode(&s.query)
	c.mu.Lock()
	c.requests = append(c.requests, s)
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case !s.authorized || s.user != adminUser || s.password != adminPassword:
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"unauthorized","reason":"Name or password is incorrect."}`))
		return
	case r.URL.Path != "/"+c.db+"/_find":
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"not_found","reason":"Database does not exist."}`))
		return
	case r.Method != http.MethodPost:
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	login := ""
	if sel, ok := s.query["selector"].(map[string]any); ok {
		if l, ok := sel["login"].(map[string]any); ok {
			login, _ = l["$eq"].(string)
		}
	}
	docs := []map[string]any{}
	for _, d := range c.docs {
		if d["login"] == login {
			docs = append(docs, d)
		}
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"docs": docs})
}

func (c *couch) settings() Settings {
	return Settings{URL: c.srv.URL, User: adminUser, Password: adminPassword}
}

func (c *couch) seen() []seen {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]seen(nil), c.requests...)
}

func pairs(kv ...string) []any {
	var out []any
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, map[string]any{"key": kv[i], "value": kv[i+1]})
	}
	return out
}

func TestLookupMergesUserEnvOverEnv(t *testing.T) {
	tests := []struct {
		name string
		doc  map[string]any // nil: no document for the user
		want map[string]string
	}{
		{
			name: "userenv wins over env",
			doc: map[string]any{
				"env":     pairs("REGISTRY_HOST", "admin.example.com", "ONLY_ENV", "1"),
				"userenv": pairs("REGISTRY_HOST", "user.example.com", "REGISTRY_SECRET", secretValue),
			},
			want: map[string]string{"REGISTRY_HOST": "user.example.com", "ONLY_ENV": "1", "REGISTRY_SECRET": secretValue},
		},
		{
			name: "env only",
			doc:  map[string]any{"env": pairs("REGISTRY_HOST", "admin.example.com")},
			want: map[string]string{"REGISTRY_HOST": "admin.example.com"},
		},
		{
			name: "userenv only",
			doc:  map[string]any{"userenv": pairs("REGISTRY_HOST", "user.example.com")},
			want: map[string]string{"REGISTRY_HOST": "user.example.com"},
		},
		{
			name: "objects instead of lists",
			doc: map[string]any{
				"env":     map[string]any{"REGISTRY_HOST": "admin.example.com", "A": "a"},
				"userenv": map[string]any{"REGISTRY_HOST": "user.example.com"},
			},
			want: map[string]string{"REGISTRY_HOST": "user.example.com", "A": "a"},
		},
		{
			name: "numbers and booleans as text, null and nested values left out",
			doc: map[string]any{"env": []any{
				map[string]any{"key": "N", "value": json.Number("5000")},
				map[string]any{"key": "B", "value": true},
				map[string]any{"key": "NULL", "value": nil},
				map[string]any{"key": "NESTED", "value": map[string]any{"x": "y"}},
			}},
			want: map[string]string{"N": "5000", "B": "true"},
		},
		{
			name: "null lists",
			doc:  map[string]any{"env": nil, "userenv": nil},
			want: map[string]string{},
		},
		{
			name: "a document without env",
			doc:  map[string]any{"metadata": pairs("AUTH", "x:y")},
			want: map[string]string{},
		},
		{
			name: "no document",
			want: map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs := []map[string]any{{"login": "bob", "userenv": pairs("REGISTRY_HOST", "bob.example.com")}}
			if tt.doc != nil {
				tt.doc["login"] = "alice"
				docs = append(docs, tt.doc)
			}
			c := newCouch(t, DefaultDatabase, docs...)
			got, err := Lookup(context.Background(), c.settings(), "alice")
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestLookupQuery(t *testing.T) {
	c := newCouch(t, DefaultDatabase, map[string]any{"login": "alice", "env": pairs("A", "1")})
	_, err := Lookup(context.Background(), c.settings(), "alice")
	require.NoError(t, err)
	reqs := c.seen()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, http.MethodPost, r.method)
	assert.Equal(t, "/users_metadata/_find", r.path)
	assert.Equal(t, "application/json", r.contentType)
	assert.True(t, r.authorized)
	assert.Equal(t, adminUser, r.user)
	assert.Equal(t, adminPassword, r.password)
	assert.Equal(t, map[string]any{"login": map[string]any{"$eq": "alice"}}, r.query["selector"])
	assert.ElementsMatch(t, []any{"login", "env", "userenv"}, r.query["fields"], "only the env is read, never the password hash")
	assert.Equal(t, float64(1), r.query["limit"])
}

func TestLookupURLForms(t *testing.T) {
	doc := map[string]any{"login": "alice", "env": pairs("A", "1")}
	tests := []struct {
		name     string
		db       string
		settings func(base string) Settings
	}{
		{name: "server URL with a trailing slash", db: DefaultDatabase, settings: func(b string) Settings {
			return Settings{URL: b + "/", User: adminUser, Password: adminPassword}
		}},
		{name: "database in the URL", db: "nuvolaris_users_metadata", settings: func(b string) Settings {
			return Settings{URL: b + "/nuvolaris_users_metadata", User: adminUser, Password: adminPassword}
		}},
		{name: "credentials in the URL", db: DefaultDatabase, settings: func(b string) Settings {
			return Settings{URL: strings.Replace(b, "http://", "http://"+adminUser+":"+adminPassword+"@", 1)}
		}},
		{name: "settings win over credentials in the URL", db: DefaultDatabase, settings: func(b string) Settings {
			return Settings{URL: strings.Replace(b, "http://", "http://nobody:nothing@", 1), User: adminUser, Password: adminPassword}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCouch(t, tt.db, doc)
			got, err := Lookup(context.Background(), tt.settings(c.srv.URL), "alice")
			require.NoError(t, err)
			assert.Equal(t, map[string]string{"A": "1"}, got)
		})
	}
}

func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return "http://" + addr
}

func TestLookupErrors(t *testing.T) {
	answer := func(code int, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(code)
			_, _ = w.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reading the whole body lets the server notice the client leaving.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(slow.Close)
	badShape := newCouch(t, DefaultDatabase, map[string]any{"login": "alice", "userenv": []any{map[string]any{"value": secretValue}}})
	notAList := newCouch(t, DefaultDatabase, map[string]any{"login": "alice", "env": secretValue})

	tests := []struct {
		name       string
		settings   Settings
		timeout    time.Duration
		wantKind   fault.Kind
		wantReason string
	}{
		{name: "unreachable", settings: Settings{URL: closedURL(t), User: adminUser, Password: adminPassword}, wantKind: fault.Unavailable, wantReason: "CouchDBUnavailable"},
		{name: "too slow", settings: Settings{URL: slow.URL, User: adminUser, Password: adminPassword}, timeout: 100 * time.Millisecond, wantKind: fault.Unavailable, wantReason: "CouchDBUnavailable"},
		{name: "server error", settings: Settings{URL: answer(http.StatusInternalServerError, `{"error":"x"}`)}, wantKind: fault.Unavailable, wantReason: "CouchDBUnavailable"},
		{name: "wrong credentials", settings: Settings{URL: newCouch(t, DefaultDatabase).srv.URL, User: adminUser, Password: "wrong-" + adminPassword}, wantKind: fault.Internal, wantReason: "CouchDBRefused"},
		{name: "forbidden", settings: Settings{URL: answer(http.StatusForbidden, `{}`)}, wantKind: fault.Internal, wantReason: "CouchDBRefused"},
		{name: "no such database", settings: Settings{URL: newCouch(t, "other").srv.URL, User: adminUser, Password: adminPassword}, wantKind: fault.Internal, wantReason: "CouchDBDatabaseMissing"},
		{name: "bad request", settings: Settings{URL: answer(http.StatusBadRequest, `{}`)}, wantKind: fault.Internal, wantReason: "CouchDBError"},
		{name: "not JSON", settings: Settings{URL: answer(http.StatusOK, `<html>`)}, wantKind: fault.Internal, wantReason: "CouchDBInvalidAnswer"},
		{name: "an entry without a key", settings: badShape.settings(), wantKind: fault.Internal, wantReason: "UserEnvInvalid"},
		{name: "env neither list nor object", settings: notAList.settings(), wantKind: fault.Internal, wantReason: "UserEnvInvalid"},
		{name: "no URL", settings: Settings{}, wantKind: fault.Internal, wantReason: "CouchDBMisconfigured"},
		{name: "not an http URL", settings: Settings{URL: "couchdb:5984"}, wantKind: fault.Internal, wantReason: "CouchDBMisconfigured"},
		{name: "a path below the database", settings: Settings{URL: "http://127.0.0.1:1/db/doc"}, wantKind: fault.Internal, wantReason: "CouchDBMisconfigured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			got, err := Lookup(ctx, tt.settings, "alice")
			require.Error(t, err)
			assert.Nil(t, got)
			fe := fault.As(err)
			require.NotNil(t, fe, "error %v is not a fault", err)
			assert.Equal(t, tt.wantKind, fe.Kind, "kind of %v", err)
			assert.Equal(t, tt.wantReason, fe.Reason)
			assert.NotContains(t, err.Error(), adminPassword, "no CouchDB password in the error")
			assert.NotContains(t, err.Error(), secretValue, "no environment value in the error")
		})
	}
}

// Credentials written into the URL never reach an error, even when the
// server cannot be reached.
func TestLookupKeepsURLCredentialsOutOfErrors(t *testing.T) {
	u := strings.Replace(closedURL(t), "http://", "http://"+adminUser+":"+adminPassword+"@", 1)
	_, err := Lookup(context.Background(), Settings{URL: u}, "alice")
	require.Error(t, err)
	assert.Equal(t, fault.Unavailable, fault.KindOf(err))
	assert.NotContains(t, err.Error(), adminPassword)
}

// A CouchDB that accepts the connection and never answers (a stopped
// process), or stops halfway through its answer, is given up on after the
// look-up's own timeout, not the caller's deadline.
func TestLookupIsBoundedByItsTimeout(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = silent.Close() })
	release := make(chan struct{})
	stalling := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"docs":[`))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); stalling.Close() })

	tests := []struct {
		name string
		url  string
	}{
		{"silent", "http://" + silent.Addr().String()},
		{"stalling mid-answer", stalling.URL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			began := time.Now()
			_, err := Lookup(context.Background(), Settings{URL: tt.url, User: adminUser, Password: adminPassword, Timeout: 500 * time.Millisecond}, "alice")
			require.Error(t, err)
			assert.Less(t, time.Since(began), 3*time.Second)
			fe := fault.As(err)
			require.NotNil(t, fe, "%v", err)
			assert.Equal(t, fault.Unavailable, fe.Kind)
			assert.Equal(t, "CouchDBUnavailable", fe.Reason)
		})
	}
}
