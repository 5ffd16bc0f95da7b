package fault

import (
	"errors"
	"fmt"
)

// Kind classifies a failure by what the caller can do about it.
type Kind int

// The kinds of failure. Internal is the zero value, so an unclassified error
// is never mistaken for a client mistake.
const (
	Internal         Kind = iota // a fault of ours or of a dependency we cannot name
	Invalid                      // the request is wrong; sending it again will not help
	Unauthorized                 // no or bad credentials
	NotFound                     // no such thing, or not the caller's
	MethodNotAllowed             // the path exists, not with this method
	Conflict                     // the thing is in a state that forbids the request
	TooLarge                     // the request is over a size limit
	TooMany                      // a quota is full; retry later
	Unavailable                  // a dependency (API server, registry, OpenWhisk) did not answer
	Pending                      // accepted, not finished yet
)

// Error is a failure with a kind, a machine-readable reason and a user-facing
// message. Err, when set, is the underlying cause: it is kept for logs and
// errors.Is, never shown to the caller.
type Error struct {
	Kind    Kind
	Reason  string
	Message string
	// RetryAfter, in seconds, tells the caller when to try again (TooMany, Unavailable).
	RetryAfter int
	// Details are extra fields for the reply (a failed build's state and log tail).
	Details map[string]any
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an Error of the given kind and reason with a formatted message.
func New(kind Kind, reason, format string, args ...any) *Error {
	return &Error{Kind: kind, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an Error of the given kind that keeps err as its cause.
func Wrap(err error, kind Kind, reason, format string, args ...any) *Error {
	return &Error{Kind: kind, Reason: reason, Message: fmt.Sprintf(format, args...), Err: err}
}

// As returns the first *Error in err's chain, or nil.
func As(err error) *Error {
	var fe *Error
	if errors.As(err, &fe) {
		return fe
	}
	return nil
}

// KindOf returns the kind of err: Internal when err carries no *Error.
func KindOf(err error) Kind {
	if fe := As(err); fe != nil {
		return fe.Kind
	}
	return Internal
}
