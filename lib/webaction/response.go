package webaction

import (
	"net/http"
	"strconv"

	"github.com/apache/openserverless-deployer/lib/fault"
)

// Response is what a web action answers: a status, headers and a JSON body.
type Response struct {
	Status  int
	Headers map[string]string
	Body    map[string]any
}

// Map encodes the response as the map OpenWhisk turns into HTTP.
func (r Response) Map() map[string]any {
	h := map[string]any{"Content-Type": "application/json"}
	for k, v := range r.Headers {
		h[k] = v
	}
	return map[string]any{"statusCode": r.Status, "headers": h, "body": r.Body}
}

// Reply returns a successful response: {"status":"ok","message":…} plus fields.
func Reply(status int, message string, fields map[string]any) Response {
	body := map[string]any{"status": "ok"}
	if message != "" {
		body["message"] = message
	}
	for k, v := range fields {
		body[k] = v
	}
	return Response{Status: status, Body: body}
}

// statusOf is the one mapping from a kind of failure to an HTTP status.
var statusOf = map[fault.Kind]int{
	fault.Internal:         http.StatusInternalServerError,
	fault.Invalid:          http.StatusBadRequest,
	fault.Unauthorized:     http.StatusUnauthorized,
	fault.NotFound:         http.StatusNotFound,
	fault.MethodNotAllowed: http.StatusMethodNotAllowed,
	fault.Conflict:         http.StatusConflict,
	fault.TooLarge:         http.StatusRequestEntityTooLarge,
	fault.TooMany:          http.StatusTooManyRequests,
	fault.Unavailable:      http.StatusServiceUnavailable,
	fault.Pending:          http.StatusAccepted,
}

// Status returns the HTTP status for err.
func Status(err error) int { return statusFor(fault.KindOf(err)) }

// statusFor is 500 for a kind missing from the map, never a status of 0.
func statusFor(k fault.Kind) int {
	if s, ok := statusOf[k]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// FromError returns the response for a failed operation:
// {"status":"ko","message":…,"reason":…} with the status of its kind. An error
// that carries no fault.Error is answered 500 without its text, which may hold
// internal detail; the caller logs it.
func FromError(err error) Response {
	fe := fault.As(err)
	if fe == nil {
		fe = &fault.Error{Kind: fault.Internal, Reason: "InternalError", Message: "Internal error"}
	}
	// Details come first so they cannot replace the fields every reply has.
	body := map[string]any{}
	for k, v := range fe.Details {
		body[k] = v
	}
	body["status"], body["message"] = "ko", fe.Message
	delete(body, "reason")
	if fe.Reason != "" {
		body["reason"] = fe.Reason
	}
	r := Response{Status: statusFor(fe.Kind), Body: body}
	if fe.RetryAfter > 0 {
		r.Headers = map[string]string{"Retry-After": strconv.Itoa(fe.RetryAfter)}
	}
	return r
}
