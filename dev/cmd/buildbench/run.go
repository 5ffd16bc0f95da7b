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

func run(ctx context.Context, repeat int, onDisk, userns bool) error {
	dir, err := os.MkdirTemp("", "buildbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logf, err := os.Create(filepath.Join(dir, "stack.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	began := time.Now()
	fmt.Fprintln(os.Stderr, "starting the local stack with the realistic runtimes (log:", logf.Name()+")...")
	s, err := local.Start(ctx, local.Options{
		Dir: dir, Users: []string{user}, Log: logf, Realistic: true, NodeOnDisk: onDisk,
		Inputs: map[string]any{"build_timeout_seconds": "900", "build_user_namespace": fmt.Sprint(userns)},
	})
	if err != nil {
		return err
	}
	defer s.Stop()
	fmt.Printf("local stack up in %.1f s\n", time.Since(began).Seconds())

	sampler := buildstats.NewCgroupSampler(s.Node.CgroupRoot(), 100*time.Millisecond)
	sctx, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	go sampler.Run(sctx)

	// A base no build has seen: the nodejs runtime plus one tiny layer.
	repo, err := stack.RepoRoot()
	if err != nil {
		return err
	}
	real, err := fixtures.RealisticDir(ctx, repo, logf)
	if err != nil {
		return err
	}
	fresh, err := fixtures.PushRealistic(ctx, s.Registry.Host, s.Registry.Auth(), real, fixtures.Realistic{
		Name: fixtures.NodeJS, Repo: "runtime-nodejs", Tag: "fresh", Variant: time.Now().Format(time.RFC3339Nano),
	})
	if err != nil {
		return err
	}
	freshSource := fresh.Context().Name() + ":fresh"
	pkg := `{"name":"bench","version":"1.0.0","dependencies":{"is-number":"7.0.0","left-pad":"1.3.0"}}`
	busybox := buildCase{"busybox fixture", map[string]any{"builder": "nodejs:local", "file": b64(pkg)}}
	cases := []buildCase{
		{"nodejs + 2 npm packages, cold base", map[string]any{"source": freshSource, "kind": "nodejs", "file": b64(pkg)}},
		{"nodejs + 2 npm packages, warm base", map[string]any{"source": freshSource, "kind": "nodejs", "file": b64(strings.Replace(pkg, `"bench"`, `"bench-again"`, 1))}},
		{"python + 1 wheel (local index)", map[string]any{"builder": "python:bookworm", "file": b64("osd-greet==1.0.0\n")}},
		busybox,
	}
	c := client{base: s.Gateway.URL() + "/system/api/v1/build", token: s.Tokens[user], kube: s.Kube.Client, namespace: local.Namespace}
	for _, bc := range cases {
		sampler.Take()
		m, err := c.measure(ctx, bc.body)
		if err != nil {
			return fmt.Errorf("%s: %w", bc.name, err)
		}
		m.memory = sampler.Take()
		m.print(os.Stdout, bc.name)
	}
	return c.repeatEnsure(ctx, busybox, repeat)
}

// repeatEnsure times ensure for an image that exists: 200, no Job.
func (c client) repeatEnsure(ctx context.Context, bc buildCase, n int) error {
	var ds []time.Duration
	for range n {
		t0 := time.Now()
		code, body, err := c.call(ctx, "POST", "/ensure", bc.body)
		if err != nil {
			return err
		}
		if code != 200 || body["job_name"] != nil {
			return fmt.Errorf("repeated ensure answered %d %v, want 200 without a Job", code, body)
		}
		ds = append(ds, time.Since(t0))
	}
	slices.Sort(ds)
	fmt.Printf("\nrepeat ensure of an existing image (200, no Job), n=%d: p50 %.1f ms, max %.1f ms\n",
		n, ms(ds[len(ds)/2]), ms(ds[len(ds)-1]))
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
