package config

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Config holds every setting of the deployer.
type Config struct {
	// Namespace is the Kubernetes namespace of the build Jobs.
	Namespace string
	// APIHost is the OpenWhisk API host used to verify callers' tokens.
	APIHost string
	// AuthCacheTTL is how long a verified token stays trusted in a warm process (0: never cached).
	AuthCacheTTL time.Duration

	// KubeTimeout, RegistryTimeout and OpenWhiskTimeout bound one call to
	// each dependency, so that one that hangs is answered 503 well within
	// the 60 s a web call may wait.
	KubeTimeout      time.Duration
	RegistryTimeout  time.Duration
	OpenWhiskTimeout time.Duration

	// RegistryPushHost is where builds push (REGISTRY_HOST); empty: resolved from the cluster.
	RegistryPushHost string
	// RegistryPullHost is the host users pull from; empty: registry_host annotation, then the push host.
	RegistryPullHost string
	// RegistrySecret names the dockerconfigjson Secret with push credentials.
	RegistrySecret string
	// RegistryInsecure makes the push host plain HTTP (the internal registry).
	RegistryInsecure bool

	// KanikoImage is the executor image of the build step, the one step that
	// runs the user's code; WarmerImage fetches the base (Kaniko's warmer) and
	// PusherImage pushes the result (crane): the two steps that see credentials.
	KanikoImage string
	WarmerImage string
	PusherImage string
	// BuildTimeout bounds one build (the Job's activeDeadlineSeconds).
	BuildTimeout time.Duration
	// JobTTL is the Job's ttlSecondsAfterFinished, the safety net behind cleanup.
	JobTTL time.Duration
	// MaxActiveBuildsPerUser and MaxActiveBuilds bound unfinished build Jobs.
	MaxActiveBuildsPerUser int
	MaxActiveBuilds        int
	// MaxKeptBuildsPerUser bounds a user's finished build Jobs: a new build
	// deletes the oldest beyond it.
	MaxKeptBuildsPerUser int
	// Builders is the builder catalog: id (e.g. "python:3.13") → kind and source.
	Builders map[string]Builder
	// AllowedSources lists the source image patterns builds may start from,
	// besides the catalog's sources and the caller's own repository: a
	// repository ("docker.io/apache/openserverless-runtime-python"), or a
	// prefix ending in "*" ("registry.example.com/runtimes/*").
	AllowedSources []string
	// StrictUserCheck requires the user part of a start target to be the caller.
	StrictUserCheck bool
	// Resources of the build container.
	Resources Resources
	// BuildEngine is how a build makes the image: EngineKaniko (a
	// Dockerfile run by Kaniko's executor) or EngineLayer (the base image
	// run by the node, its changes written as one layer).
	BuildEngine string
	// LayerImage holds the layer engine's two programs: the helper the
	// build step runs inside the base, and the push step.
	LayerImage string
	// MaxLayerBytes bounds the layer a layer build may push.
	MaxLayerBytes int64
	// LayerImageVolume mounts LayerImage into the build step as an image
	// volume (Kubernetes ≥ 1.35 with a runtime that supports them: one
	// container start less per build) instead of copying the helper out of
	// it in a step of its own.
	LayerImageVolume bool
	// BuildUserNamespace runs build Pods in a user namespace of their own
	// (hostUsers: false): root in a step is an unprivileged user on the node.
	BuildUserNamespace bool

	// KubeHost, KubeToken and KubeCA select a dedicated service account's credentials;
	// with none set, in-cluster config, then Kubeconfig, is used.
	KubeHost   string
	KubeToken  string
	KubeCA     string
	Kubeconfig string

	// CouchDB settings for per-user registry settings (users_metadata); optional.
	CouchURL      string
	CouchUser     string
	CouchPassword string
}

// Builder is one entry of the builder catalog.
type Builder struct {
	Kind   string `json:"kind"`
	Source string `json:"source"`
}

// Resources are the build container's requests and limits, as quantities.
// The ephemeral storage limit bounds the disk one build may fill on its node
// (its steps' files, what Kaniko unpacks, the image tarball, the logs): the
// kubelet evicts a build Pod that goes over it.
type Resources struct {
	RequestCPU, RequestMemory, LimitCPU, LimitMemory string
	RequestEphemeralStorage, LimitEphemeralStorage   string
}

