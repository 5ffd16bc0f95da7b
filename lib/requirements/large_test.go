package requirements_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/lib/requirements"
)

// largeFile repeats line until the file is as large as Decode allows, between
// head and tail.
func largeFile(head, line, tail string) []byte {
	var b strings.Builder
	b.WriteString(head)
	for i := 0; b.Len()+len(tail)+len(line)+8 <= requirements.MaxDecodedLen; i++ {
		fmt.Fprintf(&b, line, i)
	}
	b.WriteString(tail)
	return []byte(b.String())
}

// TestCheckLargestFiles checks files of the largest size for each kind,
// valid ones and one with a fault at the very end, so every line is read.
func TestCheckLargestFiles(t *testing.T) {
	tests := []struct {
		kind, head, line, tail string
		badTail, want          string
	}{
		{"python", "", "pkg%d>=1.0\n", "", "-e .\n", "editable requirements (-e) are not allowed"},
		{"nodejs", "{\"dependencies\": {\n", "\"pkg%d\": \"^1.0.0\",\n", "\"last\": \"1\"}}\n", "\"last\": \"file:x\"}}\n", `dependencies "last": local paths`},
		{"php", "{\"require\": {\n", "\"v/pkg%d\": \"^1.0\",\n", "\"v/last\": \"1\"}}\n", "\"v/last\": \"1\"}, \"repositories\": [{\"type\": \"path\"}]}\n", `repositories of type "path"`},
		{"dotnet", "{\"dependencies\": {\n", "\"Pkg%d\": \"1.0.0\",\n", "\"Last\": \"1\"}}\n", "\"Last\": {\"target\": \"project\"}}}\n", `dependencies "Last": project references`},
		{"go", "module m\n\nrequire (\n", "\texample.com/pkg%d v1.0.0\n", ")\n", ")\nreplace a => ../a\n", "replace a => ../a points to a local directory"},
		{"java", "<project><dependencies>\n", "<dependency><artifactId>a%d</artifactId><version>1</version></dependency>\n", "</dependencies></project>\n", "</dependencies><systemPath/></project>\n", "<systemPath> is not allowed"},
		{"ruby", "source 'https://rubygems.org'\n", "gem 'pkg%d', '~> 1.0'\n", "", "gemspec\n", "gemspec is not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.kind, func(t *testing.T) {
			good := largeFile(tc.head, tc.line, tc.tail)
			require.LessOrEqual(t, len(good), requirements.MaxDecodedLen)
			require.Greater(t, len(good), requirements.MaxDecodedLen-200)
			assert.NoError(t, requirements.Check(tc.kind, good))

			bad := largeFile(tc.head, tc.line, tc.badTail)
			err := requirements.Check(tc.kind, bad)
			require.Error(t, err)
			// The fault is on the last line, and reported there.
			file, _ := requirements.FileName(tc.kind)
			last := strings.Count(string(bad), "\n")
			assert.Contains(t, err.Error(), fmt.Sprintf("%s line %d: %s", file, last, tc.want))
		})
	}
}
