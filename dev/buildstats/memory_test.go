package buildstats

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSamplerSeesChrootedProcess runs a process chrooted in a folder that
// holds 64 MiB, and one outside it: only the first is counted.
func TestSamplerSeesChrootedProcess(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chroot needs root")
	}
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("no busybox")
	}
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "bin"), 0o755))
	data, err := os.ReadFile(busybox)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(root, "bin", "busybox"), data, 0o755))
	// A shell holding a 64 MiB variable, then sleeping.
	script := `x=$(head -c 67108864 /dev/zero | tr '\0' a); sleep 5`
	cmd := exec.Command("chroot", root, "/bin/busybox", "sh", "-c", "/bin/busybox sleep 3")
	require.NoError(t, cmd.Start())
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	outside := exec.Command(busybox, "sh", "-c", script)
	require.NoError(t, outside.Start())
	defer func() { _ = outside.Process.Kill(); _ = outside.Wait() }()

	s := NewSampler(root, 50*time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	s.Run(ctx)
	m := s.Take()
	assert.Positive(t, m.Samples)
	assert.Positive(t, m.PeakRSS)
	assert.Less(t, m.PeakRSS, int64(32<<20), "the 64 MiB shell outside the folder is not counted")
	assert.Equal(t, Memory{}, s.Take(), "Take starts again")

	empty := NewSampler(t.TempDir(), 50*time.Millisecond)
	empty.sample()
	assert.Zero(t, empty.Take().Samples)
}

// A cgroup sampler counts the processes of its cgroup tree: this test's own
// memory cgroup holds this process; a cgroup that does not exist holds none.
func TestCgroupSamplerCountsItsTree(t *testing.T) {
	data, err := os.ReadFile("/proc/self/cgroup")
	require.NoError(t, err)
	own := ""
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.SplitN(line, ":", 3); len(f) == 3 && (f[1] == "memory" || f[1] == "") {
			own = f[2]
			break
		}
	}
	require.NotEmpty(t, own, "no memory cgroup in %q", data)
	s := NewCgroupSampler(own, 50*time.Millisecond)
	s.sample()
	m := s.Take()
	assert.Positive(t, m.Samples)
	assert.Positive(t, m.PeakRSS)

	none := NewCgroupSampler("/no-such-cgroup-of-the-tests", 50*time.Millisecond)
	none.sample()
	assert.Zero(t, none.Take().Samples)
}
