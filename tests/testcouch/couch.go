// Package testcouch runs pouchdb-server, a CouchDB-compatible server in
// memory, on 127.0.0.1 for the tests: it stands in for the platform's
// CouchDB, which keeps the users' environments (users_metadata). It is
// started and stopped by process id, and can be killed and started again
// on the same port.
package testcouch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Server is one pouchdb-server process.
type Server struct {
	// URL is "http://127.0.0.1:<port>".
	URL string
	// User and Password are the server admin's.
	User, Password string

	bin, dir string
	port     int
	log      io.Writer
	cmd      *exec.Cmd
	done     chan struct{}
}

// Start installs pouchdb-server once per machine (scripts/pouchdb.sh under
// root), starts it in dir (where it keeps its config.json and log) and
// makes user its admin. From then on every request carries the admin's
// credentials: pouchdb-server may fail on an anonymous request once an
// admin exists.
func Start(ctx context.Context, root, dir, user, password string, log io.Writer) (*Server, error) {
	out, err := exec.CommandContext(ctx, filepath.Join(root, "scripts", "pouchdb.sh")).Output()
	if err != nil {
		return nil, fmt.Errorf("installing pouchdb-server: %w", err)
	}
	s := &Server{User: user, Password: password, bin: strings.TrimSpace(string(out)), dir: dir, log: log}
	// The port is only free when chosen: try again when another server took it.
	for attempt := 1; attempt <= 3; attempt++ {
		if s.port, err = freePort(); err != nil {
			return nil, err
		}
		if err = s.launch(ctx, false); err == nil {
			return s, nil
		}
		fmt.Fprintf(log, "pouchdb-server: %v\n", err)
	}
	return nil, err
}

// Pid is the server's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Kill kills the server (SIGKILL by pid) and waits until it has exited. Its
// databases, kept in memory, are gone with it.
func (s *Server) Kill() error {
	if err := syscall.Kill(s.Pid(), syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("killing pouchdb-server (pid %d): %w", s.Pid(), err)
	}
	select {
	case <-s.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("pouchdb-server (pid %d) still running after SIGKILL", s.Pid())
	}
}

// Restart starts a killed server again on the same port, empty, with the
// same admin, which pouchdb-server kept in its config.json.
func (s *Server) Restart(ctx context.Context) error {
	select {
	case <-s.done:
	default:
		return fmt.Errorf("pouchdb-server (pid %d) is still running", s.Pid())
	}
	return s.launch(ctx, true)
}

// launch starts the process and sets the admin's password; adminExists
// says the server's config.json already holds the admin.
func (s *Server) launch(ctx context.Context, adminExists bool) error {
	s.URL = "http://127.0.0.1:" + strconv.Itoa(s.port)
	cmd := exec.Command(s.bin, "--in-memory", "--host", "127.0.0.1", "--port", strconv.Itoa(s.port), "--no-color")
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", s.bin, err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	done := s.done
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	if err := s.waitReady(ctx); err != nil {
		return errors.Join(err, s.Stop())
	}
	// Before the first admin exists ("admin party") no credentials are needed.
	if err := s.do(ctx, http.MethodPut, "/_config/admins/"+s.User, s.Password, adminExists); err != nil {
		return errors.Join(fmt.Errorf("creating the CouchDB admin: %w", err), s.Stop())
	}
	return nil
}

// waitReady polls GET / until the server answers 200.
func (s *Server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-s.done:
			return fmt.Errorf("pouchdb-server (pid %d) exited at start", s.Pid())
		default:
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("pouchdb-server did not answer on %s", s.URL)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// do sends one request; body, unless nil, is encoded as JSON. 2xx is success.
func (s *Server) do(ctx context.Context, method, path string, body any, auth bool) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if auth {
		req.SetBasicAuth(s.User, s.Password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, answer)
	}
	return nil
}

// CreateDatabase creates db, readable by admins only, as the platform's is.
func (s *Server) CreateDatabase(ctx context.Context, db string) error {
	if err := s.do(ctx, http.MethodPut, "/"+db, nil, true); err != nil {
		return err
	}
	return s.do(ctx, http.MethodPut, "/"+db+"/_security", map[string]any{
		"admins":  map[string]any{"names": []string{}, "roles": []string{}},
		"members": map[string]any{"names": []string{}, "roles": []string{"_admin"}},
	}, true)
}

// Put stores a document.
func (s *Server) Put(ctx context.Context, db string, doc map[string]any) error {
	return s.do(ctx, http.MethodPost, "/"+db, doc, true)
}

// Stop sends SIGTERM to the server's pid, SIGKILL after a grace period, and
// waits until it has exited. It may be called on a server already gone.
func (s *Server) Stop() error {
	if s == nil || s.cmd == nil {
		return nil
	}
	select {
	case <-s.done:
		return nil
	default:
	}
	pid := s.Pid()
	// A stopped process ignores SIGTERM until it is continued.
	_ = syscall.Kill(pid, syscall.SIGCONT)
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stopping pouchdb-server (pid %d): %w", pid, err)
	}
	select {
	case <-s.done:
		return nil
	case <-time.After(10 * time.Second):
	}
	return s.Kill()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
