package local

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"

	"sigs.k8s.io/yaml"

	"github.com/apache/openserverless-deployer/lib/config"
)

// deploy deploys the package onto the gateway as production deploys it: the
// packages/*.zip of `task build` and manifest.yaml, through `task
// deploy:manifest` (the pinned wskdeploy) with the key of the system
// namespace, every setting given as the environment variable the manifest
// binds it from. The deploying environment holds nothing else of the
// developer's shell that the manifest reads.
func (s *Stack) deploy(ctx context.Context, root string, log io.Writer) error {
	vars, err := manifestVariables(root)
	if err != nil {
		return err
	}
	key, ok := s.Subjects.Token(s.Gateway.SystemNamespace())
	if !ok {
		return fmt.Errorf("deploying the package: no key of %s", s.Gateway.SystemNamespace())
	}
	env := []string{"APIHOST=" + s.Gateway.URL(), "AUTH=" + key}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, bound := vars.byVariable[k]; !bound && k != "APIHOST" && k != "AUTH" && k != "WSK_CONFIG_FILE" {
			env = append(env, kv)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(s.Inputs)) {
		v, ok := vars.bySetting[k]
		if !ok {
			return fmt.Errorf("deploying the package: setting %s is not bound in manifest.yaml", k)
		}
		env = append(env, v+"="+inputString(s.Inputs[k]))
	}
	// The package zips are built once for every stack that starts at the
	// same time from this tree; task skips a build whose sources are unchanged.
	if err := os.MkdirAll(filepath.Join(root, "build"), 0o755); err != nil {
		return err
	}
	if err := withLock(filepath.Join(root, "build", ".packages.lock"), func() error {
		return runTask(ctx, root, env, log, "build")
	}); err != nil {
		return fmt.Errorf("building the package zips: %w", err)
	}
	if err := runTask(ctx, root, env, log, "deploy:manifest"); err != nil {
		return fmt.Errorf("deploying manifest.yaml: %w", err)
	}
	return nil
}

// variables maps the settings the manifest binds to the environment
// variables it binds them from, and back.
type variables struct {
	bySetting  map[string]string
	byVariable map[string]string
}

// boundVariable matches an input bound from one variable: ${NAME}.
var boundVariable = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$`)

// Manifest is what the local stack and its tests read of manifest.yaml.
type Manifest struct {
	Project struct {
		Namespace string                     `json:"namespace"`
		Packages  map[string]ManifestPackage `json:"packages"`
	} `json:"project"`
}

// ManifestPackage is one package of the manifest.
type ManifestPackage struct {
	Inputs  map[string]any `json:"inputs"`
	Actions map[string]struct {
		Web         any            `json:"web"`
		Annotations map[string]any `json:"annotations"`
		Limits      struct {
			Timeout    int `json:"timeout"`
			MemorySize int `json:"memorySize"`
		} `json:"limits"`
	} `json:"actions"`
	Triggers map[string]struct {
		Feed   string         `json:"feed"`
		Inputs map[string]any `json:"inputs"`
	} `json:"triggers"`
	Rules map[string]struct {
		Trigger string `json:"trigger"`
		Action  string `json:"action"`
	} `json:"rules"`
}

// ReadManifest reads root/manifest.yaml.
func ReadManifest(root string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(root, "manifest.yaml"))
	if err != nil {
		return m, fmt.Errorf("reading the manifest: %w", err)
	}
	if err := yaml.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("reading the manifest: %w", err)
	}
	return m, nil
}

// manifestVariables reads which environment variable manifest.yaml binds
// each input of package builder from.
func manifestVariables(root string) (variables, error) {
	m, err := ReadManifest(root)
	if err != nil {
		return variables{}, err
	}
	v := variables{bySetting: map[string]string{}, byVariable: map[string]string{}}
	for setting, value := range m.Project.Packages["builder"].Inputs {
		s, _ := value.(string)
		if g := boundVariable.FindStringSubmatch(s); g != nil {
			v.bySetting[setting] = g[1]
			v.byVariable[g[1]] = setting
		}
	}
	return v, nil
}

// inputString is a setting as an environment variable holds it.
func inputString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// runTask runs the project's pinned task on targets, in root, with env.
func runTask(ctx context.Context, root string, env []string, log io.Writer, targets ...string) error {
	bin, err := tool(ctx, root, "task", log)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"--dir", root}, targets...)...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, log, log
	return cmd.Run()
}

// withLock runs f holding an exclusive lock on the file at path.
func withLock(path string, f func() error) error {
	l, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer l.Close()
	if err := syscall.Flock(int(l.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(l.Fd()), syscall.LOCK_UN)
	return f()
}

// settingsFor binds every setting for the local stack, as an operator's
// environment would for `./task deploy`: the values the manifest then binds.
// engine, when not "", is the build engine.
func (s *Stack) settingsFor(engine string, overrides map[string]any) map[string]any {
	builders := map[string]config.Builder{}
	// The catalog pins each source by digest, as an operator's should: an
	// ensure then reads nothing about the source from the registry.
	for _, k := range Kinds {
		builders[k+":local"] = config.Builder{Kind: k, Source: s.Source(k) + "@" + s.Runtimes[k].DigestStr()}
	}
	for rt, id := range RealisticBuilders {
		if src := s.RealisticSource(id); src != "" {
			builders[id] = config.Builder{Kind: rt, Source: src + "@" + s.Realistic[id].DigestStr()}
		}
	}
	catalog, _ := json.Marshal(builders)
	in := map[string]any{}
	for _, k := range config.Keys() {
		in[k] = ""
	}
	in["namespace"] = Namespace
	for k, v := range s.Identity.Inputs() {
		in[k] = v
	}
	in["registry_insecure"] = "true"
	in["builders"] = string(catalog)
	// As an operator allows the runtimes of their own registry.
	in["allowed_sources"] = config.DefaultAllowedSource + "," + s.Registry.Host + "/runtime-*"
	in["build_timeout_seconds"] = "300"
	// The steps' images from the stack's registry, pinned, as an operator
	// names a mirror of upstream's.
	in["kaniko_image"] = s.Steps.Executor.String()
	in["warmer_image"] = s.Steps.Warmer.String()
	in["pusher_image"] = s.Steps.Crane.String()
	in["layer_image"] = s.Steps.Layer.String()
	// The node (Kubernetes 1.37, containerd 2.4) mounts image volumes.
	in["layer_image_volume"] = "true"
	if engine != "" {
		in["build_engine"] = engine
	}
	for k, v := range overrides {
		in[k] = v
	}
	return in
}
