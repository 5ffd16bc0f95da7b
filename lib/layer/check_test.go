package layer

import (
	"archive/tar"
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// tarOf writes a tar of the headers; a regular file's Linkname is its content.
func tarOf(t *testing.T, hdrs ...*tar.Header) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, orig := range hdrs {
		h := *orig
		if h.Typeflag == tar.TypeReg && h.Size == 0 {
			h.Size = int64(len(h.Linkname))
			content := h.Linkname
			h.Linkname = ""
			if err := tw.WriteHeader(&h); err != nil {
				t.Fatal(err)
			}
			_, _ = tw.Write([]byte(content))
			continue
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestCheck(t *testing.T) {
	dir := &tar.Header{Name: "usr/lib/", Typeflag: tar.TypeDir, Mode: 0o755}
	file := &tar.Header{Name: "usr/lib/a", Typeflag: tar.TypeReg, Mode: 0o644, Linkname: "content"}
	big := &tar.Header{Name: "usr/lib/big", Typeflag: tar.TypeReg, Mode: 0o644, Linkname: strings.Repeat("x", 10000)}
	cases := []struct {
		name    string
		layer   []byte
		limit   int64
		invalid string
	}{
		{"files, links, whiteouts", tarOf(t, dir, file,
			&tar.Header{Name: "usr/lib/b", Typeflag: tar.TypeLink, Linkname: "usr/lib/a"},
			&tar.Header{Name: "usr/lib/c", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"},
			&tar.Header{Name: "usr/lib/.wh.gone", Typeflag: tar.TypeReg}), 0, ""},
		{"within the bound", tarOf(t, big), 20000, ""},
		{"over the bound", tarOf(t, big), 8000, "larger than 8000 bytes"},
		{"absolute path", tarOf(t, &tar.Header{Name: "/etc/passwd", Typeflag: tar.TypeReg, Linkname: "x"}), 0, "not a relative path"},
		{"dot dot", tarOf(t, &tar.Header{Name: "usr/../../etc/passwd", Typeflag: tar.TypeReg, Linkname: "x"}), 0, "leaves the root"},
		{"hard link out of the root", tarOf(t, &tar.Header{Name: "a", Typeflag: tar.TypeLink, Linkname: "../etc/shadow"}), 0, "leaves the root"},
		{"hard link to nothing before", tarOf(t, &tar.Header{Name: "a", Typeflag: tar.TypeLink, Linkname: "etc/shadow"}), 0, "comes nowhere before it"},
		{"character device", tarOf(t, &tar.Header{Name: "dev/null", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3}), 0, "not a file"},
		{"block device", tarOf(t, &tar.Header{Name: "sda", Typeflag: tar.TypeBlock}), 0, "not a file"},
		{"not a tar", bytes.Repeat([]byte("garbage!"), 100), 0, "reading the tar"},
		{"truncated", tarOf(t, big)[:3000], 0, "reading usr/lib/big"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Check(bytes.NewReader(c.layer), c.limit)
			if c.invalid == "" {
				assert.NoError(t, err)
				return
			}
			if assert.Error(t, err) {
				assert.True(t, errors.Is(err, ErrInvalid), err.Error())
				assert.Contains(t, err.Error(), c.invalid)
			}
		})
	}
}
