package faults

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/dev/stack"
	"github.com/apache/openserverless-deployer/lib/kube"
)

// answerBound is what the brief promises: a 503 within 10 s, whatever hangs.
const answerBound = 10 * time.Second

// The operations each fault meets, one action each, sent at once.
var ops = []string{"start", "ensure", "status", "images", "cleanup"}

// dependency is one component the actions call and how to break it.
type dependency struct {
	name   string
	reason string
	// reached are the operations that call it; the others must not notice.
	reached map[string]bool
	pid     func(t *testing.T) int
	// kill kills it and returns how to start it again.
	kill func(t *testing.T) (restart func() error)
}

func dependencies() []dependency {
	all := map[string]bool{"start": true, "ensure": true, "status": true, "images": true, "cleanup": true}
	// The registry and CouchDB (the user's registry settings) matter to
	// what builds or lists images.
	images := map[string]bool{"start": true, "ensure": true, "images": true}
	ctx := context.Background()
	return []dependency{
		{
			name: "registry", reason: "RegistryUnavailable", reached: images,
			pid: func(*testing.T) int { return env.Registry.Pid() },
			kill: func(t *testing.T) func() error {
				require.NoError(t, syscall.Kill(env.Registry.Pid(), syscall.SIGKILL))
				return func() error { return env.Registry.Restart(ctx) }
			},
		},
		{
			name: "openwhisk", reason: "OpenWhiskUnavailable", reached: all,
			pid: func(*testing.T) int { return openwhisk.pid() },
			kill: func(t *testing.T) func() error {
				require.NoError(t, openwhisk.kill())
				return func() error { return openwhisk.restart(ctx) }
			},
		},
		{
			name: "couchdb", reason: "CouchDBUnavailable", reached: images,
			pid: func(*testing.T) int { return couch.Pid() },
			kill: func(t *testing.T) func() error {
				require.NoError(t, couch.Kill())
				return func() error {
					if err := couch.Restart(ctx); err != nil {
						return err
					}
					return seedCouch(ctx)
				}
			},
		},
		{
			// Last: the API server is what every other check relies on.
			name: "apiserver", reason: "KubernetesUnavailable", reached: all,
			pid: func(t *testing.T) int {
				pid, err := env.Kube.APIServerPid()
				require.NoError(t, err)
				return pid
			},
			kill: func(t *testing.T) func() error {
				args, err := env.Kube.KillAPIServer()
				require.NoError(t, err)
				return func() error { return env.Kube.RestartAPIServer(ctx, args) }
			},
		},
	}
}

// answer is one request's outcome.
type answer struct {
	op     string
	code   int
	reason string
	took   time.Duration
	err    error
	body   string
}

// serial makes every start and ensure a new build.
var serial atomic.Int64

// send sends one operation as its user: status as bob (whose build no
// cleanup of alice touches), the others as alice.
func send(op, statusID string) answer {
	n := serial.Add(1)
	var method, path string
	var body any
	user := "alice"
	switch op {
	case "start":
		method, path = http.MethodPost, "/start"
		body = map[string]any{"source": env.Source("python"), "target": fmt.Sprintf("alice:fault-%d", n), "kind": "python",
			"file": b64(fmt.Sprintf("requests==%d.0\n", n))}
	case "ensure":
		method, path = http.MethodPost, "/ensure"
		body = map[string]any{"builder": "python:local", "file": b64(fmt.Sprintf("idna==%d.0\n", n))}
	case "status":
		method, path, user = http.MethodGet, "/"+statusID, "bob"
	case "images":
		method, path = http.MethodGet, "/images"
	case "cleanup":
		method, path = http.MethodPost, "/cleanup"
		body = map[string]any{"max_age_hours": 0}
	}
	a := answer{op: op}
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, api.Base+path, rd)
	if err != nil {
		a.err = err
		return a
	}
	req.Header.Set("Authorization", api.Tokens[user])
	req.Header.Set("Content-Type", "application/json")
	// Far longer than the bound, so a hang is measured, not cut short.
	client := &http.Client{Timeout: 70 * time.Second}
	began := time.Now()
	resp, err := client.Do(req)
	a.took = time.Since(began)
	if err != nil {
		a.err = err
		return a
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a.code, a.body = resp.StatusCode, string(raw)
	var parsed struct {
		Reason string `json:"reason"`
	}
	_ = json.Unmarshal(raw, &parsed)
	a.reason = parsed.Reason
	return a
}

