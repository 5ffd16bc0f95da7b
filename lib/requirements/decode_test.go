package requirements_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/requirements"
)

const (
	msgBase64 = "Requirements file must be valid base64-encoded data"
	msgUTF8   = "Requirements file must be valid UTF-8 text"
)

func TestDecodeAccepts(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", []byte{}},
		{"one byte, two pads", []byte("a")},
		{"two bytes, one pad", []byte("ab")},
		{"no pad", []byte("abc")},
		{"requirements", []byte("requests>=2.0\nflask==3.0.0 # web\n")},
		{"non-ASCII text", []byte("# café ☕ 日本\nrequests\n")},
		{"plus and slash in the encoding", []byte("?>?~~~")}, // Pz4/fn5+
		{"exactly the decoded limit", []byte(strings.Repeat("a", requirements.MaxDecodedLen))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b64 := base64.StdEncoding.EncodeToString(tc.data)
			got, err := requirements.Decode(b64)
			require.NoError(t, err)
			assert.Equal(t, tc.data, got)
		})
	}
}

func TestDecodeStandardAlphabet(t *testing.T) {
	got, err := requirements.Decode("Pz4/fn5+")
	require.NoError(t, err)
	assert.Equal(t, "?>?~~~", string(got))
}

func TestDecodeRefuses(t *testing.T) {
	enc := base64.StdEncoding.EncodeToString
	// 0xfb 0xff encodes with both characters where the URL alphabet differs.
	require.Equal(t, "+/8=", enc([]byte{0xfb, 0xff}))
	overDecoded := enc([]byte(strings.Repeat("a", requirements.MaxDecodedLen+1)))
	// The largest field that passes the base64 length check decodes to more
	// than the decoded limit, so the second check is reached at its bound.
	atEncoded := strings.Repeat("QUFB", requirements.MaxEncodedLen/4)
	require.Len(t, atEncoded, requirements.MaxEncodedLen)

	tests := []struct {
		name    string
		b64     string
		kind    fault.Kind
		reason  string
		message string
	}{
		{"missing padding", "YWI", fault.Invalid, "InvalidFile", msgBase64},
		{"missing both pads", "YQ", fault.Invalid, "InvalidFile", msgBase64},
		{"embedded newline", "YWJj\nZGVm", fault.Invalid, "InvalidFile", msgBase64},
		{"trailing newline", "YWJj\n", fault.Invalid, "InvalidFile", msgBase64},
		{"embedded CRLF", "YWJj\r\nZGVm", fault.Invalid, "InvalidFile", msgBase64},
		{"embedded space", "YWJj ZGVm", fault.Invalid, "InvalidFile", msgBase64},
		{"leading tab", "\tYWJj", fault.Invalid, "InvalidFile", msgBase64},
		{"URL alphabet", "-_8=", fault.Invalid, "InvalidFile", msgBase64},
		{"non-zero padding bits", "YWJ=", fault.Invalid, "InvalidFile", msgBase64},
		{"padding in the middle", "YQ==YWJj", fault.Invalid, "InvalidFile", msgBase64},
		{"not base64 at all", "requests>=2.0", fault.Invalid, "InvalidFile", msgBase64},
		{"invalid UTF-8", enc([]byte{'o', 'k', 0xff, 0xfe}), fault.Invalid, "InvalidFile", msgUTF8},
		{"truncated UTF-8 sequence", enc([]byte{'c', 'a', 'f', 0xc3}), fault.Invalid, "InvalidFile", msgUTF8},
		{"NUL byte", enc([]byte("requests\x00\n")), fault.Invalid, "InvalidFile", msgUTF8},
		{"one byte over the decoded limit", overDecoded, fault.TooLarge, "FileTooLarge",
			fmt.Sprintf("Requirements file is too large: %d bytes, the limit is 524288 (512 KiB)", requirements.MaxDecodedLen+1)},
		{"exactly the base64 limit", atEncoded, fault.TooLarge, "FileTooLarge",
			"Requirements file is too large: 562500 bytes, the limit is 524288 (512 KiB)"},
		// Not even base64: the length is checked before anything else.
		{"one character over the base64 limit", atEncoded + "!", fault.TooLarge, "FileTooLarge",
			"Requirements file is too large: 750001 base64 characters, the limit is 750000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := requirements.Decode(tc.b64)
			assert.Nil(t, got)
			assertFault(t, err, tc.kind, tc.reason, tc.message)
		})
	}
}

func TestDecodeLimits(t *testing.T) {
	assert.Equal(t, 750_000, requirements.MaxEncodedLen)
	assert.Equal(t, 524_288, requirements.MaxDecodedLen)
}
