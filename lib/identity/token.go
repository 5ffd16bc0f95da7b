package identity

import (
	"errors"
	"net/http"
	"strings"
	"unicode"
)

// ErrNoToken means the authorization header is empty.
var ErrNoToken = errors.New("no authorization")

// ErrMalformedToken means the authorization header holds no "uuid:key" in any
// of the accepted forms. Errors never repeat the header.
var ErrMalformedToken = errors.New("authorization is not Basic base64(uuid:key), base64(uuid:key) or uuid:key")

// Token extracts "uuid:key" from an authorization header value in any of the
// three forms callers send: "Basic base64(uuid:key)", bare "base64(uuid:key)",
// or raw "uuid:key" (what ops and the upstream tasks send). The key may hold
// ':' itself; the first one separates it from the uuid.
func Token(header string) (string, error) {
	h := strings.TrimSpace(header)
	if h == "" {
		return "", ErrNoToken
	}
	scheme, _, hasScheme := strings.Cut(h, " ")
	switch {
	case hasScheme && strings.EqualFold(scheme, "basic"):
		return basic(h)
	case hasScheme:
		return "", ErrMalformedToken
	case strings.Contains(h, ":"):
		// The base64 alphabet has no ':', so this is a raw token.
		return checked(strings.Cut(h, ":"))
	default:
		return basic("Basic " + h)
	}
}

// basic decodes a Basic authorization value with net/http's own parser.
func basic(header string) (string, error) {
	r := http.Request{Header: http.Header{"Authorization": {header}}}
	uuid, key, ok := r.BasicAuth()
	return checked(uuid, key, ok)
}

// checked joins uuid and key into a token once both are plausible: present,
// without spaces or control characters.
func checked(uuid, key string, ok bool) (string, error) {
	if !ok || !plausible(uuid) || !plausible(key) {
		return "", ErrMalformedToken
	}
	return uuid + ":" + key, nil
}

func plausible(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar {
			return false
		}
	}
	return true
}
