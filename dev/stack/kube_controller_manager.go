package stack

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
)

// Controllers are the kube-controller-manager controllers Kube runs: enough
// for Jobs to get Pods, for owned objects to be collected, for finished Jobs
// to expire, for namespaces to get their ServiceAccount and be deleted, and
// for service-account token Secrets to be filled (the deployer's production
// identity, deploy/rbac.yaml), and for a node's not-ready taint to be lifted
// once its kubelet reports Ready (and set again when it stops reporting).
const Controllers = "job,garbagecollector,ttl-after-finished,serviceaccount,serviceaccount-token,namespace,nodelifecycle"

// startControllerManager starts kube-controller-manager as a system:masters
// user, serving nothing (--secure-port=0), and waits until its controllers act.
func (k *Kube) startControllerManager(ctx context.Context, path string) error {
	cfg, err := k.AddUser("system:kube-controller-manager", []string{"system:masters"})
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(k.Dir, "kube-controller-manager.kubeconfig")
	if err := k.KubeconfigFor(cfg, kubeconfig); err != nil {
		return err
	}
	out, err := k.openLog("kube-controller-manager.log")
	if err != nil {
		return err
	}
	args := []string{
		"--kubeconfig=" + kubeconfig,
		"--leader-elect=false",
		"--bind-address=127.0.0.1",
		"--secure-port=0",
		"--controllers=" + Controllers,
		// Controllers act as this admin user, not as per-controller service
		// accounts: no token requests or bootstrap RBAC to depend on.
		"--use-service-account-credentials=false",
		// The serviceaccount-token controller signs with the key the API
		// server verifies with (envtest's sa-signer pair) and puts this CA
		// in each token Secret as ca.crt.
		"--service-account-private-key-file=" + filepath.Join(k.Dir, "apiserver", saSigningKey),
		"--root-ca-file=" + k.CAFile,
	}
	if k.kcm, err = startChild(path, args, out); err != nil {
		return err
	}
	if err := k.probeControllers(ctx); err != nil {
		return fmt.Errorf("waiting for kube-controller-manager: %w; its log ends with:\n%s", err, tail(out.Name(), 20))
	}
	return nil
}

// probeControllers creates a throwaway namespace and Job and waits for the
// serviceaccount controller to create the namespace's default ServiceAccount
// and for the Job controller to create the Job's Pod; then deletes the
// namespace, which the namespace controller empties in the background.
func (k *Kube) probeControllers(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, controllersReadyTimeout)
	defer cancel()
	ns, err := k.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "stack-probe-"},
	}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("creating a probe namespace: %w", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = k.Client.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{})
	}()
	poll := func(what string, done func(context.Context) (bool, error)) error {
		err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			if k.kcm.exited() {
				return false, fmt.Errorf("kube-controller-manager exited: %v", k.kcm.err)
			}
			return done(ctx)
		})
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		return nil
	}
	err = poll("the default ServiceAccount", func(ctx context.Context) (bool, error) {
		_, err := k.Client.CoreV1().ServiceAccounts(ns.Name).Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		return err
	}
	job, err := k.Client.BatchV1().Jobs(ns.Name).Create(ctx, probeJob(), metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("creating a probe job: %w", err)
	}
	return poll("the probe job's pod", func(ctx context.Context) (bool, error) {
		pods, err := k.Client.CoreV1().Pods(ns.Name).List(ctx, metav1.ListOptions{
			LabelSelector: batchv1.JobNameLabel + "=" + job.Name,
		})
		if err != nil {
			return false, err
		}
		return len(pods.Items) > 0, nil
	})
}

// probeJob is a Job whose Pod is never run: there is no node.
func probeJob() *batchv1.Job {
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "probe"},
		Spec: batchv1.JobSpec{
			BackoffLimit: ptr.To[int32](0),
			Template: corev1.PodTemplateSpec{
				Spec: corev1.PodSpec{
					RestartPolicy:                corev1.RestartPolicyNever,
					AutomountServiceAccountToken: ptr.To(false),
					Containers:                   []corev1.Container{{Name: "probe", Image: "probe.invalid/probe:0"}},
				},
			},
		},
	}
}

// tail returns the last n lines of the file at path, for error messages.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", path, err)
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
