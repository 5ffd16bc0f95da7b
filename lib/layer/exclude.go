package layer

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/apache/openserverless-deployer/lib/mountinfo"
)

// alwaysExcluded are left out of every layer, relative to the root: the
// kernel's and the kubelet's (they are mounts in a Pod, and named here so
// that a root without them mounted leaves them out all the same) and
// Kaniko's default ignore list, so both engines leave out the same paths.
var alwaysExcluded = []string{
	"/proc", "/sys", "/dev",
	"/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/dev/termination-log",
	"/etc/mtab", "/var/run",
}

// excludedPrefix is left out wherever a name starts with it (apt-key's
// temporary keyrings, on Kaniko's default ignore list).
const excludedPrefix = "/tmp/apt-key-gpghome"

// exclusions is the set of absolute paths left out with everything below them.
type exclusions struct {
	root   string
	paths  map[string]bool
	prefix string
	// folders holds the folder of each path and of the prefix: only
	// their entries can be left out.
	folders map[string]bool
}

// newExclusions gathers the paths left out of a layer of root: the fixed
// ones, the output folder, and every mount point below root listed in
// mountinfo (the format of /proc/self/mountinfo), root's own mount aside.
func newExclusions(root, out, mountinfoPath string) (*exclusions, error) {
	e := &exclusions{root: root, paths: map[string]bool{}, prefix: filepath.Join(root, excludedPrefix)}
	for _, p := range alwaysExcluded {
		e.paths[filepath.Join(root, p)] = true
	}
	e.paths[filepath.Clean(out)] = true
	mounts, err := mountinfo.ReadFile(mountinfoPath)
	if err != nil {
		return nil, fmt.Errorf("listing the mounts to leave out: %w", err)
	}
	for _, m := range mounts {
		if m != root && within(root, m) {
			e.paths[m] = true
		}
	}
	e.folders = map[string]bool{filepath.Dir(e.prefix): true}
	for p := range e.paths {
		e.folders[filepath.Dir(p)] = true
	}
	return e, nil
}

// excluded says whether an absolute path below root is left out; the
// walk stops at an excluded directory, so its contents need no check.
func (e *exclusions) excluded(path string) bool {
	return e.paths[path] || strings.HasPrefix(path, e.prefix)
}

// inFolder says whether an entry of dir, a folder the walk reached, may
// be left out. The others need no check: an excluded path's folder is in
// folders, and a name that starts with the prefix is either in the
// prefix's folder or below a folder whose name starts with it, which the
// walk did not enter.
func (e *exclusions) inFolder(dir string) bool {
	return e.folders[dir]
}

// within says whether path is root or below it.
func within(root, path string) bool {
	if root == "/" {
		return strings.HasPrefix(path, "/")
	}
	return path == root || strings.HasPrefix(path, root+"/")
}
