package identity

import (
	"encoding/base64"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzToken checks the token parser on any header: it refuses with one of
// its two fixed errors (which never repeat the header), and what it accepts
// is a plausible "uuid:key" that every one of the three forms gives back
// unchanged.
func FuzzToken(f *testing.F) {
	for _, h := range []string{
		"Basic " + b64("23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP"),
		b64("uuid:ke:y"), "uuid:key", "  BASIC " + b64("u:k") + "\t", "Bearer abc", "Basic ", ":", "u:", ":k",
		"Basic " + b64("u:k\x00"), "u:k\u00a0ey", "Basic dXVpZDprZXk",
	} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, header string) {
		tok, err := Token(header)
		if err != nil {
			assert.Empty(t, tok)
			if strings.TrimSpace(header) == "" {
				assert.Equal(t, ErrNoToken, err)
			} else {
				assert.Equal(t, ErrMalformedToken, err)
			}
			return
		}
		uuid, key, ok := strings.Cut(tok, ":")
		require.True(t, ok, "token %q has no ':'", tok)
		require.NotEmpty(t, uuid)
		require.NotEmpty(t, key)
		require.True(t, utf8.ValidString(tok), "token %q is not UTF-8", tok)
		for _, r := range tok {
			require.False(t, unicode.IsSpace(r) || unicode.IsControl(r), "token %q holds %U", tok, r)
		}
		enc := base64.StdEncoding.EncodeToString([]byte(tok))
		for _, form := range []string{tok, enc, "Basic " + enc, "basic " + enc} {
			again, err := Token(form)
			require.NoError(t, err, "form %q", form)
			assert.Equal(t, tok, again, "form %q", form)
		}
	})
}
