package faults

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apache/openserverless-deployer/dev/fixtures"
	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/dev/stack"
	"github.com/apache/openserverless-deployer/lib/runtimebuild/buildjob"
	"github.com/apache/openserverless-deployer/tests/testapi"
)

// slowExtend is an extend script that takes long enough for a fault to land
// while the build step runs.
const slowExtend = "#!/bin/sh\nset -e\nsleep 8\nmkdir -p /opt/extended\ncp /tmp/* /opt/extended/ 2>/dev/null || true\n"

// TestNodeFaults breaks the node under a running build: the kubelet killed
// (SIGKILL) and started again, containerd killed and started again, the
// registry killed and started again while the push step talks to it. Each time the
// build must end, succeeded or failed with a reason a user can read, its
// Job must be finished (the quota counts only unfinished Jobs, so its place
// comes back), and no build object may be left without its Job.
func TestNodeFaults(t *testing.T) {
	ctx := context.Background()
	slow, err := fixtures.Push(ctx, env.Registry.Host, env.Registry.Auth(), fixtures.Runtime{
		Repo: "runtime-slow", Tag: "local", User: "1001", Extend: true, Script: slowExtend,
	})
	require.NoError(t, err)
	source := slow.Context().Name() + ":local"

	faults := []struct {
		name, when string
		step       string // the step that must be running when the fault lands
		hit        func(t *testing.T, jobName string) (restart func() error)
	}{
		{"kubelet", "while the build step runs", buildjob.StepBuild, func(t *testing.T, jobName string) func() error {
			require.NoError(t, env.Node.KillKubelet())
			return env.Node.RestartKubelet
		}},
		{"containerd", "while the build step runs", buildjob.StepBuild, func(t *testing.T, jobName string) func() error {
			require.NoError(t, env.Node.KillContainerd())
			return func() error { return env.Node.RestartContainerd(ctx) }
		}},
		// Frozen while the build step runs, so the push step is sure to be
		// talking to it when it is killed (the images are on the node by
		// now: the builds before pulled them).
		{"registry", "while the push step talks to it", buildjob.StepBuild, func(t *testing.T, jobName string) func() error {
			pid := env.Registry.Pid()
			killed := false
			defer func() {
				if !killed {
					_ = stack.Thaw(pid)
				}
			}()
			require.NoError(t, stack.Freeze(pid))
			waitStepRunning(t, jobName, buildjob.StepPush)
			require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
			killed = true
			return func() error { return env.Registry.Restart(ctx) }
		}},
	}
	for i, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			r := api.Call(t, "alice", http.MethodPost, "/start", map[string]any{
				"source": source, "target": fmt.Sprintf("alice:node-fault-%d-%d", i, time.Now().UnixNano()),
				"kind": "python", "file": b64("six==1.0\n"),
			})
			require.Equal(t, http.StatusOK, r.Code, "%v", r.Body)
			id, jobName := r.Str("id"), r.Str("job_name")

			waitStepRunning(t, jobName, f.step)
			restart := f.hit(t, jobName)
			time.Sleep(2 * time.Second)
			require.NoError(t, restart(), "starting %s again", f.name)

			final := api.Follow(t, "alice", id)
			t.Logf("%s killed %s: build %s (%v)", f.name, f.when, final.Str("state"), final.Body["reason"])
			switch final.Str("state") {
			case "succeeded":
				assert.NotEmpty(t, final.Str("digest"))
			case "failed":
				assert.NotEmpty(t, final.Str("reason"), "%v", final.Body)
				assert.NotEmpty(t, strings.TrimSpace(final.Str("message")), "%v", final.Body)
			default:
				t.Fatalf("build %s ended as %v", id, final.Body)
			}
			// A pushed build reports succeeded a moment before its Job
			// is complete.
			testapi.Eventually(t, "the Job is finished, so the quota no longer counts it", func() bool {
				job, err := env.Kube.Client.BatchV1().Jobs(local.Namespace).Get(ctx, jobName, metav1.GetOptions{})
				return err == nil && jobFinished(job)
			})
			assertNothingLeft(t)
		})
	}
}

// waitStepRunning waits until step of the Job's Pod is running.
func waitStepRunning(t *testing.T, jobName, step string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		pods, err := env.Kube.Client.CoreV1().Pods(local.Namespace).List(context.Background(), metav1.ListOptions{
			LabelSelector: batchv1.JobNameLabel + "=" + jobName,
		})
		require.NoError(t, err)
		for _, p := range pods.Items {
			for _, s := range append(p.Status.InitContainerStatuses, p.Status.ContainerStatuses...) {
				if s.Name == step && s.State.Running != nil {
					return
				}
			}
			require.NotContains(t, []corev1.PodPhase{corev1.PodSucceeded, corev1.PodFailed}, p.Status.Phase, "the build ended before its %s step was seen running", step)
		}
		if time.Now().After(deadline) {
			t.Fatalf("step %s of %s never ran", step, jobName)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// jobFinished reports whether a Job has its Complete or Failed condition.
func jobFinished(job *batchv1.Job) bool {
	for _, c := range job.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}
