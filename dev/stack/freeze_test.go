package stack

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// freezeChildEnv makes TestFreezeChild serve HTTP on the address it holds.
const freezeChildEnv = "STACK_TEST_FREEZE_CHILD"

// TestFreezeChild is the server TestFreezeStopsEveryThread freezes: a Go
// program, so it has several threads, any of which may answer.
func TestFreezeChild(t *testing.T) {
	addr := os.Getenv(freezeChildEnv)
	if addr == "" {
		t.Skip("started by TestFreezeStopsEveryThread")
	}
	_ = http.ListenAndServe(addr, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
}

// Once Freeze returns, the process answers nothing until Thaw. With a bare
// SIGSTOP a busy process answered 7 to 19 of 150 requests sent just after.
func TestFreezeStopsEveryThread(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	cmd := exec.Command(os.Args[0], "-test.run=^TestFreezeChild$")
	cmd.Env = append(os.Environ(), freezeChildEnv+"="+addr)
	require.NoError(t, cmd.Start())
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		_ = Thaw(pid)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	// A process that runs answers in well under a millisecond here: a
	// request that waits longer than this found it stopped.
	client := &http.Client{Timeout: 25 * time.Millisecond}
	answers := func() bool {
		resp, err := client.Get("http://" + addr)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	}
	deadline := time.Now().Add(10 * time.Second)
	for !answers() {
		require.True(t, time.Now().Before(deadline), "the child never answered")
		time.Sleep(10 * time.Millisecond)
	}

	answeredFrozen := 0
	for range 150 {
		// Busy just before it is stopped: its threads are running, not
		// parked, which is when a bare SIGSTOP leaves some of them going.
		answers()
		require.NoError(t, Freeze(pid))
		if answers() {
			answeredFrozen++
		}
		require.NoError(t, Thaw(pid))
	}
	assert.Zero(t, answeredFrozen, "requests answered by a frozen process")
	assert.True(t, answers(), "a thawed process answers")
}

func TestThreadState(t *testing.T) {
	assert.Equal(t, byte('T'), threadState("12 (a) b) (c) T 1 2"))
	assert.Equal(t, byte('S'), threadState("7 (go) S 1"))
	assert.Equal(t, byte(0), threadState("7 (go"))
}
