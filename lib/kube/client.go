package kube

import (
	"crypto/sha256"
	"fmt"
	"sync"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/apache/openserverless-deployer/lib/config"
)

// RESTConfig chooses how to reach the API server: a dedicated service
// account's token (kube_host + kube_token, kube_ca), else the in-cluster
// config, else a kubeconfig file (development).
func RESTConfig(c config.Config) (*rest.Config, error) {
	switch {
	case c.KubeToken != "":
		if c.KubeHost == "" {
			return nil, fmt.Errorf("kube_token is set without kube_host")
		}
		rc := &rest.Config{Host: c.KubeHost, BearerToken: c.KubeToken}
		if c.KubeCA != "" {
			rc.TLSClientConfig.CAData = []byte(c.KubeCA)
		}
		return rc, nil
	case c.Kubeconfig == "":
		rc, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("no Kubernetes credentials: not in a cluster and no kubeconfig: %w", err)
		}
		return rc, nil
	default:
		rc, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("loading kubeconfig %s: %w", c.Kubeconfig, err)
		}
		return rc, nil
	}
}

// ClientConfig is the rest.Config Client makes its clientset from:
// RESTConfig with the deployer's user agent, rate limit and call timeout.
func ClientConfig(c config.Config) (*rest.Config, error) {
	rc, err := RESTConfig(c)
	if err != nil {
		return nil, err
	}
	rc.UserAgent = "openserverless-deployer"
	// client-go's default (5 per second, bursts of 10) throttles a warm action
	// to one call per 400 ms once its burst is spent. At 50 per second a
	// cleanup's 5,000 deletes took 98 s of the action's 120, and a warm
	// ensure (two reads) was held to 40 ms a call once 100 calls had spent
	// the burst (README, Figures). The API server's own priority and
	// fairness queues or refuses (429, which client-go retries) what exceeds
	// the deployer's share; this limit only stops a runaway loop.
	rc.QPS, rc.Burst = 1000, 1000
	// Protobuf, as Kubernetes' own components talk to the API server: a
	// page of 500 build Jobs is about a third of its JSON, and both sides
	// encode and decode it several times faster.
	rc.ContentType = "application/vnd.kubernetes.protobuf"
	rc.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	// Without a bound, a request to an API server that accepts the
	// connection and never answers waits for the activation's deadline.
	rc.Timeout = c.KubeTimeout
	if rc.Timeout <= 0 {
		rc.Timeout = config.DefaultCallTimeout
	}
	return rc, nil
}

var (
	mu      sync.Mutex
	clients = map[[32]byte]kubernetes.Interface{}
)

// Client returns a clientset for the settings, made once per settings in
// the process: activations of a warm action share it.
func Client(c config.Config) (kubernetes.Interface, error) {
	key := sha256.Sum256([]byte(c.KubeHost + "\x00" + c.KubeToken + "\x00" + c.KubeCA + "\x00" + c.Kubeconfig + "\x00" + c.KubeTimeout.String()))
	mu.Lock()
	defer mu.Unlock()
	if cs, ok := clients[key]; ok {
		return cs, nil
	}
	rc, err := ClientConfig(c)
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("making Kubernetes client: %w", err)
	}
	clients[key] = cs
	return cs, nil
}
