package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/apache/openserverless-deployer/lib/kube"
)

// quotaListRuns is how many times each list is timed.
const quotaListRuns = 5

// quotaLists times, as the deployer, the Job list a start's quota decision
// makes (the build Jobs that have not succeeded) beside the one it made
// before (every build Job), and prints each one's median time, its Jobs and
// its size. rc is the deployer's client configuration; it is not changed.
func quotaLists(ctx context.Context, rc *rest.Config, ns string) error {
	builds := kube.LabelComponent + "=" + kube.Component
	for _, l := range []struct {
		what string
		opts metav1.ListOptions
	}{
		{"every build Job (before)", metav1.ListOptions{LabelSelector: builds}},
		{"the quota's list, status.successful=0", metav1.ListOptions{LabelSelector: builds, FieldSelector: "status.successful=0"}},
	} {
		counted := newCounter()
		c := rest.CopyConfig(rc)
		c.Wrap(counted.wrap)
		client, err := kubernetes.NewForConfig(c)
		if err != nil {
			return fmt.Errorf("making the client: %w", err)
		}
		var took []time.Duration
		items := 0
		for range quotaListRuns {
			began := time.Now()
			list, err := client.BatchV1().Jobs(ns).List(ctx, l.opts)
			if err != nil {
				return fmt.Errorf("listing %s: %w", l.what, err)
			}
			took = append(took, time.Since(began))
			items = len(list.Items)
		}
		slices.Sort(took)
		fmt.Printf("  %s: %d Jobs, %.2f MB, median %s of %d\n", l.what, items,
			float64(counted.listed.Load())/quotaListRuns/1e6, took[len(took)/2].Round(100*time.Microsecond), quotaListRuns)
	}
	return nil
}
