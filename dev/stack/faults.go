package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Fault tests stop a server (SIGSTOP) and let it go on (SIGCONT), or kill it
// and start it again on the same address: the functions below give them the
// process ids and the restarts. Nothing else uses them.

// Pid is the process id of the registry.
func (r *Registry) Pid() int { return r.proc.pid() }

// Restart starts the registry again, on the same address with the same
// configuration and storage, once its process has exited (a test killed
// it; the exit is waited for a moment). It waits until the registry
// answers.
func (r *Registry) Restart(ctx context.Context) error {
	select {
	case <-r.proc.done:
	case <-time.After(time.Second):
		return fmt.Errorf("registry (pid %d) is still running", r.proc.pid())
	}
	proc, err := startChild(registryPath, []string{"serve", filepath.Join(r.Dir, "config.yml")}, r.logFile)
	if err != nil {
		return err
	}
	r.proc = proc
	return r.waitReady(ctx)
}

// APIServerPid is the process id of kube-apiserver, from its launcher's pid
// file.
func (k *Kube) APIServerPid() (int, error) {
	if len(k.pidFiles) < 2 {
		return 0, errors.New("kube-apiserver was not started")
	}
	return readPid(k.pidFiles[1])
}

// KillAPIServer kills kube-apiserver (SIGKILL by pid), waits until it is
// gone and returns the command line RestartAPIServer needs. etcd and the
// controller manager keep running.
func (k *Kube) KillAPIServer() (args []string, err error) {
	pid, err := k.APIServerPid()
	if err != nil {
		return nil, err
	}
	// The launcher execs the server with the same pid: its command line is
	// the server's, argv[0] the binary.
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return nil, fmt.Errorf("reading the command line of kube-apiserver (pid %d): %w", pid, err)
	}
	argv := strings.Split(strings.TrimSuffix(string(raw), "\x00"), "\x00")
	if len(argv) < 2 {
		return nil, fmt.Errorf("kube-apiserver (pid %d) has no arguments: %q", pid, raw)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return nil, fmt.Errorf("killing kube-apiserver (pid %d): %w", pid, err)
	}
	// envtest reaps its own child; wait until it has.
	deadline := time.Now().Add(stopGrace)
	for alive(pid) {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("kube-apiserver (pid %d) still running after SIGKILL", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return argv[1:], nil
}

// RestartAPIServer starts kube-apiserver again with the arguments
// KillAPIServer returned: the same port, certificates and etcd, so every
// client's configuration still holds. Its launcher writes the new pid where
// Stop looks for it. It waits until the API server serves requests.
func (k *Kube) RestartAPIServer(ctx context.Context, args []string) error {
	launcher := filepath.Join(k.Dir, "bin", "kube-apiserver")
	proc, err := startChild(launcher, args, k.apiServerLog())
	if err != nil {
		return err
	}
	deadline := time.Now().Add(controlPlaneStartTimeout)
	for {
		if proc.exited() {
			return fmt.Errorf("kube-apiserver exited at restart: %v", proc.err)
		}
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		body, err := k.Client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(rctx)
		cancel()
		if err == nil && string(body) == "ok" {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("kube-apiserver not ready after restart: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// apiServerLog is the open kube-apiserver.log.
func (k *Kube) apiServerLog() io.Writer {
	for _, f := range k.logs {
		if filepath.Base(f.Name()) == "kube-apiserver.log" {
			return f
		}
	}
	return io.Discard
}

// readPid reads a pid file.
func readPid(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("reading pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s holds %q", path, data)
	}
	return pid, nil
}
