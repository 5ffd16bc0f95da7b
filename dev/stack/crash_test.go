package stack

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// crashChildEnv makes TestCrashChild start servers and die without stopping them.
const crashChildEnv = "STACK_TEST_CRASH_CHILD"

// TestCrashLeavesNoServer runs a test process that starts a Registry and a
// Kube and is then killed: the kernel must kill every server with it.
func TestCrashLeavesNoServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd, kube-apiserver and kube-controller-manager")
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
	dir := t.TempDir() // the child cannot clean up after itself
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the child must die: %s", out.String())

	var pids []int
	for s := bufio.NewScanner(&out); s.Scan(); {
		if f, ok := strings.CutPrefix(s.Text(), "PIDS "); ok {
			for _, p := range strings.Fields(f) {
				pid, err := strconv.Atoi(p)
				require.NoError(t, err)
				pids = append(pids, pid)
			}
		}
	}
	require.Len(t, pids, 4, "registry, etcd, kube-apiserver, kube-controller-manager: %s", out.String())
	for _, pid := range pids {
		deadline := time.Now().Add(10 * time.Second)
		for running(pid) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if !assert.False(t, running(pid), "pid %d survived its test process", pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func TestCrashChild(t *testing.T) {
	if os.Getenv(crashChildEnv) == "" {
		t.Skip("run by TestCrashLeavesNoServer")
	}
	dir := os.Getenv(crashChildEnv)
	r, err := StartRegistry(t.Context(), RegistryOptions{Dir: filepath.Join(dir, "registry")})
	require.NoError(t, err)
	k, err := StartKube(t.Context(), KubeOptions{Dir: filepath.Join(dir, "kube")})
	require.NoError(t, err)
	pids := append([]int{r.proc.pid()}, k.serverPids()...)
	pids = append(pids, k.kcm.pid())
	fmt.Println("PIDS", strings.Trim(fmt.Sprint(pids), "[]"))
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
}

// running reports whether pid is a live process: not gone, not a zombie
// waiting for an init that may never reap it.
func running(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}
