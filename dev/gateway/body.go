package gateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// errTooLarge means the request body is over its limit.
type errTooLarge struct{ size, limit int64 }

func (e errTooLarge) Error() string {
	// The controller's own wording (Messages.entityTooBig).
	return fmt.Sprintf("Request larger than allowed: %d > %d bytes.", e.size, e.limit)
}

// readBody reads the request body, refusing one over maxEntity.
func readBody(r *http.Request) ([]byte, error) { return readBodyUpTo(r, maxEntity) }

// readBodyUpTo reads the request body, refusing one over limit: at once when
// Content-Length says so, else once one byte too many has arrived.
func readBodyUpTo(r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, errTooLarge{r.ContentLength, limit}
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading the request body: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, errTooLarge{int64(len(b)), limit}
	}
	return b, nil
}

// body is a request body as the controller hands it to a web action: the
// fields of a JSON object or form, or a value for __ow_body.
type body struct {
	fields map[string]any
	raw    any
	hasRaw bool
}

// errMalformed means a JSON or form body does not parse.
var errMalformed = errors.New("malformed body")

// decodeBody classifies b by its content type as the controller does
// (WhiskWebActionsApi.extractEntityAndProcessRequest): an empty body without
// a type, or an empty JSON body, is no body; a JSON body is parsed, an
// object giving fields and any other value going to __ow_body as it is; a
// form gives fields; text is __ow_body as a string, anything else as base64.
// A body without a content type is application/octet-stream.
func decodeBody(contentType string, b []byte) (body, error) {
	if contentType == "" && len(b) == 0 {
		return body{}, nil
	}
	mt, params := mediaType(contentType)
	switch {
	case jsonFamily(mt):
		if len(b) == 0 {
			return body{}, nil
		}
		v, err := decodeJSON(b)
		if err != nil {
			return body{}, fmt.Errorf("%w: %w", errMalformed, err)
		}
		if m, ok := v.(map[string]any); ok {
			return body{fields: m}, nil
		}
		return body{raw: v, hasRaw: true}, nil
	case mt == "application/x-www-form-urlencoded":
		q, err := url.ParseQuery(string(b))
		if err != nil {
			return body{}, fmt.Errorf("%w: %w", errMalformed, err)
		}
		return body{fields: lastValues(q)}, nil
	case textual(mt, params):
		return body{raw: string(b), hasRaw: true}, nil
	default:
		return body{raw: base64.StdEncoding.EncodeToString(b), hasRaw: true}, nil
	}
}

// decodeJSON decodes one JSON value, keeping numbers as they were written.
func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

// mediaType returns the lower-cased media type and its parameters;
// something that does not parse counts as application/octet-stream.
func mediaType(contentType string) (string, map[string]string) {
	if contentType == "" {
		return "application/octet-stream", nil
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "application/octet-stream", nil
	}
	return mt, params
}

// jsonFamily reports whether mt is application/json or a +json type.
func jsonFamily(mt string) bool {
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// textual reports whether a body of this type is text, not binary, as the
// controller's HTTP library classes media types: text/*, the XML and
// JavaScript types, and any type given a charset.
func textual(mt string, params map[string]string) bool {
	switch {
	case strings.HasPrefix(mt, "text/"), params["charset"] != "":
		return true
	case mt == "application/xml", mt == "application/javascript", strings.HasSuffix(mt, "+xml"):
		return true
	}
	return jsonFamily(mt)
}

// lastValues keeps the last value of each name, as the controller's map of
// query parameters and headers does.
func lastValues(q map[string][]string) map[string]any {
	out := make(map[string]any, len(q))
	for k, vs := range q {
		if len(vs) > 0 {
			out[k] = vs[len(vs)-1]
		}
	}
	return out
}
