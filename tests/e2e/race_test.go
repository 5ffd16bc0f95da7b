package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/kube"
	"github.com/apache/openserverless-deployer/lib/runtimebuild/buildjob"
	"github.com/apache/openserverless-deployer/tests/testkube"
)

// The races below go through the gateway, whose pool runs up to
// gateway.DefaultPoolSize (4) processes of each action at once, as OpenWhisk
// runs several containers of an action. Each race runs up to raceRounds
// times, for at most raceBudget, with builds that sleep (extend-sleep) so
// their Jobs stay unfinished during the round; every round ends with no
// Job of its users left.
const (
	raceRounds = 10
	raceBudget = 4 * time.Minute
	minRounds  = 3
)

// The quotas of the stack: the defaults (SPEC §3), which it does not change.
const (
	perUserLimit = 2
	globalLimit  = 10
)

// slowFile is a dependency file whose build sleeps, unique to a round and n.
func slowFile(round, n int) string {
	return b64(fmt.Sprintf("# extend-sleep 60\nround-%d-%d\n", round, n))
}

// raced is one answer of a race.
type raced struct {
	code int
	body map[string]any
	err  error
}

func (r raced) str(k string) string { s, _ := r.body[k].(string); return s }

// request is one call of a race.
type request struct {
	user, method, path string
	body               any
}

// race sends the requests at once (released together) and returns their
// answers in order. It never fails the test from a request's goroutine.
func race(reqs []request) []raced {
	out := make([]raced, len(reqs))
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for i, rq := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			out[i] = send(rq)
		}()
	}
	close(gate)
	wg.Wait()
	return out
}

func send(rq request) raced {
	var rd io.Reader
	if rq.body != nil {
		b, err := json.Marshal(rq.body)
		if err != nil {
			return raced{err: err}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(rq.method, api.Base+rq.path, rd)
	if err != nil {
		return raced{err: err}
	}
	req.Header.Set("Authorization", api.Tokens[rq.user])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return raced{err: err}
	}
	defer resp.Body.Close()
	r := raced{code: resp.StatusCode, body: map[string]any{}}
	raw, err := io.ReadAll(resp.Body)
	if err == nil {
		err = json.Unmarshal(raw, &r.body)
	}
	r.err = err
	return r
}

// codes counts the answers by status; a transport error counts as 0.
func codes(t *testing.T, rs []raced) map[int]int {
	t.Helper()
	out := map[int]int{}
	for _, r := range rs {
		assert.NoError(t, r.err)
		out[r.code]++
	}
	return out
}

// raceUsers adds n users of the race to the local subjects.
func raceUsers(prefix string, n int) []string {
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("%s%d", prefix, i)
		if _, ok := env.Tokens[users[i]]; !ok {
			env.Tokens[users[i]] = env.Subjects.Add(users[i])
		}
	}
	return users
}

// buildJobs lists the build Jobs of the namespace.
func buildJobs(t *testing.T) []batchv1.Job {
	t.Helper()
	list, err := env.Kube.Client.BatchV1().Jobs(local.Namespace).List(context.Background(), metav1.ListOptions{
		LabelSelector: kube.LabelComponent + "=" + kube.Component,
	})
	require.NoError(t, err)
	return list.Items
}

// unfinishedByUser counts the unfinished build Jobs (not Complete or
// Failed, not being deleted) of each user.
func unfinishedByUser(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, j := range buildJobs(t) {
		if j.DeletionTimestamp == nil && !hasCondition(&j, batchv1.JobComplete) && !hasCondition(&j, batchv1.JobFailed) {
			out[j.Labels[kube.LabelUser]]++
		}
	}
	return out
}

// clearJobs deletes every build Job of the namespace (background
// propagation, as cancel does) and waits until they are gone, so the next
// round starts with nothing active.
func clearJobs(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	bg := metav1.DeletePropagationBackground
	for _, j := range buildJobs(t) {
		err := env.Kube.Client.BatchV1().Jobs(local.Namespace).Delete(ctx, j.Name, metav1.DeleteOptions{PropagationPolicy: &bg})
		if err != nil {
			require.Truef(t, apierrors.IsNotFound(err), "deleting %s: %v", j.Name, err)
		}
	}
	eventually(t, "no build job is left", func() bool { return len(buildJobs(t)) == 0 })
}

