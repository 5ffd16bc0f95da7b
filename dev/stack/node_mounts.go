package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// ContainerMounts returns where each mount of a container of the node
// comes from, by path in the container, as containerd holds its spec
// (`ctr containers info`). id is a container id, with or without the
// "containerd://" of a Pod's status.
func (n *Node) ContainerMounts(ctx context.Context, id string) (map[string]string, error) {
	id = strings.TrimPrefix(id, "containerd://")
	out, err := n.ctr(ctx, "-n", "k8s.io", "containers", "info", id)
	if err != nil {
		return nil, err
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
