// Package readme runs the README's commands that are meant for the local
// stack (its code blocks fenced as "sh local") with bash, in the repository's
// root, against a local stack started as ./task up starts it (dev/cmd/devstack
// in a folder of its own, named by DEPLOYER_LOCAL as a user's shell would).
// A command that exits non-zero, or a curl call whose JSON reply does not say
// "status":"ok", fails the test.
package readme

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/openserverless-deployer/dev/stack"
	"github.com/apache/openserverless-deployer/tests/testapi"
)

// The info string of the README's blocks that run on the local stack.
const localFence = "```sh local"

var (
	root     string // the repository
	stateDir string // DEPLOYER_LOCAL of the stack the commands run against
)

func TestMain(m *testing.M) {
	testapi.StackMain("readme", func(dir string, logf *os.File) int { return run(m, dir, logf) })
}

func run(m *testing.M, dir string, logf *os.File) int {
	var err error
	if root, err = stack.RepoRoot(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	stateDir = filepath.Join(dir, "local")
	stop, err := startStack(stateDir, logf)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the local stack:", err)
		return 1
	}
	code := m.Run()
	if err := stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	return code
}

// startStack does what scripts/up.sh does, in dir: builds devstack, starts it
// and waits for its ready file. The returned func stops it as scripts/down.sh
// does: SIGTERM, then devstack -clean.
func startStack(dir string, logf *os.File) (func() error, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "devstack")
	build := exec.Command("go", "build", "-o", bin, "./dev/cmd/devstack")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building devstack: %w\n%s", err, out)
	}
	cmd := exec.Command(bin, "-dir", dir, "-users", "devel,guest")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() error {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(90 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		clean := exec.Command(bin, "-dir", dir, "-clean")
		clean.Stdout, clean.Stderr = logf, logf
		if err := clean.Run(); err != nil {
			return fmt.Errorf("devstack -clean: %w", err)
		}
		return nil
	}
	began := time.Now()
	deadline := began.Add(20 * time.Minute)
	for {
		if _, err := os.Stat(filepath.Join(dir, "ready")); err == nil {
			fmt.Printf("readme: local stack up in %s\n", time.Since(began).Round(time.Millisecond))
			return stop, nil
		}
		select {
		case err := <-exited:
			exited <- err
			_ = stop()
			return nil, fmt.Errorf("devstack exited: %v", err)
		case <-time.After(500 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = stop()
			return nil, fmt.Errorf("not ready in 20 minutes")
		}
	}
}

// block is one fenced code block of the README.
type block struct {
	line int // of its first command
	text string
}

// localBlocks returns the README's blocks fenced as "sh local".
func localBlocks(path string) ([]block, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var (
		blocks []block
		cur    *block
		n      int
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		l := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(l) == localFence:
			cur = &block{line: n + 1}
		case cur != nil && strings.TrimSpace(l) == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += l + "\n"
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("%s: the block at line %d is not closed", path, cur.line)
	}
	return blocks, sc.Err()
}

// prelude runs before the README's commands: bash stops at the first command
// that fails and names it, and every curl call must answer "status":"ok".
const prelude = `set -euo pipefail
trap 'echo "README command failed (exit $?): $BASH_COMMAND" >&2' ERR
curl() {
	local out
	out=$(command curl "$@") || return
	printf '%s\n' "$out"
	case $out in
	*'"status":"ok"'* | *'"status": "ok"'*) ;;
	*) echo "curl $*: the reply does not say \"status\":\"ok\"" >&2; return 1 ;;
	esac
}
`

func TestLocalCommands(t *testing.T) {
	blocks, err := localBlocks(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) < 3 {
		t.Fatalf("README.md has %d blocks fenced as %q, want the API calls and the tasks", len(blocks), localFence)
	}
	var script strings.Builder
	script.WriteString(prelude)
	for _, b := range blocks {
		fmt.Fprintf(&script, "echo '>>> README.md line %d' >&2\n", b.line)
		script.WriteString(b.text)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir = root
	cmd.Env = userEnv()
	out, err := cmd.CombinedOutput()
	t.Logf("output:\n%s", out)
	if ctx.Err() != nil {
		t.Fatalf("the README's commands did not end in 10 minutes")
	}
	if err != nil {
		t.Fatalf("the README's commands failed: %v", err)
	}
}

// userEnv is the test's environment as a user's shell would have it after
// ./task up: DEPLOYER_LOCAL names the stack; no WSK_CONFIG_FILE, AUTH, API
// or KUBECONFIG of the test's own.
func userEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "DEPLOYER_LOCAL", "WSK_CONFIG_FILE", "AUTH", "API", "APIHOST", "KUBECONFIG", "ID", "S",
			"REGISTRY_HOST", "REGISTRY_PULL_HOST", "REGISTRY_USER", "REGISTRY_PASS", "BUILD_NAMESPACE":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "DEPLOYER_LOCAL="+stateDir)
}

// TestWrongCommandFails checks that the harness fails on a wrong path and on
// a wrong task name, as it would on a README that named them.
func TestWrongCommandFails(t *testing.T) {
	blocks, err := localBlocks(filepath.Join(root, "README.md"))
	if err != nil || len(blocks) == 0 {
		t.Fatalf("no blocks fenced as %q: %v", localFence, err)
	}
	for _, wrong := range []string{
		`curl -s -H "Authorization: $AUTH" $API/capabilitie`,
		`curl -s -H "Authorization: $AUTH" $API/../build/capabilities-x`,
		`./task builder:list-image CATALOG=devel`,
	} {
		cmd := exec.Command("bash", "-c", prelude+blocks[0].text+wrong+"\n")
		cmd.Dir = root
		cmd.Env = userEnv()
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Errorf("%s: exited 0, want a failure:\n%s", wrong, out)
		}
	}
}