// The build engines.
const (
	EngineKaniko = "kaniko"
	EngineLayer  = "layer"
)

// Defaults of the settings that have one.
const (
	DefaultNamespace      = "nuvolaris"
	DefaultRegistrySecret = "registry-pull-secret"
	DefaultKanikoImage    = "gcr.io/kaniko-project/executor:v1.24.0"
	DefaultWarmerImage    = "gcr.io/kaniko-project/warmer:v1.24.0"
	DefaultPusherImage    = "gcr.io/go-containerregistry/crane:v0.22.1"
	DefaultLayerImage     = "ghcr.io/apache/openserverless-deployer/layer:0.1.0"
	// DefaultMaxLayerBytes is 4 GiB, far above any runtime's dependencies.
	DefaultMaxLayerBytes = 4 << 30
	// DefaultEphemeralStorageLimit leaves room for the largest layer twice
	// (the layer engine's step writes it, then its tarball) and for a large
	// base unpacked by Kaniko beside its tarball.
	DefaultEphemeralStorageLimit = "10Gi"
	DefaultBuildTimeout          = 900 * time.Second
	DefaultJobTTL                = 7 * 24 * time.Hour
	DefaultAuthCacheTTL          = 60 * time.Second
	// DefaultAllowedSource is the official runtimes, so upstream's own start
	// example keeps working.
	DefaultAllowedSource = "docker.io/apache/openserverless-runtime-*"
	// DefaultCallTimeout bounds one call to a dependency.
	DefaultCallTimeout = 5 * time.Second
	// maxCallTimeout keeps a call bound well under OpenWhisk's 60 s web limit.
	maxCallTimeout = 30
)

// Lookup finds a setting by name; it returns false when the setting is absent.
type Lookup func(name string) (string, bool)

// key is one setting: its input name, its environment fallback, and where it goes.
type key struct {
	input, env string
	set        func(c *Config, v string) error
}

