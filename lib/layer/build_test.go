package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// extendScript changes a root the way installers do; ROOT names the root,
// since a test cannot change its own.
const extendScript = `#!/bin/sh
set -e
pwd > "$ROOT/usr/lib/cwd"
cd "$ROOT"
echo new > usr/lib/new
echo changed > usr/lib/modify
chmod 0600 usr/lib/chmodme
chmod 0640 usr/lib/xattrfile
rm usr/lib/deleteme
rm -r usr/lib/dirgone
rm -r usr/lib/willbefile
echo now a file > usr/lib/willbefile
mkdir usr/lib/emptydir
ln -s ../lib/new usr/lib/link
ln usr/lib/new usr/lib/hard
echo suid > usr/bin/suid
chmod 4755 usr/bin/suid
echo owned > usr/lib/owned
chown 1234:5678 usr/lib/owned
echo secret > mnt/data/inmount
echo kernel > proc/inproc
echo resolver > etc/resolv.conf
echo "$HOME $FOO" > usr/lib/env
cat tmp/requirements.txt > usr/lib/seen
echo to stdout
echo to stderr >&2
(sleep 0.3; echo late > "$ROOT/usr/lib/late") &
`

// newRoot lays out a base image's files under a temporary root, with a
// mount at mnt/data listed in the mountinfo it returns.
func newRoot(t *testing.T) (root, mountinfo string) {
	t.Helper()
	root = t.TempDir()
	files := map[string]string{
		"usr/lib/keep":           "unchanged",
		"usr/lib/modify":         "old",
		"usr/lib/chmodme":        "mode",
		"usr/lib/xattrfile":      "attrs",
		"usr/lib/deleteme":       "gone",
		"usr/lib/dirgone/a":      "a",
		"usr/lib/dirgone/b":      "b",
		"usr/lib/willbefile/x":   "x",
		"etc/passwd":             "root:x:0:0::/root:/bin/sh\n",
		"etc/resolv.conf":        "nameserver 127.0.0.53\n",
		"mnt/data/mounted":       "on a volume",
		"proc/cpuinfo":           "",
		"app/.keep":              "",
		"tmp/apt-key-gpghome.x1": "keys",
	}
	for name, content := range files {
		p := filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "out"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "bin-extend"), []byte(extendScript), 0o755))
	if err := unix.Lsetxattr(filepath.Join(root, "usr/lib/xattrfile"), "user.origin", []byte("base"), 0); err != nil {
		t.Logf("no user xattrs here: %v", err)
	}
	mountinfo = filepath.Join(t.TempDir(), "mountinfo")
	lines := "26 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n" +
		"100 26 0:50 / " + root + "/mnt/data rw,relatime - tmpfs tmpfs rw\n" +
		"101 26 0:51 / " + root + "/out rw,relatime - tmpfs tmpfs rw\n"
	require.NoError(t, os.WriteFile(mountinfo, []byte(lines), 0o644))
	// Inode times come from a coarse clock: let the base's be older than
	// the start.
	time.Sleep(50 * time.Millisecond)
	return root, mountinfo
}

func options(root, mountinfo string, out *bytes.Buffer) Options {
	dep := filepath.Join(filepath.Dir(mountinfo), "requirements.txt")
	_ = os.WriteFile(dep, []byte("requests==2.32.3\n"), 0o600)
	return Options{
		Root:      root,
		File:      dep,
		Name:      "requirements.txt",
		Out:       filepath.Join(root, "out"),
		Command:   filepath.Join(root, "bin-extend"),
		Env:       []string{"ROOT=" + root, "FOO=bar", "PATH=/usr/bin:/bin"},
		Dir:       filepath.Join(root, "app"),
		Mountinfo: mountinfo,
		Stdout:    out,
		Stderr:    out,
	}
}

type entry struct {
	hdr     *tar.Header
	content string
}

func readLayer(t *testing.T, path string) map[string]entry {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	out := map[string]entry{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		b, err := io.ReadAll(tr)
		require.NoError(t, err)
		require.NotContains(t, out, hdr.Name, "written twice")
		out[hdr.Name] = entry{hdr: hdr, content: string(b)}
	}
}

