package identity

import (
	"context"
	"errors"
	"time"
)

// Caller is the authenticated identity of one activation.
type Caller struct {
	// User is the caller's namespace, lower-cased: the image repository they own.
	User string
	// System is true for a non-web call from the namespace that owns the
	// action: it acts on every user's builds (cleanup).
	System bool
	// Web is true when the call came through the web-action interface.
	Web bool
}

// Activation is what OpenWhisk says about the activation itself, outside
// its parameters (which a caller chooses).
type Activation struct {
	// Namespace is the namespace the activation runs as (__OW_NAMESPACE).
	Namespace string
	// ActionName is the action's fully qualified name (__OW_ACTION_NAME),
	// whose first segment is the namespace that owns the action.
	ActionName string
}

// ErrRejected means OpenWhisk refused the key (401 or 403): the caller is
// not authenticated.
var ErrRejected = errors.New("openwhisk rejected the key")

// ErrUnavailable means OpenWhisk gave no usable answer about the key: a
// network error, a timeout, a 5xx or any other answer that says nothing
// about it. The caller may retry.
var ErrUnavailable = errors.New("openwhisk is unavailable")

// Verifier is what identity needs from OpenWhisk: the namespace of the subject
// that owns token. Its errors wrap ErrRejected or ErrUnavailable, which
// Resolve tells apart; lib/openwhisk.Namespaces implements it.
type Verifier interface {
	Verify(ctx context.Context, apiHost, token string) (string, error)
}

// Settings are the deployment's facts Resolve needs.
type Settings struct {
	// APIHost is the OpenWhisk API host that verifies tokens.
	APIHost string
	// TokenTTL is how long a verified token stays trusted in the Cache
	// (0: every call is verified).
	TokenTTL time.Duration
}