var keys = []key{
	{"namespace", "BUILD_NAMESPACE", func(c *Config, v string) error { c.Namespace = v; return nil }},
	{"apihost", "__OW_API_HOST", func(c *Config, v string) error { c.APIHost = v; return nil }},
	{"auth_cache_seconds", "AUTH_CACHE_SECONDS", seconds(0, func(c *Config) *time.Duration { return &c.AuthCacheTTL })},
	{"kube_timeout_seconds", "KUBE_TIMEOUT_SECONDS", callTimeout(func(c *Config) *time.Duration { return &c.KubeTimeout })},
	{"registry_timeout_seconds", "REGISTRY_TIMEOUT_SECONDS", callTimeout(func(c *Config) *time.Duration { return &c.RegistryTimeout })},
	{"openwhisk_timeout_seconds", "OPENWHISK_TIMEOUT_SECONDS", callTimeout(func(c *Config) *time.Duration { return &c.OpenWhiskTimeout })},
	{"registry_push_host", "REGISTRY_HOST", func(c *Config, v string) error { c.RegistryPushHost = v; return nil }},
	{"registry_pull_host", "REGISTRY_PULL_HOST", func(c *Config, v string) error { c.RegistryPullHost = v; return nil }},
	{"registry_secret", "REGISTRY_SECRET", func(c *Config, v string) error { c.RegistrySecret = v; return nil }},
	{"registry_insecure", "REGISTRY_INSECURE", boolean(func(c *Config) *bool { return &c.RegistryInsecure })},
	{"kaniko_image", "KANIKO_IMAGE", func(c *Config, v string) error { c.KanikoImage = v; return nil }},
	{"warmer_image", "WARMER_IMAGE", func(c *Config, v string) error { c.WarmerImage = v; return nil }},
	{"pusher_image", "PUSHER_IMAGE", func(c *Config, v string) error { c.PusherImage = v; return nil }},
	{"build_timeout_seconds", "BUILD_TIMEOUT_SECONDS", seconds(1, func(c *Config) *time.Duration { return &c.BuildTimeout })},
	{"job_ttl_seconds", "JOB_TTL_SECONDS", seconds(0, func(c *Config) *time.Duration { return &c.JobTTL })},
	{"max_active_builds_per_user", "MAX_ACTIVE_BUILDS_PER_USER", count(func(c *Config) *int { return &c.MaxActiveBuildsPerUser })},
	{"max_active_builds", "MAX_ACTIVE_BUILDS", count(func(c *Config) *int { return &c.MaxActiveBuilds })},
	{"max_kept_builds_per_user", "MAX_KEPT_BUILDS_PER_USER", count(func(c *Config) *int { return &c.MaxKeptBuildsPerUser })},
	{"builders", "BUILDERS", func(c *Config, v string) error { return json.Unmarshal([]byte(v), &c.Builders) }},
	{"allowed_sources", "ALLOWED_SOURCES", func(c *Config, v string) (err error) { c.AllowedSources, err = list(v); return err }},
	{"strict_user_check", "STRICT_USER_CHECK", boolean(func(c *Config) *bool { return &c.StrictUserCheck })},
	{"build_engine", "BUILD_ENGINE", engine},
	{"layer_image", "LAYER_IMAGE", func(c *Config, v string) error { c.LayerImage = v; return nil }},
	{"max_layer_mb", "MAX_LAYER_MB", func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || n > 1<<20 {
			return fmt.Errorf("%q is not a whole number of MiB from 1 to %d", v, 1<<20)
		}
		c.MaxLayerBytes = n << 20
		return nil
	}},
	{"layer_image_volume", "LAYER_IMAGE_VOLUME", boolean(func(c *Config) *bool { return &c.LayerImageVolume })},
	{"build_user_namespace", "BUILD_USER_NAMESPACE", boolean(func(c *Config) *bool { return &c.BuildUserNamespace })},
	{"build_cpu_request", "BUILD_CPU_REQUEST", quantity(func(c *Config) *string { return &c.Resources.RequestCPU })},
	{"build_memory_request", "BUILD_MEMORY_REQUEST", quantity(func(c *Config) *string { return &c.Resources.RequestMemory })},
	{"build_cpu_limit", "BUILD_CPU_LIMIT", quantity(func(c *Config) *string { return &c.Resources.LimitCPU })},
	{"build_memory_limit", "BUILD_MEMORY_LIMIT", quantity(func(c *Config) *string { return &c.Resources.LimitMemory })},
	{"build_ephemeral_storage_request", "BUILD_EPHEMERAL_STORAGE_REQUEST", quantity(func(c *Config) *string { return &c.Resources.RequestEphemeralStorage })},
	{"build_ephemeral_storage_limit", "BUILD_EPHEMERAL_STORAGE_LIMIT", quantity(func(c *Config) *string { return &c.Resources.LimitEphemeralStorage })},
	{"kube_host", "KUBE_HOST", func(c *Config, v string) error { c.KubeHost = v; return nil }},
	{"kube_token", "KUBE_TOKEN", func(c *Config, v string) error { c.KubeToken = v; return nil }},
	{"kube_ca", "KUBE_CA", func(c *Config, v string) error { c.KubeCA = v; return nil }},
	{"kubeconfig", "KUBECONFIG", func(c *Config, v string) error { c.Kubeconfig = v; return nil }},
	{"couchdb_url", "COUCHDB_URL", func(c *Config, v string) error { c.CouchURL = v; return nil }},
	{"couchdb_user", "COUCHDB_USER", func(c *Config, v string) error { c.CouchUser = v; return nil }},
	{"couchdb_password", "COUCHDB_PASSWORD", func(c *Config, v string) error { c.CouchPassword = v; return nil }},
}

// Keys returns the input names of every setting, for the manifest to bind.
func Keys() []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.input
	}
	return out
}

