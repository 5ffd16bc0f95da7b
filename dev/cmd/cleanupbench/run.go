package main

import (
	"context"
	"fmt"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/dev/stack"
	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/kube"
	"github.com/apache/openserverless-deployer/lib/runtimebuild"
)

// maxAge is the cleanup's cutoff: the old Jobs ended 48 h ago, the recent
// ones an hour ago.
const maxAge = 24 * time.Hour

// run starts the stack, seeds it, measures one cleanup and checks it, and
// stops the stack (by pid) whatever happened.
func run(ctx context.Context, old, keep int, limit rateLimit) (err error) {
	k, err := stack.StartKube(ctx, stack.KubeOptions{Log: os.Stderr})
	if err != nil {
		return err
	}
	defer func() {
		if stopErr := k.Stop(); err == nil {
			err = stopErr
		}
	}()
	cfg, err := deployer(ctx, k)
	if err != nil {
		return err
	}

	began := time.Now()
	jobs, err := seed(ctx, k.Client, cfg, old, keep)
	if err != nil {
		return err
	}
	fmt.Printf("jobs created: %d finished 48 h ago (Complete and Failed in turn) + %d to keep (running, and finished 1 h ago, in turn), with their context ConfigMaps, in %s\n",
		old, keep, time.Since(began).Round(100*time.Millisecond))

	rc, err := kube.ClientConfig(cfg)
	if err != nil {
		return err
	}
	fmt.Println("the Job list of a start's quota decision, as the deployer, before the cleanup:")
	if err := quotaLists(ctx, rc, cfg.Namespace); err != nil {
		return err
	}
	counted := newCounter()
	rc.Wrap(counted.wrap)
	limit.apply(rc)
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("making the counted client: %w", err)
	}
	fmt.Printf("client: the deployer's identity, QPS %g, burst %d, call timeout %s (lib/kube unless -qps/-burst)\n", rc.QPS, rc.Burst, rc.Timeout)

	began = time.Now()
	n, cleanupErr := runtimebuild.NewService(client, cfg).Cleanup(ctx, "", true, maxAge)
	took := time.Since(began)
	fmt.Printf("cleanup (system scope, max age %s): %d deleted in %s (%.1f calls/s)\n", maxAge, n, took.Round(10*time.Millisecond), float64(counted.total())/took.Seconds())
	for _, line := range counted.report() {
		fmt.Println("  " + line)
	}
	fmt.Printf("  answers by status: %v; at most %d requests in flight; %.1f MB listed\n", counted.statuses, counted.maxIn, float64(counted.listed.Load())/1e6)
	if cleanupErr != nil {
		return fmt.Errorf("the cleanup failed: %w", cleanupErr)
	}
	return check(ctx, k.Client, cfg.Namespace, jobs, n)
}

// rateLimit replaces the client's rate limit where set.
type rateLimit struct {
	qps   float64
	burst int
}

func (l rateLimit) apply(rc *rest.Config) {
	if l.qps != 0 {
		rc.QPS = float32(l.qps)
	}
	if l.burst != 0 {
		rc.Burst = l.burst
	}
}

// deployer installs deploy/rbac.yaml in a fresh namespace and returns the
// settings an action would have there, the identity's credentials included.
func deployer(ctx context.Context, k *stack.Kube) (config.Config, error) {
	ns, err := k.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "builds"}}, metav1.CreateOptions{})
	if err != nil {
		return config.Config{}, fmt.Errorf("creating the namespace: %w", err)
	}
	root, err := stack.RepoRoot()
	if err != nil {
		return config.Config{}, err
	}
	id, err := local.InstallRBAC(ctx, k.Client, root, ns.Name, k.Config.Host)
	if err != nil {
		return config.Config{}, err
	}
	cfg, err := config.Load(map[string]any{"namespace": ns.Name}, nil, "")
	if err != nil {
		return config.Config{}, err
	}
	cfg.KubeHost, cfg.KubeToken, cfg.KubeCA = id.Host, id.Token, id.CA
	return cfg, nil
}

// check lists what is left, as the admin: every old Job gone, every one to
// keep still there, and the count the cleanup gave right.
func check(ctx context.Context, admin kubernetes.Interface, ns string, jobs []seeded, deleted int) error {
	left := map[string]bool{}
	opts := metav1.ListOptions{LabelSelector: kube.LabelComponent + "=" + kube.Component, Limit: 500}
	for {
		page, err := admin.BatchV1().Jobs(ns).List(ctx, opts)
		if err != nil {
			return fmt.Errorf("listing what is left: %w", err)
		}
		for _, j := range page.Items {
			left[j.Name] = true
		}
		if opts.Continue = page.Continue; opts.Continue == "" {
			break
		}
	}
	old, kept := 0, 0
	for _, j := range jobs {
		switch {
		case j.old && left[j.name]:
			return fmt.Errorf("job %s (%s 48 h ago) is still there", j.name, j.final)
		case j.old:
			old++
		case !left[j.name]:
			return fmt.Errorf("job %s (%q, to keep) is gone", j.name, j.final)
		default:
			kept++
		}
	}
	if deleted != old {
		return fmt.Errorf("the cleanup counted %d deleted, %d old jobs are gone", deleted, old)
	}
	fmt.Printf("check: all %d old jobs gone, all %d to keep remain, %d jobs left in all\n", old, kept, len(left))
	return nil
}
