package layer

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// ErrInvalid is wrapped by every error Check returns for a layer it
// rejects, as apart from a failure to read it.
var ErrInvalid = errors.New("invalid layer")

// Check reads a layer tarball to its end and rejects it unless it is a
// well-formed tar of at most limit bytes (limit ≤ 0: no bound) whose
// entries are files, directories, symlinks, hard links to earlier entries
// or named pipes, each named by a relative path with no "..".
func Check(r io.Reader, limit int64) error {
	if limit > 0 {
		r = io.LimitReader(r, limit+1) // one byte past the bound is enough to know
	}
	counted := &countingReader{r: r}
	tooLarge := func() bool { return limit > 0 && counted.n > limit }
	tr := tar.NewReader(counted)
	seen := map[string]bool{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if tooLarge() {
			return fmt.Errorf("%w: larger than %d bytes", ErrInvalid, limit)
		}
		if err != nil {
			return fmt.Errorf("%w: reading the tar: %v", ErrInvalid, err)
		}
		name, err := entryName(hdr.Name)
		if err != nil {
			return err
		}
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeFifo:
		case tar.TypeLink:
			target, err := entryName(hdr.Linkname)
			if err != nil {
				return err
			}
			if !seen[target] {
				return fmt.Errorf("%w: %s links to %s, which comes nowhere before it", ErrInvalid, name, target)
			}
		default:
			return fmt.Errorf("%w: %s is of type %q, not a file, directory, link or pipe", ErrInvalid, name, hdr.Typeflag)
		}
		seen[name] = true
		if _, err := io.Copy(io.Discard, tr); err != nil || tooLarge() {
			if tooLarge() {
				return fmt.Errorf("%w: larger than %d bytes", ErrInvalid, limit)
			}
			return fmt.Errorf("%w: reading %s: %v", ErrInvalid, name, err)
		}
	}
	// The rest past the end-of-archive blocks counts towards the bound too.
	if _, err := io.Copy(io.Discard, counted); err != nil {
		return fmt.Errorf("reading the layer: %w", err)
	}
	if tooLarge() {
		return fmt.Errorf("%w: larger than %d bytes", ErrInvalid, limit)
	}
	return nil
}

// entryName checks a name in a layer: relative, no "..", not the root.
func entryName(name string) (string, error) {
	clean := path.Clean(name)
	switch {
	case name == "" || strings.HasPrefix(name, "/"):
		return "", fmt.Errorf("%w: the entry %q is not a relative path", ErrInvalid, name)
	case clean == "." || clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains("/"+name+"/", "/../"):
		return "", fmt.Errorf("%w: the entry %q leaves the root", ErrInvalid, name)
	}
	return clean, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