// sendAll sends every operation at once (one action each) and returns the
// answers by operation.
func sendAll(statusID string) map[string]answer {
	out := map[string]answer{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, op := range ops {
		wg.Go(func() {
			a := send(op, statusID)
			mu.Lock()
			out[op] = a
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// healthy reports whether every operation succeeded.
func healthy(answers map[string]answer) bool {
	for _, op := range ops {
		if a := answers[op]; a.err != nil || a.code/100 != 2 {
			return false
		}
	}
	return true
}

// assertHealthy checks that every operation succeeded.
func assertHealthy(t *testing.T, answers map[string]answer) {
	t.Helper()
	for _, op := range ops {
		a := answers[op]
		if assert.NoError(t, a.err, op) {
			assert.True(t, a.code/100 == 2, "%s answered %d: %s", op, a.code, a.body)
		}
	}
}

// table collects every fault's answers for the summary.
var table struct {
	sync.Mutex
	rows []string
}

func record(dep, mode string, a answer) {
	table.Lock()
	defer table.Unlock()
	outcome := fmt.Sprintf("%d %s", a.code, a.reason)
	if a.err != nil {
		outcome = "error: " + a.err.Error()
	}
	table.rows = append(table.rows, fmt.Sprintf("| %-9s | %-6s | %-7s | %-28s | %6.2f s |", dep, mode, a.op, outcome, a.took.Seconds()))
}

func TestFaults(t *testing.T) {
	// A build of bob's for status to read, finished before any fault.
	r := api.Call(t, "bob", http.MethodPost, "/ensure", map[string]any{"builder": "python:local", "file": b64("six==1.0\n")})
	require.Contains(t, []int{http.StatusOK, http.StatusAccepted}, r.Code, "%v", r.Body)
	statusID := r.Str("id")
	require.Equal(t, http.StatusOK, api.Follow(t, "bob", statusID).Code)

	// Every action warm, and the stack healthy, before anything breaks.
	assertHealthy(t, sendAll(statusID))

	for _, dep := range dependencies() {
		for _, mode := range []string{"frozen", "killed"} {
			t.Run(dep.name+"/"+mode, func(t *testing.T) {
				var recover func() error
				switch mode {
				case "frozen":
					pid := dep.pid(t)
					resumed := false
					// A failed assertion must not leave it stopped.
					t.Cleanup(func() {
						if !resumed {
							_ = stack.Thaw(pid)
						}
					})
					require.NoError(t, stack.Freeze(pid))
					recover = func() error { resumed = true; return stack.Thaw(pid) }
				case "killed":
					recover = dep.kill(t)
				}
				answers := sendAll(statusID)
				for _, op := range ops {
					record(dep.name, mode, answers[op])
				}
				require.NoError(t, recover(), "recovering %s", dep.name)

				for _, op := range ops {
					a := answers[op]
					require.NoError(t, a.err, op)
					assert.Less(t, a.took, answerBound, "%s took %s", op, a.took)
					if dep.reached[op] {
						assert.Equal(t, http.StatusServiceUnavailable, a.code, "%s: %s", op, a.body)
						assert.Equal(t, dep.reason, a.reason, "%s: %s", op, a.body)
					} else {
						assert.True(t, a.code/100 == 2, "%s does not call %s, yet answered %d: %s", op, dep.name, a.code, a.body)
					}
				}
				// The requests after recovery succeed. A dependency just
				// restarted on a loaded machine may take a moment to answer
				// within its bound: a few tries, a second apart.
				answers = sendAll(statusID)
				for try := 0; try < 3 && !healthy(answers); try++ {
					time.Sleep(time.Second)
					answers = sendAll(statusID)
				}
				assertHealthy(t, answers)
				assertNothingLeft(t)
			})
		}
	}
	printTable(t)
}

// assertNothingLeft checks that every build object in the cluster is where
// it belongs: each context ConfigMap and temporary Secret has its Job, and
// each build Job has its context. The garbage collector is given a moment
// for the objects of deleted Jobs.
func assertNothingLeft(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	c := env.Kube.Client
	sel := metav1.ListOptions{LabelSelector: kube.LabelComponent + "=" + kube.Component}
	var problems []string
	deadline := time.Now().Add(30 * time.Second)
	for {
		problems = nil
		jobs, err := c.BatchV1().Jobs(local.Namespace).List(ctx, sel)
		require.NoError(t, err)
		cms, err := c.CoreV1().ConfigMaps(local.Namespace).List(ctx, sel)
		require.NoError(t, err)
		secrets, err := c.CoreV1().Secrets(local.Namespace).List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		jobUIDs := map[types.UID]string{}
		for _, j := range jobs.Items {
			jobUIDs[j.UID] = j.Name
		}
		withContext := map[types.UID]bool{}
		owned := func(kind, name string, refs []metav1.OwnerReference) {
			for _, o := range refs {
				if o.Kind == "Job" {
					if _, ok := jobUIDs[o.UID]; ok {
						if kind == "ConfigMap" {
							withContext[o.UID] = true
						}
						return
					}
				}
			}
			problems = append(problems, fmt.Sprintf("%s %s has no Job", kind, name))
		}
		for _, cm := range cms.Items {
			owned("ConfigMap", cm.Name, cm.OwnerReferences)
		}
		for _, s := range secrets.Items {
			// Only the Secrets made for builds are owned by a Job.
			if len(s.OwnerReferences) > 0 {
				owned("Secret", s.Name, s.OwnerReferences)
			}
		}
		for uid, name := range jobUIDs {
			if !withContext[uid] {
				problems = append(problems, "Job "+name+" has no context ConfigMap")
			}
		}
		if len(problems) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	sort.Strings(problems)
	assert.Empty(t, problems, "left behind: %s", strings.Join(problems, "; "))
}

func printTable(t *testing.T) {
	table.Lock()
	defer table.Unlock()
	t.Logf("\n| fault     | mode   | op      | answer                       | time     |\n|---|---|---|---|---|\n%s", strings.Join(table.rows, "\n"))
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
