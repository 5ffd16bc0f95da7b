package gateway

import (
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWarmLatency measures GET requests through the gateway to a warm action
// and reports the median and the 99th percentile.
func TestWarmLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("measurement")
	}
	g := startGateway(t, Options{Inputs: map[string]any{"namespace": "builds"}})
	url := g.URL() + "/system/api/v1/build/capabilities"
	client := &http.Client{}
	get := func() (time.Duration, int) {
		begin := time.Now()
		resp, err := client.Get(url)
		if err != nil {
			return time.Since(begin), 0
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return time.Since(begin), resp.StatusCode
	}
	for range 10 { // warm the connection and the process
		_, status := get()
		require.Equal(t, http.StatusOK, status)
	}
	const n = 200
	took := make([]time.Duration, 0, n)
	for range n {
		d, status := get()
		require.Equal(t, http.StatusOK, status)
		took = append(took, d)
	}
	slices.Sort(took)
	p50, p99 := took[n/2], took[n*99/100]
	t.Logf("GET through the gateway to a warm action, %d calls: p50 %v, p99 %v, max %v", n, p50, p99, took[n-1])
	assert.Less(t, p99, time.Second, "a warm call takes milliseconds, not seconds")
}

func BenchmarkWarmGet(b *testing.B) {
	g, err := New(Options{Actions: map[string]string{"capabilities": echoPath}})
	require.NoError(b, err)
	require.NoError(b, g.Start(b.Context(), "127.0.0.1:0"))
	defer g.Stop()
	url := g.URL() + "/system/api/v1/build/capabilities"
	for b.Loop() {
		resp, err := http.Get(url)
		require.NoError(b, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		require.Equal(b, http.StatusOK, resp.StatusCode)
	}
}