// Load reads the settings from the activation's inputs, falling back to env
// for an input that is absent or empty, and applies the defaults. serviceNS
// is the namespace of the pod's service account, "" outside a cluster.
func Load(inputs map[string]any, env Lookup, serviceNS string) (Config, error) {
	c := Config{
		RegistrySecret:         DefaultRegistrySecret,
		KanikoImage:            DefaultKanikoImage,
		WarmerImage:            DefaultWarmerImage,
		PusherImage:            DefaultPusherImage,
		BuildEngine:            EngineKaniko,
		LayerImage:             DefaultLayerImage,
		MaxLayerBytes:          DefaultMaxLayerBytes,
		BuildTimeout:           DefaultBuildTimeout,
		JobTTL:                 DefaultJobTTL,
		AuthCacheTTL:           DefaultAuthCacheTTL,
		KubeTimeout:            DefaultCallTimeout,
		RegistryTimeout:        DefaultCallTimeout,
		OpenWhiskTimeout:       DefaultCallTimeout,
		MaxActiveBuildsPerUser: 2,
		MaxActiveBuilds:        10,
		MaxKeptBuildsPerUser:   20,
		AllowedSources:         []string{DefaultAllowedSource},
		StrictUserCheck:        true,
		BuildUserNamespace:     true,
		Resources: Resources{
			RequestCPU: "250m", RequestMemory: "512Mi", LimitCPU: "2", LimitMemory: "2Gi",
			LimitEphemeralStorage: DefaultEphemeralStorageLimit,
		},
	}
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	for _, k := range keys {
		v := input(inputs, k.input)
		if v == "" {
			v, _ = env(k.env)
		}
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if err := k.set(&c, v); err != nil {
			return Config{}, fmt.Errorf("setting %s: %w", k.input, err)
		}
	}
	if c.Namespace == "" {
		c.Namespace = serviceNS
	}
	if c.Namespace == "" {
		c.Namespace = DefaultNamespace
	}
	return c, nil
}

func input(inputs map[string]any, name string) string {
	switch v := inputs[name].(type) {
	case string:
		return v
	case nil:
		return ""
	case float64:
		// fmt would write 1209600 as "1.2096e+06", which no parser here reads.
		return strconv.FormatFloat(v, 'f', -1, 64)
	case map[string]any, []any:
		b, _ := json.Marshal(v)
		return string(b)
	default:
		return fmt.Sprint(v)
	}
}

// seconds sets a duration given in whole seconds, no fewer than least: a build
// timeout of 0 would fail every build at once.
func seconds(least int, field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < least {
			return fmt.Errorf("%q is not a whole number of seconds from %d", v, least)
		}
		*field(c) = time.Duration(n) * time.Second
		return nil
	}
}

// callTimeout sets the bound of one call to a dependency, 1 to 30 s: a
// longer one would leave a web call no time to answer before OpenWhisk's
// 60 s limit.
func callTimeout(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxCallTimeout {
			return fmt.Errorf("%q is not a whole number of seconds from 1 to %d", v, maxCallTimeout)
		}
		*field(c) = time.Duration(n) * time.Second
		return nil
	}
}

func count(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("%q is not a positive whole number", v)
		}
		*field(c) = n
		return nil
	}
}

// engine sets the build engine, one of the two there are.
func engine(c *Config, v string) error {
	switch v {
	case EngineKaniko, EngineLayer:
		c.BuildEngine = v
		return nil
	}
	return fmt.Errorf("%q is not a build engine (%s or %s)", v, EngineKaniko, EngineLayer)
}

func boolean(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		*field(c) = b
		return nil
	}
}

// quantity sets a Kubernetes resource quantity ("500m", "2Gi"), checked here
// so that a bad setting is reported, not met later by the Job builder.
func quantity(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		if err := checkQuantity(v); err != nil {
			return fmt.Errorf("%q is not a resource quantity: %w", v, err)
		}
		*field(c) = v
		return nil
	}
}

// list reads a comma-separated list, or a JSON list (an input bound as an
// array arrives as its JSON text).
func list(v string) ([]string, error) {
	parts := strings.Split(v, ",")
	if strings.HasPrefix(v, "[") {
		parts = nil
		if err := json.Unmarshal([]byte(v), &parts); err != nil {
			return nil, fmt.Errorf("%q is not a list: %w", v, err)
		}
	}
	var out []string
	for _, s := range parts {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}
