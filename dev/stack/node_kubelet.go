package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// kubeletPort is the kubelet's port on the node's address (the bridge's
// gateway, its own on each node).
const kubeletPort = 10250

// startKubelet writes the kubelet's configuration and client kubeconfig and
// starts it. It registers the Node with a client certificate of its own
// (system:node:<name>, group system:nodes), as a cluster's kubelets do, so
// the Node authorizer and NodeRestriction judge it.
func (n *Node) startKubelet(ctx context.Context) error {
	dir := filepath.Join(n.State, "kubelet")
	if err := os.MkdirAll(filepath.Join(dir, "pod-logs"), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	cfg, err := n.kube.AddUser("system:node:"+n.Name, []string{"system:nodes"})
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(dir, "kubelet.kubeconfig")
	if err := n.kube.KubeconfigFor(cfg, kubeconfig); err != nil {
		return err
	}
	config := filepath.Join(dir, "config.json")
	data, err := json.MarshalIndent(n.kubeletConfig(dir), "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(config, data, 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", config, err)
	}
	out, err := n.openLog("kubelet.log")
	if err != nil {
		return err
	}
	n.kubeletArgs = []string{
		"--config=" + config,
		"--kubeconfig=" + kubeconfig,
		"--root-dir=" + filepath.Join(dir, "root"),
		// Its default is /var/lib/kubelet/pki whatever the root.
		"--cert-dir=" + filepath.Join(dir, "pki"),
		"--hostname-override=" + n.Name,
		// The kubelet refuses a loopback node address; the bridge's gateway
		// is the node's own, and where the API server reaches it.
		"--node-ip=" + n.Bridge.Gateway.String(),
		"--v=1",
	}
	n.kubeletLog = out
	n.kubelet, err = startChild(n.bins.kubelet, n.kubeletArgs, out)
	return err
}

// kubeletConfig is the KubeletConfiguration of the node. What this machine
// needs: cgroups v1 (failCgroupV1 false) driven by cgroupfs, as runc is; no
// swap check; eviction thresholds low enough for a shared development disk.
func (n *Node) kubeletConfig(dir string) map[string]any {
	return map[string]any{
		"apiVersion":               "kubelet.config.k8s.io/v1beta1",
		"kind":                     "KubeletConfiguration",
		"address":                  n.Bridge.Gateway.String(),
		"port":                     kubeletPort,
		"readOnlyPort":             0,
		"healthzPort":              0,
		"containerRuntimeEndpoint": "unix://" + n.Socket,
		"cgroupDriver":             "cgroupfs",
		"cgroupRoot":               n.cgroupRoot,
		"failCgroupV1":             false,
		"failSwapOn":               false,
		"podLogsDir":               filepath.Join(dir, "pod-logs"),
		"resolvConf":               "/etc/resolv.conf",
		"serializeImagePulls":      false,
		"registerNode":             true,
		"authentication": map[string]any{
			"anonymous": map[string]any{"enabled": false},
			"webhook":   map[string]any{"enabled": true},
			"x509":      map[string]any{"clientCAFile": n.kube.KubeletClient.CAFile},
		},
		"authorization": map[string]any{"mode": "Webhook"},
		"evictionHard": map[string]string{
			"memory.available":  "200Mi",
			"nodefs.available":  "1%",
			"imagefs.available": "1%",
		},
		// containerd's events tell the kubelet at once that a container
		// ended, so the next step starts without waiting for the generic
		// PLEG's relist, once a second: a build has three steps in turn.
		"featureGates":                map[string]bool{"EventedPLEG": true},
		"imageGCHighThresholdPercent": 100,
		"imageGCLowThresholdPercent":  99,
	}
}

// startScheduler starts kube-scheduler as a system:masters user, serving
// nothing.
func (n *Node) startScheduler() error {
	cfg, err := n.kube.AddUser("system:kube-scheduler", []string{"system:masters"})
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(n.Dir, "kube-scheduler.kubeconfig")
	if err := n.kube.KubeconfigFor(cfg, kubeconfig); err != nil {
		return err
	}
	out, err := n.openLog("kube-scheduler.log")
	if err != nil {
		return err
	}
	n.scheduler, err = startChild(n.bins.scheduler, []string{
		"--kubeconfig=" + kubeconfig,
		"--authentication-kubeconfig=" + kubeconfig,
		"--authorization-kubeconfig=" + kubeconfig,
		"--leader-elect=false",
		"--bind-address=127.0.0.1",
		"--secure-port=0",
	}, out)
	return err
}
