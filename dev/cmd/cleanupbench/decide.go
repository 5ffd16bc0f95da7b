package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/sirupsen/logrus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/apache/openserverless-deployer/lib/api"
	"github.com/apache/openserverless-deployer/lib/api/builds"
	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/identity"
	"github.com/apache/openserverless-deployer/lib/kube"
)

// warmCalls are made before the measured ones, as a warm action has made
// calls before: the client, the registry session and the token are made
// then, and so is any first-use work of the quota record.
const warmCalls = 3

// benchToken is the caller's token; tokenOf answers it as OpenWhisk would.
const benchToken = "b3c4d5e6-0000-4000-8000-000000000001:benchkey"

// benchUser makes the measured calls: the first user of the seeded builds,
// with as many kept builds as the others.
var benchUser = seedUser(0)

type tokenOf map[string]string

func (v tokenOf) Verify(_ context.Context, _, token string) (string, error) {
	if ns, ok := v[token]; ok {
		return ns, nil
	}
	return "", identity.ErrRejected
}

// action is one web action served in this process as its executable serves
// it (lib/api and the build operations), warm: one Env and one Kubernetes
// client for all its activations. Its client has the deployer's identity
// and lib/kube's settings; counted sees its requests.
type action struct {
	name    string
	env     api.Env
	op      api.Operation
	inputs  map[string]any
	counted *counter
}

// newAction makes the action name served by op of ops, bound to inputs.
func newAction(name string, inputs map[string]any, counted *counter, op func(builds.Ops) api.Operation, client kubernetes.Interface) action {
	log := logrus.New()
	log.SetOutput(io.Discard)
	vars := map[string]string{"__OW_NAMESPACE": "whisk-system", "__OW_ACTION_NAME": "/whisk-system/builder/" + name}
	return action{
		name: name,
		env: api.Env{
			Lookup:   func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
			Verifier: tokenOf{benchToken: benchUser},
			Log:      log,
			Tokens:   identity.NewCache(),
		},
		op:      op(builds.Ops{Kube: func(config.Config) (kubernetes.Interface, error) { return client, nil }}),
		inputs:  inputs,
		counted: counted,
	}
}

// call is a web call of the action with body, as OpenWhisk makes it.
func (a action) call(ctx context.Context, body map[string]any) (status int, reply map[string]any, took time.Duration) {
	args := map[string]any{"__ow_method": "post", "__ow_path": "", "__ow_headers": map[string]any{"authorization": benchToken}}
	for k, v := range body {
		args[k] = v
	}
	for k, v := range a.inputs {
		args[k] = v
	}
	began := time.Now()
	resp := api.Serve(ctx, a.env, args, a.op)
	return resp.Status, resp.Body, time.Since(began)
}

// timing is the measured calls of one action.
type timing struct {
	took    []time.Duration
	samples []sample
	first   time.Duration
	firstS  sample
}

// decisions times starts and ensures of benchUser through the actions, n of
// each after warmCalls, each creating a build Job. After each call the Job
// it made is deleted, as a cancel or a cleanup would, so the active builds
// stay as seeded and the next call's quota decision meets a place freed out
// of band. ok is the status a call must answer.
func decisions(ctx context.Context, admin kubernetes.Interface, ns string, inputs map[string]any, client kubernetes.Interface, counted *counter, source string, n int) error {
	start := newAction("start", inputs, counted, func(o builds.Ops) api.Operation { return o.Start }, client)
	ensure := newAction("ensure", inputs, counted, func(o builds.Ops) api.Operation { return o.Ensure }, client)
	for _, m := range []struct {
		a    action
		ok   int
		body func(i int) map[string]any
	}{
		{start, 200, func(i int) map[string]any {
			return map[string]any{"source": source, "target": fmt.Sprintf("%s:t%d", benchUser, i), "kind": "python"}
		}},
		{ensure, 202, func(i int) map[string]any {
			file := fmt.Appendf(nil, "package-%d==1.0\n", i)
			return map[string]any{"source": source, "kind": "python", "file": base64.StdEncoding.EncodeToString(file)}
		}},
	} {
		var t timing
		for i := range warmCalls + n {
			status, reply, took := m.a.call(ctx, m.body(i))
			s, err := counted.take()
			if err != nil {
				return err
			}
			if status != m.ok {
				return fmt.Errorf("%s %d answered %d: %v", m.a.name, i, status, reply)
			}
			job, _ := reply["job_name"].(string)
			bg := metav1.DeletePropagationBackground
			if err := admin.BatchV1().Jobs(ns).Delete(ctx, job, metav1.DeleteOptions{PropagationPolicy: &bg}); err != nil {
				return fmt.Errorf("deleting the job %s made by %s: %w", job, m.a.name, err)
			}
			switch {
			case i == 0:
				t.first, t.firstS = took, s
			case i >= warmCalls:
				t.took = append(t.took, took)
				t.samples = append(t.samples, s)
			}
		}
		t.print(m.a.name)
	}
	return userList(ctx, client, ns)
}

