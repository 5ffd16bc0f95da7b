package stack

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// cgroupMount is where the machine's cgroup hierarchies are mounted (v1
// here, one folder per controller, plus the unified one).
const cgroupMount = "/sys/fs/cgroup"

// cgroupHierarchies are the mounted hierarchies, each once (cpu and cpuacct
// can be links to one folder).
func cgroupHierarchies() ([]string, error) {
	entries, err := os.ReadDir(cgroupMount)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", cgroupMount, err)
	}
	var dirs []string
	for _, e := range entries {
		d, err := filepath.EvalSymlinks(filepath.Join(cgroupMount, e.Name()))
		if err != nil {
			continue
		}
		if fi, err := os.Stat(d); err == nil && fi.IsDir() && !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs, nil
}

// createCgroupRoot creates the node's cgroup root in every hierarchy: the
// kubelet (cgroupRoot) puts its kubepods tree there, so two nodes on one
// machine never share one.
func (n *Node) createCgroupRoot() error {
	n.cgroupRoot = "/" + n.Name // RemoveNode finds it by the same name
	dirs, err := cgroupHierarchies()
	if err != nil {
		return err
	}
	for _, d := range dirs {
		if err := os.Mkdir(filepath.Join(d, n.cgroupRoot), 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("creating the node's cgroup in %s: %w", d, err)
		}
	}
	return nil
}

// removeCgroupRoot removes the node's cgroup tree from every hierarchy,
// deepest first; it fails on a cgroup that still holds a process.
func (n *Node) removeCgroupRoot() error {
	if n.cgroupRoot == "" {
		return nil
	}
	dirs, err := cgroupHierarchies()
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range dirs {
		var tree []string
		_ = filepath.WalkDir(filepath.Join(d, n.cgroupRoot), func(p string, e fs.DirEntry, err error) error {
			if err == nil && e.IsDir() {
				tree = append(tree, p)
			}
			return nil
		})
		slices.SortFunc(tree, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
		for _, p := range tree {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("removing cgroup %s: %w", p, err))
			}
		}
	}
	return errors.Join(errs...)
}
