package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// defaultVolumeMode is the mode of ConfigMap, Secret and projected files
// when the volume names none (the API server defaults it to the same).
const defaultVolumeMode = 0o644

// errNotReady marks a failure the kubelet retries: an object or a key a pod
// refers to does not exist (yet). Test with errors.Is.
var errNotReady = errors.New("not ready")

// notReady is an errNotReady with the kubelet's message.
type notReady struct{ msg string }

func notReadyf(format string, args ...any) error { return &notReady{msg: fmt.Sprintf(format, args...)} }

func (e *notReady) Error() string        { return e.msg }
func (e *notReady) Is(target error) bool { return target == errNotReady }

// volumeFile is one file of a ConfigMap, Secret or projected volume.
type volumeFile struct {
	data []byte
	mode os.FileMode
}

// objects fetches the ConfigMaps and Secrets of one pod once per attempt.
type objects struct {
	client     kubernetes.Interface
	namespace  string
	configMaps map[string]*v1.ConfigMap
	secrets    map[string]*v1.Secret
}

func newObjects(client kubernetes.Interface, namespace string) *objects {
	return &objects{client: client, namespace: namespace,
		configMaps: map[string]*v1.ConfigMap{}, secrets: map[string]*v1.Secret{}}
}

// configMap returns the named ConfigMap, nil when it is missing and optional.
func (o *objects) configMap(ctx context.Context, name string, optional *bool) (*v1.ConfigMap, error) {
	cm, ok := o.configMaps[name]
	if !ok {
		var err error
		cm, err = o.client.CoreV1().ConfigMaps(o.namespace).Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			cm = nil
		case err != nil:
			return nil, fmt.Errorf("getting configmap %q: %w", name, err)
		}
		o.configMaps[name] = cm
	}
	if cm == nil && (optional == nil || !*optional) {
		return nil, notReadyf("configmap %q not found", name)
	}
	return cm, nil
}

// secret returns the named Secret, nil when it is missing and optional.
func (o *objects) secret(ctx context.Context, name string, optional *bool) (*v1.Secret, error) {
	s, ok := o.secrets[name]
	if !ok {
		var err error
		s, err = o.client.CoreV1().Secrets(o.namespace).Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			s = nil
		case err != nil:
			return nil, fmt.Errorf("getting secret %q: %w", name, err)
		}
		o.secrets[name] = s
	}
	if s == nil && (optional == nil || !*optional) {
		return nil, notReadyf("secret %q not found", name)
	}
	return s, nil
}

// volumePayload returns the files of one volume, or nil for an emptyDir.
func volumePayload(ctx context.Context, objs *objects, vol v1.Volume) (map[string]volumeFile, error) {
	switch {
	case vol.EmptyDir != nil:
		return nil, nil
	case vol.ConfigMap != nil:
		src := vol.ConfigMap
		cm, err := objs.configMap(ctx, src.Name, src.Optional)
		if err != nil {
			return nil, err
		}
		files := map[string]volumeFile{}
		return files, addConfigMap(files, cm, src.Items, modeOr(src.DefaultMode), src.Optional)
	case vol.Secret != nil:
		src := vol.Secret
		s, err := objs.secret(ctx, src.SecretName, src.Optional)
		if err != nil {
			return nil, err
		}
		files := map[string]volumeFile{}
		return files, addSecret(files, s, src.Items, modeOr(src.DefaultMode), src.Optional)
	case vol.Projected != nil:
		return projectedPayload(ctx, objs, vol.Projected)
	default:
		return nil, errors.New("only configMap, secret, projected (configMap, secret) and emptyDir volumes are supported on this node")
	}
}

