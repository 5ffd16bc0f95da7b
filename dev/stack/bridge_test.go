package stack

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// natRules is the nat table as iptables -S prints it.
func natRules(t *testing.T) string {
	out, err := exec.Command("iptables", "-t", "nat", "-S").Output()
	require.NoError(t, err)
	return string(out)
}

// testBridge creates a bridge that the test's cleanup deletes (as root).
func testBridge(t *testing.T) *Bridge {
	if os.Geteuid() != 0 {
		t.Skip("creating a bridge needs root")
	}
	b, err := CreateBridge(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, b.Delete(context.Background())) })
	return b
}

// TestBridgeMasquerade creates a bridge, which masquerades its subnet with
// one rule, and deletes it knowing only its name, as `./task down` does
// after a killed stack: the rule goes with it.
func TestBridgeMasquerade(t *testing.T) {
	ctx := context.Background()
	b := testBridge(t)
	rule := "-A POSTROUTING -s " + b.Subnet.String() + " ! -d " + b.Subnet.String() + ` -m comment --comment "openserverless-deployer bridge ` + b.Name + `" -j MASQUERADE`
	assert.Equal(t, 1, strings.Count(natRules(t), rule), "one masquerade rule for the bridge")

	require.NoError(t, (&Bridge{Name: b.Name}).Delete(ctx))
	assert.NotContains(t, natRules(t), `bridge `+b.Name+`"`)
	_, err := ipOutput(ctx, "link", "show", b.Name)
	assert.Error(t, err, "the bridge is gone")
}

// TestBridgeKeepsItsAddress: a port joining and leaving does not change
// the bridge's hardware address, the gateway's for every Pod on it. (A
// bridge without one of its own takes the lowest of its ports'; the port
// here has the lowest there is.)
func TestBridgeKeepsItsAddress(t *testing.T) {
	ctx := context.Background()
	b := testBridge(t)
	address := func() string {
		out, err := os.ReadFile("/sys/class/net/" + b.Name + "/address")
		require.NoError(t, err)
		return strings.TrimSpace(string(out))
	}
	assert.Equal(t, b.MAC().String(), address())

	port := "osdtp" + strings.TrimPrefix(b.Name, bridgePrefix)
	_, err := ipOutput(ctx, "link", "add", port, "address", "00:00:00:00:00:01", "type", "veth", "peer", "name", port+"x")
	require.NoError(t, err)
	defer func() { _, _ = ipOutput(ctx, "link", "del", port) }()
	_, err = ipOutput(ctx, "link", "set", port, "master", b.Name, "up")
	require.NoError(t, err)
	assert.Equal(t, b.MAC().String(), address(), "after a port joined")

	_, err = ipOutput(ctx, "link", "del", port)
	require.NoError(t, err)
	assert.Equal(t, b.MAC().String(), address(), "after the port left")
}

// TestRemoveMasqueradeFindsTheCNIPluginsRules writes what the CNI bridge
// plugin's ipMasq left after a crash on nodes that used it, for a network
// of a name no bridge has: a jump from POSTROUTING to a chain of its own,
// and a chain whose jump is gone (a setup killed halfway). A node's Stop
// removes both and nothing of another network.
func TestRemoveMasqueradeFindsTheCNIPluginsRules(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("iptables needs root")
	}
	ctx := context.Background()
	comment := func(net, id string) string { return `name: "` + net + `" id: "` + id + `"` }
	type chain struct{ name, net, src string }
	chains := []chain{{"CNI-osdtesta", "osdtest", "10.213.99.2/32"}, {"CNI-osdtestb", "osdtest", ""}, {"CNI-osdtestc", "osdtest1", "10.213.99.3/32"}}
	for _, c := range chains {
		_, err := iptables(ctx, "-t", "nat", "-N", c.name)
		require.NoError(t, err)
		_, err = iptables(ctx, "-t", "nat", "-A", c.name, "!", "-d", "224.0.0.0/4", "-m", "comment", "--comment", comment(c.net, c.name), "-j", "MASQUERADE")
		require.NoError(t, err)
		if c.src != "" {
			_, err = iptables(ctx, "-t", "nat", "-A", "POSTROUTING", "-s", c.src, "-m", "comment", "--comment", comment(c.net, c.name), "-j", c.name)
			require.NoError(t, err)
		}
	}
	defer func() {
		// The other network's rules, and anything a failure left.
		_, _ = deletePostrouting(ctx, func(rule string) bool { return strings.Contains(rule, "CNI-osdtest") })
		for _, c := range chains {
			_, _ = iptables(ctx, "-t", "nat", "-F", c.name)
			_, _ = iptables(ctx, "-t", "nat", "-X", c.name)
		}
	}()

	n := &Node{Bridge: &Bridge{Name: "osdtest"}}
	require.NoError(t, n.removeMasquerade(ctx))
	rules := natRules(t)
	assert.NotContains(t, rules, "CNI-osdtesta")
	assert.NotContains(t, rules, "CNI-osdtestb")
	assert.Contains(t, rules, "-N CNI-osdtestc", "another network's chain stays")
	assert.Contains(t, rules, "-j CNI-osdtestc", "another network's jump stays")
}
