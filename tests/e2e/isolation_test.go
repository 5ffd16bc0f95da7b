package e2e

import (
	"archive/tar"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apache/openserverless-deployer/dev/fixtures"
	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/lib/kube"
)

// probeScript is the /bin/extend of a base image a user may push to their
// own repository: a root process that looks every way it can for a
// credential — the environment of every process it can see, every file
// that looks like a docker config, a token or a Secret, whatever is mounted
// — and tries a raw socket on the Pod network (ARP to its gateway, the way
// to take over another Pod's traffic on the node's bridge), prints what it
// finds, and copies it into the image it builds. It fails
// the build when its file says so, after printing.
const probeScript = `#!/bin/sh
pat="au""ths"
mkdir -p /opt/probe
echo "probe: id $(id)"
echo "probe: uid_map $(cat /proc/self/uid_map)"
echo "probe: $(grep CapEff /proc/self/status)"
gw=$(busybox ip route | busybox awk '$1 == "default" { print $3 }')
echo "probe: arping $gw: $(busybox arping -c 1 -w 1 -I eth0 "$gw" 2>&1 | tr '\n' ' ') (arping ends)"
env > /opt/probe/env
cat /opt/probe/env
for p in /proc/[0-9]*; do
	cat "$p/environ" 2>/dev/null | tr '\0' '\n' >> /opt/probe/proc-environ
	cat "$p/cmdline" 2>/dev/null | tr '\0' ' ' >> /opt/probe/proc-cmdline; echo >> /opt/probe/proc-cmdline
done
cat /opt/probe/proc-environ /opt/probe/proc-cmdline
cat /proc/self/mountinfo > /opt/probe/mountinfo; cat /opt/probe/mountinfo
for f in /kaniko/.docker/config.json /docker/config.json /root/.docker/config.json "$DOCKER_CONFIG/config.json" \
	/var/run/secrets/kubernetes.io/serviceaccount/token /run/secrets/kubernetes.io/serviceaccount/token; do
	[ -f "$f" ] && { echo "probe: found $f"; cat "$f"; cat "$f" >> /opt/probe/found; }
done
for f in $(find / -xdev \( -name 'config.json' -o -name '*.dockerconfigjson' -o -name token -o -name '*.json' \) -type f 2>/dev/null); do
	echo "probe: file $f"; cat "$f"; cat "$f" >> /opt/probe/found
done
for d in /cache /output /kaniko /workspace /.deployer /var/run /run /tmp /etc; do
	for f in $(grep -rl "$pat" "$d" 2>/dev/null); do
		echo "probe: $pat in $f"; cat "$f" | head -c 100000; cat "$f" | head -c 100000 >> /opt/probe/found
	done
done
# The Pod's /etc/hosts and /etc/resolv.conf are shared by its containers:
# pointing the registry's name elsewhere here must not reach the push step.
echo "127.0.0.2 registry.invalid" >> /etc/hosts && echo "probe: wrote /etc/hosts"
echo "nameserver 127.0.0.2" > /etc/resolv.conf && echo "probe: wrote /etc/resolv.conf"
echo "probe: done" > /dev/termination-log
if grep -qx 'fail-the-build' /tmp/requirements.txt; then echo "probe: failing as asked" >&2; exit 1; fi
exit 0
`

// secrets are the strings of the platform's registry Secret that must
// never reach a user: the password, the basic auth, the whole config.
func secrets() []string {
	return []string{
		env.Registry.Password,
		base64.StdEncoding.EncodeToString([]byte(env.Registry.User + ":" + env.Registry.Password)),
		string(env.Registry.DockerConfigJSON()),
	}
}

