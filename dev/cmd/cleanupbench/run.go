package main

import (
	"context"
	"fmt"
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
	"github.com/apache/openserverless-deployer/tests/testkube"
)

// maxAge is the cleanup's cutoff: the old Jobs ended 48 h ago, the recent
// ones an hour ago.
const maxAge = 24 * time.Hour

// run starts the stack, seeds it, times starts and ensures through the
// actions, measures one cleanup and checks it, and stops the stack (by pid)
// whatever happened.
func run(ctx context.Context, n counts, calls int, limit rateLimit) (err error) {
	c, err := testkube.StartCluster(ctx)
	if err != nil {
		return err
	}
	defer c.Stop()
	cfg, id, err := deployer(ctx, c)
	if err != nil {
		return err
	}

	began := time.Now()
	jobs, err := seed(ctx, c.Kube.Client, cfg, n)
	if err != nil {
		return err
	}
	fmt.Printf("jobs created: %d finished 48 h ago (Complete and Failed in turn), %d finished 1 h ago, %d running, of %d users, with their context ConfigMaps, in %s\n",
		n.old, n.recent, n.active, (n.total()+buildsPerUser-1)/buildsPerUser, time.Since(began).Round(100*time.Millisecond))

	rc, err := kube.ClientConfig(cfg)
	if err != nil {
		return err
	}
	if calls > 0 {
		fmt.Printf("start and ensure of %s through the actions, as the deployer, each Job deleted after its call:\n", benchUser)
		counted := newCounter()
		counted.keepLists = true
		dc := rest.CopyConfig(rc)
		dc.Wrap(counted.wrap)
		client, err := kubernetes.NewForConfig(dc)
		if err != nil {
			return fmt.Errorf("making the actions' client: %w", err)
		}
		inputs := map[string]any{
			"namespace": cfg.Namespace, "registry_push_host": c.Registry.Host, "registry_insecure": "true",
			"allowed_sources": c.Runtime.Context().Name(),
		}
		for k, v := range id.Inputs() {
			inputs[k] = v
		}
		if err := decisions(ctx, c.Kube.Client, cfg.Namespace, inputs, client, counted, c.Runtime.String(), calls); err != nil {
			return err
		}
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
	deleted, cleanupErr := runtimebuild.NewService(client, cfg).Cleanup(ctx, "", true, maxAge)
	took := time.Since(began)
	fmt.Printf("cleanup (system scope, max age %s): %d deleted in %s (%.1f calls/s)\n", maxAge, deleted, took.Round(10*time.Millisecond), float64(counted.total())/took.Seconds())
	for _, line := range counted.report() {
		fmt.Println("  " + line)
	}
	fmt.Printf("  answers by status: %v; at most %d requests in flight; %.1f MB listed\n", counted.statuses, counted.maxIn, float64(counted.listed.Load())/1e6)
	if cleanupErr != nil {
		return fmt.Errorf("the cleanup failed: %w", cleanupErr)
	}
	return check(ctx, c.Kube.Client, cfg.Namespace, jobs, deleted)
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

// deployer makes a namespace holding the registry pull secret, installs
// deploy/rbac.yaml there and returns the settings an action would have
// there, the identity's credentials included, and that identity.
func deployer(ctx context.Context, c *testkube.Cluster) (config.Config, local.Identity, error) {
	ns, err := c.Kube.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "builds"}}, metav1.CreateOptions{})
	if err != nil {
		return config.Config{}, local.Identity{}, fmt.Errorf("creating the namespace: %w", err)
	}
	_, err = c.Kube.Client.CoreV1().Secrets(ns.Name).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: config.DefaultRegistrySecret},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: c.Registry.DockerConfigJSON()},
	}, metav1.CreateOptions{})
	if err != nil {
		return config.Config{}, local.Identity{}, fmt.Errorf("creating the registry secret: %w", err)
	}
	root, err := stack.RepoRoot()
	if err != nil {
		return config.Config{}, local.Identity{}, err
	}
	id, err := local.InstallRBAC(ctx, c.Kube.Client, root, ns.Name, c.Kube.Config.Host)
	if err != nil {
		return config.Config{}, local.Identity{}, err
	}
	cfg, err := config.Load(map[string]any{"namespace": ns.Name}, nil, "")
	if err != nil {
		return config.Config{}, local.Identity{}, err
	}
	cfg.KubeHost, cfg.KubeToken, cfg.KubeCA = id.Host, id.Token, id.CA
	return cfg, id, nil
}

// check lists what is left, as the admin: every old Job gone, every one to
// keep still there, and the count the cleanup gave right.
func check(ctx context.Context, admin kubernetes.Interface, ns string, jobs []seeded, deleted int) error {
	left, err := jobsLeft(ctx, admin, ns)
	if err != nil {
		return err
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
