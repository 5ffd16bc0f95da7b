// Package load measures the API's latency on the local stack: ensure when
// the image exists, ensure when it creates a Job, start, and the time from
// request to image. It is bounded (a fixed number of calls to 127.0.0.1),
// stops by itself, and runs only when DEPLOYER_LOAD=1, as it takes minutes:
//
//	DEPLOYER_LOAD=1 go test -count=1 -v -timeout 30m ./tests/load/
package load

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/dev/local"
)

const calls = 200

func TestLoad(t *testing.T) {
	if os.Getenv("DEPLOYER_LOAD") != "1" {
		t.Skip("set DEPLOYER_LOAD=1 to run the load test")
	}
	dir := t.TempDir()
	logf, err := os.Create(dir + "/stack.log")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	s, err := local.Start(ctx, local.Options{
		Dir: dir, Users: []string{"alice"}, Log: logf,
		Inputs: map[string]any{"max_active_builds_per_user": "1000", "max_active_builds": "1000"},
	})
	require.NoError(t, err)
	defer s.Stop()
	api := s.Gateway.URL() + "/system/api/v1/build"
	token := s.Tokens["alice"]

	post := func(path string, body map[string]any) (int, map[string]any, time.Duration) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, api+path, bytes.NewReader(b))
		req.Header.Set("Authorization", token)
		req.Header.Set("Content-Type", "application/json")
		began := time.Now()
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		took := time.Since(began)
		out := map[string]any{}
		_ = json.Unmarshal(raw, &out)
		return resp.StatusCode, out, took
	}
	get := func(path string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, api+path, nil)
		req.Header.Set("Authorization", token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		out := map[string]any{}
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	file := func(i int) string {
		return base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("package%d==1.0\n", i)))
	}

	// Request → image: an ensure, polled every 200 ms until it succeeds;
	// five builds one after the other (the first also warms the actions'
	// processes and the node's caches), each of a file of its own.
	var images []time.Duration
	for k := 0; k < 5; k++ {
		began := time.Now()
		code, r, _ := post("/ensure", map[string]any{"builder": "python:local", "file": file(-1 - k)})
		require.Equal(t, http.StatusAccepted, code, "%v", r)
		for {
			code, st := get("/" + r["id"].(string))
			if st["state"] == "succeeded" {
				break
			}
			require.Equal(t, http.StatusAccepted, code, "%v", st)
			time.Sleep(200 * time.Millisecond)
		}
		images = append(images, time.Since(began))
	}
	t.Logf("request → image (ensure, poll every 200 ms), 5 builds in order: %v", images)
	sorted := append([]time.Duration(nil), images...)
	slices.Sort(sorted)
	t.Logf("request → image: min %s, median %s", sorted[0].Round(time.Millisecond), sorted[2].Round(time.Millisecond))

	var exists, creates, starts []time.Duration
	for i := 0; i < calls; i++ {
		code, r, took := post("/ensure", map[string]any{"builder": "python:local", "file": file(-1)})
		require.Equal(t, http.StatusOK, code, "%v", r)
		exists = append(exists, took)
	}
	for i := 0; i < calls; i++ {
		code, r, took := post("/ensure", map[string]any{"builder": "python:local", "file": file(i)})
		require.Equal(t, http.StatusAccepted, code, "%v", r)
		require.Equal(t, "queued", r["state"])
		creates = append(creates, took)
	}
	for i := 0; i < calls; i++ {
		code, r, took := post("/start", map[string]any{"source": s.Source("python"), "target": fmt.Sprintf("alice:load-%d", i), "kind": "python", "file": file(i)})
		require.Equal(t, http.StatusOK, code, "%v", r)
		starts = append(starts, took)
	}
	report(t, "ensure, image exists (200, no job)", exists)
	report(t, "ensure, creates a job (202)", creates)
	report(t, "start, creates a job (200)", starts)
}

func report(t *testing.T, what string, d []time.Duration) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	q := func(p float64) time.Duration { return d[int(p*float64(len(d)-1))].Round(10 * time.Microsecond) }
	t.Logf("%-40s n=%d p50=%s p90=%s p99=%s max=%s", what, len(d), q(0.5), q(0.9), q(0.99), d[len(d)-1].Round(10*time.Microsecond))
}