// A base image in the caller's own repository whose /bin/extend hunts for
// credentials finds none: not in the status, the log, the termination
// messages of the steps, nor in the image it builds.
func TestProbingBuildFindsNoCredential(t *testing.T) {
	api.RequireEngine(t, "alice")
	ctx := context.Background()
	probe, err := fixtures.Push(ctx, env.Registry.Host, env.Registry.Auth(), fixtures.Runtime{
		Repo: "alice", Tag: "probe", User: "1001", Extend: true, Script: probeScript,
	})
	require.NoError(t, err)
	for _, c := range []struct{ name, file, state string }{
		{"succeeding", "probe==1\n", "succeeded"},
		{"failing", "probe==1\nfail-the-build\n", "failed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := call(t, "alice", http.MethodPost, "/start", map[string]any{
				"source": env.Registry.Host + "/alice:probe", "target": "alice:probed-" + c.name, "kind": "python", "file": b64(c.file),
			})
			require.Equal(t, http.StatusOK, r.Code, "%v", r.Body)
			st := follow(t, "alice", r.Str("id"))
			require.Equal(t, c.state, st.Str("state"), "%v", st.Body)
			logs := call(t, "alice", http.MethodGet, "/"+r.Str("id")+"/logs?tail=5000", nil)
			require.Equal(t, http.StatusOK, logs.Code)
			logText := fmt.Sprint(logs.Body)
			require.Contains(t, logText, "probe: id", "the probe ran")
			require.Contains(t, logText, "/proc", "the probe looked")
			assertUnprivilegedRoot(t, logText)
			assertNoRawSocket(t, logText)

			pods, err := env.Kube.Client.CoreV1().Pods(local.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "batch.kubernetes.io/job-name=" + r.Str("job_name")})
			require.NoError(t, err)
			require.NotEmpty(t, pods.Items)
			statuses, err := json.Marshal(pods.Items[0].Status)
			require.NoError(t, err)
			status, err := json.Marshal(st.Body)
			require.NoError(t, err)

			where := map[string]string{"status reply": string(status), "log": logText, "pod status": string(statuses)}
			if c.state == "succeeded" {
				// The build step can rewrite the Pod's files: what counts is
				// that the push step does not read them.
				require.Contains(t, logText, "probe: wrote /etc/hosts")
				require.Contains(t, logText, "probe: wrote /etc/resolv.conf")
				assertPushResolvesOnItsOwn(t, pods.Items[0])
				where["image"] = imageText(t, r.Str("image"))
				assert.Contains(t, where["image"], "PATH=", "the probe's findings are in the image")
			}
			for w, text := range where {
				for _, s := range secrets() {
					assert.NotContains(t, text, s, "the %s holds a part of the platform's registry Secret", w)
				}
			}
		})
	}
	_ = probe
}

// assertUnprivilegedRoot checks the probe's "uid_map" line: the build step
// runs in a user namespace of its own (build_user_namespace, on by
// default), where root is an unprivileged user of the node.
func assertUnprivilegedRoot(t *testing.T, logText string) {
	t.Helper()
	m := regexp.MustCompile(`probe: uid_map +(\d+) +(\d+) +(\d+)`).FindStringSubmatch(logText)
	require.NotNil(t, m, "the probe printed its uid_map")
	assert.Equal(t, "0", m[1], "root of the build step is mapped")
	assert.NotEqual(t, "0", m[2], "root of the build step is root on the node")
	assert.Equal(t, "65536", m[3], "the build step has 65536 ids")
}

// assertNoRawSocket checks the probe's "CapEff" and "arping" lines: the
// build step has no CAP_NET_RAW, so it cannot send ARP (or any raw packet)
// on the node's bridge, where it could claim the registry's address and
// read another build's push credential off the wire.
func assertNoRawSocket(t *testing.T, logText string) {
	t.Helper()
	m := regexp.MustCompile(`probe: CapEff:\s+([0-9a-f]+)`).FindStringSubmatch(logText)
	require.NotNil(t, m, "the probe printed its capabilities")
	caps, err := strconv.ParseUint(m[1], 16, 64)
	require.NoError(t, err)
	const capNetRaw = 13
	assert.Zero(t, caps&(1<<capNetRaw), "the build step has CAP_NET_RAW (CapEff %s)", m[1])
	a := regexp.MustCompile(`probe: arping .*?\(arping ends\)`).FindString(logText)
	require.NotEmpty(t, a, "the probe tried arping")
	t.Logf("CapEff %s; %s", m[1], a)
	assert.NotContains(t, a, "Sent 1", "the build step sent a raw ARP packet: %s", a)
}

// assertPushResolvesOnItsOwn checks, in containerd's spec of each step,
// that the push step's /etc/hosts and /etc/resolv.conf are not the files
// the build step had (the Pod's shared ones, which the probe rewrote).
func assertPushResolvesOnItsOwn(t *testing.T, pod corev1.Pod) {
	t.Helper()
	ctx := context.Background()
	id := func(statuses []corev1.ContainerStatus, name string) string {
		for _, s := range statuses {
			if s.Name == name {
				return s.ContainerID
			}
		}
		t.Fatalf("no container %s in Pod %s", name, pod.Name)
		return ""
	}
	build, err := env.Node.ContainerMounts(ctx, id(pod.Status.InitContainerStatuses, "build"))
	require.NoError(t, err)
	push, err := env.Node.ContainerMounts(ctx, id(pod.Status.ContainerStatuses, "push"))
	require.NoError(t, err)
	for _, f := range []string{"/etc/hosts", "/etc/resolv.conf"} {
		require.NotEmpty(t, build[f], "the build step has the Pod's %s", f)
		require.NotEmpty(t, push[f], "the push step has a %s", f)
		assert.NotEqual(t, build[f], push[f], "the push step reads the %s the build step could write", f)
	}
	t.Logf("build: /etc/hosts %s; push: /etc/hosts %s", build["/etc/hosts"], push["/etc/hosts"])
}

// imageText is every file of an image's every layer, as one string.
func imageText(t *testing.T, ref string) string {
	t.Helper()
	rc := mutate.Extract(pull(t, ref))
	defer rc.Close()
	var b strings.Builder
	tr := tar.NewReader(rc)
	for {
		_, err := tr.Next()
		if err == io.EOF {
			return b.String()
		}
		require.NoError(t, err)
		_, err = io.Copy(&b, tr)
		require.NoError(t, err)
	}
}

// Another user's repository is no source: the same 400 whether the tag
// exists or not, so nobody can copy another's image or tell its tags.
func TestAnotherUsersRepositoryIsNoSource(t *testing.T) {
	r := call(t, "bob", http.MethodPost, "/start", map[string]any{
		"source": env.Source("python"), "target": "bob:mine", "kind": "python", "file": b64("x\n"),
	})
	require.Equal(t, http.StatusOK, r.Code, "%v", r.Body)
	require.Equal(t, "succeeded", follow(t, "bob", r.Str("id")).Str("state"))

	answers := map[string]reply{}
	for _, tag := range []string{"mine", "missing"} {
		for _, path := range []string{"/start", "/ensure"} {
			body := map[string]any{"source": env.Registry.Host + "/bob:" + tag, "target": "alice:copy", "kind": "python"}
			a := call(t, "alice", http.MethodPost, path, body)
			assert.Equal(t, http.StatusBadRequest, a.Code, "%s %s: %v", path, tag, a.Body)
			assert.Equal(t, "SourceNotAllowed", a.Str("reason"))
			answers[path+" "+tag] = a
		}
	}
	for _, path := range []string{"/start", "/ensure"} {
		assert.Equal(t, answers[path+" mine"].Str("message"),
			strings.ReplaceAll(answers[path+" missing"].Str("message"), "bob:missing", "bob:mine"),
			"the same words for an existing and a missing tag")
	}
}

// A host nobody configured is refused before any connection is made: a
// loopback listener counts the connections it gets.
func TestArbitraryHostIsNeverContacted(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.2:0")
	require.NoError(t, err)
	defer l.Close()
	var conns atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.Close()
		}
	}()
	host := l.Addr().String()
	for _, path := range []string{"/start", "/ensure"} {
		for _, src := range []string{host + "/x:y", host + "/alice:y", "http://" + host + "/x:y"} {
			r := call(t, "alice", http.MethodPost, path, map[string]any{"source": src, "target": "alice:x", "kind": "python"})
			assert.Equal(t, http.StatusBadRequest, r.Code, "%s %s: %v", path, src, r.Body)
		}
	}
	time.Sleep(200 * time.Millisecond)
	assert.Zero(t, conns.Load(), "the action connected to a host it was not told to use")
}

// fillScript is the /bin/extend of a base that writes far more than the
// build's disk limit and then waits, as a build filling its node's disk
// would; the kubelet measures a Pod's disk every few seconds.
const fillScript = `#!/bin/sh
dd if=/dev/zero of=/fill bs=1M count=400 2>&1
echo "fill: wrote 400 MiB"
sleep 150
`

// A build cannot fill its node's disk: the kubelet evicts its Pod once it
// goes over build_ephemeral_storage_limit, and the build fails saying so
// (failed is the Job's own state: its quota place is free again), with no
// image pushed.
func TestBuildCannotFillTheNodesDisk(t *testing.T) {
	api.RequireEngine(t, "alice")
	ctx := context.Background()
	_, err := fixtures.Push(ctx, env.Registry.Host, env.Registry.Auth(), fixtures.Runtime{
		Repo: "alice", Tag: "fill", User: "1001", Extend: true, Script: fillScript,
	})
	require.NoError(t, err)
	began := time.Now()
	r := call(t, "alice", http.MethodPost, "/start", map[string]any{
		"source": env.Registry.Host + "/alice:fill", "target": "alice:filled", "kind": "python", "file": b64("fill==1\n"),
	})
	require.Equal(t, http.StatusOK, r.Code, "%v", r.Body)
	st := follow(t, "alice", r.Str("id"))
	t.Logf("failed after %s: %v", time.Since(began).Round(time.Second), st.Body)
	require.Equal(t, "failed", st.Str("state"), "%v", st.Body)
	assert.Equal(t, "BuildFailed", st.Str("reason"))
	assert.Contains(t, st.Str("message"), "build_ephemeral_storage_limit")
	assert.Contains(t, st.Str("message"), diskLimit)
	assert.Less(t, time.Since(began), 100*time.Second, "the node stopped the build long before its own end")
	ref, err := name.ParseReference(r.Str("image"), name.Insecure)
	require.NoError(t, err)
	_, err = remote.Head(ref, remote.WithAuth(env.Registry.Auth()))
	assert.Error(t, err, "no image was pushed")
}

// Two users whose names make the same slug get Jobs of their own.
func TestUsersWithTheSameSlugGetTheirOwnJobs(t *testing.T) {
	var names []string
	for _, user := range []string{"a.b", "a-b"} {
		r := call(t, user, http.MethodPost, "/start", map[string]any{
			"source": env.Source("python"), "target": user + ":same", "kind": "python", "file": b64("same\n"),
		})
		require.Equal(t, http.StatusOK, r.Code, "%s: %v", user, r.Body)
		st := follow(t, user, r.Str("id"))
		assert.Equal(t, "succeeded", st.Str("state"), "%s: %v", user, st.Body)
		names = append(names, r.Str("job_name"))
	}
	assert.NotEqual(t, names[0], names[1])
}

// Past max_kept_builds_per_user (3 on this stack) a new build deletes the
// user's oldest finished builds: the newest are kept.
func TestKeptBuildsAreBounded(t *testing.T) {
	ctx := context.Background()
	var jobs []string
	for i := range 5 {
		r := call(t, "erin", http.MethodPost, "/start", map[string]any{
			"source": env.Source("python"), "target": fmt.Sprintf("erin:kept-%d", i), "kind": "python",
		})
		require.Equal(t, http.StatusOK, r.Code, "%v", r.Body)
		require.Equal(t, "succeeded", follow(t, "erin", r.Str("id")).Str("state"))
		jobs = append(jobs, r.Str("job_name"))
	}
	eventually(t, "erin keeps her newest builds only", func() bool {
		list, err := env.Kube.Client.BatchV1().Jobs(local.Namespace).List(ctx, metav1.ListOptions{LabelSelector: kube.LabelUser + "=erin"})
		if err != nil {
			return false
		}
		have := map[string]bool{}
		for _, j := range list.Items {
			if j.DeletionTimestamp == nil {
				have[j.Name] = true
			}
		}
		return !have[jobs[0]] && have[jobs[1]] && have[jobs[2]] && have[jobs[3]] && have[jobs[4]] && len(have) == 4
	})
}
