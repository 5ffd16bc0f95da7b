package realistic

import (
	"encoding/base64"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/tests/testapi"
)

// TestEnginesBuildTheSameRuntime builds the realistic nodejs and python
// requests with Kaniko and with the layer engine and compares the images:
// the same config, and the same files (modes, owners, sizes, contents),
// but for what the installers write differently on every run.
func TestEnginesBuildTheSameRuntime(t *testing.T) {
	deployed := os.Getenv(testapi.EngineVariable)
	if deployed == "" {
		deployed = "kaniko"
	}
	t.Cleanup(func() { api.SetEngine(t, env, "alice", deployed) })
	requests := map[string]struct{ builder, kind, file string }{
		"nodejs": {"nodejs:bookworm", "nodejs", `{"name":"action","version":"1.0.0","dependencies":{"is-number":"7.0.0","left-pad":"1.3.0"}}`},
		"python": {"python:bookworm", "python", "osd-greet==1.0.0\n"},
	}
	images := map[string]map[string]string{} // engine → runtime → image by digest
	for _, engine := range []string{"kaniko", "layer"} {
		api.SetEngine(t, env, "alice", engine)
		images[engine] = map[string]string{}
		for rt, req := range requests {
			r := api.Call(t, "alice", http.MethodPost, "/start", map[string]any{
				"source": env.RealisticSource(req.builder), "target": "alice:" + rt + "-" + engine, "kind": req.kind,
				"file": base64.StdEncoding.EncodeToString([]byte(req.file)),
			})
			require.Equal(t, http.StatusOK, r.Code, "%v", r.Body)
			st := follow(t, r.Str("id"))
			require.Equal(t, "succeeded", st.Str("state"), "%s with %s: %v", rt, engine, st.Body)
			ref, err := name.ParseReference(st.Str("image"))
			require.NoError(t, err)
			images[engine][rt] = ref.Context().Digest(st.Str("digest")).String()
		}
	}
	for rt := range requests {
		t.Run(rt, func(t *testing.T) {
			k, l := testapi.Pull(t, env, images["kaniko"][rt]), testapi.Pull(t, env, images["layer"][rt])
			assert.Equal(t, testapi.RunConfig(t, k), testapi.RunConfig(t, l), "the configs differ")
			assert.Equal(t, stable(testapi.Flatten(t, k)), stable(testapi.Flatten(t, l)), "the file systems differ")
		})
	}
}

// stable leaves out of a flattened listing (testapi.Flatten) what an
// installer writes differently on every run, whichever engine runs it:
// npm's debug logs, named by the time; the content of npm's cache index
// entries, which hold the time; compiled Python, which holds the time
// pip wrote its source.
func stable(listing string) string {
	var keep []string
	for _, line := range strings.Split(listing, "\n") {
		path := strings.SplitN(line, " ", 2)[0]
		switch {
		case strings.HasPrefix(path, "app/.npm/_logs/"):
			continue
		case strings.HasPrefix(path, "app/.npm/_cacache/index-v5/") || strings.HasSuffix(path, ".pyc"):
			f := strings.Fields(line)
			if len(f) > 5 && f[1] == "0" {
				f[5] = "(content varies)"
			}
			line = strings.Join(f, " ")
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n")
}
