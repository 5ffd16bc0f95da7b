package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// The serial walks the scan replaced, kept as they were to compare with:
// refRecord and refWriteChanges must give the same entries and the same
// bytes as record and writeChanges.

func refRecord(root string, ex *exclusions, start time.Time) (*before, error) {
	b := &before{start: start, entries: map[string][]string{}}
	err := refWalkDirs(root, ex, func(dir string, entries []fs.DirEntry) {
		names := make([]string, len(entries))
		for i, e := range entries {
			names[i] = e.Name()
		}
		b.entries[dir] = names
	})
	if err != nil {
		return nil, fmt.Errorf("reading the root's entries: %w", err)
	}
	return b, nil
}

func refWalkDirs(root string, ex *exclusions, fn func(dir string, entries []fs.DirEntry)) error {
	entries, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	kept := entries[:0]
	for _, e := range entries {
		if !ex.excluded(filepath.Join(root, e.Name())) {
			kept = append(kept, e)
		}
	}
	fn(root, kept)
	for _, e := range kept {
		if e.IsDir() {
			if err := refWalkDirs(filepath.Join(root, e.Name()), ex, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

func refWriteChanges(w io.Writer, root string, ex *exclusions, b *before, warn io.Writer) (int, error) {
	c := &changes{root: root, ex: ex, b: b, tw: tar.NewWriter(w), links: map[[2]uint64]string{}, warn: warn}
	if err := refDir(c, root); err != nil {
		return c.written, err
	}
	return c.written, c.tw.Close()
}

func refDir(c *changes, dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("reading %s: %w", dir, err)
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return fmt.Errorf("reading %s: %w", dir, err)
	}
	entries = slices.DeleteFunc(entries, func(e fs.DirEntry) bool { return c.ex.excluded(filepath.Join(dir, e.Name())) })
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	if err := refWhiteouts(c, dir, entries); err != nil {
		return err
	}
	fd := int(f.Fd())
	start := unix.NsecToTimespec(c.b.start.UnixNano())
	for _, e := range entries {
		var st unix.Stat_t
		if err := unix.Fstatat(fd, e.Name(), &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("reading %s: %w", filepath.Join(dir, e.Name()), err)
		}
		path := filepath.Join(dir, e.Name())
		if st.Ctim.Sec > start.Sec || (st.Ctim.Sec == start.Sec && st.Ctim.Nsec >= start.Nsec) {
			info, err := os.Lstat(path)
			if err != nil {
				return fmt.Errorf("reading %s: %w", path, err)
			}
			if err := c.entry(path, info); err != nil {
				return err
			}
		}
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			if err := refDir(c, path); err != nil {
				return err
			}
		}
	}
	return nil
}

func refWhiteouts(c *changes, dir string, entries []fs.DirEntry) error {
	old, ok := c.b.entries[dir]
	if !ok {
		return nil
	}
	now := make(map[string]bool, len(entries))
	for _, e := range entries {
		now[e.Name()] = true
	}
	for _, name := range old {
		if now[name] {
			continue
		}
		if err := c.whiteout(dir, name); err != nil {
			return err
		}
	}
	return nil
}

// bigRoot adds to newRoot's tree a few thousand entries of every kind, in
// folders wide and deep, so that the workers overtake one another.
func bigRoot(t *testing.T) (root, mountinfo string) {
	root, mountinfo = newRoot(t)
	for i := range 30 {
		dir := filepath.Join(root, "usr/share", fmt.Sprintf("pkg%02d", i))
		for depth := range i % 7 {
			dir = filepath.Join(dir, fmt.Sprintf("level%d", depth))
		}
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for j := range 40 + i*3 {
			name := filepath.Join(dir, fmt.Sprintf("f%03d-%s", j, strings.Repeat("x", j%5)))
			require.NoError(t, os.WriteFile(name, []byte(name), 0o644))
		}
		require.NoError(t, os.Symlink("..", filepath.Join(dir, "up")), "a symlink to a folder is not followed")
		require.NoError(t, os.Link(filepath.Join(dir, "f000-"), filepath.Join(dir, "hard")))
		require.NoError(t, unix.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "empty", "nested"), 0o755))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(root, "tmp/apt-key-gpghome.y2/sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "tmp/apt-key-gpghome-file"), nil, 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "tmp/apt-key-gpghom"), 0o755), "not the prefix")
	time.Sleep(50 * time.Millisecond)
	return root, mountinfo
}

// changeBig changes the big tree as an install would, in every folder kind.
func changeBig(t *testing.T, root string) {
	for i := range 30 {
		dir := filepath.Join(root, "usr/share", fmt.Sprintf("pkg%02d", i))
		for depth := range i % 7 {
			dir = filepath.Join(dir, fmt.Sprintf("level%d", depth))
		}
		switch i % 5 {
		case 0:
			require.NoError(t, os.Remove(filepath.Join(dir, "f001-x")))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "f002-xx"), []byte("changed"), 0o644))
		case 1:
			require.NoError(t, os.RemoveAll(filepath.Join(dir, "empty")))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "empty"), []byte("now a file"), 0o600))
		case 2:
			require.NoError(t, os.Chmod(filepath.Join(dir, "f003-xxx"), 0o755))
			require.NoError(t, os.Link(filepath.Join(dir, "f003-xxx"), filepath.Join(dir, "aa-hard")))
		case 3:
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "new/deeper/still"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "new/deeper/still/file"), []byte("new"), 0o644))
			require.NoError(t, os.Symlink("../f000-", filepath.Join(dir, "new/link")))
		}
	}
	require.NoError(t, os.WriteFile(filepath.Join(root, "tmp/apt-key-gpghome.y2/sub/new"), nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "tmp/apt-key-gpghom/new"), nil, 0o644))
}

