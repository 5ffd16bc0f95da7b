package identity

import "context"

// Caller is the authenticated identity of one activation.
type Caller struct {
	// User is the caller's namespace, lower-cased: the image repository they own.
	User string
	// System is true for a non-web call from the system namespace: it acts on
	// every user's builds (cleanup).
	System bool
	// Web is true when the call came through the web-action interface.
	Web bool
}

// Verifier is what identity needs from OpenWhisk: the namespace of the subject
// that owns token. lib/openwhisk.Namespaces implements it; its errors wrap
// openwhisk.ErrRejected or openwhisk.ErrUnavailable.
type Verifier interface {
	Verify(ctx context.Context, apiHost, token string) (string, error)
}

// Settings are the deployment's facts Resolve needs.
type Settings struct {
	// SystemNamespace is the namespace web actions run as and whose non-web
	// calls have system scope.
	SystemNamespace string
	// APIHost is the OpenWhisk API host that verifies tokens.
	APIHost string
}
