package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// envOf is a Lookup over a map.
func envOf(m map[string]string) Lookup {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(nil, nil, "")
	require.NoError(t, err)
	assert.Equal(t, Config{
		Namespace:              "nuvolaris",
		AuthCacheTTL:           60 * time.Second,
		KubeTimeout:            5 * time.Second,
		RegistryTimeout:        5 * time.Second,
		OpenWhiskTimeout:       5 * time.Second,
		RegistrySecret:         "registry-pull-secret",
		KanikoImage:            "gcr.io/kaniko-project/executor:v1.24.0",
		WarmerImage:            "gcr.io/kaniko-project/warmer:v1.24.0",
		PusherImage:            "gcr.io/go-containerregistry/crane:v0.22.1",
		BuildEngine:            "kaniko",
		LayerImage:             "ghcr.io/apache/openserverless-deployer/layer:0.1.0",
		MaxLayerBytes:          4 << 30,
		BuildTimeout:           900 * time.Second,
		JobTTL:                 7 * 24 * time.Hour,
		MaxActiveBuildsPerUser: 2,
		MaxActiveBuilds:        10,
		MaxKeptBuildsPerUser:   20,
		AllowedSources:         []string{"docker.io/apache/openserverless-runtime-*"},
		StrictUserCheck:        true,
		BuildUserNamespace:     true,
		Resources: Resources{
			RequestCPU: "250m", RequestMemory: "512Mi", LimitCPU: "2", LimitMemory: "2Gi", LimitEphemeralStorage: "10Gi",
		},
	}, c)
}

func TestLoadNamespace(t *testing.T) {
	tests := []struct {
		name      string
		inputs    map[string]any
		env       map[string]string
		serviceNS string
		want      string
	}{
		{name: "default", want: "nuvolaris"},
		{name: "service account namespace", serviceNS: "openserverless", want: "openserverless"},
		{name: "env over the service account", env: map[string]string{"BUILD_NAMESPACE": "from-env"}, serviceNS: "openserverless", want: "from-env"},
		{name: "input over env", inputs: map[string]any{"namespace": "from-input"}, env: map[string]string{"BUILD_NAMESPACE": "from-env"}, serviceNS: "sa", want: "from-input"},
		{name: "empty input falls back", inputs: map[string]any{"namespace": ""}, serviceNS: "sa", want: "sa"},
		{name: "blank input falls back", inputs: map[string]any{"namespace": "  "}, want: "nuvolaris"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.inputs, envOf(tt.env), tt.serviceNS)
			require.NoError(t, err)
			assert.Equal(t, tt.want, c.Namespace)
		})
	}
}