// projectedPayload merges the ConfigMap and Secret sources of a projected volume.
func projectedPayload(ctx context.Context, objs *objects, p *v1.ProjectedVolumeSource) (map[string]volumeFile, error) {
	files := map[string]volumeFile{}
	mode := modeOr(p.DefaultMode)
	for _, src := range p.Sources {
		switch {
		case src.ConfigMap != nil:
			cm, err := objs.configMap(ctx, src.ConfigMap.Name, src.ConfigMap.Optional)
			if err != nil {
				return nil, err
			}
			if err := addConfigMap(files, cm, src.ConfigMap.Items, mode, src.ConfigMap.Optional); err != nil {
				return nil, err
			}
		case src.Secret != nil:
			s, err := objs.secret(ctx, src.Secret.Name, src.Secret.Optional)
			if err != nil {
				return nil, err
			}
			if err := addSecret(files, s, src.Secret.Items, mode, src.Secret.Optional); err != nil {
				return nil, err
			}
		default:
			return nil, errors.New("only configMap and secret projections are supported on this node")
		}
	}
	return files, nil
}

func modeOr(mode *int32) os.FileMode {
	if mode == nil {
		return defaultVolumeMode
	}
	return os.FileMode(*mode)
}

// addConfigMap adds a ConfigMap's keys (all of them, or the items) to files.
func addConfigMap(files map[string]volumeFile, cm *v1.ConfigMap, items []v1.KeyToPath, mode os.FileMode, optional *bool) error {
	if cm == nil {
		return nil
	}
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return addKeys(files, "configmap", cm.Name, data, items, mode, optional)
}

// addSecret adds a Secret's keys (all of them, or the items) to files.
func addSecret(files map[string]volumeFile, s *v1.Secret, items []v1.KeyToPath, mode os.FileMode, optional *bool) error {
	if s == nil {
		return nil
	}
	return addKeys(files, "secret", s.Name, s.Data, items, mode, optional)
}

func addKeys(files map[string]volumeFile, kind, name string, data map[string][]byte, items []v1.KeyToPath, mode os.FileMode, optional *bool) error {
	if len(items) == 0 {
		for k, v := range data {
			files[k] = volumeFile{data: v, mode: mode}
		}
		return nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if optional != nil && *optional {
				continue
			}
			return fmt.Errorf("%s %q references non-existent key %q", kind, name, it.Key)
		}
		m := mode
		if it.Mode != nil {
			m = os.FileMode(*it.Mode)
		}
		files[it.Path] = volumeFile{data: v, mode: m}
	}
	return nil
}

// writeAtomic lays out files in dir as the kubelet's atomic writer does for
// ConfigMap, Secret and projected volumes: the real files in a timestamped
// folder "..<time>", a symlink "..data" to it, and for each top-level entry a
// symlink "<entry>" -> "..data/<entry>". So every visible entry of such a
// volume is a symlink; only a subPath mount, which resolves them, gives a
// container a plain file.
func writeAtomic(dir string, files map[string]volumeFile, now time.Time) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating volume folder: %w", err)
	}
	ts, err := os.MkdirTemp(dir, now.UTC().Format("..2006_01_02_15_04_05."))
	if err != nil {
		return fmt.Errorf("creating volume data folder: %w", err)
	}
	if err := os.Chmod(ts, 0o755); err != nil {
		return fmt.Errorf("setting volume data folder mode: %w", err)
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	top := map[string]bool{}
	for _, p := range paths {
		clean := filepath.Clean(p)
		if filepath.IsAbs(clean) || strings.HasPrefix(clean, "..") { // the API server refuses these too
			return fmt.Errorf("invalid volume path %q", p)
		}
		target := filepath.Join(ts, clean)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return fmt.Errorf("creating folder of %q: %w", p, err)
		}
		f := files[p]
		if err := os.WriteFile(target, f.data, f.mode); err != nil {
			return fmt.Errorf("writing %q: %w", p, err)
		}
		if err := os.Chmod(target, f.mode); err != nil { // the umask must not change it
			return fmt.Errorf("setting mode of %q: %w", p, err)
		}
		top[strings.SplitN(clean, "/", 2)[0]] = true
	}
	tmp := filepath.Join(dir, "..data_tmp")
	if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
		return fmt.Errorf("linking volume data: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
		return fmt.Errorf("linking volume data: %w", err)
	}
	for name := range top {
		if err := os.Symlink(filepath.Join("..data", name), filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("linking %q: %w", name, err)
		}
	}
	return nil
}
