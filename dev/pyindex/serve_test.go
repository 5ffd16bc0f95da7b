package pyindex

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServesProjectPages(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "simple", "osd-hello"), 0o755))
	wheel := filepath.Join(dir, "simple", "osd-hello", "osd_hello-1.0.0-py3-none-any.whl")
	require.NoError(t, os.WriteFile(wheel, []byte("PK wheel"), 0o644))

	s, err := Start(dir, "127.0.0.1")
	require.NoError(t, err)
	defer func() { assert.NoError(t, s.Stop()) }()
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+/simple/$`, s.URL)

	tests := []struct {
		name, path string
		status     int
		contains   string
	}{
		{"project page links its wheel", "osd-hello/", http.StatusOK, `<a href="osd_hello-1.0.0-py3-none-any.whl">`},
		{"the wheel itself", "osd-hello/osd_hello-1.0.0-py3-none-any.whl", http.StatusOK, "PK wheel"},
		{"unknown project", "nope/", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(s.URL + tt.path)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Contains(t, string(body), tt.contains)
		})
	}
}

func TestRefusesFolderWithoutSimple(t *testing.T) {
	_, err := Start(t.TempDir(), "127.0.0.1")
	assert.ErrorContains(t, err, "no simple/ folder")
}
