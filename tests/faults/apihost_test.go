package faults

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/apache/openserverless-deployer/dev/gateway"
)

// The environment that makes the test binary the OpenWhisk API host.
const (
	apiHostAddrEnv     = "FAULTS_APIHOST_ADDR"
	apiHostSubjectsEnv = "FAULTS_APIHOST_SUBJECTS"
)

// serveAPIHost answers the OpenWhisk namespaces API on addr from the saved
// subjects, until killed. It runs in a process of its own, so that a test
// can stop it (SIGSTOP) without stopping the gateway, which answers the
// same API for the stack itself.
func serveAPIHost(addr, subjectsFile string) int {
	subjects := gateway.NewSubjects()
	if err := subjects.Load(subjectsFile); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	mux := http.NewServeMux()
	mux.Handle("/api/v1/namespaces", subjects)
	fmt.Fprintln(os.Stderr, http.ListenAndServe(addr, mux))
	return 1
}

// apiHost is that process, seen from the test.
type apiHost struct {
	// URL is "http://127.0.0.1:<port>", the actions' apihost.
	URL string

	addr, subjects string
	log            io.Writer
	cmd            *exec.Cmd
	done           chan struct{}
}

// newAPIHost chooses the API host's address; start starts it.
func newAPIHost(subjects string, log io.Writer) (*apiHost, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return nil, err
	}
	return &apiHost{URL: "http://" + addr, addr: addr, subjects: subjects, log: log}, nil
}

// start saves the stack's subjects and starts the API host on its address.
func (h *apiHost) start(ctx context.Context, s *gateway.Subjects) error {
	if err := s.Save(h.subjects); err != nil {
		return err
	}
	return h.launch(ctx)
}

func (h *apiHost) launch(ctx context.Context) error {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), apiHostAddrEnv+"="+h.addr, apiHostSubjectsEnv+"="+h.subjects)
	cmd.Stdout, cmd.Stderr = h.log, h.log
	// A test binary that dies takes its API host with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the API host: %w", err)
	}
	h.cmd, h.done = cmd, make(chan struct{})
	done := h.done
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL+"/api/v1/namespaces", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
		}
		select {
		case <-done:
			return fmt.Errorf("the API host (pid %d) exited at start", cmd.Process.Pid)
		default:
		}
		if time.Now().After(deadline) {
			return errors.Join(fmt.Errorf("the API host did not answer on %s", h.URL), h.stop())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pid is the API host's process id.
func (h *apiHost) pid() int { return h.cmd.Process.Pid }

// kill kills the API host by pid and waits until it has exited.
func (h *apiHost) kill() error {
	if err := syscall.Kill(h.pid(), syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("killing the API host (pid %d): %w", h.pid(), err)
	}
	select {
	case <-h.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("the API host (pid %d) still running after SIGKILL", h.pid())
	}
}

// restart starts a killed API host again on the same address.
func (h *apiHost) restart(ctx context.Context) error {
	select {
	case <-h.done:
	default:
		return fmt.Errorf("the API host (pid %d) is still running", h.pid())
	}
	return h.launch(ctx)
}

// stop kills the API host if it runs; it has nothing to save.
func (h *apiHost) stop() error {
	if h == nil || h.cmd == nil {
		return nil
	}
	return h.kill()
}
