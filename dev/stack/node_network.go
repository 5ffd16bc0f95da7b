package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// cniNetwork is the name of a node's CNI network: its bridge's name, which
// the CNI bridge plugin of earlier stacks wrote into the comments of its
// per-Pod masquerade rules, by which removeMasquerade finds them.
func (n *Node) cniNetwork() string { return n.Bridge.Name }

// writeCNIConfig writes the node's one CNI network: the stack's bridge,
// addresses from its subnet (host-local, with its state in the node's
// folder) and the gateway as default route. No ipMasq: the bridge carries
// one masquerade rule for its whole subnet (Bridge.addMasquerade), so a
// sandbox's creation and deletion make no iptables call.
func (n *Node) writeCNIConfig(dir string) error {
	conf := map[string]any{
		"cniVersion": "0.4.0",
		"name":       n.cniNetwork(),
		"plugins": []any{
			map[string]any{
				"type":        "bridge",
				"bridge":      n.Bridge.Name,
				"isGateway":   true,
				"ipMasq":      false,
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

// removeMasquerade deletes the per-Pod NAT rules that the bridge plugin
// wrote with ipMasq, as the nodes of earlier versions of the stack had it,
// for this node's network and left behind (a sandbox never torn down: the
// kubelet or containerd was killed): the jumps from POSTROUTING and the
// CNI- chains holding the network's rules, with or without a jump (a
// sandbox's setup killed halfway).
func (n *Node) removeMasquerade(ctx context.Context) error {
	// As iptables -S prints the plugin's comment `name: "<net>" id: "<id>"`.
	mark := ` --comment "name: \"` + n.cniNetwork() + `\" id: `
	chains, err := deletePostrouting(ctx, func(rule string) bool { return strings.Contains(rule, mark) })
	if err != nil {
		return fmt.Errorf("removing the masquerade rules of %s: %w", n.cniNetwork(), err)
	}
	rules, err := iptables(ctx, "-t", "nat", "-S")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(rules, "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "-A" && strings.HasPrefix(f[1], "CNI-") && strings.Contains(line, mark) && !slices.Contains(chains, f[1]) {
			chains = append(chains, f[1])
		}
	}
	var errs []string
	for _, chain := range chains {
		if !strings.HasPrefix(chain, "CNI-") {
			continue
		}
		for _, op := range []string{"-F", "-X"} {
			if _, err := iptables(ctx, "-t", "nat", op, chain); err != nil {
				errs = append(errs, err.Error())
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("removing the masquerade rules of %s: %s", n.cniNetwork(), strings.Join(errs, "; "))
	}
	return nil
}

// deletePostrouting deletes the rules of the nat table's POSTROUTING chain
// whose iptables -S line matches, and returns the targets they jumped to.
func deletePostrouting(ctx context.Context, match func(rule string) bool) ([]string, error) {
	rules, err := iptables(ctx, "-t", "nat", "-S", "POSTROUTING")
	if err != nil {
		return nil, err
	}
	var targets, errs []string
	for _, line := range strings.Split(rules, "\n") {
		if !strings.HasPrefix(line, "-A POSTROUTING ") || !match(line) {
			continue
		}
		f := strings.Fields(line)
		for i := range f {
			if f[i] == "-j" && i+1 < len(f) {
				targets = append(targets, f[i+1])
			}
		}
		del := append([]string{"-t", "nat", "-D"}, splitRule(strings.TrimPrefix(line, "-A "))...)
		if _, err := iptables(ctx, del...); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return targets, errors.New(strings.Join(errs, "; "))
	}
	return targets, nil
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
