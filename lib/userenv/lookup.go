package userenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/apache/openserverless-deployer/lib/fault"
)

// DefaultDatabase is the database of the users' documents, as the
// OpenServerless operator names it.
const DefaultDatabase = "users_metadata"

// DefaultTimeout bounds one look-up when Settings set none: well under the
// 60 s a web call may wait, so a CouchDB that hangs is answered 503 in time.
const DefaultTimeout = 5 * time.Second

// maxAnswer bounds the answer read: one user's document is a few KiB.
const maxAnswer = 1 << 20

// Settings say how to reach CouchDB.
type Settings struct {
	// URL is the CouchDB server ("http://couchdb:5984"), or a database on it
	// ("http://couchdb:5984/nuvolaris_users_metadata") where the platform
	// prefixes its database names; a server URL means DefaultDatabase.
	URL string
	// User and Password are sent with basic authentication; with none set,
	// credentials in the URL are used.
	User, Password string
	// HTTPClient sends the request; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Timeout bounds the look-up, the answer's body included; zero means
	// DefaultTimeout.
	Timeout time.Duration
}

// Lookup returns the environment of user: the "env" of its document with
// its "userenv" over it. A user without a document has an empty environment.
// CouchDB not answering is Unavailable; CouchDB refusing the credentials, or
// missing the database, is an Internal fault of the configuration. Errors
// never hold a value of the environment nor the credentials.
func Lookup(ctx context.Context, s Settings, user string) (map[string]string, error) {
	endpoint, username, password, err := s.find()
	if err != nil {
		return nil, err
	}
	query, err := json.Marshal(map[string]any{
		"selector": map[string]any{"login": map[string]any{"$eq": user}},
		"fields":   []string{"login", "env", "userenv"},
		"limit":    1,
	})
	if err != nil {
		return nil, fmt.Errorf("encoding the query for %s: %w", user, err)
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(query))
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "CouchDBMisconfigured", "The CouchDB URL is not valid")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if username != "" || password != "" {
		req.SetBasicAuth(username, password)
	}
	client := s.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		// net/http leaves the password out of the URL in its errors, and
		// the URL carries none here anyway.
		return nil, fault.Wrap(err, fault.Unavailable, "CouchDBUnavailable", "CouchDB is unavailable while reading the environment of %s", user)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, fault.Wrap(err, fault.Unavailable, "CouchDBUnavailable", "CouchDB is unavailable while reading the environment of %s", user)
	}
	if err := statusError(resp.StatusCode, databaseOf(endpoint)); err != nil {
		return nil, err
	}
	var answer struct {
		Docs []document `json:"docs"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return nil, fault.Wrap(fmt.Errorf("decoding the _find answer: %w", err), fault.Internal, "CouchDBInvalidAnswer", "CouchDB answered the look-up of %s with no list of documents", user)
	}
	env := map[string]string{}
	if len(answer.Docs) == 0 {
		return env, nil
	}
	doc := answer.Docs[0]
	for _, list := range []json.RawMessage{doc.Env, doc.UserEnv} {
		pairs, err := decodePairs(list)
		if err != nil {
			// The cause names no value: decodePairs reports shapes only.
			return nil, fault.Wrap(err, fault.Internal, "UserEnvInvalid", "The environment of %s is not a list of key and value pairs", user)
		}
		for k, v := range pairs {
			env[k] = v
		}
	}
	return env, nil
}

// document is the part of a user's document the look-up reads.
type document struct {
	Env     json.RawMessage `json:"env"`
	UserEnv json.RawMessage `json:"userenv"`
}

// find returns the _find endpoint of the database and the credentials, the
// URL's own taken out of it so no error or log can show them.
func (s Settings) find() (endpoint, user, password string, err error) {
	u, err := url.Parse(strings.TrimSpace(s.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", "", fault.New(fault.Internal, "CouchDBMisconfigured", "The CouchDB URL is not an http(s) URL")
	}
	user, password = s.User, s.Password
	if user == "" && password == "" && u.User != nil {
		user = u.User.Username()
		password, _ = u.User.Password()
	}
	u.User = nil
	u.RawQuery, u.Fragment = "", ""
	db := strings.Trim(u.Path, "/")
	if db == "" {
		db = DefaultDatabase
	}
	if strings.Contains(db, "/") {
		return "", "", "", fault.New(fault.Internal, "CouchDBMisconfigured", "The CouchDB URL names more than a database")
	}
	u.Path = "/" + db + "/_find"
	u.RawPath = ""
	return u.String(), user, password, nil
}

// databaseOf is the database name of a _find endpoint, for messages.
func databaseOf(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return DefaultDatabase
	}
	return strings.TrimSuffix(strings.Trim(u.Path, "/"), "/_find")
}

// statusError classifies a CouchDB answer that is not 200. CouchDB's error
// body is left out: it says nothing the status does not.
func statusError(code int, db string) error {
	switch {
	case code == http.StatusOK:
		return nil
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return fault.New(fault.Internal, "CouchDBRefused", "CouchDB refused the deployer's credentials for %s (HTTP %d)", db, code)
	case code == http.StatusNotFound:
		return fault.New(fault.Internal, "CouchDBDatabaseMissing", "CouchDB has no database %s", db)
	case code >= 500 || code == http.StatusTooManyRequests:
		return fault.New(fault.Unavailable, "CouchDBUnavailable", "CouchDB is unavailable (HTTP %d)", code)
	default:
		return fault.New(fault.Internal, "CouchDBError", "CouchDB refused the look-up in %s (HTTP %d)", db, code)
	}
}