// rounds runs round up to raceRounds times within raceBudget, clearing the
// Jobs before the first and after each.
func rounds(t *testing.T, round func(t *testing.T, n int)) {
	clearJobs(t)
	began := time.Now()
	done := 0
	for n := 0; n < raceRounds && time.Since(began) < raceBudget; n++ {
		roundBegan := time.Now()
		ok := t.Run(fmt.Sprint("round ", n), func(t *testing.T) { round(t, n) })
		clearJobs(t)
		t.Logf("round %d: %s (with cleanup)", n, time.Since(roundBegan).Round(time.Millisecond))
		done++
		if !ok {
			break
		}
	}
	t.Logf("%d rounds in %s", done, time.Since(began).Round(time.Millisecond))
	assert.GreaterOrEqual(t, done, minRounds, "rounds within %s", raceBudget)
}

// Identical ensures at once make exactly one Job, and all answer its id.
func TestRaceIdenticalEnsures(t *testing.T) {
	users := raceUsers("ensurer", 1)
	rounds(t, func(t *testing.T, n int) {
		body := map[string]any{"builder": "python:local", "file": slowFile(n, 0)}
		reqs := make([]request, 12)
		for i := range reqs {
			reqs[i] = request{users[0], http.MethodPost, "/ensure", body}
		}
		rs := race(reqs)
		assert.Equal(t, map[int]int{http.StatusAccepted: 12}, codes(t, rs))
		for _, r := range rs {
			assert.Equal(t, rs[0].str("id"), r.str("id"))
		}
		assert.Equal(t, map[string]int{users[0]: 1}, unfinishedByUser(t))
	})
}

// Eight distinct starts of one user at once: exactly the per-user limit
// (2) go through, the others are refused with 429; once the race is over
// the quota still holds, and a freed place is given again.
func TestRaceStartsOfOneUser(t *testing.T) {
	users := raceUsers("starter", 1)
	u := users[0]
	rounds(t, func(t *testing.T, n int) {
		reqs := make([]request, 8)
		for i := range reqs {
			reqs[i] = startRequest(u, n, i)
		}
		rs := race(reqs)
		assert.Equal(t, map[int]int{http.StatusOK: 2, http.StatusTooManyRequests: 6}, codes(t, rs))
		for _, r := range rs {
			if r.code == http.StatusTooManyRequests {
				assert.Equal(t, "QuotaExceeded", r.str("reason"))
			}
		}
		assert.Equal(t, map[string]int{u: 2}, unfinishedByUser(t))

		late := send(startRequest(u, n, 100))
		assert.Equal(t, http.StatusTooManyRequests, late.code, "%v", late.body)
		var first string
		for _, r := range rs {
			if r.code == http.StatusOK {
				first = r.str("id")
				break
			}
		}
		require.NotEmpty(t, first)
		cancelled := send(request{u, http.MethodDelete, "/" + first, nil})
		require.Equal(t, http.StatusOK, cancelled.code, "%v", cancelled.body)
		late = send(startRequest(u, n, 100))
		assert.Equal(t, http.StatusOK, late.code, "the cancelled build's place is free: %v", late.body)
		assert.Equal(t, map[string]int{u: 2}, unfinishedByUser(t))
	})
}

// Six users with three builds each race for the platform limit (10): exactly
// ten Jobs, at most two of any user, the others 429.
func TestRaceStartsOfSeveralUsers(t *testing.T) {
	users := raceUsers("crowd", 6)
	rounds(t, func(t *testing.T, n int) {
		var reqs []request
		for i := 0; i < 3; i++ {
			for _, u := range users {
				reqs = append(reqs, startRequest(u, n, i))
			}
		}
		rs := race(reqs)
		assert.Equal(t, map[int]int{http.StatusOK: globalLimit, http.StatusTooManyRequests: len(reqs) - globalLimit}, codes(t, rs))
		jobs := unfinishedByUser(t)
		all := 0
		for u, k := range jobs {
			assert.LessOrEqual(t, k, perUserLimit, u)
			all += k
		}
		assert.Equal(t, globalLimit, all)
	})
}