func TestLoadPrecedence(t *testing.T) {
	tests := []struct {
		name   string
		inputs map[string]any
		env    map[string]string
		get    func(Config) any
		want   any
	}{
		{
			name: "input over env", inputs: map[string]any{"registry_push_host": "input:5000"}, env: map[string]string{"REGISTRY_HOST": "env:5000"},
			get: func(c Config) any { return c.RegistryPushHost }, want: "input:5000",
		},
		{
			name: "env when the input is absent", env: map[string]string{"REGISTRY_HOST": "env:5000"},
			get: func(c Config) any { return c.RegistryPushHost }, want: "env:5000",
		},
		{
			name: "env when the input is empty", inputs: map[string]any{"registry_push_host": ""}, env: map[string]string{"REGISTRY_HOST": "env:5000"},
			get: func(c Config) any { return c.RegistryPushHost }, want: "env:5000",
		},
		{
			name: "env when the input is null", inputs: map[string]any{"registry_push_host": nil}, env: map[string]string{"REGISTRY_HOST": "env:5000"},
			get: func(c Config) any { return c.RegistryPushHost }, want: "env:5000",
		},
		{
			name: "spaces trimmed", inputs: map[string]any{"registry_pull_host": "  pull.example.com \n"},
			get: func(c Config) any { return c.RegistryPullHost }, want: "pull.example.com",
		},
		{
			name: "empty env keeps the default", env: map[string]string{"KANIKO_IMAGE": ""},
			get: func(c Config) any { return c.KanikoImage }, want: DefaultKanikoImage,
		},
		{
			name: "api host from the activation environment", env: map[string]string{"__OW_API_HOST": "https://ow.example.com"},
			get: func(c Config) any { return c.APIHost }, want: "https://ow.example.com",
		},
		{
			name: "kubeconfig from the environment", env: map[string]string{"KUBECONFIG": "/k/config"},
			get: func(c Config) any { return c.Kubeconfig }, want: "/k/config",
		},
		{
			name: "number from env", env: map[string]string{"MAX_ACTIVE_BUILDS": "25"},
			get: func(c Config) any { return c.MaxActiveBuilds }, want: 25,
		},
		{
			name: "input number over env", inputs: map[string]any{"max_active_builds": float64(7)}, env: map[string]string{"MAX_ACTIVE_BUILDS": "25"},
			get: func(c Config) any { return c.MaxActiveBuilds }, want: 7,
		},
		{
			name: "seconds as a string", inputs: map[string]any{"build_timeout_seconds": "1800"},
			get: func(c Config) any { return c.BuildTimeout }, want: 30 * time.Minute,
		},
		{
			name: "seconds as a JSON number", inputs: map[string]any{"job_ttl_seconds": float64(604800)},
			get: func(c Config) any { return c.JobTTL }, want: 7 * 24 * time.Hour,
		},
		{
			name: "a million seconds as a JSON number", inputs: map[string]any{"job_ttl_seconds": float64(1209600)},
			get: func(c Config) any { return c.JobTTL }, want: 14 * 24 * time.Hour,
		},
		{
			name: "auth cache off", inputs: map[string]any{"auth_cache_seconds": "0"},
			get: func(c Config) any { return c.AuthCacheTTL }, want: time.Duration(0),
		},
		{
			name: "registry timeout", inputs: map[string]any{"registry_timeout_seconds": float64(8)},
			get: func(c Config) any { return c.RegistryTimeout }, want: 8 * time.Second,
		},
		{
			name: "kube timeout from env", env: map[string]string{"KUBE_TIMEOUT_SECONDS": "30"},
			get: func(c Config) any { return c.KubeTimeout }, want: 30 * time.Second,
		},
		{
			name: "job TTL zero", inputs: map[string]any{"job_ttl_seconds": "0"},
			get: func(c Config) any { return c.JobTTL }, want: time.Duration(0),
		},
		{
			name: "boolean input", inputs: map[string]any{"registry_insecure": true},
			get: func(c Config) any { return c.RegistryInsecure }, want: true,
		},
		{
			name: "boolean false input over true env", inputs: map[string]any{"strict_user_check": false}, env: map[string]string{"STRICT_USER_CHECK": "true"},
			get: func(c Config) any { return c.StrictUserCheck }, want: false,
		},
		{
			name: "boolean string", env: map[string]string{"STRICT_USER_CHECK": "FALSE"},
			get: func(c Config) any { return c.StrictUserCheck }, want: false,
		},
		{
			name: "boolean 1", env: map[string]string{"REGISTRY_INSECURE": "1"},
			get: func(c Config) any { return c.RegistryInsecure }, want: true,
		},
		{
			name: "resources", inputs: map[string]any{"build_cpu_request": "500m", "build_memory_limit": "4Gi"},
			get:  func(c Config) any { return c.Resources },
			want: Resources{RequestCPU: "500m", RequestMemory: "512Mi", LimitCPU: "2", LimitMemory: "4Gi", LimitEphemeralStorage: "10Gi"},
		},
		{
			name: "ephemeral storage", inputs: map[string]any{"build_ephemeral_storage_request": "512Mi", "build_ephemeral_storage_limit": "20Gi"},
			get: func(c Config) any { return c.Resources },
			want: Resources{
				RequestCPU: "250m", RequestMemory: "512Mi", LimitCPU: "2", LimitMemory: "2Gi",
				RequestEphemeralStorage: "512Mi", LimitEphemeralStorage: "20Gi",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.inputs, envOf(tt.env), "")
			require.NoError(t, err)
			assert.Equal(t, tt.want, tt.get(c))
		})
	}
}

