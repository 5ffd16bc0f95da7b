package main

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/lib/layer"
)

func TestRunPassesTheFlags(t *testing.T) {
	root, dir := t.TempDir(), t.TempDir()
	out := filepath.Join(dir, "out")
	require.NoError(t, os.MkdirAll(out, 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "action"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"dependencies":{}}`), 0o644))
	extend := filepath.Join(dir, "extend")
	require.NoError(t, os.WriteFile(extend, []byte("echo \"$GREETING from $(pwd) as $0\" > \"$ROOT/action/made\"\necho done\n"), 0o755))
	mountinfo := filepath.Join(dir, "mountinfo")
	require.NoError(t, os.WriteFile(mountinfo, nil, 0o644))
	var stdout, stderr bytes.Buffer

	err := run(context.Background(), []string{
		"-file", filepath.Join(dir, "package.json"), "-name", "package.json", "-out", out,
		"-env", "GREETING=hello", "-env", "ROOT=" + root, "-workdir", filepath.Join(root, "action"),
		"-shell", "/bin/sh", "-shell", "-c", "-root", root, "-extend", ". " + extend, "-mountinfo", mountinfo,
	}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	assert.Equal(t, "layerhelper: running . "+extend+"\ndone\nlayerhelper: . "+extend+" done\n", stdout.String()[:strings.LastIndex(stdout.String(), "layerhelper: layer written")])
	assert.Regexp(t, `layerhelper: layer written: [0-9]+ bytes, [0-9]+ entries\n$`, stdout.String())

	f, err := os.Open(filepath.Join(out, layer.FileName))
	require.NoError(t, err)
	defer f.Close()
	files := map[string]string{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		b, _ := io.ReadAll(tr)
		files[hdr.Name] = string(b)
	}
	assert.Equal(t, `{"dependencies":{}}`, files["tmp/package.json"])
	assert.Equal(t, "hello from "+filepath.Join(root, "action")+" as /bin/sh\n", files["action/made"])
}

func TestCopyTo(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, run(context.Background(), []string{"-copy-to", dir}, io.Discard, io.Discard))
	fi, err := os.Stat(filepath.Join(dir, "layerhelper"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o755), fi.Mode().Perm())
	self, err := os.Stat("/proc/self/exe")
	require.NoError(t, err)
	assert.Equal(t, self.Size(), fi.Size())
}

func TestRunFailsWithoutTheFile(t *testing.T) {
	err := run(context.Background(), []string{"-name", "package.json", "-out", t.TempDir()}, io.Discard, io.Discard)
	assert.Error(t, err)
}
