package identity

import (
	"context"
	"errors"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/webaction"
)

// retryVerify is the Retry-After, in seconds, when OpenWhisk cannot verify a token.
const retryVerify = 5

// Resolve decides the caller of an activation from its request and what
// OpenWhisk says about the activation (its namespace and the action's own
// name). See the package documentation for the rules. v is asked only for a
// web call without __ow_user whose token is not in c (which may be nil).
func Resolve(ctx context.Context, req webaction.Request, a Activation, s Settings, v Verifier, c *Cache) (Caller, error) {
	if a.Namespace == "" {
		return Caller{}, fault.New(fault.Unauthorized, "MissingNamespace", "Unknown caller: the activation has no namespace")
	}
	owner, known := Owner(a.ActionName)
	if req.Method != "" && !known {
		// Web actions run as their owner: without the owner, an anonymous web
		// call could not be told from the owner's own invoke.
		return Caller{}, fault.New(fault.Internal, "Misconfigured", "The action's name is missing or malformed: its owner is unknown")
	}
	ownerCall := known && a.Namespace == owner
	if req.Method == "" || !ownerCall {
		// Not a web call: the activation namespace is the caller, whatever
		// __ow_* parameters it passed.
		user, err := User(a.Namespace)
		if err != nil {
			return Caller{}, err
		}
		return Caller{User: user, System: ownerCall}, nil
	}

	if req.User != "" { // the controller authenticated the caller
		user, err := User(req.User)
		if err != nil {
			return Caller{}, err
		}
		return Caller{User: user, Web: true}, nil
	}
	token, err := Token(req.Header("authorization"))
	if errors.Is(err, ErrNoToken) {
		return Caller{}, fault.New(fault.Unauthorized, "MissingAuthorization", "Missing authorization header")
	}
	if err != nil {
		return Caller{}, fault.Wrap(err, fault.Unauthorized, "InvalidAuthorization", "Invalid authorization")
	}
	if user, ok := c.Get(s.APIHost, token, s.TokenTTL); ok {
		return Caller{User: user, Web: true}, nil
	}
	if v == nil {
		return Caller{}, fault.New(fault.Internal, "VerificationFailed", "Cannot verify the authorization")
	}
	namespace, err := v.Verify(ctx, s.APIHost, token)
	switch {
	case errors.Is(err, ErrRejected):
		return Caller{}, fault.Wrap(err, fault.Unauthorized, "InvalidAuthorization", "Invalid authorization")
	case errors.Is(err, ErrUnavailable):
		fe := fault.Wrap(err, fault.Unavailable, "OpenWhiskUnavailable", "OpenWhisk is unavailable to verify the authorization; retry later")
		fe.RetryAfter = retryVerify
		return Caller{}, fe
	case err != nil:
		return Caller{}, fault.Wrap(err, fault.Internal, "VerificationFailed", "Cannot verify the authorization")
	}
	user, err := User(namespace)
	if err != nil {
		return Caller{}, err
	}
	c.Put(s.APIHost, token, user, s.TokenTTL)
	return Caller{User: user, Web: true}, nil
}
