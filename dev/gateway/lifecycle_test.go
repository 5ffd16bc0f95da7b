package gateway

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCrashedActionIsReplaced(t *testing.T) {
	log := newSyncBuffer()
	g := startGateway(t, Options{Log: log})
	url := g.URL() + "/system/api/v1/build/start"

	first := pidOf(t, url)
	r := call(t, http.MethodPost, url, jsonBody(t, map[string]any{"exit": true}), "Content-Type", "application/json")
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, msgProcessingError, errorOf(t, r))
	assert.Contains(t, log.String(), "failed")
	assertGone(t, first)

	second := pidOf(t, url)
	assert.NotEqual(t, first, second, "a new process serves the next activation")
	assert.Equal(t, second, pidOf(t, url), "and stays warm")
}

func TestBlockingWaitAnswers202AndTheActivationRunsOn(t *testing.T) {
	g := startGateway(t, Options{BlockingWait: 300 * time.Millisecond, Timeout: 20 * time.Second, PoolSize: 1})
	url := g.URL() + "/system/api/v1/build/start"
	pid := pidOf(t, url)

	begin := time.Now()
	r := call(t, http.MethodPost, url, jsonBody(t, map[string]any{"sleep_ms": 1500}), "Content-Type", "application/json")
	assert.Equal(t, http.StatusAccepted, r.status)
	assert.Equal(t, msgNotReady, errorOf(t, r))
	assert.Regexp(t, `^[0-9a-f]{32}$`, r.header.Get("X-Openwhisk-Activation-Id"))
	assert.Less(t, time.Since(begin), 1200*time.Millisecond, "answered at the blocking wait, not at the end")

	// With one process, the next request queues behind the running
	// activation and its own wait runs out too.
	r = call(t, http.MethodGet, url, nil)
	assert.Equal(t, http.StatusAccepted, r.status)

	// Once the slow activation is over, the same warm process answers.
	var got int
	require.Eventually(t, func() bool {
		r := call(t, http.MethodGet, url, nil)
		if r.status != http.StatusOK {
			return false
		}
		got = decodeEcho(t, r).Pid
		return true
	}, 10*time.Second, 50*time.Millisecond)
	assert.Equal(t, pid, got, "the process was not killed")
	assert.GreaterOrEqual(t, time.Since(begin), 1500*time.Millisecond)
}

func TestTimeLimitKillsTheProcess(t *testing.T) {
	log := newSyncBuffer()
	g := startGateway(t, Options{Log: log, Timeout: 500 * time.Millisecond, BlockingWait: 10 * time.Second})
	url := g.URL() + "/system/api/v1/build/start"
	pid := pidOf(t, url)

	begin := time.Now()
	r := call(t, http.MethodPost, url, jsonBody(t, map[string]any{"sleep_ms": 5000}), "Content-Type", "application/json")
	elapsed := time.Since(begin)
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, msgProcessingError, errorOf(t, r))
	assert.GreaterOrEqual(t, elapsed, 500*time.Millisecond)
	assert.Less(t, elapsed, 4*time.Second, "killed at the limit, not at the end of the sleep")
	assert.Contains(t, log.String(), "exceeded its time limit of 500 milliseconds")
	assertGone(t, pid)
	assert.NotEqual(t, pid, pidOf(t, url), "a new process serves the next activation")
}

func TestStopLeavesNoProcess(t *testing.T) {
	tests := []struct {
		name string
		busy bool // an activation is running when Stop is called
	}{
		{"idle", false},
		{"an activation in progress", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := New(Options{Actions: allActions()})
			require.NoError(t, err)
			require.NoError(t, g.Start(t.Context(), "127.0.0.1:0"))
			pids := map[string]int{}
			for name := range named {
				pids[name] = pidOf(t, g.URL()+"/system/api/v1/build/"+name)
			}
			require.Len(t, pids, len(named))

			answered := make(chan int, 1)
			if tt.busy {
				body := jsonBody(t, map[string]any{"sleep_ms": 30_000})
				go func() {
					resp, err := http.Post(g.URL()+"/system/api/v1/build/start", "application/json", body)
					if err != nil {
						answered <- 0
						return
					}
					resp.Body.Close()
					answered <- resp.StatusCode
				}()
				time.Sleep(200 * time.Millisecond) // let it reach the process
			}

			begin := time.Now()
			err = g.Stop()
			elapsed := time.Since(begin)
			if tt.busy {
				assert.ErrorContains(t, err, "killed", "the busy process had to be killed")
				select {
				case status := <-answered:
					assert.Contains(t, []int{0, http.StatusServiceUnavailable}, status)
				case <-time.After(5 * time.Second):
					t.Error("the waiting request got no answer")
				}
			} else {
				assert.NoError(t, err)
			}
			assert.Less(t, elapsed, 10*time.Second)
			for name, pid := range pids {
				t.Run(name, func(t *testing.T) { assertGone(t, pid) })
			}
			assert.Equal(t, err, g.Stop(), "Stop again gives the same result")
			_, err = http.Get(g.URL() + "/healthz")
			assert.Error(t, err, "the server is closed")
		})
	}
}
