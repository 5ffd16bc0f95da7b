package main

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/tests/testregistry"
)

func TestRunWritesTheTerminationLog(t *testing.T) {
	host := testregistry.Start(t).Host
	base, err := random.Image(512, 1)
	require.NoError(t, err)
	d := testregistry.Push(t, host+"/runtimes/go:1.22", base)

	dir := t.TempDir()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777}))
	require.NoError(t, tw.Close())
	layerPath, termination := filepath.Join(dir, "layer.tar"), filepath.Join(dir, "termination-log")
	require.NoError(t, os.WriteFile(layerPath, b.Bytes(), 0o644))
	var stdout bytes.Buffer

	err = run(context.Background(), []string{
		"-base", host + "/runtimes/go@" + d, "-base-name", host + "/runtimes/go:1.22",
		"-layer", layerPath, "-destination", host + "/alice/go:ext", "-insecure-registry", host,
		"-user", "nobody", "-max-bytes", "1048576", "-termination-log", termination,
	}, &stdout)
	require.NoError(t, err)
	got, err := os.ReadFile(termination)
	require.NoError(t, err)
	assert.Regexp(t, `^`+host+`/alice/go@sha256:[0-9a-f]{64}$`, string(got))
	assert.Equal(t, "layerpush: pushed "+string(got)+"\n", stdout.String())
}
