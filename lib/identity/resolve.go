package identity

import (
	"context"
	"errors"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/openwhisk"
	"github.com/apache/openserverless-deployer/lib/webaction"
)

// retryVerify is the Retry-After, in seconds, when OpenWhisk cannot verify a token.
const retryVerify = 5

// Resolve decides the caller of an activation from its request and its
// activation namespace (__OW_NAMESPACE). See the package documentation for
// the rules. v is asked only for a web call without __ow_user whose token is
// not in c (which may be nil).
func Resolve(ctx context.Context, req webaction.Request, activationNS string, s Settings, v Verifier, c *Cache) (Caller, error) {
	if s.SystemNamespace == "" {
		return Caller{}, fault.New(fault.Internal, "Misconfigured", "The system namespace is not configured")
	}
	if activationNS == "" {
		return Caller{}, fault.New(fault.Unauthorized, "MissingNamespace", "Unknown caller: the activation has no namespace")
	}
	if req.Method == "" || activationNS != s.SystemNamespace {
		// Not a web call: the activation namespace is the caller, whatever
		// __ow_* parameters it passed.
		user, err := User(activationNS)
		if err != nil {
			return Caller{}, err
		}
		return Caller{User: user, System: activationNS == s.SystemNamespace}, nil
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
	if user, ok := c.Get(s.APIHost, token); ok {
		return Caller{User: user, Web: true}, nil
	}
	if v == nil {
		return Caller{}, fault.New(fault.Internal, "VerificationFailed", "Cannot verify the authorization")
	}
	namespace, err := v.Verify(ctx, s.APIHost, token)
	switch {
	case errors.Is(err, openwhisk.ErrRejected):
		return Caller{}, fault.Wrap(err, fault.Unauthorized, "InvalidAuthorization", "Invalid authorization")
	case errors.Is(err, openwhisk.ErrUnavailable):
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
	c.Put(s.APIHost, token, user)
	return Caller{User: user, Web: true}, nil
}
