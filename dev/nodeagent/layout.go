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

// hostCACerts is the host's CA bundle, copied where an image has its own.
const hostCACerts = "/etc/ssl/certs/ca-certificates.crt"

// devices are the host devices a container runtime gives every container.
var devices = []string{"null", "zero", "full", "random", "urandom", "tty"}

// nsswitch is the /etc/nsswitch.conf of the images this node runs: files, then DNS.
const nsswitch = "hosts: files dns\nnetworks: files\n"

// layoutRoot builds the root filesystem of container c of image img: what
// every root has (/etc, /dev with the usual devices and the termination
// message file, /proc as an empty mount point, /tmp, /etc/hosts,
// /etc/hostname, /etc/resolv.conf, /etc/nsswitch.conf), what the image holds
// (its folders, its program, its CA bundle), then the volumes c mounts, at
// their mount paths. Only those: a volume c does not mount is nowhere in
// its root.
func (s *sandbox) layoutRoot(pod *v1.Pod, c *v1.Container, img Image, vols *podVolumes) error {
	dirs := []struct {
		path string
		mode os.FileMode
	}{
		{"/etc", 0o755}, {"/dev", 0o755}, {"/dev/shm", os.ModeSticky | 0o777}, {"/proc", 0o555},
		{"/tmp", os.ModeSticky | 0o777},
	}
	imageDirs := make([]string, 0, len(img.Dirs))
	for d := range img.Dirs {
		imageDirs = append(imageDirs, d)
	}
	sort.Slice(imageDirs, func(i, j int) bool { return depth(imageDirs[i]) < depth(imageDirs[j]) })
	for _, d := range imageDirs {
		dirs = append(dirs, struct {
			path string
			mode os.FileMode
		}{d, img.Dirs[d]})
	}
	for _, d := range dirs {
		if err := s.mkdir(d.path, d.mode); err != nil {
			return err
		}
	}
	if err := s.bind(img.Binary, img.Path, true); err != nil {
		return err
	}
	if img.CABundle != "" {
		if ca, err := os.ReadFile(hostCACerts); err == nil {
			if err := s.writeFile(img.CABundle, ca, 0o644); err != nil {
				return err
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("reading host CA bundle: %w", err)
		}
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
	return s.mountVolumes(c, vols)
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

// podVolumes are the pod's volumes laid out on the host, once for all its
// containers: an emptyDir is one folder every container that mounts it
// shares, so what one step writes there the next one reads.
type podVolumes struct {
	dirs     map[string]string // volume name → host folder
	readOnly map[string]bool   // ConfigMap, Secret and projected volumes
}

// layoutVolumes lays out the pod's volumes under dir, as the kubelet does
// before it starts any container. payloads holds the files of each
// ConfigMap, Secret and projected volume (entries are symlinks into
// "..data"); an emptyDir has none and is an empty world-writable folder.
func layoutVolumes(dir string, pod *v1.Pod, payloads map[string]map[string]volumeFile) (*podVolumes, error) {
	vols := &podVolumes{dirs: map[string]string{}, readOnly: map[string]bool{}}
	now := time.Now()
	for _, vol := range pod.Spec.Volumes {
		vdir := filepath.Join(dir, vol.Name)
		if files, ok := payloads[vol.Name]; ok && files != nil {
			if err := writeAtomic(vdir, files, now); err != nil {
				return nil, fmt.Errorf("volume %q: %w", vol.Name, err)
			}
			vols.readOnly[vol.Name] = true
		} else {
			if err := os.MkdirAll(vdir, 0o777); err != nil {
				return nil, fmt.Errorf("volume %q: %w", vol.Name, err)
			}
			if err := os.Chmod(vdir, 0o777); err != nil { // emptyDir is world-writable
				return nil, fmt.Errorf("volume %q: %w", vol.Name, err)
			}
		}
		vols.dirs[vol.Name] = vdir
	}
	return vols, nil
}

// mountVolumes bind-mounts the volumes c mounts at its mount paths,
// shallowest first. A mount of a whole volume shows the volume as the
// kubelet lays it out (ConfigMap and Secret entries are symlinks into
// "..data"); a subPath mount is the single entry it names, symlinks
// resolved, so a key of a ConfigMap becomes a plain file. ConfigMap, Secret
// and projected volumes are read-only, as the kubelet mounts them.
func (s *sandbox) mountVolumes(c *v1.Container, vols *podVolumes) error {
	mounts := append([]v1.VolumeMount(nil), c.VolumeMounts...)
	sort.SliceStable(mounts, func(i, j int) bool {
		return depth(mounts[i].MountPath) < depth(mounts[j].MountPath)
	})
	for _, m := range mounts {
		dir, ok := vols.dirs[m.Name]
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
		if err := s.bind(src, m.MountPath, m.ReadOnly || vols.readOnly[m.Name]); err != nil {
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
