package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
)

// ContainerMounts returns where each mount of a container of the node
// comes from, by path in the container, as containerd holds its spec
// (`ctr containers info`). id is a container id, with or without the
// "containerd://" of a Pod's status.
func (n *Node) ContainerMounts(ctx context.Context, id string) (map[string]string, error) {
	id = strings.TrimPrefix(id, "containerd://")
	out, err := exec.CommandContext(ctx, n.bins.ctr, "--address", n.Socket, "-n", "k8s.io", "containers", "info", id).Output()
	if err != nil {
		return nil, fmt.Errorf("ctr containers info %s: %w", id, err)
	}
	var info struct {
		Spec struct {
			Mounts []struct {
				Destination string `json:"destination"`
				Source      string `json:"source"`
			} `json:"mounts"`
		}
	}
	if err := json.Unmarshal(out, &info); err != nil {
		return nil, fmt.Errorf("reading the spec of container %s: %w", id, err)
	}
	mounts := map[string]string{}
	for _, m := range info.Spec.Mounts {
		mounts[m.Destination] = m.Source
	}
	return mounts, nil
}
