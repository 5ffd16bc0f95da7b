package stack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
)

// Bridge is the network the local stack's Pods live on: a Linux bridge with
// a /24 of its own, whose first address (the gateway) is the node's address
// on it. Servers the Pods use (the registry, the kubelet) listen there, and
// nowhere but there and on 127.0.0.1. What its Pods send beyond the subnet
// is masqueraded by one NAT rule that comes and goes with the bridge.
type Bridge struct {
	// Name is the interface's name, "osdN".
	Name string
	// Subnet is the Pods' subnet, 10.213.N.0/24.
	Subnet *net.IPNet
	// Gateway is the bridge's own address, 10.213.N.1.
	Gateway net.IP
}

// MAC is the bridge's own hardware address, 02:00:0a:d5:0N:01 (locally
// administered, after its gateway address). A bridge with no address of
// its own takes the lowest of its ports', so it would change each time a
// Pod's veth joined or left: a Pod that had resolved the gateway before an
// earlier Pod's teardown would go on sending to a hardware address nobody
// has, and reach nothing (the registry among it) until its neighbour entry
// expired, 30 s and more. A set address never changes.
func (b *Bridge) MAC() net.HardwareAddr {
	gw := b.Gateway.To4()
	return net.HardwareAddr{0x02, 0x00, gw[0], gw[1], gw[2], gw[3]}
}

// bridgePrefix and bridgeNet name the bridges: the Nth is osdN with
// 10.213.N.0/24, the stack's own range (no other host has it).
const (
	bridgePrefix = "osd"
	bridgeNet    = "10.213."
	maxBridges   = 64
)

// CreateBridge creates the first free bridge of the stack's own range. Two
// stacks on one machine (test packages run in parallel) get two bridges:
// creating the interface is what reserves its number.
func CreateBridge(ctx context.Context) (*Bridge, error) {
	routes, err := ipOutput(ctx, "-4", "route", "show")
	if err != nil {
		return nil, err
	}
	for n := 0; n < maxBridges; n++ {
		b := &Bridge{Name: fmt.Sprint(bridgePrefix, n), Gateway: net.ParseIP(fmt.Sprintf("%s%d.1", bridgeNet, n)).To4()}
		b.Subnet = &net.IPNet{IP: b.Gateway.Mask(net.CIDRMask(24, 32)), Mask: net.CIDRMask(24, 32)}
		if strings.Contains(routes, b.Subnet.String()) {
			continue // a stale bridge, or somebody else's network
		}
		if _, err := ipOutput(ctx, "link", "add", b.Name, "address", b.MAC().String(), "type", "bridge"); err != nil {
			if strings.Contains(err.Error(), "File exists") {
				continue
			}
			return nil, err
		}
		if err := b.up(ctx); err != nil {
			return nil, errors.Join(err, b.Delete(context.WithoutCancel(ctx)))
		}
		if err := b.addMasquerade(ctx); err != nil {
			return nil, errors.Join(err, b.Delete(context.WithoutCancel(ctx)))
		}
		return b, nil
	}
	return nil, fmt.Errorf("no free bridge among %s0-%s%d", bridgePrefix, bridgePrefix, maxBridges-1)
}

func (b *Bridge) up(ctx context.Context) error {
	ones, _ := b.Subnet.Mask.Size()
	if _, err := ipOutput(ctx, "addr", "add", fmt.Sprintf("%s/%d", b.Gateway, ones), "dev", b.Name); err != nil {
		return err
	}
	_, err := ipOutput(ctx, "link", "set", b.Name, "up")
	return err
}

// masqueradeComment marks the bridge's masquerade rule, by which Delete
// finds it knowing only the bridge's name.
func (b *Bridge) masqueradeComment() string { return "openserverless-deployer bridge " + b.Name }

// addMasquerade installs the one NAT rule through which the bridge's Pods
// reach what the machine reaches (the package indexes): what leaves the
// subnet for elsewhere leaves with the machine's address. One rule for the
// bridge, rather than the CNI bridge plugin's ipMasq, which writes a chain
// of its own and several rules per Pod at each sandbox's creation and
// deletion (about 10 ms an iptables call on this VM). A rule of an earlier
// bridge of the same name (removed by hand) goes first.
func (b *Bridge) addMasquerade(ctx context.Context) error {
	if err := b.removeMasquerade(ctx); err != nil {
		return err
	}
	_, err := iptables(ctx, "-t", "nat", "-A", "POSTROUTING", "-s", b.Subnet.String(), "!", "-d", b.Subnet.String(),
		"-m", "comment", "--comment", b.masqueradeComment(), "-j", "MASQUERADE")
	return err
}

// removeMasquerade deletes the bridge's masquerade rule (every copy).
func (b *Bridge) removeMasquerade(ctx context.Context) error {
	mark := strconv.Quote(b.masqueradeComment())
	_, err := deletePostrouting(ctx, func(rule string) bool { return strings.Contains(rule, " --comment "+mark+" ") })
	return err
}

// Delete removes the bridge's masquerade rule and the bridge, its address
// and route with it. Deleting a bridge that is gone is not an error: this
// is also how a killed stack's bridge is removed, knowing only its name.
func (b *Bridge) Delete(ctx context.Context) error {
	err := b.removeMasquerade(ctx)
	if _, e := ipOutput(ctx, "link", "del", b.Name); e != nil && !strings.Contains(e.Error(), "Cannot find device") {
		err = errors.Join(err, e)
	}
	return err
}

// ipOutput runs iproute2's ip with args.
func ipOutput(ctx context.Context, args ...string) (string, error) {
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "ip", args...)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out.String(), nil
}
