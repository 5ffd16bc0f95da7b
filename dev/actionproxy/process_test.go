package actionproxy

import (
	"bytes"
	"context"
	"errors"
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

// buildEcho builds testdata/echo, an action that calls Run, and returns the
// path of its executable.
func buildEcho(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	require.NoError(t, err, "the go tool builds the test action")
	out := filepath.Join(t.TempDir(), "exec")
	cmd := exec.Command(gobin, "build", "-o", out, "./testdata/echo")
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", b)
	return out
}

// script writes an executable shell script and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "exec")
	require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755))
	return path
}

// assertGone checks that no process has pid any more.
func assertGone(t *testing.T, pid int) {
	t.Helper()
	err := syscall.Kill(pid, 0)
	assert.True(t, errors.Is(err, syscall.ESRCH), "process %d still exists (kill 0: %v)", pid, err)
}

// readPid reads the pid a script wrote to file.
func readPid(t *testing.T, file string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	return pid
}

func startEcho(t *testing.T, env []string, stdout, stderr *os.File) *Process {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := Start(ctx, buildEcho(t), env, stdout, stderr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Stop() })
	return p
}

func TestProcessRunsActivationsInOneWarmProcess(t *testing.T) {
	dir := t.TempDir()
	stdout, err := os.Create(filepath.Join(dir, "stdout"))
	require.NoError(t, err)
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	require.NoError(t, err)
	defer stderr.Close()

	p := startEcho(t, []string{"__OW_API_HOST=http://boot"}, stdout, stderr)
	pid := p.Pid()
	deadline := time.UnixMilli(1_700_000_000_123)

	tests := []struct {
		name    string
		act     Activation
		wantEnv map[string]any
	}{
		{
			name: "with an API key",
			act: Activation{Value: map[string]any{"name": "a", "n": 1}, Namespace: "alice", ActionName: "/alice/pkg/act",
				APIKey: "uuid:key", ActivationID: "a1", Deadline: deadline},
			wantEnv: map[string]any{"__OW_NAMESPACE": "alice", "__OW_ACTION_NAME": "/alice/pkg/act", "__OW_API_KEY": "uuid:key",
				"__OW_ACTIVATION_ID": "a1", "__OW_DEADLINE": "1700000000123", "__OW_API_HOST": "http://boot"},
		},
		{
			name:    "without a key, with a host",
			act:     Activation{Value: map[string]any{"name": "b"}, Namespace: "bob", APIHost: "http://gw", ActivationID: "a2"},
			wantEnv: map[string]any{"__OW_NAMESPACE": "bob", "__OW_ACTIVATION_ID": "a2", "__OW_API_HOST": "http://gw"},
		},
		{
			name:    "nil value",
			act:     Activation{Namespace: "carol", ActivationID: "a3"},
			wantEnv: map[string]any{"__OW_NAMESPACE": "carol", "__OW_ACTIVATION_ID": "a3", "__OW_API_HOST": "http://boot"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := p.Invoke(ctx, tt.act)
			require.NoError(t, err)
			wantArgs := map[string]any{}
			for k, v := range tt.act.Value {
				if n, ok := v.(int); ok {
					wantArgs[k] = float64(n)
				} else {
					wantArgs[k] = v
				}
			}
			assert.Equal(t, wantArgs, res["args"])
			assert.Equal(t, tt.wantEnv, res["env"], "only this activation's variables")
			assert.Equal(t, float64(pid), res["pid"], "the same process serves every activation")
		})
	}

	require.NoError(t, p.Stop())
	assertGone(t, pid)

	const s = Sentinel + "\n"
	out, err := os.ReadFile(stdout.Name())
	require.NoError(t, err)
	assert.Equal(t, "stdout of a1\n"+s+"stdout of a2\n"+s+"stdout of a3\n"+s, string(out))
	errOut, err := os.ReadFile(stderr.Name())
	require.NoError(t, err)
	assert.Equal(t, "stderr of a1\n"+s+"stderr of a2\n"+s+"stderr of a3\n"+s, string(errOut))
}

