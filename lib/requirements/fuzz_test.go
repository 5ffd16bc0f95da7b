package requirements_test

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/requirements"
	"github.com/apache/openserverless-deployer/lib/webaction"
)

// FuzzCheck feeds arbitrary bytes to the checker of every kind: it must never
// panic; what it refuses it refuses as a client mistake (400, reason
// InvalidFile, a message naming the file); what it accepts is UTF-8 text
// without NUL; and the answer is the same every time.
func FuzzCheck(f *testing.F) {
	seeds := []string{
		"", "requests>=2.0; python_version < \"3.8\"\n-e .\n", "pkg @ https://x/y.whl ; os_name == 'nt'\n",
		"a \\\n --hash=sha256:" + sha256Hex + "\n", "--index-url 'https://x'\n", "pkg; ((((extra == \"x\"))))",
		`{"dependencies": {"a": "file:../a"}, "overrides": {"b": {"c": "1"}}}`, "{\n\"a\": [1, {\"b\": null}]\n",
		`{"repositories": [{"type": "path"}]}`, `{"dependencies": {"a": {"target": "project"}}}`,
		"module m\n\nreplace a => ../a\nrequire b v1.0.0\n", "<project><parent><relativePath>x</relativePath></parent></project>",
		"<?xml version=\"1.0\"?><!DOCTYPE p><project/>", "<project><a>&amp;</a>",
		railsGemfile, "gem 'x', %i[a", "gem \"#{x}\"", "group :a do\n", "gem 'a', [:b, [", "`ls`",
		"pkg\x00", "pkg\xff\n",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	kinds := requirements.Kinds()
	f.Fuzz(func(t *testing.T, file string) {
		for _, kind := range kinds {
			err := requirements.Check(kind, []byte(file))
			checkRefusal(t, kind, err)
			again := requirements.Check(kind, []byte(file))
			assert.Equal(t, err == nil, again == nil, "kind %s answers differently for the same file", kind)
			if err == nil {
				assert.True(t, utf8.ValidString(file), "kind %s accepts invalid UTF-8", kind)
				assert.NotContains(t, file, "\x00", "kind %s accepts NUL", kind)
			}
		}
	})
}

// checkRefusal: a refusal of Check is a fault of kind Invalid, answered 400,
// whose message names the file (or the text rule, which every kind shares).
func checkRefusal(t *testing.T, kind string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	fe := fault.As(err)
	require.NotNil(t, fe, "Check(%q) returned %T %v, not a *fault.Error", kind, err, err)
	require.Equal(t, fault.Invalid, fe.Kind, "Check(%q): %v", kind, err)
	assert.Equal(t, http.StatusBadRequest, webaction.Status(err))
	name, ok := requirements.FileName(kind)
	if !ok {
		assert.Equal(t, "UnsupportedKind", fe.Reason)
		return
	}
	assert.Equal(t, "InvalidFile", fe.Reason)
	if fe.Message != "Requirements file must be valid UTF-8 text" {
		assert.True(t, strings.HasPrefix(fe.Message, name+" line ") || strings.HasPrefix(fe.Message, name+":"),
			"Check(%q): message %q does not name %s", kind, fe.Message, name)
	}
}

// FuzzDecodeCheck follows the `file` field of a start request: the strict
// base64 decoding, then the check of the fuzzed kind. A file that passes
// both is UTF-8 text within both size limits, and its field is its one
// canonical encoding; every refusal is a 4xx (400, or 413 for the sizes).
// The field is file encoded, or raw as sent when raw is not empty.
func FuzzDecodeCheck(f *testing.F) {
	enc := base64.StdEncoding.EncodeToString
	f.Add("python", []byte("requests==2.32.3\n"), "")
	f.Add("nodejs", []byte(`{"dependencies":{"left-pad":"1.3.0"}}`), "")
	f.Add("go", []byte("module m\n\ngo 1.22\n"), "")
	f.Add("python", []byte(nil), "cmVxdWVzdHM=\n")
	f.Add("python", []byte(nil), "cmVxdWVzdHM")
	f.Add("ruby", []byte(nil), "Z2VtICdyYWlscyc=")
	f.Add("cobol", []byte("x"), "")
	f.Add("python", []byte(nil), strings.Repeat("A", requirements.MaxEncodedLen+4))
	f.Add("python", bytes.Repeat([]byte("a"), requirements.MaxDecodedLen+1), "")
	f.Fuzz(func(t *testing.T, kind string, file []byte, raw string) {
		field := raw
		if field == "" {
			field = enc(file)
		}
		data, err := requirements.Decode(field)
		if err != nil {
			fe := fault.As(err)
			require.NotNil(t, fe, "Decode returned %T %v, not a *fault.Error", err, err)
			status := webaction.Status(err)
			if fe.Reason == "FileTooLarge" {
				assert.Equal(t, http.StatusRequestEntityTooLarge, status)
			} else {
				assert.Equal(t, http.StatusBadRequest, status, "%v", err)
			}
			if len(field) > requirements.MaxEncodedLen {
				assert.Equal(t, "FileTooLarge", fe.Reason)
			}
			return
		}
		assert.LessOrEqual(t, len(field), requirements.MaxEncodedLen)
		assert.LessOrEqual(t, len(data), requirements.MaxDecodedLen)
		assert.True(t, utf8.Valid(data))
		assert.NotContains(t, string(data), "\x00")
		assert.Equal(t, field, enc(data), "a field other than the canonical encoding was accepted")
		if raw == "" {
			assert.Equal(t, string(file), string(data))
		}
		checkRefusal(t, kind, requirements.Check(kind, data))
	})
}
