package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/apache/openserverless-deployer/dev/buildstats"
	"github.com/apache/openserverless-deployer/dev/fixtures"
	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/dev/stack"
)

const user = "bench"

// buildCase is one ensure to measure.
type buildCase struct {
	name string
	body map[string]any
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// The build engines, as build_engine names them.
const (
	engineKaniko = "kaniko"
	engineLayer  = "layer"
)

// options are the bench's flags.
type options struct {
	engines        []string
	repeat         int
	onDisk, userns bool
	// busybox is how many more busybox builds to time; poll how often a
	// build's status is read.
	busybox int
	poll    time.Duration
}

// result is what one engine's stack measured: each case, in order, and the
// repeated ensures.
type result struct {
	engine string
	cases  []caseResult
	repeat []time.Duration
}

// caseResult is one case's build.
type caseResult struct {
	name string
	m    measurement
}

// run runs the cases with each engine in turn, each on a stack of its own
// that is stopped before the next starts, then prints the engines side by
// side when there are several.
func run(ctx context.Context, o options) error {
	var results []result
	for _, engine := range o.engines {
		r, err := runEngine(ctx, engine, o)
		if err != nil {
			return fmt.Errorf("%s engine: %w", engine, err)
		}
		results = append(results, r)
	}
	if len(results) > 1 {
		printTable(os.Stdout, results)
	}
	return nil
}

// runEngine starts a local stack whose package builds with engine, runs the
// cases on it, printing each, and stops the stack.
func runEngine(ctx context.Context, engine string, o options) (result, error) {
	res := result{engine: engine}
	dir, err := os.MkdirTemp("", "buildbench-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	logf, err := os.Create(filepath.Join(dir, "stack.log"))
	if err != nil {
		return res, err
	}
	defer logf.Close()
	began := time.Now()
	fmt.Fprintf(os.Stderr, "starting the local stack with the realistic runtimes and the %s engine (log: %s)...\n", engine, logf.Name())
	s, err := local.Start(ctx, local.Options{
		Dir: dir, Users: []string{user}, Log: logf, Realistic: true, NodeOnDisk: o.onDisk, Engine: engine,
		Inputs: map[string]any{"build_timeout_seconds": "900", "build_user_namespace": fmt.Sprint(o.userns)},
	})
	if err != nil {
		return res, err
	}
	defer s.Stop()
	fmt.Printf("\nlocal stack with the %s engine up in %.1f s\n", engine, time.Since(began).Seconds())

	sampler := buildstats.NewCgroupSampler(s.Node.CgroupRoot(), 100*time.Millisecond)
	sctx, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	go sampler.Run(sctx)

	// A base no build has seen: the nodejs runtime plus one tiny layer.
	repo, err := stack.RepoRoot()
	if err != nil {
		return res, err
	}
	real, err := fixtures.RealisticDir(ctx, repo, logf)
	if err != nil {
		return res, err
	}
	fresh, err := fixtures.PushRealistic(ctx, s.Registry.Host, s.Registry.Auth(), real, fixtures.Realistic{
		Name: fixtures.NodeJS, Repo: "runtime-nodejs", Tag: "fresh", Variant: time.Now().Format(time.RFC3339Nano),
	})
	if err != nil {
		return res, err
	}
	freshSource := fresh.Context().Name() + ":fresh"
	pkg := `{"name":"bench","version":"1.0.0","dependencies":{"is-number":"7.0.0","left-pad":"1.3.0"}}`
	busybox := buildCase{"busybox fixture", map[string]any{"builder": "nodejs:local", "file": b64(pkg)}}
	cases := []buildCase{
		{"nodejs + 2 npm packages, cold base", map[string]any{"source": freshSource, "kind": "nodejs", "file": b64(pkg)}},
		{"nodejs + 2 npm packages, warm base", map[string]any{"source": freshSource, "kind": "nodejs", "file": b64(strings.Replace(pkg, `"bench"`, `"bench-again"`, 1))}},
		{"python + 1 wheel (local index)", map[string]any{"builder": "python:bookworm", "file": b64("osd-greet==1.0.0\n")}},
		{"python + 1 wheel, same base again", map[string]any{"builder": "python:bookworm", "file": b64("osd-hello==1.0.0\n")}},
		busybox,
	}
	c := client{
		base: s.Gateway.URL() + "/system/api/v1/build", token: s.Tokens[user], kube: s.Kube.Client,
		namespace: local.Namespace, engine: engine, poll: o.poll,
	}
	for _, bc := range cases {
		sampler.Take()
		m, err := c.measure(ctx, bc.body)
		if err != nil {
			return res, fmt.Errorf("%s: %w", bc.name, err)
		}
		m.memory = sampler.Take()
		m.print(os.Stdout, bc.name)
		res.cases = append(res.cases, caseResult{bc.name, m})
	}
	res.repeat, err = c.repeatEnsure(ctx, busybox, o.repeat)
	if err != nil {
		return res, err
	}
	return res, c.repeatBuilds(ctx, busybox, o.busybox)
}

// repeatBuilds builds bc's builder n times, one after the other, each
// with a package.json of its own (so each makes a Job), and prints
// request → final state: the fastest, the median, the slowest.
func (c client) repeatBuilds(ctx context.Context, bc buildCase, n int) error {
	var ds []time.Duration
	for i := range n {
		pkg := fmt.Sprintf(`{"name":"bench-busybox-%d-%d","version":"1.0.0"}`, time.Now().UnixNano(), i)
		m, err := c.measure(ctx, map[string]any{"builder": bc.body["builder"], "file": b64(pkg)})
		if err != nil {
			return fmt.Errorf("busybox build %d: %w", i+1, err)
		}
		if m.state != "succeeded" {
			return fmt.Errorf("busybox build %d ended %s (%s)", i+1, m.state, m.failure)
		}
		ds = append(ds, m.ended.Sub(m.requested))
	}
	slices.Sort(ds)
	if len(ds) > 0 {
		fmt.Printf("\n%s [%s], %d builds one after the other, status read every %s: fastest %.2f s, median %.2f s, slowest %.2f s\n",
			bc.name, c.engine, n, c.poll, ds[0].Seconds(), ds[len(ds)/2].Seconds(), ds[len(ds)-1].Seconds())
	}
	return nil
}

// repeatEnsure times ensure for an image that exists (200, no Job) n times
// and returns the times, sorted.
func (c client) repeatEnsure(ctx context.Context, bc buildCase, n int) ([]time.Duration, error) {
	var ds []time.Duration
	for range n {
		t0 := time.Now()
		code, body, err := c.call(ctx, "POST", "/ensure", bc.body)
		if err != nil {
			return nil, err
		}
		if code != 200 || body["job_name"] != nil {
			return nil, fmt.Errorf("repeated ensure answered %d %v, want 200 without a Job", code, body)
		}
		ds = append(ds, time.Since(t0))
	}
	slices.Sort(ds)
	if len(ds) > 0 {
		fmt.Printf("\nrepeat ensure of an existing image (200, no Job) [%s], n=%d: p50 %.1f ms, max %.1f ms\n",
			c.engine, n, ms(ds[len(ds)/2]), ms(ds[len(ds)-1]))
	}
	return ds, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
