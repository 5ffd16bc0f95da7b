package stack

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authenticationv1 "k8s.io/api/authentication/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
)

func TestKube(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd, kube-apiserver and kube-controller-manager")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Minute) // the first run builds the binaries
	defer cancel()
	began := time.Now()
	k, err := StartKube(ctx, KubeOptions{Log: tWriter{t}})
	require.NoError(t, err)
	t.Logf("StartKube took %s", time.Since(began))
	stopped := false
	defer func() {
		if !stopped {
			assert.NoError(t, k.Stop())
		}
	}()

	t.Run("job controller creates the pod and the garbage collector removes it", func(t *testing.T) {
		ns := newNamespace(t, k.Client)
		job, err := k.Client.BatchV1().Jobs(ns).Create(ctx, probeJob(), metav1.CreateOptions{})
		require.NoError(t, err)
		selector := metav1.ListOptions{LabelSelector: batchv1.JobNameLabel + "=" + job.Name}

		var pod corev1.Pod
		err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			pods, err := k.Client.CoreV1().Pods(ns).List(ctx, selector)
			if err != nil || len(pods.Items) == 0 {
				return false, err
			}
			pod = pods.Items[0]
			return true, nil
		})
		require.NoError(t, err, "no pod for the job")
		owner := metav1.GetControllerOf(&pod)
		require.NotNil(t, owner)
		assert.Equal(t, job.UID, owner.UID)
		assert.Equal(t, corev1.PodPending, pod.Status.Phase, "there is no node")
		assert.Equal(t, "default", pod.Spec.ServiceAccountName, "set by the ServiceAccount admission plugin")

		err = k.Client.BatchV1().Jobs(ns).Delete(ctx, job.Name, metav1.DeleteOptions{
			PropagationPolicy: ptr.To(metav1.DeletePropagationBackground),
		})
		require.NoError(t, err)
		err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			_, err := k.Client.CoreV1().Pods(ns).Get(ctx, pod.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return true, nil
			}
			return false, err
		})
		assert.NoError(t, err, "the garbage collector did not delete pod %s", pod.Name)
	})

	t.Run("status of a job managed elsewhere", func(t *testing.T) {
		ns := newNamespace(t, k.Client)
		cond := func(typ batchv1.JobConditionType) batchv1.JobCondition {
			return batchv1.JobCondition{Type: typ, Status: corev1.ConditionTrue, Reason: "Test", LastTransitionTime: metav1.Now()}
		}
		tests := []struct {
			name       string
			conditions []batchv1.JobConditionType
			succeeded  int32
			failed     int32
			completion bool
			wantErr    bool
		}{
			{"complete", []batchv1.JobConditionType{batchv1.JobSuccessCriteriaMet, batchv1.JobComplete}, 1, 0, true, false},
			{"failed", []batchv1.JobConditionType{batchv1.JobFailureTarget, batchv1.JobFailed}, 0, 1, false, false},
			{"complete without SuccessCriteriaMet", []batchv1.JobConditionType{batchv1.JobComplete}, 1, 0, true, true},
			{"failed without FailureTarget", []batchv1.JobConditionType{batchv1.JobFailed}, 0, 1, false, true},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				job := probeJob()
				job.Name = "managed-" + string(rune('a'+i))
				job.Spec.ManagedBy = ptr.To("example.com/stack-test")
				job, err := k.Client.BatchV1().Jobs(ns).Create(ctx, job, metav1.CreateOptions{})
				require.NoError(t, err)

				now := metav1.Now()
				job.Status.StartTime = &now
				job.Status.Succeeded, job.Status.Failed = tt.succeeded, tt.failed
				if tt.completion {
					job.Status.CompletionTime = &now
				}
				for _, c := range tt.conditions {
					job.Status.Conditions = append(job.Status.Conditions, cond(c))
				}
				got, err := k.Client.BatchV1().Jobs(ns).UpdateStatus(ctx, job, metav1.UpdateOptions{})
				if tt.wantErr {
					assert.True(t, apierrors.IsInvalid(err), "want Invalid, got %v", err)
					return
				}
				require.NoError(t, err)
				last := tt.conditions[len(tt.conditions)-1]
				require.NotEmpty(t, got.Status.Conditions)
				assert.Equal(t, last, got.Status.Conditions[len(got.Status.Conditions)-1].Type)

				// The Job controller leaves it alone: no pod, status kept.
				time.Sleep(2 * time.Second)
				pods, err := k.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: batchv1.JobNameLabel + "=" + job.Name})
				require.NoError(t, err)
				assert.Empty(t, pods.Items)
				again, err := k.Client.BatchV1().Jobs(ns).Get(ctx, job.Name, metav1.GetOptions{})
				require.NoError(t, err)
				assert.Equal(t, got.Status.Conditions, again.Status.Conditions)
			})
		}
	})

	t.Run("ttl-after-finished deletes a finished job", func(t *testing.T) {
		ns := newNamespace(t, k.Client)
		job := probeJob()
		job.Spec.ManagedBy = ptr.To("example.com/stack-test")
		job.Spec.TTLSecondsAfterFinished = ptr.To[int32](0)
		job, err := k.Client.BatchV1().Jobs(ns).Create(ctx, job, metav1.CreateOptions{})
		require.NoError(t, err)
		now := metav1.Now()
		job.Status = batchv1.JobStatus{StartTime: &now, CompletionTime: &now, Succeeded: 1, Conditions: []batchv1.JobCondition{
			{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: now},
		}}
		_, err = k.Client.BatchV1().Jobs(ns).UpdateStatus(ctx, job, metav1.UpdateOptions{})
		require.NoError(t, err)
		err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			_, err := k.Client.BatchV1().Jobs(ns).Get(ctx, job.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return true, nil
			}
			return false, err
		})
		assert.NoError(t, err, "the finished job was not deleted")
	})

	t.Run("namespace controller empties and removes a namespace", func(t *testing.T) {
		ns, err := k.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "test-"},
		}, metav1.CreateOptions{})
		require.NoError(t, err)
		_, err = k.Client.CoreV1().ConfigMaps(ns.Name).Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "data"},
		}, metav1.CreateOptions{})
		require.NoError(t, err)
		require.NoError(t, k.Client.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}))
		began := time.Now()
		err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			_, err := k.Client.CoreV1().Namespaces().Get(ctx, ns.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return true, nil
			}
			return false, err
		})
		assert.NoError(t, err, "namespace %s stays", ns.Name)
		t.Logf("namespace deleted in %s", time.Since(began))
	})

	t.Run("users and kubeconfigs", func(t *testing.T) {
		cfg, err := k.AddUser("alice", []string{"testers"})
		require.NoError(t, err)
		alice, err := kubernetes.NewForConfig(cfg)
		require.NoError(t, err)
		_, err = alice.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
		assert.True(t, apierrors.IsForbidden(err), "a user without roles: want Forbidden, got %v", err)

		path := t.TempDir() + "/alice.kubeconfig"
		require.NoError(t, k.KubeconfigFor(cfg, path))
		for _, tt := range []struct {
			name, path    string
			wantForbidden bool
		}{{"admin", k.Kubeconfig, false}, {"alice", path, true}} {
			t.Run(tt.name, func(t *testing.T) {
				loaded, err := clientcmd.BuildConfigFromFlags("", tt.path)
				require.NoError(t, err)
				c, err := kubernetes.NewForConfig(loaded)
				require.NoError(t, err)
				_, err = c.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
				if tt.wantForbidden {
					assert.True(t, apierrors.IsForbidden(err), "want Forbidden, got %v", err)
				} else {
					assert.NoError(t, err)
				}
			})
		}
	})

	t.Run("a service-account token Secret is filled and authenticates as its account", func(t *testing.T) {
		ns := newNamespace(t, k.Client)
		_, err := k.Client.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{
			ObjectMeta: metav1.ObjectMeta{Name: "robot"},
		}, metav1.CreateOptions{})
		require.NoError(t, err)
		_, err = k.Client.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "robot-token", Annotations: map[string]string{corev1.ServiceAccountNameKey: "robot"}},
			Type:       corev1.SecretTypeServiceAccountToken,
		}, metav1.CreateOptions{})
		require.NoError(t, err)
		var secret *corev1.Secret
		err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			secret, err = k.Client.CoreV1().Secrets(ns).Get(ctx, "robot-token", metav1.GetOptions{})
			return err == nil && len(secret.Data[corev1.ServiceAccountTokenKey]) > 0, err
		})
		require.NoError(t, err, "the serviceaccount-token controller did not fill the Secret")
		ca, err := os.ReadFile(k.CAFile)
		require.NoError(t, err)
		assert.Equal(t, string(ca), string(secret.Data[corev1.ServiceAccountRootCAKey]))

		robot, err := kubernetes.NewForConfig(&rest.Config{
			Host: k.Config.Host, BearerToken: string(secret.Data[corev1.ServiceAccountTokenKey]),
			TLSClientConfig: rest.TLSClientConfig{CAData: secret.Data[corev1.ServiceAccountRootCAKey]},
		})
		require.NoError(t, err)
		review, err := robot.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		require.NoError(t, err)
		assert.Equal(t, "system:serviceaccount:"+ns+":robot", review.Status.UserInfo.Username)
		_, err = robot.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
		assert.True(t, apierrors.IsForbidden(err), "RBAC: an account without roles is refused, got %v", err)
	})

	t.Run("paused controllers do not act until resumed", func(t *testing.T) {
		ns := newNamespace(t, k.Client)
		require.NoError(t, k.PauseControllers())
		job, err := k.Client.BatchV1().Jobs(ns).Create(ctx, probeJob(), metav1.CreateOptions{})
		if err != nil {
			require.NoError(t, k.ResumeControllers())
			require.NoError(t, err)
		}
		time.Sleep(2 * time.Second)
		pods, err := k.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: batchv1.JobNameLabel + "=" + job.Name})
		require.NoError(t, k.ResumeControllers())
		require.NoError(t, err)
		assert.Empty(t, pods.Items, "no pod while paused")
		err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			pods, err := k.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: batchv1.JobNameLabel + "=" + job.Name})
			return err == nil && len(pods.Items) > 0, err
		})
		assert.NoError(t, err, "no pod after resuming")
	})

	pids := append(k.serverPids(), k.kcm.pid())
	require.Len(t, pids, 3, "etcd, kube-apiserver and kube-controller-manager")
	for _, pid := range pids {
		require.True(t, alive(pid), "pid %d before Stop", pid)
	}
	began = time.Now()
	stopped = true
	require.NoError(t, k.Stop())
	t.Logf("Stop took %s", time.Since(began))
	for _, pid := range pids {
		assert.False(t, alive(pid), "pid %d still running after Stop", pid)
	}
	assert.NoDirExists(t, k.Dir, "temporary folder kept")
	assert.NoError(t, k.Stop(), "a second Stop")
}

