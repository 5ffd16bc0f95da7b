package stack

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// freezeWait bounds how long Freeze waits for every thread to stop.
const freezeWait = 5 * time.Second

// Freeze stops the process pid (SIGSTOP) and returns once every one of its
// threads has stopped. The signal alone is not enough: the kernel stops a
// process's threads one by one as each is scheduled, and until then the
// others go on running, so a request sent just after kill(2) can still be
// answered (7 to 19 of 150 on an idle machine: freeze_test.go).
func Freeze(pid int) error {
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		return fmt.Errorf("stopping pid %d: %w", pid, err)
	}
	deadline := time.Now().Add(freezeWait)
	for {
		running, err := runningThreads(pid)
		if err != nil {
			return err
		}
		if running == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pid %d: %d threads still running %s after SIGSTOP", pid, running, freezeWait)
		}
		time.Sleep(time.Millisecond)
	}
}

// Thaw lets a frozen process go on (SIGCONT).
func Thaw(pid int) error {
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		return fmt.Errorf("continuing pid %d: %w", pid, err)
	}
	return nil
}

// runningThreads counts the threads of pid that are neither stopped nor
// gone, from the state field of /proc/<pid>/task/<tid>/stat.
func runningThreads(pid int) (int, error) {
	dir := filepath.Join("/proc", strconv.Itoa(pid), "task")
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("reading the threads of pid %d: %w", pid, err)
	}
	n := 0
	for _, t := range tasks {
		stat, err := os.ReadFile(filepath.Join(dir, t.Name(), "stat"))
		if errors.Is(err, os.ErrNotExist) {
			continue // the thread exited meanwhile
		}
		if err != nil {
			return 0, err
		}
		switch threadState(string(stat)) {
		case 'T', 'Z', 'X': // stopped, or exiting
		default:
			n++
		}
	}
	return n, nil
}

// threadState is the state letter of a stat line, "tid (comm) S ...": comm
// may hold spaces and parentheses, so it is found after the last ")".
func threadState(stat string) byte {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return 0
	}
	return stat[i+2]
}
