package identity

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestToken(t *testing.T) {
	// The shape of a real OpenWhisk key.
	const guest = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP"
	tests := []struct {
		name    string
		header  string
		want    string
		wantErr error
	}{
		{"Basic", "Basic " + b64(guest), guest, nil},
		{"basic in lower case", "basic " + b64("uuid:key"), "uuid:key", nil},
		{"Basic with a colon in the key", "Basic " + b64("uuid:ke:y"), "uuid:ke:y", nil},
		{"bare base64", b64(guest), guest, nil},
		{"bare base64 with a colon in the key", b64("uuid:ke:y"), "uuid:ke:y", nil},
		{"raw", guest, guest, nil},
		{"raw with a colon in the key", "uuid:ke:y", "uuid:ke:y", nil},
		{"surrounding spaces", "  Basic " + b64("uuid:key") + " \t", "uuid:key", nil},
		{"empty", "", "", ErrNoToken},
		{"blank", " \t ", "", ErrNoToken},
		{"Basic and nothing", "Basic ", "", ErrMalformedToken},
		{"Basic with bad base64", "Basic !!notbase64!!", "", ErrMalformedToken},
		{"Basic with unpadded base64", "Basic dXVpZDprZXk", "", ErrMalformedToken},
		{"Basic without a colon", "Basic " + b64("uuidkey"), "", ErrMalformedToken},
		{"Basic with an empty uuid", "Basic " + b64(":key"), "", ErrMalformedToken},
		{"Basic with an empty key", "Basic " + b64("uuid:"), "", ErrMalformedToken},
		{"Basic with a control character", "Basic " + b64("uuid:key\x00"), "", ErrMalformedToken},
		{"Basic with invalid UTF-8", "Basic " + b64("uuid:k\xffey"), "", ErrMalformedToken},
		{"another scheme", "Bearer " + b64("uuid:key"), "", ErrMalformedToken},
		{"garbage", "hello", "", ErrMalformedToken},
		{"bare base64 without a colon", b64("uuidkey"), "", ErrMalformedToken},
		{"raw with an empty key", "uuid:", "", ErrMalformedToken},
		{"raw with an empty uuid", ":key", "", ErrMalformedToken},
		{"raw with a space in the key", "uuid:k ey", "", ErrMalformedToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Token(tt.header)
			if tt.wantErr != nil {
				assert.Equal(t, tt.wantErr, err, "a fixed error, which never repeats the header")
				assert.Empty(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
