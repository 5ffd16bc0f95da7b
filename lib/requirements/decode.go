package requirements

import (
	"bytes"
	"encoding/base64"
	"strings"
	"unicode/utf8"

	"github.com/apache/openserverless-deployer/lib/fault"
)

const (
	// MaxEncodedLen is the largest `file` field accepted, in base64 characters.
	// It is checked before decoding so an oversized field costs nothing.
	MaxEncodedLen = 750_000
	// MaxDecodedLen is the largest dependency file accepted, in bytes (512 KiB).
	// The file travels in a ConfigMap, whose whole data must stay under 1 MiB.
	MaxDecodedLen = 512 << 10
)

// The user-facing messages the start contract fixes word for word.
const (
	msgBase64 = "Requirements file must be valid base64-encoded data"
	msgUTF8   = "Requirements file must be valid UTF-8 text"
)

// Decode turns the base64 `file` field of a build request into the file's
// bytes. The encoding must be strict standard base64: padded, standard
// alphabet, no whitespace or line breaks. The result is at most MaxDecodedLen
// bytes of UTF-8 text without NUL bytes. An empty field decodes to an empty
// file; whether that means "no file" is the caller's decision.
func Decode(b64 string) ([]byte, error) {
	if len(b64) > MaxEncodedLen {
		return nil, fault.New(fault.TooLarge, "FileTooLarge",
			"Requirements file is too large: %d base64 characters, the limit is %d", len(b64), MaxEncodedLen)
	}
	// The decoder skips CR and LF even in strict mode; refuse them here so
	// that "strict" means one unbroken line.
	if strings.ContainsAny(b64, "\r\n") {
		return nil, fault.New(fault.Invalid, "InvalidFile", msgBase64)
	}
	data, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil {
		return nil, fault.Wrap(err, fault.Invalid, "InvalidFile", msgBase64)
	}
	if len(data) > MaxDecodedLen {
		return nil, fault.New(fault.TooLarge, "FileTooLarge",
			"Requirements file is too large: %d bytes, the limit is %d (512 KiB)", len(data), MaxDecodedLen)
	}
	if err := checkText(data); err != nil {
		return nil, err
	}
	return data, nil
}

// checkText refuses bytes that are not UTF-8 text. NUL is refused too: no
// dependency format allows it, and tools that read C strings stop at it.
func checkText(data []byte) error {
	if !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 {
		return fault.New(fault.Invalid, "InvalidFile", msgUTF8)
	}
	return nil
}
