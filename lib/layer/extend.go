package layer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// groupGrace bounds the wait for a killed process group to be gone.
const groupGrace = 10 * time.Second

// run runs argv as Kaniko's RUN does: in dir, with exactly env (HOME=/root
// added when it has none, as for root), stdout and stderr to the given
// writers, in a process group of its own. Once the command exits, whatever
// it left running in its group is killed (Kaniko does the same), and run
// waits until the group is gone, so nothing writes while the layer is taken.
func run(ctx context.Context, argv []string, dir string, env []string, stdout, stderr io.Writer) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = withHome(env)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// Given a writer that is not a file, exec's Wait would also wait for
	// every process holding the output pipe: a daemon the command started
	// would keep it waiting. The pipes are ours, drained until the group is
	// gone.
	var copies sync.WaitGroup
	var ends []*os.File
	for _, o := range []struct {
		w   io.Writer
		set *io.Writer
	}{{stdout, &cmd.Stdout}, {stderr, &cmd.Stderr}} {
		if f, ok := o.w.(*os.File); ok {
			*o.set = f
			continue
		}
		if o.set == &cmd.Stderr && stderr == stdout {
			cmd.Stderr = cmd.Stdout // one pipe, in the order written, as exec does
			continue
		}
		r, w, err := os.Pipe()
		if err != nil {
			return fmt.Errorf("making the output pipe: %w", err)
		}
		*o.set = w
		ends = append(ends, w)
		copies.Add(1)
		go func(dst io.Writer) {
			defer copies.Done()
			defer r.Close()
			_, _ = io.Copy(dst, r)
		}(o.w)
	}
	err := cmd.Start()
	for _, w := range ends {
		w.Close()
	}
	if err != nil {
		copies.Wait()
		return fmt.Errorf("starting %s: %w", strings.Join(argv, " "), err)
	}
	pgid := cmd.Process.Pid
	err = cmd.Wait()
	if kerr := syscall.Kill(-pgid, syscall.SIGKILL); kerr != nil && !errors.Is(kerr, syscall.ESRCH) {
		return fmt.Errorf("ending the processes %s left: %w", argv[len(argv)-1], kerr)
	}
	if gerr := awaitGroup(pgid); gerr != nil {
		return gerr
	}
	copies.Wait()
	if err != nil {
		return fmt.Errorf("running %s: %w", argv[len(argv)-1], err)
	}
	return nil
}

// withHome adds HOME=/root to an environment without HOME, as a RUN
// running as root gets.
func withHome(env []string) []string {
	for _, kv := range env {
		if strings.HasPrefix(kv, "HOME=") {
			return env
		}
	}
	return append(env[:len(env):len(env)], "HOME=/root")
}

// awaitGroup reaps the group's processes that are this process's children
// (all of them where it is PID 1 or a subreaper) and waits until /proc
// lists none of the group.
func awaitGroup(pgid int) error {
	deadline := time.Now().Add(groupGrace)
	for {
		for {
			pid, err := syscall.Wait4(-pgid, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
		alive, err := groupAlive(pgid)
		if err != nil || !alive {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("process group %d still running %s after it was killed", pgid, groupGrace)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// groupAlive says whether a process of the group is left, zombies aside.
func groupAlive(pgid int) (bool, error) {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return false, fmt.Errorf("listing processes: %w", err)
	}
	for _, d := range dirs {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp …; comm may hold spaces and parentheses.
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) >= 3 && f[0] != "Z" && f[2] == strconv.Itoa(pgid) {
			return true, nil
		}
	}
	return false, nil
}