func TestLoadLists(t *testing.T) {
	tests := []struct {
		name  string
		input any
		want  []string
	}{
		{name: "comma separated", input: "docker.io/apache/*, ghcr.io/apache/runtime ,,", want: []string{"docker.io/apache/*", "ghcr.io/apache/runtime"}},
		{name: "one entry", input: "ghcr.io/apache/runtime", want: []string{"ghcr.io/apache/runtime"}},
		{name: "only commas", input: " , ,", want: nil},
		{name: "JSON list", input: []any{"docker.io/apache/*", "ghcr.io/apache/runtime"}, want: []string{"docker.io/apache/*", "ghcr.io/apache/runtime"}},
		{name: "JSON list text", input: `["docker.io/apache/*", " ghcr.io/apache/runtime"]`, want: []string{"docker.io/apache/*", "ghcr.io/apache/runtime"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(map[string]any{"allowed_sources": tt.input}, nil, "")
			require.NoError(t, err)
			assert.Equal(t, tt.want, c.AllowedSources)
		})
	}
}

func TestLoadBuilders(t *testing.T) {
	want := map[string]Builder{
		"python:3.13": {Kind: "python", Source: "apache/openserverless-runtime-python:v3.13"},
		"nodejs:22":   {Kind: "nodejs", Source: "apache/openserverless-runtime-nodejs:v22"},
	}
	tests := []struct {
		name  string
		input any
	}{
		{name: "JSON text", input: `{"python:3.13":{"kind":"python","source":"apache/openserverless-runtime-python:v3.13"},"nodejs:22":{"kind":"nodejs","source":"apache/openserverless-runtime-nodejs:v22"}}`},
		{name: "JSON object", input: map[string]any{
			"python:3.13": map[string]any{"kind": "python", "source": "apache/openserverless-runtime-python:v3.13"},
			"nodejs:22":   map[string]any{"kind": "nodejs", "source": "apache/openserverless-runtime-nodejs:v22"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(map[string]any{"builders": tt.input}, nil, "")
			require.NoError(t, err)
			assert.Equal(t, want, c.Builders)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name   string
		inputs map[string]any
		env    map[string]string
		key    string
	}{
		{name: "seconds not a number", inputs: map[string]any{"build_timeout_seconds": "abc"}, key: "build_timeout_seconds"},
		{name: "seconds negative", inputs: map[string]any{"job_ttl_seconds": "-1"}, key: "job_ttl_seconds"},
		{name: "seconds fraction", inputs: map[string]any{"auth_cache_seconds": "1.5"}, key: "auth_cache_seconds"},
		{name: "seconds fraction as a number", inputs: map[string]any{"auth_cache_seconds": 1.5}, key: "auth_cache_seconds"},
		{name: "seconds with a unit", inputs: map[string]any{"build_timeout_seconds": "15m"}, key: "build_timeout_seconds"},
		{name: "build timeout zero", inputs: map[string]any{"build_timeout_seconds": "0"}, key: "build_timeout_seconds"},
		{name: "call timeout zero", inputs: map[string]any{"kube_timeout_seconds": "0"}, key: "kube_timeout_seconds"},
		{name: "call timeout near the web limit", inputs: map[string]any{"registry_timeout_seconds": "59"}, key: "registry_timeout_seconds"},
		{name: "call timeout with a unit", env: map[string]string{"OPENWHISK_TIMEOUT_SECONDS": "5s"}, key: "openwhisk_timeout_seconds"},
		{name: "count zero", inputs: map[string]any{"max_active_builds": "0"}, key: "max_active_builds"},
		{name: "count negative", inputs: map[string]any{"max_active_builds_per_user": float64(-2)}, key: "max_active_builds_per_user"},
		{name: "count words", env: map[string]string{"MAX_ACTIVE_BUILDS_PER_USER": "two"}, key: "max_active_builds_per_user"},
		{name: "boolean words", inputs: map[string]any{"strict_user_check": "yes"}, key: "strict_user_check"},
		{name: "boolean from env", env: map[string]string{"REGISTRY_INSECURE": "maybe"}, key: "registry_insecure"},
		{name: "list not JSON", inputs: map[string]any{"allowed_sources": `["a",`}, key: "allowed_sources"},
		{name: "builders not JSON", inputs: map[string]any{"builders": "python=apache/runtime"}, key: "builders"},
		{name: "builders a list", inputs: map[string]any{"builders": `["python"]`}, key: "builders"},
		{name: "cpu not a quantity", inputs: map[string]any{"build_cpu_request": "two cores"}, key: "build_cpu_request"},
		{name: "memory not a quantity", inputs: map[string]any{"build_memory_limit": "2 GiB"}, key: "build_memory_limit"},
		{name: "disk not a quantity", inputs: map[string]any{"build_ephemeral_storage_limit": "10GB!"}, key: "build_ephemeral_storage_limit"},
		{name: "memory limit from env", env: map[string]string{"BUILD_MEMORY_REQUEST": "lots"}, key: "build_memory_request"},
		{name: "cpu limit with a bad suffix", inputs: map[string]any{"build_cpu_limit": "2x"}, key: "build_cpu_limit"},
		{name: "unknown engine", inputs: map[string]any{"build_engine": "buildkit"}, key: "build_engine"},
		{name: "engine in capitals", env: map[string]string{"BUILD_ENGINE": "Layer"}, key: "build_engine"},
		{name: "layer bound zero", inputs: map[string]any{"max_layer_mb": "0"}, key: "max_layer_mb"},
		{name: "layer bound with a unit", inputs: map[string]any{"max_layer_mb": "2Gi"}, key: "max_layer_mb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.inputs, envOf(tt.env), "")
			require.Error(t, err)
			assert.Contains(t, err.Error(), "setting "+tt.key+":")
			assert.Equal(t, Config{}, c)
		})
	}
}

// validValues holds, for every key, a valid value that differs from the
// default, so each key is seen to reach its own field.
var validValues = map[string]string{
	"namespace":                       "builds",
	"apihost":                         "https://ow.example.com",
	"auth_cache_seconds":              "5",
	"kube_timeout_seconds":            "7",
	"registry_timeout_seconds":        "8",
	"openwhisk_timeout_seconds":       "9",
	"registry_push_host":              "push:5000",
	"registry_pull_host":              "pull.example.com",
	"registry_secret":                 "push-secret",
	"registry_insecure":               "true",
	"kaniko_image":                    "example.com/executor:v2",
	"warmer_image":                    "example.com/warmer:v2",
	"pusher_image":                    "example.com/crane:v2",
	"build_timeout_seconds":           "60",
	"job_ttl_seconds":                 "3600",
	"max_active_builds_per_user":      "3",
	"max_active_builds":               "30",
	"max_kept_builds_per_user":        "5",
	"builders":                        `{"go:1.22":{"kind":"go","source":"apache/runtime-go:v1.22"}}`,
	"allowed_sources":                 "docker.io/apache/*",
	"strict_user_check":               "false",
	"build_user_namespace":            "false",
	"build_engine":                    "layer",
	"layer_image":                     "example.com/layer:v2",
	"max_layer_mb":                    "512",
	"layer_image_volume":              "true",
	"build_cpu_request":               "100m",
	"build_memory_request":            "256Mi",
	"build_cpu_limit":                 "4",
	"build_memory_limit":              "8Gi",
	"build_ephemeral_storage_request": "1Gi",
	"build_ephemeral_storage_limit":   "20Gi",
	"kube_host":                       "https://127.0.0.2:6443",
	"kube_token":                      "token",
	"kube_ca":                         "-----BEGIN CERTIFICATE-----",
	"kubeconfig":                      "/k/config",
	"couchdb_url":                     "http://couch:5984",
	"couchdb_user":                    "couch",
	"couchdb_password":                "pw",
}

func TestKeys(t *testing.T) {
	keys := Keys()
	seen := map[string]bool{}
	for _, k := range keys {
		assert.False(t, seen[k], "key %q listed twice", k)
		seen[k] = true
	}
	for k := range validValues {
		assert.True(t, seen[k], "key %q is not listed", k)
	}
	assert.Len(t, keys, len(validValues), "every key has a test value")

	defaults, err := Load(nil, nil, "")
	require.NoError(t, err)
	others := map[string]Config{}
	for _, k := range keys {
		t.Run(k, func(t *testing.T) {
			v, ok := validValues[k]
			require.True(t, ok, "no test value for %q", k)
			c, err := Load(map[string]any{k: v}, nil, "")
			require.NoError(t, err)
			assert.NotEqual(t, defaults, c, "setting %q changed nothing", k)
			for other, oc := range others {
				assert.NotEqual(t, oc, c, "%q and %q set the same field", k, other)
			}
			others[k] = c
		})
	}
}

func TestKeysReturnsACopy(t *testing.T) {
	keys := Keys()
	require.NotEmpty(t, keys)
	first := keys[0]
	keys[0] = "changed"
	assert.Equal(t, first, Keys()[0])
}
