package nodeagent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
)

// hostCACerts is the host's CA bundle, copied where the Kaniko image has its own.
const hostCACerts = "/etc/ssl/certs/ca-certificates.crt"

// devices are the host devices a container runtime gives every container.
var devices = []string{"null", "zero", "full", "random", "urandom", "tty"}

// nsswitch is the /etc/nsswitch.conf of the Kaniko image: files, then DNS.
const nsswitch = "hosts: files dns\nnetworks: files\n"

// layoutRoot builds the container's root filesystem: what the Kaniko image
// holds (/kaniko/executor, its CA bundle, /etc/nsswitch.conf, /workspace),
// what the runtime adds (/dev with the usual devices and the termination
// message file, /proc as an empty mount point, /tmp, /etc/hosts,
// /etc/hostname, /etc/resolv.conf), then the pod's volumes at their mount
// paths. payloads holds the files of each ConfigMap, Secret and projected
// volume; an emptyDir has none.
func (s *sandbox) layoutRoot(pod *v1.Pod, c *v1.Container, executor string, payloads map[string]map[string]volumeFile) error {
	for _, d := range []struct {
		path string
		mode os.FileMode
	}{
		{"/kaniko", 0o777}, {"/kaniko/.docker", 0o755}, {"/kaniko/ssl/certs", 0o755},
		{"/etc", 0o755}, {"/dev", 0o755}, {"/dev/shm", os.ModeSticky | 0o777}, {"/proc", 0o555},
		{"/tmp", os.ModeSticky | 0o777}, {"/root", 0o700}, {imageWorkDir, 0o755},
	} {
		if err := s.mkdir(d.path, d.mode); err != nil {
			return err
		}
	}
	if err := s.bind(executor, "/kaniko/executor", true); err != nil {
		return err
	}
	if ca, err := os.ReadFile(hostCACerts); err == nil {
		if err := s.writeFile("/kaniko/ssl/certs/ca-certificates.crt", ca, 0o644); err != nil {
			return err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("reading host CA bundle: %w", err)
	}
	if err := s.writeFile("/etc/nsswitch.conf", []byte(nsswitch), 0o644); err != nil {
		return err
	}
	for _, d := range devices {
		if err := s.bind("/dev/"+d, "/dev/"+d, false); err != nil {
			return err
		}
	}
	for name, target := range map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
		"stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"} {
		if err := os.Symlink(target, s.path("/dev/"+name)); err != nil {
			return fmt.Errorf("linking /dev/%s: %w", name, err)
		}
	}
	if err := s.runtimeFiles(pod, c); err != nil {
		return err
	}
	return s.mountVolumes(pod, c, payloads)
}

// runtimeFiles writes the files the kubelet keeps per pod and bind-mounts
// them: /etc/hosts, /etc/hostname, /etc/resolv.conf and the termination
// message file the container writes at terminationMessagePath.
func (s *sandbox) runtimeFiles(pod *v1.Pod, c *v1.Container) error {
	resolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("reading host resolv.conf: %w", err)
	}
	files := []struct {
		name, path string
		data       []byte
		mode       os.FileMode
	}{
		{"etc-hosts", "/etc/hosts", []byte(fmt.Sprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\t%s\n", hostIP, pod.Name)), 0o644},
		{"etc-hostname", "/etc/hostname", []byte(pod.Name + "\n"), 0o644},
		{"resolv.conf", "/etc/resolv.conf", resolv, 0o644},
		{"termination-log", terminationPath(c), nil, 0o666},
	}
	for _, f := range files {
		host := filepath.Join(s.dir, f.name) // "termination-log" is terminationFile
		if err := os.WriteFile(host, f.data, f.mode); err != nil {
			return fmt.Errorf("writing %s: %w", f.name, err)
		}
		if err := os.Chmod(host, f.mode); err != nil {
			return fmt.Errorf("setting mode of %s: %w", f.name, err)
		}
		if err := s.bind(host, f.path, false); err != nil {
			return err
		}
	}
	return nil
}

// terminationPath is where container c writes its termination message.
func terminationPath(c *v1.Container) string {
	if c.TerminationMessagePath != "" {
		return c.TerminationMessagePath
	}
	return v1.TerminationMessagePathDefault
}

// mountVolumes lays out the pod's volumes under the sandbox folder and
// mounts them in the root as the container asks, shallowest mount path
// first. A mount of a whole volume shows the volume as the kubelet lays it
// out (ConfigMap and Secret entries are symlinks into "..data"); a subPath
// mount is the single entry it names, symlinks resolved, so a key of a
// ConfigMap becomes a plain file. ConfigMap, Secret and projected volumes
// are read-only, as the kubelet mounts them.
func (s *sandbox) mountVolumes(pod *v1.Pod, c *v1.Container, payloads map[string]map[string]volumeFile) error {
	dirs := map[string]string{}
	readOnly := map[string]bool{}
	now := time.Now()
	for _, vol := range pod.Spec.Volumes {
		dir := filepath.Join(s.dir, "volumes", vol.Name)
		if files, ok := payloads[vol.Name]; ok && files != nil {
			if err := writeAtomic(dir, files, now); err != nil {
				return fmt.Errorf("volume %q: %w", vol.Name, err)
			}
			readOnly[vol.Name] = true
		} else {
			if err := os.MkdirAll(dir, 0o777); err != nil {
				return fmt.Errorf("volume %q: %w", vol.Name, err)
			}
			if err := os.Chmod(dir, 0o777); err != nil { // emptyDir is world-writable
				return fmt.Errorf("volume %q: %w", vol.Name, err)
			}
		}
		dirs[vol.Name] = dir
	}
	mounts := append([]v1.VolumeMount(nil), c.VolumeMounts...)
	sort.SliceStable(mounts, func(i, j int) bool {
		return depth(mounts[i].MountPath) < depth(mounts[j].MountPath)
	})
	for _, m := range mounts {
		dir, ok := dirs[m.Name]
		if !ok {
			return fmt.Errorf("volume mount %q names no volume of the pod", m.Name)
		}
		if m.SubPathExpr != "" {
			return fmt.Errorf("volume mount %q: subPathExpr is not supported on this node", m.Name)
		}
		src := dir
		if m.SubPath != "" {
			var err error
			if src, err = resolveSubPath(dir, m.SubPath); err != nil {
				return fmt.Errorf("volume mount %q: %w", m.Name, err)
			}
		}
		if err := s.bind(src, m.MountPath, m.ReadOnly || readOnly[m.Name]); err != nil {
			return err
		}
	}
	return nil
}

// depth counts the components of a container path.
func depth(p string) int {
	return strings.Count(filepath.Clean("/"+p), "/")
}

// resolveSubPath returns the host path of subPath in the volume folder dir,
// every symlink resolved and checked to stay in the volume, as the kubelet
// does before bind-mounting it. A missing subPath is created as a folder.
func resolveSubPath(dir, subPath string) (string, error) {
	base, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Errorf("resolving volume: %w", err)
	}
	p := filepath.Join(base, filepath.Clean("/"+subPath))
	if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return "", fmt.Errorf("creating subPath %q: %w", subPath, err)
		}
	}
	resolved, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", fmt.Errorf("resolving subPath %q: %w", subPath, err)
	}
	if resolved != base && !strings.HasPrefix(resolved, base+"/") {
		return "", fmt.Errorf("subPath %q resolves outside its volume", subPath)
	}
	return resolved, nil
}

// terminationFile is the host file bind-mounted at the container's
// terminationMessagePath.
func (s *sandbox) terminationFile() string {
	return filepath.Join(s.dir, "termination-log")
}
