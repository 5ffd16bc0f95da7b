package layer

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// WhiteoutPrefix marks an entry of a lower layer that this layer deletes.
const WhiteoutPrefix = ".wh."

// changes writes, as one tar to w, what changed below root since b: each
// directory's whiteouts, then its changed entries, parents before children.
type changes struct {
	written int // entries written, whiteouts included
	root    string
	ex      *exclusions
	b       *before
	tw      *tar.Writer
	links   map[[2]uint64]string // (device, inode) → the name first written
	warn    io.Writer
}

func writeChanges(w io.Writer, root string, ex *exclusions, b *before, warn io.Writer) (entries int, err error) {
	c := &changes{root: root, ex: ex, b: b, tw: tar.NewWriter(w), links: map[[2]uint64]string{}, warn: warn}
	// Most entries have not changed: the scan stats every entry relative
	// to its open folder, a few folders at a time, and only a changed one
	// is read in full, afterwards, in order.
	start := unix.NsecToTimespec(b.start.UnixNano())
	if err := c.dir(scan(root, ex, &start)); err != nil {
		return c.written, err
	}
	return c.written, c.tw.Close()
}

func (c *changes) dir(f *folder) error {
	if f.err != nil {
		return fmt.Errorf("reading %s: %w", f.path, f.err)
	}
	if err := c.whiteouts(f.path, f.entries); err != nil {
		return err
	}
	children := f.children
	for _, e := range f.entries {
		if e.changed {
			path := join(f.path, e.name)
			info, err := os.Lstat(path)
			if err != nil {
				return fmt.Errorf("reading %s: %w", path, err)
			}
			if err := c.entry(path, info); err != nil {
				return err
			}
		}
		if e.dir {
			if err := c.dir(children[0]); err != nil {
				return err
			}
			children = children[1:]
		}
	}
	return f.entryErr
}

// whiteouts writes a whiteout for each entry dir had when the command
// began and has no more. An entry that changed kind (a directory replaced
// by a file, or the other way round) gets none: a new entry replaces an
// old one of another kind wherever layers are applied (containerd removes
// the old one; go-containerregistry's flattening lets the upper one hide
// the lower and, for a non-directory, all below it), while a whiteout
// beside an entry of the same name hides the new entry in one of them or
// the other, whichever comes first. A directory new since then had
// nothing to hide. Both lists are in name order.
func (c *changes) whiteouts(dir string, entries []dirent) error {
	old, ok := c.b.entries[dir]
	if !ok {
		return nil
	}
	i := 0
	for _, name := range old {
		for i < len(entries) && entries[i].name < name {
			i++
		}
		if i < len(entries) && entries[i].name == name {
			continue
		}
		if err := c.whiteout(dir, name); err != nil {
			return err
		}
	}
	return nil
}

// whiteout writes the whiteout entry that hides dir/name, which the install
// deleted.
func (c *changes) whiteout(dir, name string) error {
	hdr := &tar.Header{
		Name:     c.name(filepath.Join(dir, WhiteoutPrefix+name), false),
		Typeflag: tar.TypeReg,
		Mode:     0o600,
		Format:   tar.FormatPAX,
	}
	if err := c.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("writing the whiteout of %s: %w", filepath.Join(dir, name), err)
	}
	c.written++
	return nil
}

// entry writes one changed file, directory or link with its mode, owner,
// mtime and xattrs; a file with more than one link whose inode was written
// already becomes a hard link to that name.
func (c *changes) entry(path string, info fs.FileInfo) error {
	st := info.Sys().(*syscall.Stat_t)
	hdr := &tar.Header{
		Name:    c.name(path, info.IsDir()),
		Mode:    int64(unixMode(info.Mode())),
		Uid:     int(st.Uid),
		Gid:     int(st.Gid),
		ModTime: info.ModTime(),
		Format:  tar.FormatPAX,
	}
	mode := info.Mode()
	switch {
	case mode.IsDir():
		hdr.Typeflag = tar.TypeDir
	case mode&fs.ModeSymlink != 0:
		target, err := os.Readlink(path)
		if err != nil {
			return fmt.Errorf("reading the link %s: %w", path, err)
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
	case mode&fs.ModeNamedPipe != 0:
		hdr.Typeflag = tar.TypeFifo
	case mode.IsRegular():
		hdr.Typeflag, hdr.Size = tar.TypeReg, info.Size()
		if st.Nlink > 1 {
			key := [2]uint64{uint64(st.Dev), st.Ino}
			if first, ok := c.links[key]; ok {
				hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			} else {
				c.links[key] = hdr.Name
			}
		}
	default:
		fmt.Fprintf(c.warn, "not in the layer: %s (%s)\n", path, mode.Type())
		return nil
	}
	if err := c.xattrs(path, hdr); err != nil {
		return err
	}
	if err := c.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	c.written++
	if hdr.Typeflag != tar.TypeReg {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	if _, err := io.CopyN(c.tw, f, hdr.Size); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// name is a path's name in the layer: relative to the root, with a
// trailing slash for a directory.
func (c *changes) name(path string, dir bool) string {
	rel, _ := filepath.Rel(c.root, path)
	rel = filepath.ToSlash(rel)
	if dir {
		rel += "/"
	}
	return rel
}

// keptXattr says which extended attributes a layer carries: the user's own
// and file capabilities. security.selinux is the node's label, trusted.*
// the overlay's own bookkeeping: neither belongs to the image.
func keptXattr(name string) bool {
	return strings.HasPrefix(name, "user.") || name == "security.capability"
}

// xattrs adds the kept extended attributes that can be read; a file
// system without them has none.
func (c *changes) xattrs(path string, hdr *tar.Header) error {
	size, err := unix.Llistxattr(path, nil)
	if err != nil || size == 0 {
		return nil
	}
	buf := make([]byte, size)
	size, err = unix.Llistxattr(path, buf)
	if err != nil {
		return nil
	}
	for _, name := range strings.Split(strings.TrimRight(string(buf[:size]), "\x00"), "\x00") {
		if !keptXattr(name) {
			continue
		}
		n, err := unix.Lgetxattr(path, name, nil)
		if err != nil {
			continue
		}
		val := make([]byte, n)
		if n, err = unix.Lgetxattr(path, name, val); err != nil {
			continue
		}
		if hdr.PAXRecords == nil {
			hdr.PAXRecords = map[string]string{}
		}
		hdr.PAXRecords["SCHILY.xattr."+name] = string(val[:n])
	}
	return nil
}

// unixMode is the permission bits of a Go file mode with setuid, setgid
// and sticky at their Unix places, as tar headers carry them.
func unixMode(m fs.FileMode) uint32 {
	u := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		u |= syscall.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		u |= syscall.S_ISGID
	}
	if m&fs.ModeSticky != 0 {
		u |= syscall.S_ISVTX
	}
	return u
}
