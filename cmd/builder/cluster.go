package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	webapi "github.com/apache/openserverless-deployer/lib/api"
	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/kube"
	"github.com/apache/openserverless-deployer/lib/runtimebuild"
)

// cluster loads the settings from the environment, as an action would, and
// the Kubernetes client of KUBECONFIG; while the local stack is up and
// KUBECONFIG is unset, the local stack's.
func cluster() (kubernetes.Interface, config.Config, error) {
	cfg, err := config.Load(nil, os.LookupEnv, "")
	if err != nil {
		return nil, config.Config{}, err
	}
	if l := local(); l != nil && os.Getenv("KUBECONFIG") == "" {
		cfg.Kubeconfig, cfg.Namespace = l.Kubeconfig, l.Namespace
		// The local stack's registry is plain HTTP, and its package is
		// deployed with registry_insecure=true (dev/local).
		cfg.RegistryInsecure = true
	}
	if cfg.Kubeconfig == "" && cfg.KubeToken == "" {
		home, _ := os.UserHomeDir()
		cfg.Kubeconfig = home + "/.kube/config"
	}
	client, err := kube.Client(cfg)
	return client, cfg, err
}

// cleanjobs deletes every user's finished build Jobs, as the schedule does.
func cleanjobs(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("cleanjobs", flag.ExitOnError)
	hours := fs.String("max-age-hours", "24", "delete finished builds older than this")
	_ = fs.Parse(args)
	h, err := webapi.ParseMaxAgeHours(*hours, true)
	if err != nil {
		return err
	}
	client, cfg, err := cluster()
	if err != nil {
		return err
	}
	n, err := runtimebuild.NewService(client, cfg).Cleanup(ctx, "", true, time.Duration(h)*time.Hour)
	if err != nil {
		return err
	}
	fmt.Printf("Cleaned up %d jobs successfully.\n", n)
	return nil
}

// logs prints the log of the newest build Job's Pod.
func logs(ctx context.Context, _ []string) error {
	client, cfg, err := cluster()
	if err != nil {
		return err
	}
	pods, err := client.CoreV1().Pods(cfg.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: kube.LabelComponent + "=" + kube.Component,
	})
	if err != nil {
		return err
	}
	if len(pods.Items) == 0 {
		return fmt.Errorf("no build pods in namespace %s", cfg.Namespace)
	}
	sort.Slice(pods.Items, func(i, j int) bool {
		return pods.Items[j].CreationTimestamp.Before(&pods.Items[i].CreationTimestamp)
	})
	pod := pods.Items[0]
	fmt.Fprintf(os.Stderr, "pod %s (%s, build %s)\n", pod.Name, pod.Status.Phase, pod.Labels[kube.LabelBuildID])
	rc, err := client.CoreV1().Pods(cfg.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{}).Stream(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(os.Stdout, rc)
	return err
}