// newNamespace creates a namespace for one test and deletes it after.
func newNamespace(t *testing.T, c kubernetes.Interface) string {
	t.Helper()
	ns, err := c.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "test-"},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = c.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
	})
	return ns.Name
}

// tWriter sends progress lines to the test log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func TestKubeDir(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd, kube-apiserver and kube-controller-manager")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Minute)
	defer cancel()
	dir := t.TempDir()

	// Leftovers of an earlier run: old etcd data, and a pid file naming a
	// process that is not ours to kill.
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "etcd"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "etcd", "stale"), []byte("x"), 0o600))
	bystander := exec.Command("sleep", "600")
	require.NoError(t, bystander.Start())
	defer func() {
		_ = bystander.Process.Kill()
		_ = bystander.Wait()
	}()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "kube-apiserver.pid"), []byte(strconv.Itoa(bystander.Process.Pid)), 0o600))

	k, err := StartKube(ctx, KubeOptions{Dir: dir})
	require.NoError(t, err)
	assert.NoFileExists(t, filepath.Join(dir, "etcd", "stale"))
	require.NoError(t, k.Stop())

	assert.True(t, alive(bystander.Process.Pid), "a stale pid was killed")
	for _, f := range []string{"etcd.log", "kube-apiserver.log", "kube-controller-manager.log"} {
		info, err := os.Stat(filepath.Join(dir, f))
		if assert.NoError(t, err, f) {
			assert.NotZero(t, info.Size(), f)
		}
	}
	assert.FileExists(t, k.Kubeconfig)
	assert.Equal(t, dir, filepath.Dir(k.Kubeconfig))
}