func TestBuildWritesWhatChanged(t *testing.T) {
	root, mountinfo := newRoot(t)
	var output bytes.Buffer
	o := options(root, mountinfo, &output)
	began := time.Now()
	require.NoError(t, Build(context.Background(), o))
	assert.Less(t, time.Since(began), 5*time.Second, "the background process was killed, not awaited")
	assert.Contains(t, output.String(), "to stdout\n")
	assert.Contains(t, output.String(), "to stderr\n")

	layer := readLayer(t, filepath.Join(o.Out, FileName))
	info, err := os.Stat(filepath.Join(o.Out, FileName))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), info.Mode().Perm(), "the push step may be another user")
	reg := func(name, content string, mode int64) {
		t.Helper()
		e, ok := layer[name]
		if assert.True(t, ok, "%s is in the layer", name) {
			assert.Equal(t, byte(tar.TypeReg), e.hdr.Typeflag, name)
			assert.Equal(t, content, e.content, name)
			assert.Equal(t, mode, e.hdr.Mode, name)
		}
	}
	reg("tmp/requirements.txt", "requests==2.32.3\n", 0o644)
	reg("usr/lib/modify", "changed\n", 0o644)
	reg("usr/lib/chmodme", "mode", 0o600)
	reg("usr/lib/willbefile", "now a file\n", 0o644)
	reg("usr/bin/suid", "suid\n", 0o4755)
	reg("usr/lib/owned", "owned\n", 0o644)
	reg("usr/lib/cwd", filepath.Join(root, "app")+"\n", 0o644)
	reg("usr/lib/env", "/root bar\n", 0o644)
	reg("usr/lib/seen", "requests==2.32.3\n", 0o644)
	assert.Equal(t, 0, layer["tmp/requirements.txt"].hdr.Uid)
	assert.Equal(t, 1234, layer["usr/lib/owned"].hdr.Uid)
	assert.Equal(t, 5678, layer["usr/lib/owned"].hdr.Gid)

	t.Run("hard link", func(t *testing.T) {
		first, link := layer["usr/lib/hard"], layer["usr/lib/new"]
		assert.Equal(t, byte(tar.TypeReg), first.hdr.Typeflag)
		assert.Equal(t, "new\n", first.content)
		assert.Equal(t, byte(tar.TypeLink), link.hdr.Typeflag)
		assert.Equal(t, "usr/lib/hard", link.hdr.Linkname)
	})
	t.Run("symlink and empty directory", func(t *testing.T) {
		assert.Equal(t, byte(tar.TypeSymlink), layer["usr/lib/link"].hdr.Typeflag)
		assert.Equal(t, "../lib/new", layer["usr/lib/link"].hdr.Linkname)
		assert.Equal(t, byte(tar.TypeDir), layer["usr/lib/emptydir/"].hdr.Typeflag)
		assert.Equal(t, int64(0o755), layer["usr/lib/emptydir/"].hdr.Mode)
	})
	t.Run("whiteouts", func(t *testing.T) {
		for _, name := range []string{"usr/lib/.wh.deleteme", "usr/lib/.wh.dirgone"} {
			assert.Contains(t, layer, name)
		}
		assert.NotContains(t, layer, "usr/lib/.wh.willbefile", "the file replaces the directory of that name")
		assert.NotContains(t, layer, "usr/lib/dirgone/.wh.a", "a deleted directory takes its contents with it")
	})
	t.Run("xattrs", func(t *testing.T) {
		if _, err := unix.Lgetxattr(filepath.Join(root, "usr/lib/xattrfile"), "user.origin", nil); err != nil {
			t.Skip("no user xattrs on this file system")
		}
		assert.Equal(t, "base", layer["usr/lib/xattrfile"].hdr.PAXRecords["SCHILY.xattr.user.origin"])
		assert.Equal(t, int64(0o640), layer["usr/lib/xattrfile"].hdr.Mode)
	})
	t.Run("left out", func(t *testing.T) {
		for name := range layer {
			for _, prefix := range []string{"mnt/data", "out", "proc", "etc/resolv.conf", "tmp/apt-key-gpghome"} {
				assert.False(t, strings.HasPrefix(name, prefix), "%s is in the layer", name)
			}
		}
		for _, name := range []string{"usr/lib/keep", "etc/passwd", "etc/", "usr/lib/dirgone/a", "app/.keep", "usr/lib/late"} {
			assert.NotContains(t, layer, name)
		}
	})
	t.Run("nothing writes after the command", func(t *testing.T) {
		time.Sleep(500 * time.Millisecond)
		assert.NoFileExists(t, filepath.Join(root, "usr/lib/late"))
	})
	require.NoError(t, Check(bytes.NewReader(mustRead(t, filepath.Join(o.Out, FileName))), 0), "Build writes what Check accepts")
}

func TestBuildFailureWritesNoLayer(t *testing.T) {
	root, mountinfo := newRoot(t)
	require.NoError(t, os.WriteFile(filepath.Join(root, "bin-extend"),
		[]byte("#!/bin/sh\necho 'npm ERR! 404 Not Found: left-pad@9.9.9'\necho 'npm ERR! details' >&2\nexit 3\n"), 0o755))
	var output bytes.Buffer
	o := options(root, mountinfo, &output)

	err := Build(context.Background(), o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exit status 3")
	assert.True(t, strings.HasPrefix(output.String(), "npm ERR! 404 Not Found: left-pad@9.9.9\n"), output.String())
	left, err := os.ReadDir(o.Out)
	require.NoError(t, err)
	assert.Empty(t, left, "no layer, no temporary file")
}

func TestBuildRejectsBadNames(t *testing.T) {
	for _, name := range []string{"", "../x", "a/b", ".", ".."} {
		t.Run(name, func(t *testing.T) {
			err := Build(context.Background(), Options{File: "f", Out: t.TempDir(), Name: name})
			assert.Error(t, err)
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}
