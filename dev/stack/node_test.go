package stack_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	"github.com/apache/openserverless-deployer/dev/fixtures"
	"github.com/apache/openserverless-deployer/dev/stack"
	"github.com/apache/openserverless-deployer/dev/stepimages"
)

// TestNodeRunsPodsInAUserNamespace starts a real node on its own bridge,
// runs a Pod whose image the node pulls from the registry on the bridge's
// gateway with the Pod's pull Secret, in a user namespace, and reads its
// log through the API server (pods/log, which the API server fetches from
// the kubelet with its client certificate). Then it stops everything and
// checks nothing of the node is left on the machine.
func TestNodeRunsPodsInAUserNamespace(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real node")
	}
	if os.Geteuid() != 0 {
		t.Skip("a node needs root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	log := testLog(t)

	kube, err := stack.StartKube(ctx, stack.KubeOptions{Dir: filepath.Join(dir, "kube"), Log: log})
	require.NoError(t, err)
	defer func() { assert.NoError(t, kube.Stop()) }()
	bridge, err := stack.CreateBridge(ctx)
	require.NoError(t, err)
	defer func() { assert.NoError(t, bridge.Delete(context.Background())) }()
	reg, err := stack.StartRegistry(ctx, stack.RegistryOptions{Dir: filepath.Join(dir, "registry"), Addr: bridge.Gateway.String(), Log: log})
	require.NoError(t, err)
	defer func() { assert.NoError(t, reg.Stop()) }()
	busybox, err := fixtures.Push(ctx, reg.Host, reg.Auth(), fixtures.Runtime{Repo: "busybox", Tag: "1"})
	require.NoError(t, err)
	archive := filepath.Join(dir, "pause.tar")
	root, err := stack.RepoRoot()
	require.NoError(t, err)
	pause, err := stepimages.PauseTarball(ctx, root, reg.Host, archive, log)
	require.NoError(t, err)

	nodeDir := filepath.Join(dir, "node")
	node, err := stack.StartNode(ctx, kube, stack.NodeOptions{
		Dir: nodeDir, Bridge: bridge, PlainHTTP: []string{reg.Host},
		SandboxImage: pause.String(), SandboxArchive: archive, InMemory: true, Log: log,
	})
	require.NoError(t, err)
	stopped := false
	defer func() {
		if t.Failed() {
			for _, f := range []string{"kube-scheduler.log", "kubelet.log", "containerd.log"} {
				data, _ := os.ReadFile(filepath.Join(nodeDir, f))
				if len(data) > 6000 {
					data = data[len(data)-6000:]
				}
				t.Logf("%s ends with:\n%s", f, data)
			}
		}
	}()
	defer func() {
		if !stopped {
			assert.NoError(t, node.Stop())
		}
	}()

	c := kube.Client
	_, err = c.CoreV1().Secrets("default").Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "pull"},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: reg.DockerConfigJSON()},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	began := time.Now()
	pod, err := c.CoreV1().Pods("default").Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "uidmap"},
		Spec: corev1.PodSpec{
			RestartPolicy:                corev1.RestartPolicyNever,
			HostUsers:                    ptr.To(false),
			AutomountServiceAccountToken: ptr.To(false),
			ImagePullSecrets:             []corev1.LocalObjectReference{{Name: "pull"}},
			Containers: []corev1.Container{{
				Name: "main", Image: busybox.String(),
				// One connection attempt to an address beyond the machine
				// (TEST-NET-2, no answer) leaves through the bridge's
				// masquerade rule, whose counter the test reads.
				Command: []string{"/bin/sh", "-c", "cat /proc/self/uid_map; id -u; /bin/busybox nc -w 1 198.51.100.1 80 </dev/null >/dev/null 2>&1; true"},
			}},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		pod, err = c.CoreV1().Pods("default").Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed, nil
	})
	require.NoError(t, err, "pod status: %+v", pod.Status)
	t.Logf("pod create → %s in %s", pod.Status.Phase, time.Since(began).Round(time.Millisecond))
	require.Equal(t, corev1.PodSucceeded, pod.Status.Phase, "%+v", pod.Status)
	assert.Equal(t, node.Name, pod.Spec.NodeName)

	out, err := c.CoreV1().Pods("default").GetLogs(pod.Name, &corev1.PodLogOptions{Container: "main"}).DoRaw(ctx)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, lines, 2, "log: %q", out)
	f := strings.Fields(lines[0])
	require.Len(t, f, 3, "uid_map: %q", lines[0])
	assert.Equal(t, "0", f[0], "uid_map maps root")
	assert.NotEqual(t, "0", f[1], "root in the Pod must not be root on the node")
	assert.Equal(t, "65536", f[2])
	assert.Equal(t, "0", lines[1], "the container runs as root in its namespace")

	require.NoError(t, node.Stop())
	stopped = true
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	require.NoError(t, err)
	assert.NotContains(t, string(mounts), node.State, "no mount of the node is left")
	_, err = os.Stat(node.State)
	assert.True(t, os.IsNotExist(err), "the node's state is removed: %v", err)
	for _, h := range []string{"memory", "pids", "cpu"} {
		_, err := os.Stat(filepath.Join("/sys/fs/cgroup", h, node.Name))
		assert.True(t, os.IsNotExist(err), "the node's cgroup in %s is removed: %v", h, err)
	}
	// The bridge masquerades its subnet with one rule; the CNI plugin
	// wrote none of its own (its comment, as iptables -S prints it).
	nat, err := exec.Command("iptables", "-t", "nat", "-S").Output()
	require.NoError(t, err)
	assert.NotContains(t, string(nat), fmt.Sprintf(`name: \"%s\"`, bridge.Name), "no per-Pod masquerade rule")
	counters, err := exec.Command("iptables", "-t", "nat", "-L", "POSTROUTING", "-v", "-x", "-n").Output()
	require.NoError(t, err)
	masqueraded := false
	for _, line := range strings.Split(string(counters), "\n") {
		if f := strings.Fields(line); len(f) > 2 && strings.Contains(line, "MASQUERADE") && strings.Contains(line, "openserverless-deployer bridge "+bridge.Name+" ") {
			masqueraded = f[0] != "0"
		}
	}
	assert.True(t, masqueraded, "the Pod's connection beyond the machine went through the bridge's masquerade rule:\n%s", counters)
	require.NoError(t, bridge.Delete(ctx))
	nat, err = exec.Command("iptables", "-t", "nat", "-S").Output()
	require.NoError(t, err)
	assert.NotContains(t, string(nat), "openserverless-deployer bridge "+bridge.Name+`"`, "the bridge's masquerade rule goes with it")
	if _, err := os.Stat("/var/lib/openserverless-deployer"); os.IsNotExist(err) {
		// No other node runs on the machine: the kubelet's chains are gone too.
		for _, table := range []string{"filter", "nat", "mangle"} {
			rules, err := exec.Command("iptables", "-t", table, "-S").Output()
			require.NoError(t, err)
			assert.NotContains(t, string(rules), "KUBE-", "the kubelet's chains in %s are removed", table)
		}
		for _, p := range []string{"/var/lib/kubelet", "/var/log/containers"} {
			_, err := os.Stat(p)
			assert.True(t, os.IsNotExist(err), "%s is removed: %v", p, err)
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		cmd, _ := os.ReadFile(p)
		assert.NotContains(t, string(cmd), node.Socket, "%s runs for the node after it stopped", p)
	}
}

// testLog is where the stack's progress goes: the test log in -v runs.
func testLog(t *testing.T) io.Writer {
	if testing.Verbose() {
		return os.Stderr
	}
	return io.Discard
}
