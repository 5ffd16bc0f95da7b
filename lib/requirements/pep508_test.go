package requirements

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRequirement(t *testing.T) {
	tests := []struct {
		in   string
		want requirement
	}{
		{"requests", requirement{Name: "requests"}},
		{"  zope.interface  ", requirement{Name: "zope.interface"}},
		{"requests[security, socks] >= 2.0, <3 ; python_version < \"3.8\"", requirement{
			Name: "requests", Extras: []string{"security", "socks"},
			Specifiers: []specifier{{">=", "2.0"}, {"<", "3"}}, Marker: `python_version < "3.8"`}},
		{"requests (==2.*)", requirement{Name: "requests", Specifiers: []specifier{{"==", "2.*"}}}},
		{"x===any-thing", requirement{Name: "x", Specifiers: []specifier{{"===", "any-thing"}}}},
		{"x~=1.4.5rc1.post2.dev3", requirement{Name: "x", Specifiers: []specifier{{"~=", "1.4.5rc1.post2.dev3"}}}},
		{"x==1!2.0+local.7", requirement{Name: "x", Specifiers: []specifier{{"==", "1!2.0+local.7"}}}},
		{"pkg[a] @ https://example.com/p.whl ; os_name == 'nt'", requirement{
			Name: "pkg", Extras: []string{"a"}, URL: "https://example.com/p.whl", Marker: "os_name == 'nt'"}},
		// A ';' glued to the URL belongs to it, as in packaging.
		{"pkg@https://example.com/p.whl;x", requirement{Name: "pkg", URL: "https://example.com/p.whl;x"}},
		{"pkg;extra == 'test' or (os.name == 'posix' and 'a' not in platform_version)", requirement{
			Name: "pkg", Marker: "extra == 'test' or (os.name == 'posix' and 'a' not in platform_version)"}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseRequirement(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseRequirementMarkerDepth(t *testing.T) {
	deep := "pkg; "
	for range maxMarkerDepth + 2 {
		deep += "("
	}
	_, err := parseRequirement(deep + "os_name == 'x'")
	assert.EqualError(t, err, "invalid environment marker: too deeply nested")
}

func TestShellSplit(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  string
	}{
		{in: "", want: nil},
		{in: "  --pre\t--hash=sha256:ab  ", want: []string{"--pre", "--hash=sha256:ab"}},
		{in: `--index-url "https://a b" 'c d'`, want: []string{"--index-url", "https://a b", "c d"}},
		{in: `a"b"'c'd`, want: []string{"abcd"}},
		{in: `"a\"b\\c\d"`, want: []string{`a"b\c\d`}},
		{in: `'a\b'`, want: []string{`a\b`}},
		{in: `a\ b`, want: []string{"a b"}},
		{in: `""`, want: []string{""}},
		{in: `"open`, err: "no closing quotation"},
		{in: `'open`, err: "no closing quotation"},
		{in: `end\`, err: `no escaped character after '\'`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := shellSplit(tc.in)
			if tc.err != "" {
				assert.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestPipLines(t *testing.T) {
	// What pip's join_lines and ignore_comments make of the same text.
	in := "a\r\n\n# c \\\nb \\\n  c\\\n\\d # note\ne#frag\u0085f\u2028\\"
	want := []pipLine{{1, "a"}, {4, `b   c\d`}, {7, "e#frag"}, {8, "f"}}
	assert.Equal(t, want, pipLines(in))
}
