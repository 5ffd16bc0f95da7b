package stack

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Programs the registry needs, from Debian packages docker-registry and
// apache2-utils.
const (
	registryPath = "/usr/bin/docker-registry"
	htpasswdPath = "/usr/bin/htpasswd"
)

// RegistryAdmin is the name of the user every Registry has.
const RegistryAdmin = "admin"

// Registry is Debian's docker-registry (distribution 2.8) on 127.0.0.1 (or
// the local stack's bridge gateway) over
// plain HTTP, with htpasswd (bcrypt) authentication and deletion enabled.
// As with the reference registry everywhere: deleting a manifest by digest
// removes the tags pointing at it, deleting by tag is refused, and blob space
// returns only after the registry's garbage collection.
type Registry struct {
	// Host is "<address>:<port>".
	Host string
	// User and Password are the admin user's credentials.
	User, Password string
	// Dir holds config.yml, htpasswd, the storage (data/, kept across
	// starts in the same Dir) and registry.log.
	Dir string

	addr    string
	proc    *child
	logFile *os.File
	tempDir bool
	log     io.Writer

	stopOnce sync.Once
	stopErr  error
}

// RegistryOptions configures StartRegistry.
type RegistryOptions struct {
	// Dir is where configuration, storage and log are kept; "" means a
	// temporary folder that Stop removes.
	Dir string
	// Users are extra users, name to password; the admin user (RegistryAdmin,
	// random password) is always there.
	Users map[string]string
	// Addr is the address to listen on: "" means 127.0.0.1; the local stack
	// gives its bridge's gateway, where its Pods reach the registry.
	Addr string
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// registryStartTimeout bounds the wait for /v2/ to answer.
const registryStartTimeout = 15 * time.Second

// StartRegistry starts a registry and returns once GET /v2/ answers 401 (auth
// required). The caller must call Stop.
func StartRegistry(ctx context.Context, o RegistryOptions) (_ *Registry, err error) {
	began := time.Now()
	r := &Registry{Dir: o.Dir, User: RegistryAdmin, addr: o.Addr, log: o.Log}
	if r.addr == "" {
		r.addr = "127.0.0.1"
	}
	if r.log == nil {
		r.log = io.Discard
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, r.Stop())
		}
	}()
	if r.Dir == "" {
		if r.Dir, err = os.MkdirTemp("", "registry-"); err != nil {
			return nil, fmt.Errorf("creating the registry folder: %w", err)
		}
		r.tempDir = true
	}
	if r.Dir, err = filepath.Abs(r.Dir); err != nil {
		return nil, fmt.Errorf("resolving the registry folder: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(r.Dir, "data"), 0o700); err != nil {
		return nil, fmt.Errorf("creating the registry storage: %w", err)
	}
	if r.Password, err = randomHex(16); err != nil {
		return nil, err
	}
	users := map[string]string{r.User: r.Password}
	for u, p := range o.Users {
		if u == r.User {
			return nil, fmt.Errorf("user %s is the registry's admin user", u)
		}
		users[u] = p
	}
	if err := writeHtpasswd(ctx, filepath.Join(r.Dir, "htpasswd"), users); err != nil {
		return nil, err
	}
	if r.logFile, err = os.OpenFile(filepath.Join(r.Dir, "registry.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600); err != nil {
		return nil, fmt.Errorf("creating the registry log: %w", err)
	}
	// The port is only free when chosen: try again when another server took it.
	for attempt := 1; ; attempt++ {
		err = r.start(ctx)
		if err == nil || ctx.Err() != nil || attempt == 3 || !r.proc.exited() {
			break
		}
		fmt.Fprintf(r.log, "registry: exited at start, trying another port: %v\n", err)
	}
	if err != nil {
		return nil, fmt.Errorf("starting docker-registry (log %s): %w", r.logFile.Name(), err)
	}
	fmt.Fprintf(r.log, "registry: ready at %s (%s)\n", r.Host, time.Since(began).Round(time.Millisecond))
	return r, nil
}

// start writes the configuration for a free port, starts the registry and
// waits until it answers.
func (r *Registry) start(ctx context.Context) error {
	port, err := freePortOn(r.addr)
	if err != nil {
		return err
	}
	r.Host = net.JoinHostPort(r.addr, strconv.Itoa(port))
	secret, err := randomHex(16)
	if err != nil {
		return err
	}
	config := filepath.Join(r.Dir, "config.yml")
	if err := os.WriteFile(config, []byte(registryConfig(r.Dir, r.Host, secret)), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", config, err)
	}
	if r.proc, err = startChild(registryPath, []string{"serve", config}, r.logFile); err != nil {
		return err
	}
	return r.waitReady(ctx)
}

// registryConfig is the registry's config.yml: filesystem storage under
// dir/data, deletion enabled, htpasswd auth, plain HTTP on addr.
func registryConfig(dir, addr, secret string) string {
	q := strconv.Quote // YAML accepts JSON strings
	return "version: 0.1\n" +
		"log:\n  level: info\n  formatter: text\n" +
		"storage:\n" +
		"  filesystem:\n    rootdirectory: " + q(filepath.Join(dir, "data")) + "\n" +
		"  delete:\n    enabled: true\n" +
		"  maintenance:\n    uploadpurging:\n      enabled: false\n" +
		"http:\n  addr: " + q(addr) + "\n  secret: " + q(secret) + "\n" +
		"auth:\n  htpasswd:\n    realm: " + q("stack-registry") + "\n    path: " + q(filepath.Join(dir, "htpasswd")) + "\n"
}

// waitReady polls GET /v2/ until it answers 401, the registry's way of saying
// it is up and wants credentials.
func (r *Registry) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, registryStartTimeout)
	defer cancel()
	url := "http://" + r.Host + "/v2/"
	for {
		if r.proc.exited() {
			return fmt.Errorf("docker-registry exited: %v; its log ends with:\n%s", r.proc.err, tail(r.logFile.Name(), 10))
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
			return fmt.Errorf("GET %s: %s, want 401", url, resp.Status)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last: %v)", url, ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// writeHtpasswd writes an htpasswd file with a bcrypt line per user; the
// passwords go to htpasswd on stdin, never on a command line.
func writeHtpasswd(ctx context.Context, path string, users map[string]string) error {
	var file bytes.Buffer
	for _, u := range slices.Sorted(maps.Keys(users)) {
		if u == "" || strings.ContainsAny(u, ":\n") {
			return fmt.Errorf("invalid registry user name %q", u)
		}
		cmd := exec.CommandContext(ctx, htpasswdPath, "-niB", u)
		cmd.Stdin = strings.NewReader(users[u])
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &file, &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("hashing the password of %s: %w: %s", u, err, strings.TrimSpace(stderr.String()))
		}
	}
	if err := os.WriteFile(path, file.Bytes(), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// randomHex returns n random bytes as hex.
func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("reading random bytes: %w", err)
	}
	return hex.EncodeToString(b), nil
}
