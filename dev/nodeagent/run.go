package nodeagent

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// sandboxArgs is the unshare(1) command line that runs argv in root: new
// mount and PID namespaces (argv is PID 1 and every process it starts dies
// with it), mounts made inside kept private, a fresh /proc, then chroot and
// chdir to workDir. Nothing passes through a shell.
func sandboxArgs(root, workDir string, argv []string) []string {
	args := []string{"--mount", "--pid", "--fork", "--kill-child", "--propagation", "private",
		"--mount-proc=/proc", "--root", root, "--wd", workDir, "--"}
	return append(args, argv...)
}

// lookPath checks that argv0 names an executable file in the root, looked up
// in the PATH of env when it has no slash, as execvp will; the error reads
// like the container runtime's.
func (s *sandbox) lookPath(argv0 string, env []string) error {
	if strings.Contains(argv0, "/") {
		if isExecutable(s.path(argv0)) {
			return nil
		}
		return fmt.Errorf("exec: %q: stat %s: no such file or directory", argv0, argv0)
	}
	path := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir != "" && isExecutable(s.path(filepath.Join(dir, argv0))) {
			return nil
		}
	}
	return fmt.Errorf("exec: %q: executable file not found in $PATH", argv0)
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// process is a container started in its sandbox.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once it has exited
	err  error         // of cmd.Wait, set before done is closed
}

// start runs argv in the sandbox with env, its output going to stdout and
// stderr. unshare is the path of unshare(1).
func (s *sandbox) start(unshare string, argv, env []string, workDir string, stdout, stderr io.Writer) (*process, error) {
	if err := s.mkdir(workDir, 0o755); err != nil {
		return nil, err
	}
	cmd := exec.Command(unshare, sandboxArgs(s.root, filepath.Clean("/"+workDir), argv)...)
	cmd.Env = env
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	cmd.Dir = s.dir
	// Its own process group, to be killed as one; killed too if this process dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting sandbox: %w", err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// wait waits for the process to exit, or kills its whole process group
// (SIGKILL: PID 1 of a PID namespace ignores SIGTERM it does not handle)
// when stop is closed or ctx is done. The exit code of a process killed by a
// signal is 128 + the signal, as container runtimes report it.
func (p *process) wait(ctx context.Context, stop <-chan struct{}) (code int, killed bool) {
	select {
	case <-p.done:
	case <-stop:
		killed = true
	case <-ctx.Done():
		killed = true
	}
	if killed {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	if p.cmd.ProcessState == nil { // Wait failed before the process was reaped
		return 128, killed
	}
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ok && ws.Signaled() {
		return 128 + int(ws.Signal()), killed
	}
	return p.cmd.ProcessState.ExitCode(), killed
}
