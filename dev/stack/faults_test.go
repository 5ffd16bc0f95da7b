package stack

import (
	"context"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A registry killed by pid starts again on the same address with its
// storage, and Stop then stops the new process.
func TestRegistryRestartsOnTheSameAddress(t *testing.T) {
	if testing.Short() {
		t.Skip("starts docker-registry")
	}
	ctx := context.Background()
	r, err := StartRegistry(ctx, RegistryOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Stop() })
	host, first := r.Host, r.Pid()

	require.Error(t, r.Restart(ctx), "a running registry is not started twice")
	require.NoError(t, syscall.Kill(first, syscall.SIGKILL))
	<-r.proc.done
	_, err = http.Get("http://" + host + "/v2/")
	require.Error(t, err, "nothing answers while it is down")

	require.NoError(t, r.Restart(ctx))
	assert.Equal(t, host, r.Host)
	assert.NotEqual(t, first, r.Pid())
	resp, err := http.Get("http://" + host + "/v2/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	second := r.Pid()
	require.NoError(t, r.Stop())
	deadline := time.Now().Add(5 * time.Second)
	for alive(second) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	assert.False(t, alive(second), "the restarted registry is stopped by Stop")
}
