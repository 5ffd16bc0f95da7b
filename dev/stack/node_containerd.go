package stack

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// nodeBinaries are the programs a Node runs.
type nodeBinaries struct {
	containerd, shim, ctr, runc, kubelet, scheduler string
}

// buildNodeBinaries builds (once per machine) the pinned node programs.
func buildNodeBinaries(ctx context.Context, root string, log io.Writer) (nodeBinaries, error) {
	p, err := BuildTools(ctx, root, log, "containerd", "containerd-shim-runc-v2", "ctr", "runc", "kubelet", "kube-scheduler")
	if err != nil {
		return nodeBinaries{}, err
	}
	return nodeBinaries{containerd: p[0], shim: p[1], ctr: p[2], runc: p[3], kubelet: p[4], scheduler: p[5]}, nil
}

// cniBinDir is where Debian's containernetworking-plugins installs the
// plugins (bridge, host-local, loopback).
const cniBinDir = "/usr/lib/cni"

// startContainerd writes containerd's configuration, the CNI network and a
// hosts.toml per plain-HTTP registry, starts containerd, waits for its
// socket and imports the sandbox image.
func (n *Node) startContainerd(ctx context.Context, o NodeOptions) error {
	dir := filepath.Join(n.State, "containerd")
	n.Socket = containerdSocket(n.State)
	bin := filepath.Join(dir, "bin")
	cniConf := filepath.Join(n.State, "cni", "net.d")
	hosts := filepath.Join(dir, "certs.d")
	for _, d := range []string{bin, cniConf, hosts} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", d, err)
		}
	}
	// containerd finds its shim by name on PATH.
	if err := os.Symlink(n.bins.shim, filepath.Join(bin, "containerd-shim-runc-v2")); err != nil {
		return fmt.Errorf("linking the shim: %w", err)
	}
	for _, h := range o.PlainHTTP {
		if err := writeHostsTOML(hosts, h); err != nil {
			return err
		}
	}
	if err := n.writeCNIConfig(cniConf); err != nil {
		return err
	}
	config := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(config, []byte(containerdConfig(dir, n.Socket, n.bins.runc, cniConf, hosts, o.SandboxImage)), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", config, err)
	}
	out, err := n.openLog("containerd.log")
	if err != nil {
		return err
	}
	n.containerdCmd = func() *exec.Cmd {
		cmd := exec.Command(n.bins.containerd, "--config", config)
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
		return cmd
	}
	n.containerdLog = out
	if err := n.runContainerd(ctx); err != nil {
		return err
	}
	if o.SandboxArchive != "" {
		if _, err := n.ctr(ctx, "-n", "k8s.io", "images", "import", "--no-unpack=false", o.SandboxArchive); err != nil {
			return fmt.Errorf("importing the sandbox image: %w", err)
		}
	}
	return nil
}

// runContainerd starts containerd and waits for its socket.
func (n *Node) runContainerd(ctx context.Context) (err error) {
	if n.containerd, err = startCmd(n.containerdCmd(), n.containerdLog); err != nil {
		return err
	}
	if err := waitSocket(ctx, n.Socket, n.containerd); err != nil {
		return fmt.Errorf("waiting for containerd: %w; its log ends with:\n%s", err, tail(n.containerdLog.Name(), 20))
	}
	return nil
}

// containerdSocket is the socket of the containerd of the node whose state
// is in dir.
func containerdSocket(state string) string {
	return filepath.Join(state, "containerd", "containerd.sock")
}

// ctr runs containerd's client against the node's containerd and returns
// what it wrote to its standard output; a failure's error holds both
// outputs.
func (n *Node) ctr(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, n.bins.ctr, append([]string{"--address", n.Socket}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("ctr %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)+stderr.String()))
	}
	return out, nil
}

// containerdConfig is containerd's config.toml (version 3). Notes on what
// this machine needs: it drops CAP_SYS_RESOURCE even for root, so runc may
// not lower a container's oom_score_adj (restrict_oom_score_adj); its
// cgroups are v1, managed by runc itself (no systemd); network namespaces
// live under the node's own state folder.
func containerdConfig(dir, socket, runc, cniConf, hosts, sandbox string) string {
	q := strconv.Quote
	s := "version = 3\n" +
		"root = " + q(filepath.Join(dir, "root")) + "\n" +
		"state = " + q(filepath.Join(dir, "state")) + "\n" +
		// Nothing outside dir: no machine-wide drop-ins, NRI socket or /opt.
		"imports = []\n" +
		"[plugins.'io.containerd.nri.v1.nri']\n  disable = true\n" +
		"[plugins.'io.containerd.internal.v1.opt']\n  path = " + q(filepath.Join(dir, "opt")) + "\n" +
		"[grpc]\n  address = " + q(socket) + "\n" +
		"[ttrpc]\n  address = " + q(socket+".ttrpc") + "\n" +
		"[plugins.'io.containerd.cri.v1.runtime']\n" +
		"  restrict_oom_score_adj = true\n" +
		"  netns_mounts_under_state_dir = true\n" +
		"  enable_selinux = false\n" +
		"[plugins.'io.containerd.cri.v1.runtime'.containerd]\n" +
		"  default_runtime_name = 'runc'\n" +
		"[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]\n" +
		"  runtime_type = 'io.containerd.runc.v2'\n" +
		"[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\n" +
		"  BinaryName = " + q(runc) + "\n" +
		"  SystemdCgroup = false\n" +
		"[plugins.'io.containerd.cri.v1.runtime'.cni]\n" +
		"  bin_dirs = [" + q(cniBinDir) + "]\n" +
		"  conf_dir = " + q(cniConf) + "\n" +
		"  max_conf_num = 1\n" +
		"[plugins.'io.containerd.cri.v1.images'.registry]\n" +
		"  config_path = " + q(hosts) + "\n" +
		"[plugins.'io.containerd.grpc.v1.cri']\n" +
		"  stream_server_address = '127.0.0.1'\n" +
		"  stream_server_port = '0'\n"
	if sandbox != "" {
		s += "[plugins.'io.containerd.cri.v1.images'.pinned_images]\n  sandbox = " + q(sandbox) + "\n"
	}
	return s
}

// writeHostsTOML tells containerd that registry host is plain HTTP.
func writeHostsTOML(dir, host string) error {
	d := filepath.Join(dir, host)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", d, err)
	}
	q := strconv.Quote
	toml := "server = " + q("http://"+host) + "\n" +
		"[host." + q("http://"+host) + "]\n  capabilities = ['pull', 'resolve']\n"
	if err := os.WriteFile(filepath.Join(d, "hosts.toml"), []byte(toml), 0o644); err != nil {
		return fmt.Errorf("writing hosts.toml of %s: %w", host, err)
	}
	return nil
}

// waitSocket waits until a unix socket accepts connections, or its server
// exits.
func waitSocket(ctx context.Context, path string, c *child) error {
	deadline := time.Now().Add(socketTimeout)
	for {
		if c.exited() {
			return fmt.Errorf("%s exited: %v", filepath.Base(c.name), c.err)
		}
		conn, err := net.Dial("unix", path)
		if err == nil {
			return conn.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer on %s after %s: %w", path, socketTimeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
