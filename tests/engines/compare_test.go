package engines

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/tests/testapi"
)

// buildCase is one request both engines build.
type buildCase struct {
	name, kind, source, file string
}

func cases() []buildCase {
	var cs []buildCase
	files := map[string]string{
		"python": "requests==2.31.0\nflask>=2\n", "nodejs": `{"dependencies":{"left-pad":"1.3.0"}}`,
		"go": "module example.com/a\n\ngo 1.22\n", "java": "<project><modelVersion>4.0.0</modelVersion></project>",
		"php": `{"require":{"monolog/monolog":"^3"}}`, "ruby": "source 'https://rubygems.org'\ngem 'rack'\n",
		"dotnet": `{"dependencies":{}}`,
	}
	for _, k := range local.Kinds {
		cs = append(cs, buildCase{name: k, kind: k, source: env.Source(k), file: files[k]})
	}
	script := runtimes["script"].Context().Name() + ":local"
	for _, op := range []string{"delete-base-file", "chmod-only", "empty-dir", "symlink", "hard-link", "setuid-file", "chown-file", "replace-dir-with-file"} {
		cs = append(cs, buildCase{name: op, kind: "python", source: script, file: op + "\n"})
	}
	cs = append(cs,
		buildCase{name: "rootless-base", kind: "python", source: runtimes["rootless"].Context().Name() + ":local", file: "requests\n"},
		buildCase{name: "no-file", kind: "python", source: env.Source("python")},
	)
	return cs
}

// TestEnginesBuildTheSameImage builds every case with Kaniko, then with the
// layer engine (its helper in an image volume, as the stack deploys it),
// and compares the two images; then the layer engine's cases with a file
// again with the helper copied by a step of its own (layer_image_volume
// false, for nodes without image volumes), which must build the same.
func TestEnginesBuildTheSameImage(t *testing.T) {
	cs := cases()
	var withFile []buildCase
	for _, c := range cs {
		if c.file != "" {
			withFile = append(withFile, c)
		}
	}
	built := map[string]map[string]string{} // engine → case → image by digest
	for _, engine := range []string{"kaniko", "layer"} {
		api.SetEngine(t, env, "alice", engine)
		built[engine] = buildAll(t, cs, engine)
	}
	testapi.SetParameter(t, env, "layer_image_volume", "false")
	t.Cleanup(func() { testapi.SetParameter(t, env, "layer_image_volume", "true") })
	built["layer-copy"] = buildAll(t, withFile, "layer-copy")
	for _, c := range cs {
		t.Run(c.name, func(t *testing.T) {
			k, l := built["kaniko"][c.name], built["layer"][c.name]
			require.NotEmpty(t, k, "kaniko built %s", c.name)
			require.NotEmpty(t, l, "layer built %s", c.name)
			kimg, limg := pull(t, k), pull(t, l)
			assert.Equal(t, testapi.Flatten(t, kimg), testapi.Flatten(t, limg), "the file systems differ")
			assert.Equal(t, testapi.RunConfig(t, kimg), testapi.RunConfig(t, limg), "the configs differ")
			if c.file != "" {
				cimg := pull(t, built["layer-copy"][c.name])
				assert.Equal(t, testapi.Flatten(t, limg), testapi.Flatten(t, cimg), "the helper copied builds another file system")
				assert.Equal(t, testapi.RunConfig(t, limg), testapi.RunConfig(t, cimg))
			}
		})
	}
}

// TestEnginesFailAlike: a failed install's message starts with what the
// installer said, and a base without /bin/extend fails as the shell says,
// with either engine.
func TestEnginesFailAlike(t *testing.T) {
	script := runtimes["script"].Context().Name() + ":local"
	for _, engine := range []string{"kaniko", "layer"} {
		t.Run(engine, func(t *testing.T) {
			api.SetEngine(t, env, "alice", engine)
			failing := start(t, buildCase{name: "fail", kind: "python", source: script, file: "fail-the-build\n"}, engine)
			noExtend := start(t, buildCase{name: "no-extend", kind: "python", source: env.Source("noextend"), file: "requests\n"}, engine)
			r := api.Follow(t, "alice", failing)
			require.Equal(t, "failed", r.Str("state"), "%v", r.Body)
			assert.Equal(t, "BuildFailed", r.Str("reason"))
			assert.True(t, strings.HasPrefix(r.Str("message"), "ERROR: the install failed on purpose"), "message: %q", r.Str("message"))
			r = api.Follow(t, "alice", noExtend)
			require.Equal(t, "failed", r.Str("state"), "%v", r.Body)
			assert.Equal(t, "BuildFailed", r.Str("reason"))
			assert.Contains(t, r.Str("message"), "exit code 127", "the shell's code for a command not found")
			assert.Contains(t, fmt.Sprint(r.Body["logs"]), "/bin/extend: not found", "the failed build's log tail")
		})
	}
}

// start starts a case's build for engine and returns its id.
func start(t *testing.T, c buildCase, engine string) string {
	id, _ := startJob(t, c, engine)
	return id
}

// startJob starts a case's build for engine and returns its id and Job.
func startJob(t *testing.T, c buildCase, engine string) (id, job string) {
	t.Helper()
	body := map[string]any{"source": c.source, "target": "alice:" + c.name + "-" + engine, "kind": c.kind}
	if c.file != "" {
		body["file"] = base64.StdEncoding.EncodeToString([]byte(c.file))
	}
	r := api.Call(t, "alice", http.MethodPost, "/start", body)
	require.Equal(t, http.StatusOK, r.Code, "%v", r.Body)
	return r.Str("id"), r.Str("job_name")
}

// helperSteps names the init steps of a build Job.
func helperSteps(t *testing.T, job string) []string {
	t.Helper()
	j, err := env.Kube.Client.BatchV1().Jobs(local.Namespace).Get(context.Background(), job, metav1.GetOptions{})
	require.NoError(t, err)
	var names []string
	for _, c := range j.Spec.Template.Spec.InitContainers {
		names = append(names, c.Name)
	}
	return names
}

// buildAll builds the cases four at a time (the user's quota) and returns
// the pushed image of each, by digest.
func buildAll(t *testing.T, cs []buildCase, engine string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for i := 0; i < len(cs); i += 4 {
		batch := cs[i:min(i+4, len(cs))]
		ids := make([]string, len(batch))
		for j, c := range batch {
			var job string
			ids[j], job = startJob(t, c, engine)
			// The layer engine's helper: in an image volume, or copied by a step.
			if c.file != "" && engine == "layer" {
				assert.Equal(t, []string{"build"}, helperSteps(t, job), c.name)
			} else if c.file != "" && engine == "layer-copy" {
				assert.Equal(t, []string{"tools", "build"}, helperSteps(t, job), c.name)
			}
		}
		for j, c := range batch {
			r := api.Follow(t, "alice", ids[j])
			require.Equal(t, "succeeded", r.Str("state"), "%s with %s: %v", c.name, engine, r.Body)
			ref, err := name.ParseReference(r.Str("image"))
			require.NoError(t, err)
			out[c.name] = ref.Context().Digest(r.Str("digest")).String()
		}
	}
	return out
}

func pull(t *testing.T, ref string) v1.Image {
	t.Helper()
	// Users pull from the pull host; the stack pushes and pulls on one.
	return testapi.Pull(t, env, ref)
}
