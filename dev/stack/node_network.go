package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// cniNetwork is the name of a node's CNI network: its bridge's name, so the
// masquerade rules the bridge plugin writes (commented with it) are found
// and removed by it after a crash.
func (n *Node) cniNetwork() string { return n.Bridge.Name }

// writeCNIConfig writes the node's one CNI network: the stack's bridge,
// addresses from its subnet (host-local, with its state in the node's
// folder), the gateway as default route, and masquerade so that Pods reach
// what the machine reaches (the package indexes).
func (n *Node) writeCNIConfig(dir string) error {
	conf := map[string]any{
		"cniVersion": "0.4.0",
		"name":       n.cniNetwork(),
		"plugins": []any{
			map[string]any{
				"type":        "bridge",
				"bridge":      n.Bridge.Name,
				"isGateway":   true,
				"ipMasq":      true,
				"hairpinMode": true,
				"ipam": map[string]any{
					"type":    "host-local",
					"dataDir": filepath.Join(n.State, "cni", "ipam"),
					"ranges":  [][]map[string]string{{{"subnet": n.Bridge.Subnet.String(), "gateway": n.Bridge.Gateway.String()}}},
					"routes":  []map[string]string{{"dst": "0.0.0.0/0"}},
				},
			},
		},
	}
	data, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "10-stack.conflist")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// removeMasquerade deletes the NAT rules the bridge plugin left for this
// node's network (a Pod whose sandbox was never torn down: the kubelet or
// containerd was killed), and the chains they jump to.
func (n *Node) removeMasquerade(ctx context.Context) error {
	rules, err := iptables(ctx, "-t", "nat", "-S", "POSTROUTING")
	if err != nil {
		return err
	}
	mark := fmt.Sprintf("name: %q", n.cniNetwork())
	var errs []string
	for _, line := range strings.Split(rules, "\n") {
		if !strings.HasPrefix(line, "-A POSTROUTING ") || !strings.Contains(line, mark) {
			continue
		}
		f := strings.Fields(line)
		chain := ""
		for i := range f {
			if f[i] == "-j" && i+1 < len(f) {
				chain = f[i+1]
			}
		}
		del := append([]string{"-t", "nat", "-D"}, splitRule(strings.TrimPrefix(line, "-A "))...)
		if _, err := iptables(ctx, del...); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if strings.HasPrefix(chain, "CNI-") {
			if _, err := iptables(ctx, "-t", "nat", "-F", chain); err != nil {
				errs = append(errs, err.Error())
			}
			if _, err := iptables(ctx, "-t", "nat", "-X", chain); err != nil {
				errs = append(errs, err.Error())
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("removing the masquerade rules of %s: %s", n.cniNetwork(), strings.Join(errs, "; "))
	}
	return nil
}

// splitRule splits an iptables -S line into arguments, keeping quoted
// comments whole.
func splitRule(line string) []string {
	var args []string
	var cur strings.Builder
	quoted, escaped := false, false
	for _, r := range line {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\':
			escaped = true
		case r == '"':
			quoted = !quoted
		case r == ' ' && !quoted:
			if cur.Len() > 0 {
				args = append(args, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		args = append(args, cur.String())
	}
	return args
}

func iptables(ctx context.Context, args ...string) (string, error) {
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "iptables", append([]string{"-w", "5"}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("iptables %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out.String(), nil
}

// removeKubeletChains removes the chains every kubelet adds to the
// machine's iptables and ip6tables and leaves behind when it stops
// (KUBE-FIREWALL and its jumps, KUBE-KUBELET-CANARY, KUBE-IPTABLES-HINT).
func removeKubeletChains(ctx context.Context) error {
	var errs []string
	for _, bin := range []string{"iptables", "ip6tables"} {
		if _, err := exec.LookPath(bin); err != nil {
			continue
		}
		run := func(args ...string) {
			var stderr bytes.Buffer
			cmd := exec.CommandContext(ctx, bin, append([]string{"-w", "5"}, args...)...)
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				msg := stderr.String()
				// Gone already, or never made: nothing to remove.
				if !strings.Contains(msg, "No chain") && !strings.Contains(msg, "does a matching rule exist") && !strings.Contains(msg, "doesn't exist") {
					errs = append(errs, fmt.Sprintf("%s %s: %v: %s", bin, strings.Join(args, " "), err, strings.TrimSpace(msg)))
				}
			}
		}
		for _, hook := range []string{"INPUT", "OUTPUT"} {
			for exists(ctx, bin, "filter", hook, "KUBE-FIREWALL") {
				run("-t", "filter", "-D", hook, "-j", "KUBE-FIREWALL")
			}
		}
		for _, tc := range [][2]string{{"filter", "KUBE-FIREWALL"}, {"filter", "KUBE-KUBELET-CANARY"}, {"nat", "KUBE-KUBELET-CANARY"}, {"mangle", "KUBE-KUBELET-CANARY"}, {"mangle", "KUBE-IPTABLES-HINT"}} {
			run("-t", tc[0], "-F", tc[1])
			run("-t", tc[0], "-X", tc[1])
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("removing the kubelet's chains: %s", strings.Join(errs, "; "))
	}
	return nil
}

// exists reports whether hook of table jumps to chain.
func exists(ctx context.Context, bin, table, hook, chain string) bool {
	return exec.CommandContext(ctx, bin, "-w", "5", "-t", table, "-C", hook, "-j", chain).Run() == nil
}