// A cancel racing the start of the same build: whatever the order, the
// quota is right afterwards — the user gets exactly two places, no more.
func TestRaceCancelAndStart(t *testing.T) {
	users := raceUsers("canceller", 1)
	u := users[0]
	rounds(t, func(t *testing.T, n int) {
		// Learn the build's id, then race a start and cancels of it.
		first := send(startRequest(u, n, 0))
		require.Equal(t, http.StatusOK, first.code, "%v", first.body)
		id := first.str("id")
		clearJobs(t)
		rs := race([]request{
			startRequest(u, n, 0),
			{u, http.MethodDelete, "/" + id, nil},
			startRequest(u, n, 1),
			{u, http.MethodDelete, "/" + id, nil},
		})
		for i, r := range rs {
			require.NoError(t, r.err)
			if i%2 == 0 {
				assert.Equal(t, http.StatusOK, r.code, "start: %v", r.body)
			} else {
				assert.Contains(t, []int{http.StatusOK, http.StatusNotFound}, r.code, "cancel: %v", r.body)
			}
		}
		assertPlaces(t, u, n)
	})
}

// A cleanup racing starts deletes the finished builds only, and the quota
// holds: two of the racing starts go through.
func TestRaceCleanupAndStarts(t *testing.T) {
	users := raceUsers("cleaner", 1)
	u := users[0]
	rounds(t, func(t *testing.T, n int) {
		// Ids unique to the round: the contexts of the round before may
		// still be on their way out.
		for d := byte('a'); d <= 'c'; d++ {
			testkube.FinishedJob(t, env.Kube.Client, buildjob.Plan{
				ID: fmt.Sprintf("%02x", n) + testkube.ID(d)[2:], User: u, Kind: "python", Namespace: local.Namespace, Pinned: env.Runtimes["python"].String(),
				PullSecret: config.DefaultRegistrySecret, PushSecret: config.DefaultRegistrySecret, KanikoImage: config.DefaultKanikoImage, Deadline: time.Hour, TTL: 24 * time.Hour, // finished an hour ago: the TTL controller must not take them first
			}, batchv1.JobComplete, time.Now().Add(-time.Hour))
		}
		reqs := []request{{u, http.MethodPost, "/cleanup", map[string]any{"max_age_hours": 0}}}
		for i := 0; i < 6; i++ {
			reqs = append(reqs, startRequest(u, n, i))
		}
		rs := race(reqs)
		require.NoError(t, rs[0].err)
		require.Equal(t, http.StatusOK, rs[0].code, "cleanup: %v", rs[0].body)
		assert.Equal(t, float64(3), rs[0].body["deleted"], "only the finished builds")
		assert.Equal(t, map[int]int{http.StatusOK: 2, http.StatusTooManyRequests: 4}, codes(t, rs[1:]))
		assert.Equal(t, map[string]int{u: 2}, unfinishedByUser(t))
	})
}

// assertPlaces checks that user, after a round's races, has all of its
// places and no more: with what the race left cleared, exactly two new
// builds go through and the third is refused.
func assertPlaces(t *testing.T, user string, n int) {
	t.Helper()
	clearJobs(t)
	rs := []raced{send(startRequest(user, n, 10)), send(startRequest(user, n, 11)), send(startRequest(user, n, 12))}
	assert.Equal(t, http.StatusOK, rs[0].code, "%v", rs[0].body)
	assert.Equal(t, http.StatusOK, rs[1].code, "%v", rs[1].body)
	assert.Equal(t, http.StatusTooManyRequests, rs[2].code, "%v", rs[2].body)
}

// startRequest is user's start number i of round n, a build that sleeps.
func startRequest(user string, n, i int) request {
	return request{user, http.MethodPost, "/start", map[string]any{
		"source": env.Source("python"), "target": fmt.Sprintf("%s:r%d-%d", user, n, i), "kind": "python", "file": slowFile(n, i),
	}}
}
