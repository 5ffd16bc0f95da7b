package nodeagent

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// sandbox is the on-disk home of one container: dir holds the files the
// kubelet would keep for it (/etc/hosts, the termination message), root is
// the container's "/". Everything mounted into root is a bind mount made in
// the host's mount namespace, so tests can look inside before the container
// starts; remove undoes them all before deleting anything.
type sandbox struct {
	dir     string
	root    string
	mounts  []string // mount points, in the order they were made
	removed bool
}

// newSandbox creates an empty sandbox in dir, clearing what an earlier run
// left there.
func newSandbox(dir string) (*sandbox, error) {
	if err := clearDir(dir); err != nil {
		return nil, err
	}
	s := &sandbox{dir: dir, root: filepath.Join(dir, "root")}
	if err := os.MkdirAll(s.root, 0o755); err != nil {
		return nil, fmt.Errorf("creating sandbox: %w", err)
	}
	return s, nil
}

// clearDir deletes dir unless something is still mounted below it:
// deleting through a mount would delete the mounted files.
func clearDir(dir string) error {
	if err := noMountsUnder(dir); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("deleting %s: %w", dir, err)
	}
	return nil
}

// noMountsUnder fails when something is still mounted at or below dir:
// deleting or moving dir would then take the mounted files along.
func noMountsUnder(dir string) error {
	left, err := mountsUnder(dir)
	if err != nil {
		return err
	}
	if len(left) > 0 {
		return fmt.Errorf("%s still has mounts: %v", dir, left)
	}
	return nil
}

// path is the host path of the absolute container path p; ".." never leaves root.
func (s *sandbox) path(p string) string {
	return filepath.Join(s.root, filepath.Clean("/"+p))
}

// mkdir creates the container folder p (and its parents) with mode. A
// folder that exists already, such as a volume mounted there (read-only,
// perhaps), is left as it is.
func (s *sandbox) mkdir(p string, mode os.FileMode) error {
	host := s.path(p)
	if fi, err := os.Stat(host); err == nil && fi.IsDir() {
		return s.within(host)
	}
	if err := os.MkdirAll(host, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", p, err)
	}
	if err := s.within(host); err != nil {
		return err
	}
	return os.Chmod(host, mode)
}

// writeFile writes the container file p.
func (s *sandbox) writeFile(p string, data []byte, mode os.FileMode) error {
	if err := s.mkdir(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	host := s.path(p)
	if _, err := os.Lstat(host); err == nil {
		if err := s.within(host); err != nil {
			return err
		}
	}
	return os.WriteFile(host, data, mode)
}

// within checks that host, with every symlink on its way resolved, is inside
// root: mount(2) follows symlinks, and a mount point must never be outside.
func (s *sandbox) within(host string) error {
	root, err := filepath.EvalSymlinks(s.root)
	if err != nil {
		return fmt.Errorf("resolving sandbox root: %w", err)
	}
	resolved, err := filepath.EvalSymlinks(host)
	if err != nil {
		return fmt.Errorf("resolving %s: %w", host, err)
	}
	if resolved != root && !strings.HasPrefix(resolved, root+"/") {
		return fmt.Errorf("%s resolves outside the sandbox root", host)
	}
	return nil
}

// bind bind-mounts the host file or folder src at the container path p,
// creating the mount point as a file or a folder like src, read-only if asked.
func (s *sandbox) bind(src, p string, readOnly bool) error {
	fi, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("mount source of %s: %w", p, err)
	}
	if err := s.mkdir(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	target := s.path(p)
	if fi.IsDir() {
		if err := os.MkdirAll(target, 0o755); err != nil {
			return fmt.Errorf("creating mount point %s: %w", p, err)
		}
	} else {
		f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("creating mount point %s: %w", p, err)
		}
		f.Close()
	}
	if err := s.within(target); err != nil {
		return err
	}
	if err := syscall.Mount(src, target, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
		return fmt.Errorf("bind-mounting %s at %s: %w", src, p, err)
	}
	s.mounts = append(s.mounts, target)
	if readOnly {
		flags := uintptr(syscall.MS_BIND | syscall.MS_REMOUNT | syscall.MS_RDONLY)
		if err := syscall.Mount("", target, "", flags, ""); err != nil {
			return fmt.Errorf("making %s read-only: %w", p, err)
		}
	}
	return nil
}

// remove unmounts everything mounted in the sandbox, checks that nothing is
// left mounted below it, and only then deletes it: deleting through a mount
// would delete the mounted files. Once it succeeded, it does nothing.
func (s *sandbox) remove() error {
	if s.removed {
		return nil
	}
	if err := s.unmount(); err != nil {
		return err
	}
	if err := clearDir(s.dir); err != nil {
		return fmt.Errorf("deleting sandbox: %w", err)
	}
	s.removed = true
	return nil
}

// removeLater unmounts as remove does, then moves the sandbox to trash,
// whose deleting the caller leaves to the background: a build's root holds
// tens of thousands of files its executor unpacked, and deleting them took
// seconds the next step waited for. The kubelet, too, starts a pod's next
// container without waiting for the last one's files to go.
func (s *sandbox) removeLater(trash string) error {
	if err := s.unmount(); err != nil {
		return err
	}
	if err := noMountsUnder(s.dir); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(trash), 0o700); err != nil {
		return fmt.Errorf("moving sandbox away: %w", err)
	}
	if err := os.Rename(s.dir, trash); err != nil {
		return fmt.Errorf("moving sandbox away: %w", err)
	}
	s.removed = true
	return nil
}

// unmount undoes every mount of the sandbox, the last first.
func (s *sandbox) unmount() error {
	if s.removed {
		return nil
	}
	var errs []error
	for i := len(s.mounts) - 1; i >= 0; i-- {
		if err := syscall.Unmount(s.mounts[i], 0); err != nil {
			if err2 := syscall.Unmount(s.mounts[i], syscall.MNT_DETACH); err2 != nil {
				errs = append(errs, fmt.Errorf("unmounting %s: %w", s.mounts[i], err))
			}
		}
	}
	s.mounts = nil
	return errors.Join(errs...)
}

// mountsUnder lists the mount points at or below dir in this process's
// mount namespace.
func mountsUnder(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("reading mount table: %w", err)
	}
	defer f.Close()
	return parseMountPoints(f, dir)
}

// parseMountPoints returns the mount points in a mountinfo table that are
// dir or below it. The fifth field is the mount point, octal-escaped.
func parseMountPoints(r io.Reader, dir string) ([]string, error) {
	dir = filepath.Clean(dir)
	var found []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMountPath(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			found = append(found, mp)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading mount table: %w", err)
	}
	return found, nil
}

// unescapeMountPath decodes the \NNN octal escapes of mountinfo paths.
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
