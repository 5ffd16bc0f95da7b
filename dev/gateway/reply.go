package gateway

import (
	"encoding/base64"
	"fmt"
	"math"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// writeHTTP answers with a web action's result as the controller's .http
// extension does (WhiskWebActionsApi.resultAsHttp): statusCode, headers and
// body of v. A string body is sent as it is for a text type (text/html when
// none is given) and base64-decoded for a binary one; any other body is JSON.
// No body, or "", is an empty reply, 204 unless a statusCode says otherwise.
// A v that is not such a response is 400 "Response is not valid
// 'message/http'.".
func writeHTTP(w http.ResponseWriter, v any) {
	m, ok := v.(map[string]any)
	if !ok {
		writeError(w, http.StatusBadRequest, msgInvalidHTTP)
		return
	}
	hdr, err := resultHeaders(m["headers"])
	if err != nil {
		writeError(w, http.StatusBadRequest, msgInvalidHTTP)
		return
	}
	code, hasCode, err := statusCode(m)
	if err != nil {
		writeError(w, http.StatusBadRequest, msgInvalidHTTP)
		return
	}
	orDefault := func(def int) int {
		if hasCode {
			return code
		}
		return def
	}

	var contentType string
	var entity []byte
	switch b := m["body"].(type) {
	case nil:
		code = orDefault(http.StatusNoContent)
	case string:
		if b == "" {
			code = orDefault(http.StatusNoContent)
			break
		}
		var msg string
		if contentType, entity, msg = stringEntity(hdr, b); msg != "" {
			writeError(w, http.StatusBadRequest, msg)
			return
		}
		code = orDefault(http.StatusOK)
	default:
		var msg string
		if contentType, entity, msg = jsonEntity(hdr, b); msg != "" {
			writeError(w, http.StatusBadRequest, msg)
			return
		}
		code = orDefault(http.StatusOK)
	}

	// The entity decides the content type; the action's header only chose it.
	for _, h := range hdr {
		if !strings.EqualFold(h.name, "Content-Type") {
			w.Header().Add(h.name, h.value)
		}
	}
	if contentType != "" {
		w.Header().Set("Content-Type", contentType)
	}
	w.WriteHeader(code)
	_, _ = w.Write(entity)
}

type header struct{ name, value string }

// resultHeaders reads the headers of a result: an object whose values are
// strings, booleans, numbers, or arrays of those (one header each).
func resultHeaders(v any) ([]header, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("headers are a %T, not an object", v)
	}
	var out []header
	var add func(name string, v any) error
	add = func(name string, v any) error {
		switch x := v.(type) {
		case string:
			out = append(out, header{name, x})
		case bool:
			out = append(out, header{name, strconv.FormatBool(x)})
		case float64:
			out = append(out, header{name, strconv.FormatFloat(x, 'f', -1, 64)})
		case []any:
			for _, e := range x {
				if err := add(name, e); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("header %s is a %T", name, v)
		}
		return nil
	}
	for _, name := range sortedKeys(m) {
		if err := add(name, m[name]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// statusCode reads statusCode: a whole number or a string of one, naming a
// known HTTP status.
func statusCode(m map[string]any) (int, bool, error) {
	v, ok := m["statusCode"]
	if !ok {
		return 0, false, nil
	}
	var code int
	switch x := v.(type) {
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > math.MaxInt32 {
			return 0, true, fmt.Errorf("status code %v is not a whole number", x)
		}
		code = int(x)
	case string:
		n, err := strconv.Atoi(x)
		if err != nil {
			return 0, true, fmt.Errorf("status code %q: %w", x, err)
		}
		code = n
	default:
		return 0, true, fmt.Errorf("status code is a %T", v)
	}
	if http.StatusText(code) == "" {
		return 0, true, fmt.Errorf("status code %d is not a known status", code)
	}
	return code, true, nil
}

// contentTypeOf returns the value of the result's content-type header, if any.
func contentTypeOf(hdr []header) (string, bool) {
	for _, h := range hdr {
		if strings.EqualFold(h.name, "Content-Type") {
			return h.value, true
		}
	}
	return "", false
}

// base64Text matches what the controller takes for base64 (Exec.isBinaryCode).
var base64Text = regexp.MustCompile(`^[A-Za-z0-9+/]+={0,2}$`)

// stringEntity encodes a string body: text as it is (a base64 string under a
// JSON type is decoded, for old actions), binary types base64-decoded. It
// returns a controller message when the body does not fit its type.
func stringEntity(hdr []header, s string) (contentType string, entity []byte, msg string) {
	ct, ok := contentTypeOf(hdr)
	if !ok {
		ct = "text/html"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", nil, msgUnknownContentType
	}
	if !textual(mt, params) {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return "", nil, msgContentTypeError
		}
		return ct, b, ""
	}
	if params["charset"] == "" && !jsonFamily(mt) {
		ct += "; charset=UTF-8"
	}
	if jsonFamily(mt) {
		if t := strings.TrimSpace(s); len(t)%4 == 0 && base64Text.MatchString(t) {
			if b, err := base64.StdEncoding.DecodeString(t); err == nil {
				return ct, b, ""
			}
		}
	}
	return ct, []byte(s), ""
}

// jsonEntity encodes any other body as JSON, which the content type, if
// given, must allow.
func jsonEntity(hdr []header, v any) (contentType string, entity []byte, msg string) {
	ct, ok := contentTypeOf(hdr)
	if !ok {
		ct = "application/json"
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", nil, msgUnknownContentType
	}
	if !jsonFamily(mt) {
		return "", nil, msgContentTypeError
	}
	b, err := marshal(v)
	if err != nil {
		return "", nil, msgContentTypeError
	}
	return mt, b, ""
}