// userListRuns is how many times userList times the list.
const userListRuns = 20

// userList times, alone, the list a start makes when the quota record
// says its user may be past max_kept_builds_per_user, or does not know the
// user: benchUser's build Jobs, for the pruning of kept builds, from the
// API server's cache. Its answer is bounded by max_kept_builds_per_user;
// the API server still filters every build Job of the namespace for it.
func userList(ctx context.Context, client kubernetes.Interface, ns string) error {
	opts := metav1.ListOptions{LabelSelector: kube.LabelComponent + "=" + kube.Component + "," + kube.LabelUser + "=" + benchUser, ResourceVersion: "0"}
	var took []time.Duration
	for range userListRuns {
		began := time.Now()
		if _, err := client.BatchV1().Jobs(ns).List(ctx, opts); err != nil {
			return fmt.Errorf("listing the jobs of %s: %w", benchUser, err)
		}
		took = append(took, time.Since(began))
	}
	slices.Sort(took)
	fmt.Printf("  the user's own list alone (pruning of kept builds), p50 of %d: %s\n", userListRuns, percentile(took, 50).Round(100*time.Microsecond))
	return nil
}

// print writes the figures of t: the first call, then p50 and p99 of the
// measured ones with what their quota decisions listed.
func (t timing) print(what string) {
	fmt.Printf("  %s, first call: %s, %s\n", what, t.first.Round(100*time.Microsecond), t.firstS)
	worst := t.samples[0]
	var listing []time.Duration
	for i, s := range t.samples {
		if s.listBytes > worst.listBytes {
			worst = s
		}
		if s.jobLists > 0 {
			listing = append(listing, t.took[i])
		}
	}
	slices.Sort(t.took)
	fmt.Printf("  %s, %d warm calls: p50 %s, p99 %s; the most a call listed: %s\n", what, len(t.took),
		percentile(t.took, 50).Round(100*time.Microsecond), percentile(t.took, 99).Round(100*time.Microsecond), worst)
	if len(listing) > 0 {
		slices.Sort(listing)
		fmt.Printf("  %s, the %d calls that listed build Jobs: p50 %s, max %s\n", what, len(listing),
			percentile(listing, 50).Round(100*time.Microsecond), listing[len(listing)-1].Round(100*time.Microsecond))
	}
}

func (s sample) String() string {
	return fmt.Sprintf("%d API calls (%d lists, %d gets), %d objects and %.3f MB listed", s.calls, s.lists, s.gets, s.listObjects, float64(s.listBytes)/1e6)
}

// percentile is the p-th percentile of sorted, nearest rank.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100
	return sorted[max(rank-1, 0)]
}

// jobsLeft counts the build Jobs of the namespace, a page at a time.
func jobsLeft(ctx context.Context, admin kubernetes.Interface, ns string) (map[string]bool, error) {
	left := map[string]bool{}
	opts := metav1.ListOptions{LabelSelector: kube.LabelComponent + "=" + kube.Component, Limit: 500}
	for {
		page, err := admin.BatchV1().Jobs(ns).List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("listing the build jobs: %w", err)
		}
		for _, j := range page.Items {
			left[j.Name] = true
		}
		if opts.Continue = page.Continue; opts.Continue == "" {
			return left, nil
		}
	}
}