func TestProcessLogsToWritersThatAreNotFiles(t *testing.T) {
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := Start(ctx, buildEcho(t), nil, &stdout, &stderr)
	require.NoError(t, err)
	for _, id := range []string{"b1", "b2"} {
		_, err := p.Invoke(ctx, Activation{ActivationID: id})
		require.NoError(t, err)
	}
	require.NoError(t, p.Stop())
	// The output is copied in the background: all of it is there once the
	// process is gone, in an order only files guarantee.
	for _, out := range []string{stdout.String(), stderr.String()} {
		assert.Equal(t, 2, strings.Count(out, Sentinel+"\n"))
		assert.Contains(t, out, " of b1\n")
		assert.Contains(t, out, " of b2\n")
	}
}

func TestProcessKeepsServingAfterPanic(t *testing.T) {
	p := startEcho(t, nil, nil, nil)
	ctx := context.Background()

	res, err := p.Invoke(ctx, Activation{Value: map[string]any{"panic": "boom"}})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"error": "action panicked: boom"}, res)

	res, err = p.Invoke(ctx, Activation{Value: map[string]any{"x": "y"}})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"x": "y"}, res["args"])
}

func TestInvokeContextEndKillsProcess(t *testing.T) {
	p := startEcho(t, nil, nil, nil)
	pid := p.Pid()

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := p.Invoke(ctx, Activation{Value: map[string]any{"sleep_ms": 30000}})
	require.ErrorIs(t, err, context.DeadlineExceeded)

	_, err = p.Invoke(context.Background(), Activation{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unusable")

	assert.NoError(t, p.Stop(), "a process killed by a failed activation is not reported again")
	assertGone(t, pid)
}

func TestInvokeRejectsAnswerThatIsNotAnObject(t *testing.T) {
	path := script(t, `echo '{"ok":true}' >&3
while read -r line; do echo '[1]' >&3; done`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := Start(ctx, path, nil, nil, nil)
	require.NoError(t, err)
	defer p.Stop()

	for i := 0; i < 2; i++ { // the stream stays in step after a bad answer
		_, err = p.Invoke(ctx, Activation{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "not a JSON object")
	}
}

func TestStartFailures(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		timeout time.Duration
		want    string
	}{
		{"exits at once", `echo $$ > "$PIDFILE"; exit 3`, 10 * time.Second, "closed file descriptor 3"},
		{"refuses", `echo $$ > "$PIDFILE"; echo '{"ok":false}' >&3; exec sleep 30`, 10 * time.Second, "bad acknowledgement"},
		{"answers garbage", `echo $$ > "$PIDFILE"; echo 'ready' >&3; exec sleep 30`, 10 * time.Second, "bad acknowledgement"},
		{"never answers", `echo $$ > "$PIDFILE"; exec sleep 30`, 300 * time.Millisecond, context.DeadlineExceeded.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "pid")
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			p, err := Start(ctx, script(t, tt.body), []string{"PIDFILE=" + pidFile}, nil, nil)
			require.Error(t, err)
			assert.Nil(t, p)
			assert.Contains(t, err.Error(), tt.want)
			assertGone(t, readPid(t, pidFile))
		})
	}
	t.Run("no such file", func(t *testing.T) {
		_, err := Start(context.Background(), filepath.Join(t.TempDir(), "missing"), nil, nil, nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "starting")
	})
}

func TestStopKillsProcessThatIgnoresItsInput(t *testing.T) {
	path := script(t, `echo '{"ok":true}' >&3; exec sleep 30`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := Start(ctx, path, nil, nil, nil)
	require.NoError(t, err)
	p.grace = 100 * time.Millisecond
	pid := p.Pid()

	err = p.Stop()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "killed")
	assertGone(t, pid)
	assert.Equal(t, err, p.Stop(), "Stop again reports the same")
}

func TestStopReportsFailedExit(t *testing.T) {
	path := script(t, `echo '{"ok":true}' >&3; while read -r line; do :; done; exit 4`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := Start(ctx, path, nil, nil, nil)
	require.NoError(t, err)
	err = p.Stop()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exit status 4")
}