func TestScanWritesWhatTheSerialWalkWrote(t *testing.T) {
	root, mountinfo := bigRoot(t)
	o := options(root, mountinfo, &bytes.Buffer{})
	ex, err := newExclusions(root, o.Out, mountinfo)
	require.NoError(t, err)
	start, err := startTime(o.Out)
	require.NoError(t, err)

	want, err := refRecord(root, ex, start)
	require.NoError(t, err)
	for range 5 {
		got, err := record(root, ex, start)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	whole := func(write func(io.Writer, string, *exclusions, *before, io.Writer) (int, error)) ([]byte, int) {
		var b bytes.Buffer
		n, err := write(&b, root, ex, &before{entries: map[string][]string{}}, io.Discard)
		require.NoError(t, err)
		return b.Bytes(), n
	}
	wantWhole, n := whole(refWriteChanges)
	assert.Greater(t, n, 2500, "the whole tree")
	gotWhole, _ := whole(writeChanges)
	require.Equal(t, wantWhole, gotWhole, "every entry, as from the zero time")

	// The extend script's changes and the big tree's.
	require.NoError(t, copyFile(filepath.Join(filepath.Dir(mountinfo), "requirements.txt"), filepath.Join(root, "tmp/requirements.txt")))
	o.Env = append(o.Env, "HOME=/root")
	require.NoError(t, run(context.Background(), []string{"/bin/sh", "-c", o.Command}, o.Dir, o.Env, io.Discard, io.Discard))
	changeBig(t, root)
	var wantLayer bytes.Buffer
	n, err = refWriteChanges(&wantLayer, root, ex, want, io.Discard)
	require.NoError(t, err)
	assert.Greater(t, n, 50)
	for range 5 {
		var got bytes.Buffer
		m, err := writeChanges(&got, root, ex, want, io.Discard)
		require.NoError(t, err)
		require.Equal(t, n, m)
		require.Equal(t, wantLayer.Bytes(), got.Bytes())
	}
	names := summary(t, wantLayer.Bytes())
	for _, name := range []string{"usr/share/pkg00/.wh.f001-x", "usr/share/pkg00/f002-xx", "usr/share/pkg01/level0/empty",
		"usr/share/pkg02/level0/level1/aa-hard", "usr/share/pkg03/level0/level1/level2/new/deeper/still/file", "usr/lib/.wh.deleteme"} {
		assert.Contains(t, names, name)
	}
	assert.NotContains(t, names, "tmp/apt-key-gpghome.y2/sub/new")
	assert.Contains(t, names, "tmp/apt-key-gpghom/new")
}

func TestScanErrorsAsTheSerialWalk(t *testing.T) {
	root, mountinfo := newRoot(t)
	ex, err := newExclusions(root, filepath.Join(root, "out"), mountinfo)
	require.NoError(t, err)
	gone := filepath.Join(root, "gone")
	_, wantErr := refRecord(gone, ex, time.Time{})
	_, gotErr := record(gone, ex, time.Time{})
	require.Error(t, gotErr)
	assert.Equal(t, wantErr.Error(), gotErr.Error())
	_, wantErr = refWriteChanges(io.Discard, gone, ex, &before{}, io.Discard)
	_, gotErr = writeChanges(io.Discard, gone, ex, &before{}, io.Discard)
	require.Error(t, gotErr)
	assert.Equal(t, wantErr.Error(), gotErr.Error())
	assert.ErrorIs(t, gotErr, syscall.ENOENT)
}

// On LAYER_BENCH_ROOT (see bench_test.go), a whole base image: the same
// entries, and the same layer of every file from the zero time.
func TestScanWritesWhatTheSerialWalkWroteOnBenchRoot(t *testing.T) {
	root := os.Getenv("LAYER_BENCH_ROOT")
	if root == "" {
		t.Skip("LAYER_BENCH_ROOT is not set")
	}
	root = filepath.Clean(root)
	tmp := t.TempDir()
	mountinfo := filepath.Join(tmp, "mountinfo")
	require.NoError(t, os.WriteFile(mountinfo, nil, 0o644))
	ex, err := newExclusions(root, tmp, mountinfo)
	require.NoError(t, err)
	want, err := refRecord(root, ex, time.Time{})
	require.NoError(t, err)
	got, err := record(root, ex, time.Time{})
	require.NoError(t, err)
	require.Equal(t, want, got)
	sum := func(write func(io.Writer, string, *exclusions, *before, io.Writer) (int, error)) (string, int) {
		h := sha256.New()
		n, err := write(h, root, ex, &before{entries: map[string][]string{}}, io.Discard)
		require.NoError(t, err)
		return hex.EncodeToString(h.Sum(nil)), n
	}
	wantSum, wantN := sum(refWriteChanges)
	gotSum, gotN := sum(writeChanges)
	assert.Equal(t, wantN, gotN)
	assert.Equal(t, wantSum, gotSum)
	t.Logf("%d folders, %d entries, sha256 %s", len(got.entries), gotN, gotSum)
}
