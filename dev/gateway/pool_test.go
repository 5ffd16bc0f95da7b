package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// answer is what one of several concurrent requests got.
type answer struct {
	status int
	pid    int
	took   time.Duration
}

// concurrently posts one request per body to url at once and returns the
// answers in the order of the bodies.
func concurrently(t *testing.T, url string, bodies ...map[string]any) []answer {
	t.Helper()
	out := make([]answer, len(bodies))
	var wg sync.WaitGroup
	begin := time.Now()
	for i, b := range bodies {
		body := jsonBody(t, b)
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Post(url, "application/json", body)
			if err != nil {
				return // out[i].status stays 0
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			var e echoed
			_ = json.Unmarshal(raw, &e)
			out[i] = answer{status: resp.StatusCode, pid: e.Pid, took: time.Since(begin)}
		}()
	}
	wg.Wait()
	return out
}

func sleeping(ms int, n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = map[string]any{"sleep_ms": ms}
	}
	return out
}

func TestPoolStartsAProcessWhenAllAreBusy(t *testing.T) {
	g := startGateway(t, Options{})
	url := g.URL() + "/system/api/v1/build/start"
	warm := pidOf(t, url)
	require.Equal(t, 1, poolOf(t, g, "start").size(), "one warm process to begin with")

	// The slow request holds the warm process before the quick one is sent:
	// sent together, the quick one may finish before the slow one arrives.
	begin := time.Now()
	slowDone := make(chan answer, 1)
	go func() { slowDone <- concurrently(t, url, map[string]any{"sleep_ms": 1500})[0] }()
	require.Eventually(t, func() bool { return poolOf(t, g, "start").busy() == 1 }, 5*time.Second, 5*time.Millisecond,
		"the slow request reached the warm process")
	fast := concurrently(t, url, map[string]any{"sleep_ms": 0})[0]
	fastTook := time.Since(begin)
	slow := <-slowDone
	require.Equal(t, http.StatusOK, slow.status)
	require.Equal(t, http.StatusOK, fast.status)
	assert.Equal(t, warm, slow.pid, "the warm process served the first request")
	assert.NotEqual(t, slow.pid, fast.pid, "the second request ran on another process")
	assert.Less(t, fastTook, 1500*time.Millisecond, "the quick request did not wait for the slow one")
	assert.Equal(t, 2, poolOf(t, g, "start").size())
	// Both stay warm: two sequential requests reuse them.
	assert.Contains(t, []int{slow.pid, fast.pid}, pidOf(t, url))
	assert.Equal(t, 2, poolOf(t, g, "start").size())
}

func TestPoolRespectsItsSize(t *testing.T) {
	tests := []struct {
		name     string
		size     int
		requests int
		sleep    time.Duration
		rounds   int // sequential rounds of sleep the slowest request waits
	}{
		{"one process: one after the other", 1, 3, 400 * time.Millisecond, 3},
		{"two processes for five requests", 2, 5, 400 * time.Millisecond, 3},
		{"the default, four, for four requests", 0, 4, 600 * time.Millisecond, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := startGateway(t, Options{PoolSize: tt.size, Timeout: 20 * time.Second})
			size := tt.size
			if size == 0 {
				size = DefaultPoolSize
			}
			got := concurrently(t, g.URL()+"/system/api/v1/build/start", sleeping(int(tt.sleep.Milliseconds()), tt.requests)...)
			pids := map[int]bool{}
			var slowest time.Duration
			for _, a := range got {
				require.Equal(t, http.StatusOK, a.status)
				pids[a.pid] = true
				slowest = max(slowest, a.took)
			}
			assert.Len(t, pids, min(size, tt.requests), "distinct processes")
			assert.LessOrEqual(t, poolOf(t, g, "start").size(), size)
			assert.GreaterOrEqual(t, slowest, time.Duration(tt.rounds)*tt.sleep)
			assert.Less(t, slowest, time.Duration(tt.rounds+2)*tt.sleep)
		})
	}
}

