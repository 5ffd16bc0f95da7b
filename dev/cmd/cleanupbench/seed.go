package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/runtimebuild/buildjob"
	"github.com/apache/openserverless-deployer/tests/testkube"
)

// seedWorkers bounds the concurrent creations: enough to keep a 2-core API
// server busy, few enough not to queue behind its priority levels.
const seedWorkers = 16

// buildsPerUser is how many of the seeded builds each user has: under
// max_kept_builds_per_user (20), as on a platform whose users keep their
// last builds, so no user's own list grows with the namespace.
const buildsPerUser = 16

// seeded is one Job made for the measurement.
type seeded struct {
	name  string
	final batchv1.JobConditionType
	old   bool // ended before the cutoff
}

// counts are the Jobs to seed: old ones ended 48 h ago (Complete and Failed
// in turn), recent ones ended an hour ago (in turn too), active ones
// running.
type counts struct {
	old, recent, active int
}

func (c counts) total() int { return c.old + c.recent + c.active }

// seed creates, with the admin client, the build Jobs of n, each with its
// context ConfigMap, as real builds of buildsPerUser builds a user label
// them. The built-in Job controller leaves them alone (spec.managedBy), so
// they keep the state written through their status.
func seed(ctx context.Context, admin kubernetes.Interface, cfg config.Config, n counts) ([]seeded, error) {
	now := time.Now()
	jobs := make([]seeded, n.total())
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(seedWorkers)
	for i := range jobs {
		at, final := now.Add(-48*time.Hour-time.Duration(i)*time.Second), batchv1.JobComplete
		if i%2 == 1 {
			final = batchv1.JobFailed
		}
		switch {
		case i >= n.old+n.recent:
			final = "" // running
		case i >= n.old:
			at = now.Add(-time.Hour)
		}
		g.Go(func() error {
			job, err := testkube.CreateFinishedJob(ctx, admin, plan(cfg, i), final, at)
			if err != nil {
				return err
			}
			jobs[i] = seeded{name: job.Name, final: final, old: i < n.old}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("creating build jobs: %w", err)
	}
	return jobs, nil
}

// seedUser is the user of the i-th seeded build.
func seedUser(i int) string { return fmt.Sprintf("user%05d", i/buildsPerUser) }

// plan is the i-th build: of seedUser(i), a python runtime pinned by digest
// in a loopback registry nothing pulls from (no Pod ever starts), a
// requirements file of its own.
func plan(cfg config.Config, i int) buildjob.Plan {
	user := seedUser(i)
	pinned := "127.0.0.1:9/runtime-python@sha256:" + strings.Repeat("0", 64)
	id := buildjob.ID(buildjob.Inputs{Kind: "python", Source: pinned, File: fmt.Appendf(nil, "package-%d==1.0\n", i)})
	image := "127.0.0.1:9/" + user + "-python:" + id[:12]
	return buildjob.Plan{
		ID: id, User: user, Kind: "python", Namespace: cfg.Namespace,
		Source: "127.0.0.1:9/runtime-python:v3.13", Pinned: pinned,
		PullSecret: cfg.RegistrySecret, PushSecret: cfg.RegistrySecret,
		WarmerImage: cfg.WarmerImage, KanikoImage: cfg.KanikoImage, PusherImage: cfg.PusherImage,
		Deadline: cfg.BuildTimeout, TTL: cfg.JobTTL, Resources: cfg.Resources,
		Destination: image, Image: image,
	}
}
