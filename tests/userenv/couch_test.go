package userenv

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

// couchDB is pouchdb-server, a CouchDB-compatible server in memory, on
// 127.0.0.1, started by process id and stopped the same way. It stands in
// for the platform's CouchDB, which keeps the users' environments.
type couchDB struct {
	// URL is "http://127.0.0.1:<port>".
	URL string
	// User and Password are the server admin's.
	User, Password string

	cmd  *exec.Cmd
	done chan struct{}
}

// startCouch installs pouchdb-server once per machine (scripts/pouchdb.sh),
// starts it in dir (where it keeps its config.json and log) and makes user
// its admin. From then on every request carries the admin's credentials:
// pouchdb-server may fail on an anonymous request once an admin exists.
func startCouch(ctx context.Context, root, dir, user, password string, log io.Writer) (*couchDB, error) {
	out, err := exec.CommandContext(ctx, filepath.Join(root, "scripts", "pouchdb.sh")).Output()
	if err != nil {
		return nil, fmt.Errorf("installing pouchdb-server: %w", err)
	}
	bin := strings.TrimSpace(string(out))
	var c *couchDB
	// The port is only free when chosen: try again when another server took it.
	for attempt := 1; attempt <= 3; attempt++ {
		c, err = launchCouch(ctx, bin, dir, log)
		if err == nil {
			break
		}
		fmt.Fprintf(log, "pouchdb-server: %v\n", err)
	}
	if err != nil {
		return nil, err
	}
	c.User, c.Password = user, password
	// Before the first admin exists ("admin party") no credentials are needed.
	if err := c.do(ctx, http.MethodPut, "/_config/admins/"+user, password, false); err != nil {
		return nil, errors.Join(fmt.Errorf("creating the CouchDB admin: %w", err), c.stop())
	}
	return c, nil
}

func launchCouch(ctx context.Context, bin, dir string, log io.Writer) (*couchDB, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--in-memory", "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--no-color")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	c := &couchDB{URL: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(c.done)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-c.done:
			return nil, fmt.Errorf("pouchdb-server (pid %d) exited at start", cmd.Process.Pid)
		default:
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL+"/", nil)
		if err != nil {
			return nil, errors.Join(err, c.stop())
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, errors.Join(fmt.Errorf("pouchdb-server did not answer on %s", c.URL), c.stop())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// do sends one request; body, unless nil, is encoded as JSON. 2xx is success.
func (c *couchDB) do(ctx context.Context, method, path string, body any, auth bool) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if auth {
		req.SetBasicAuth(c.User, c.Password)
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

// createDatabase creates db, readable by admins only, as the platform's is.
func (c *couchDB) createDatabase(ctx context.Context, db string) error {
	if err := c.do(ctx, http.MethodPut, "/"+db, nil, true); err != nil {
		return err
	}
	return c.do(ctx, http.MethodPut, "/"+db+"/_security", map[string]any{
		"admins":  map[string]any{"names": []string{}, "roles": []string{}},
		"members": map[string]any{"names": []string{}, "roles": []string{"_admin"}},
	}, true)
}

// put stores a document.
func (c *couchDB) put(ctx context.Context, db string, doc map[string]any) error {
	return c.do(ctx, http.MethodPost, "/"+db, doc, true)
}

// stop sends SIGTERM to the server's pid, SIGKILL after a grace period, and
// waits until it has exited.
func (c *couchDB) stop() error {
	if c == nil || c.cmd == nil {
		return nil
	}
	pid := c.cmd.Process.Pid
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stopping pouchdb-server (pid %d): %w", pid, err)
	}
	select {
	case <-c.done:
		return nil
	case <-time.After(10 * time.Second):
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("killing pouchdb-server (pid %d): %w", pid, err)
	}
	select {
	case <-c.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("pouchdb-server (pid %d) still running after SIGKILL", pid)
	}
}