// A request waits for a free process at most the activation's time limit,
// then is answered 503 as an overloaded action.
func TestPoolWaitIsBoundedByTheTimeLimit(t *testing.T) {
	log := newSyncBuffer()
	g := startGateway(t, Options{PoolSize: 1, Timeout: time.Second, BlockingWait: 10 * time.Second, Log: log})
	got := concurrently(t, g.URL()+"/system/api/v1/build/start", sleeping(700, 3)...)
	statuses := map[int]int{}
	for _, a := range got {
		statuses[a.status]++
		if a.status == http.StatusServiceUnavailable {
			assert.GreaterOrEqual(t, a.took, time.Second)
			assert.Less(t, a.took, 1400*time.Millisecond, "refused when its wait ran out")
		}
	}
	assert.Equal(t, map[int]int{http.StatusOK: 2, http.StatusServiceUnavailable: 1}, statuses)
	assert.Contains(t, log.String(), "no process of the action became free in time")
	assert.Equal(t, 1, poolOf(t, g, "start").size())
}

// A process that crashes in a busy pool is replaced; the others stay.
func TestPoolReplacesACrashedProcess(t *testing.T) {
	g := startGateway(t, Options{PoolSize: 2})
	url := g.URL() + "/system/api/v1/build/start"
	got := concurrently(t, url, map[string]any{"sleep_ms": 800}, map[string]any{"sleep_ms": 800})
	require.Equal(t, http.StatusOK, got[0].status)
	require.Equal(t, http.StatusOK, got[1].status)
	before := map[int]bool{got[0].pid: true, got[1].pid: true}
	require.Len(t, before, 2)

	r := call(t, http.MethodPost, url, jsonBody(t, map[string]any{"exit": true}), "Content-Type", "application/json")
	require.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, 1, poolOf(t, g, "start").size(), "the crashed process is gone")
	var crashed int
	for pid := range before {
		if !alive(pid) {
			crashed = pid
		}
	}
	require.NotZero(t, crashed, "one of the two processes exited")

	got = concurrently(t, url, map[string]any{"sleep_ms": 500}, map[string]any{"sleep_ms": 500})
	after := map[int]bool{got[0].pid: true, got[1].pid: true}
	require.Len(t, after, 2, "two processes again")
	assert.False(t, after[crashed])
	shared := 0
	for pid := range after {
		if before[pid] {
			shared++
		}
	}
	assert.Equal(t, 1, shared, "the survivor serves on, beside one new process")
	assert.Equal(t, 2, poolOf(t, g, "start").size())
}

// Stop stops every process of a pool, idle and busy, by process id.
func TestStopStopsEveryProcessOfAPool(t *testing.T) {
	g, err := New(Options{Actions: map[string]string{"start": echoPath}, PoolSize: 3})
	require.NoError(t, err)
	require.NoError(t, g.Start(t.Context(), "127.0.0.1:0"))
	url := g.URL() + "/system/api/v1/build/start"
	got := concurrently(t, url, sleeping(400, 3)...)
	pids := map[int]bool{}
	for _, a := range got {
		require.Equal(t, http.StatusOK, a.status)
		pids[a.pid] = true
	}
	require.Len(t, pids, 3)

	busy := make(chan int, 1)
	go func() {
		resp, err := http.Post(url, "application/json", jsonBody(t, map[string]any{"sleep_ms": 30_000}))
		if err != nil {
			busy <- 0
			return
		}
		resp.Body.Close()
		busy <- resp.StatusCode
	}()
	time.Sleep(300 * time.Millisecond) // let it reach a process
	_ = g.Stop()
	select {
	case status := <-busy:
		assert.Contains(t, []int{0, http.StatusServiceUnavailable}, status)
	case <-time.After(10 * time.Second):
		t.Error("the busy request got no answer")
	}
	for pid := range pids {
		assertGone(t, pid)
	}
	assert.Equal(t, 0, poolOf(t, g, "start").size())
}

// alive reports whether a process with pid exists.
func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }
