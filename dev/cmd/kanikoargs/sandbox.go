package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/apache/openserverless-deployer/dev/buildstats"
)

// sandbox is one throwaway root, laid out as the kubelet lays out a build
// container's: the Kaniko image's files (/kaniko/executor, its credentials
// and CA bundle), the runtime's (/dev with the usual devices and the
// termination log, /proc, /tmp, /etc/resolv.conf, /etc/hosts) and the Pod's
// volumes (the context at /workspace, emptyDirs at /cache and /out).
type sandbox struct {
	root string
	// binds maps a container path to the host file or folder mounted there.
	binds map[string]string
}

// imageEnv is the Kaniko executor image's environment.
var imageEnv = []string{
	"PATH=/usr/local/bin:/kaniko", "HOME=/root", "USER=root",
	"SSL_CERT_DIR=/kaniko/ssl/certs", "DOCKER_CONFIG=/kaniko/.docker/",
}

// newSandbox lays out a root in dir for binary, bound at /kaniko/<name>.
func newSandbox(dir, binary, name string, dockerConfig []byte, volumes map[string]string) (*sandbox, error) {
	s := &sandbox{root: filepath.Join(dir, "root"), binds: map[string]string{"/kaniko/" + name: binary}}
	for _, d := range []string{"kaniko/.docker", "kaniko/ssl/certs", "etc", "dev", "proc", "tmp", "root", "workspace"} {
		if err := os.MkdirAll(filepath.Join(s.root, d), 0o755); err != nil {
			return nil, err
		}
	}
	if err := os.Chmod(filepath.Join(s.root, "tmp"), 0o1777); err != nil {
		return nil, err
	}
	files := map[string][]byte{
		"kaniko/.docker/config.json": dockerConfig,
		"etc/nsswitch.conf":          []byte("hosts: files dns\nnetworks: files\n"),
		"etc/hosts":                  []byte("127.0.0.1\tlocalhost\n"),
		"dev/termination-log":        nil,
		"kaniko/" + name:             nil, // mount point
	}
	for _, f := range []struct{ host, in string }{
		{"/etc/resolv.conf", "etc/resolv.conf"}, {"/etc/ssl/certs/ca-certificates.crt", "kaniko/ssl/certs/ca-certificates.crt"},
	} {
		b, err := os.ReadFile(f.host)
		if err != nil {
			return nil, err
		}
		files[f.in] = b
	}
	for _, d := range []string{"null", "zero", "random", "urandom", "full", "tty"} {
		files["dev/"+d] = nil
		s.binds["/dev/"+d] = "/dev/" + d
	}
	for p, data := range files {
		if err := os.WriteFile(filepath.Join(s.root, p), data, 0o644); err != nil {
			return nil, err
		}
	}
	for p, host := range volumes {
		if err := os.MkdirAll(filepath.Join(s.root, p), 0o755); err != nil {
			return nil, err
		}
		s.binds[p] = host
	}
	return s, nil
}

// result is what one run of a sandbox printed and how it ended.
type result struct {
	lines  []buildstats.Line
	start  time.Time
	end    time.Time
	code   int
	memory buildstats.Memory
}

// run runs argv in the sandbox: an outer mount namespace where the binds are
// made (private, so they vanish with it), then, as a container runtime does,
// new mount and PID namespaces with argv as PID 1 (everything it starts dies with
// it), chrooted to the root, in /workspace. Each output line is stamped as
// it arrives.
func (s *sandbox) run(ctx context.Context, argv []string, container string) (result, error) {
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return result{}, err
	}
	mount, err := exec.LookPath("mount")
	if err != nil {
		return result{}, err
	}
	var script strings.Builder
	script.WriteString("set -e\n")
	for p, host := range s.binds {
		fmt.Fprintf(&script, "%q --bind %q %q\n", mount, host, s.root+p)
	}
	fmt.Fprintf(&script, "exec %q", unshare)
	script.WriteString(` --mount --pid --fork --kill-child --propagation private --mount-proc=/proc --root "$0" --wd /workspace -- "$@"` + "\n")
	args := append([]string{"--mount", "--propagation", "private", "--", "/bin/sh", "-c", script.String(), s.root}, argv...)
	cmd := exec.CommandContext(ctx, unshare, args...)
	cmd.Env = imageEnv
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	sampler := buildstats.NewSampler(s.root, 100*time.Millisecond)
	sctx, stop := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() { sampler.Run(sctx); close(sampled) }()

	res := result{start: time.Now()}
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			res.lines = append(res.lines, buildstats.Line{Time: time.Now(), Container: container, Text: sc.Text()})
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	err = cmd.Run()
	res.end = time.Now()
	pw.Close()
	<-read
	stop()
	<-sampled
	res.memory = sampler.Take()
	res.code = cmd.ProcessState.ExitCode()
	if err != nil && res.code < 0 {
		return res, fmt.Errorf("running %s: %w", argv[0], err)
	}
	return res, nil
}

// remove deletes the root once nothing is mounted below it any more: the
// binds lived in the run's own mount namespace, but deleting through a
// mount that survived would delete the host's files.
func (s *sandbox) remove() error {
	info, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	for _, l := range strings.Split(string(info), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && (f[4] == s.root || strings.HasPrefix(f[4], s.root+"/")) {
			return fmt.Errorf("%s still mounted: not deleting %s", f[4], s.root)
		}
	}
	return os.RemoveAll(filepath.Dir(s.root))
}
