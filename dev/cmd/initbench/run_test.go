package main

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ackScript acknowledges on file descriptor 3 and serves until stdin closes,
// as an ActionLoop executable does.
const ackScript = "#!/bin/sh\necho '{\"ok\":true}' >&3\nwhile read -r line; do :; done\n"

type entry struct {
	name string
	mode os.FileMode
	body string
}

// writeZip packs entries into dir/<action>.zip and returns its path.
func writeZip(t *testing.T, dir, action string, entries ...entry) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		h.SetMode(e.mode)
		w, err := zw.CreateHeader(h)
		require.NoError(t, err)
		_, err = w.Write([]byte(e.body))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	path := filepath.Join(dir, action+".zip")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	return path
}

func TestRunMeasuresEachZipAndLeavesNothing(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	zips := t.TempDir()
	env := entry{"exec.env", 0o644, "apacheopenserverless/runtime-golang-v1.22\n"}
	first := writeZip(t, zips, "first", entry{"exec", 0o755, ackScript}, env)
	second := writeZip(t, zips, "second", entry{"exec", 0o755, ackScript + strings.Repeat("#", 3_000_000) + "\n"}, env)

	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, []string{first, second}, 3, 10*time.Second))

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 4, "a header, a rule and one row per zip:\n%s", out.String())
	assert.Contains(t, lines[0], "(n=3)")
	assert.True(t, strings.HasPrefix(lines[2], "| first | 0.0 MB | 0.0 MB | "), lines[2])
	assert.True(t, strings.HasPrefix(lines[3], "| second | "), lines[3])
	assert.Contains(t, lines[3], "| 3.0 MB | ", "the exec's size, unzipped")

	left, err := os.ReadDir(tmp)
	require.NoError(t, err)
	assert.Empty(t, left, "the work folder is removed")
}

func TestRunFailures(t *testing.T) {
	env := entry{"exec.env", 0o644, "apacheopenserverless/runtime-golang-v1.22"}
	tests := []struct {
		name    string
		entries []entry
		want    string
	}{
		{"exec exits without its acknowledgement", []entry{{"exec", 0o755, "#!/bin/sh\nexit 3\n"}, env}, "closed file descriptor 3"},
		{"no exec.env", []entry{{"exec", 0o755, ackScript}}, "reading exec.env"},
		{"no exec", []entry{env}, "the zip holds no exec"},
		{"an entry outside the folder", []entry{{"../exec", 0o755, ackScript}, env}, "not below the action's folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			path := writeZip(t, t.TempDir(), "bad", tt.entries...)

			var out bytes.Buffer
			err := run(context.Background(), &out, []string{path}, 2, 10*time.Second)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Empty(t, out.String(), "no half table")
			left, err := os.ReadDir(tmp)
			require.NoError(t, err)
			assert.Empty(t, left, "the work folder is removed")
		})
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		name string
		in   []time.Duration
		want time.Duration
	}{
		{"one", []time.Duration{7}, 7},
		{"odd, unsorted", []time.Duration{9, 1, 5}, 5},
		{"even: the mean of the middle two", []time.Duration{4, 1, 10, 2}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]time.Duration(nil), tt.in...)
			assert.Equal(t, tt.want, median(tt.in))
			assert.Equal(t, in, tt.in, "the runs keep their order")
		})
	}
}
