package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// The controller's own messages (org.apache.openwhisk.http.Messages), so a
// client sees here what it sees in production.
const (
	msgNotFound           = "The requested resource does not exist."
	msgParamsNotAllowed   = "Request defines parameters that are not allowed (e.g., reserved properties)."
	msgNotReady           = "Response not yet ready."
	msgProcessingError    = "There was an error processing your request."
	msgInvalidHTTP        = "Response is not valid 'message/http'."
	msgUnknownContentType = "Response did not specify a known content-type."
	msgContentTypeError   = "Response type in header did not match generated content type."
	msgUnavailable        = "The server is currently unavailable (because it is overloaded or down for maintenance)."
	msgMethodNotAllowed   = "HTTP method not allowed, supported methods: GET, DELETE, POST, PUT, HEAD, OPTIONS, PATCH"
	msgAuthMissing        = "The resource requires authentication, which was not supplied with the request"
	msgAuthInvalid        = "The supplied authentication is invalid"
	msgMalformed          = "The request content was malformed:\n"
)

// writeError answers as the controller answers a refused request:
// {"error": message, "code": <transaction id>}.
func writeError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]string{"error": message, "code": newID()})
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encoding the response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// marshal encodes v as compact JSON without HTML escaping, as the
// controller renders JSON.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
