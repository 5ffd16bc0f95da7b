package realistic

import (
	"archive/tar"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/lib/runtimebuild"
	"github.com/apache/openserverless-deployer/tests/testapi"
)

// ensure asks for the builder's runtime extended with file, and follows the
// build to its end (realistic builds take longer than testapi.Follow waits).
func ensure(t *testing.T, builder, file string) testapi.Reply {
	t.Helper()
	r := api.Call(t, "alice", http.MethodPost, "/ensure", map[string]any{
		"builder": builder, "file": base64.StdEncoding.EncodeToString([]byte(file)),
	})
	require.Equal(t, http.StatusAccepted, r.Code, "%v", r.Body)
	return follow(t, r.Str("id"))
}

// follow polls a build until it ends.
func follow(t *testing.T, id string) testapi.Reply {
	t.Helper()
	deadline := time.Now().Add(12 * time.Minute)
	for {
		st := api.Call(t, "alice", http.MethodGet, "/"+id, nil)
		if s := st.Str("state"); s == "succeeded" || s == "failed" {
			return st
		}
		require.Equal(t, http.StatusAccepted, st.Code, "while building: %v", st.Body)
		require.False(t, time.Now().After(deadline), "build did not end: %v", st.Body)
		time.Sleep(time.Second)
	}
}

// eachFile calls fn with the name (no leading slash) and content of each
// file of the image's flattened filesystem.
func eachFile(t *testing.T, ref string, fn func(name string, content io.Reader)) {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	require.NoError(t, err)
	img, err := remote.Image(r, remote.WithAuth(env.Registry.Auth()))
	require.NoError(t, err)
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		require.NoError(t, err)
		fn(strings.TrimPrefix(h.Name, "/"), tr)
	}
}

// paths returns which of the wanted paths (no leading slash) the image's
// flattened filesystem holds.
func paths(t *testing.T, ref string, want ...string) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	eachFile(t, ref, func(name string, _ io.Reader) {
		if slices.Contains(want, name) {
			got[name] = true
		}
	})
	return got
}

// imageFile is the content of one file (no leading slash) of the image,
// "" when it has none.
func imageFile(t *testing.T, ref, file string) string {
	t.Helper()
	var content []byte
	eachFile(t, ref, func(name string, r io.Reader) {
		if name == file {
			b, err := io.ReadAll(r)
			require.NoError(t, err)
			content = b
		}
	})
	return string(content)
}

func TestNodeJSInstallsFromNpm(t *testing.T) {
	st := ensure(t, "nodejs:bookworm", `{"name":"action","version":"1.0.0","dependencies":{"is-number":"7.0.0","left-pad":"1.3.0"}}`)
	require.Equal(t, "succeeded", st.Str("state"), "%v", st.Body)
	got := paths(t, st.Str("image"), "app/action/node_modules/is-number/package.json", "app/action/node_modules/left-pad/package.json")
	assert.True(t, got["app/action/node_modules/is-number/package.json"], "is-number installed")
	assert.True(t, got["app/action/node_modules/left-pad/package.json"], "left-pad installed")
}

func TestPythonInstallsFromTheLocalIndex(t *testing.T) {
	st := ensure(t, "python:bookworm", "osd-greet==1.0.0\n")
	require.Equal(t, "succeeded", st.Str("state"), "%v", st.Body)
	site := "usr/local/lib/python3.11/dist-packages/"
	got := paths(t, st.Str("image"), site+"osd_greet/__init__.py", site+"osd_hello/__init__.py")
	assert.True(t, got[site+"osd_greet/__init__.py"], "osd-greet installed")
	assert.True(t, got[site+"osd_hello/__init__.py"], "its dependency osd-hello installed")
}

func TestMissingPackagesFailTheBuild(t *testing.T) {
	tests := []struct {
		name, builder, file, installerSays string
	}{
		{"npm", "nodejs:bookworm", `{"name":"action","version":"1.0.0","dependencies":{"osd-no-such-package-7f3a":"1.0.0"}}`, "npm ERR! 404"},
		{"pip", "python:bookworm", "osd-no-such-package==1.0\n", "ERROR: No matching distribution found for osd-no-such-package==1.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			began := time.Now()
			st := ensure(t, tt.builder, tt.file)
			require.Equal(t, "failed", st.Str("state"), "%v", st.Body)
			assert.Equal(t, runtimebuild.ReasonBuildFailed, st.Str("reason"))
			assert.Less(t, time.Since(began), 5*time.Minute, "a failed install ends the build")
			logs := api.Call(t, "alice", http.MethodGet, "/"+st.Str("id")+"/logs?tail=200", nil)
			var text []string
			lines, _ := logs.Body["lines"].([]any)
			for _, l := range lines {
				if s, ok := l.(string); ok {
					text = append(text, s)
				}
			}
			joined := strings.Join(text, "\n")
			assert.Contains(t, joined, tt.installerSays)
			said := runtimebuild.InstallerError(joined)
			assert.NotEmpty(t, said)
			t.Logf("installer says:\n%s", strings.Join(said, "\n"))
		})
	}
}

// probeScript runs as the package's preinstall script, inside the build
// step, as root: it looks every way a script can for a credential — the
// environment of every process it can see, the mounts, every docker
// config, token or file naming registry auths — prints what it finds and
// copies it into the action folder, which the image keeps.
const probeScript = `out=/app/action/probe.txt; echo probe: ran > $out; env >> $out; ` +
	`for p in /proc/[0-9]*; do tr '\0' '\n' < $p/environ >> $out 2>/dev/null; done; ` +
	`cat /proc/self/mountinfo >> $out; ` +
	`for f in $(find / -xdev \( -name config.json -o -name '*.dockerconfigjson' -o -name token \) -type f 2>/dev/null); do echo probe: file $f >> $out; cat $f >> $out; done; ` +
	`for f in $(grep -rlI au''ths /cache /output /kaniko /workspace /.deployer /run /var/run /etc /root 2>/dev/null); do echo probe: auths in $f >> $out; cat $f >> $out; done; ` +
	`cat $out`

// An install script of the user's package — npm runs the root package's
// preinstall as root in the build step — finds no credential: not in the
// log, the status, nor the image it builds.
func TestInstallScriptFindsNoCredential(t *testing.T) {
	api.RequireEngine(t, "alice")
	pkg := map[string]any{
		"name": "action", "version": "1.0.0",
		"scripts":      map[string]string{"preinstall": probeScript},
		"dependencies": map[string]string{"is-number": "7.0.0"},
	}
	file, err := json.Marshal(pkg)
	require.NoError(t, err)
	st := ensure(t, "nodejs:bookworm", string(file))
	require.Equal(t, "succeeded", st.Str("state"), "%v", st.Body)

	image := imageFile(t, st.Str("image"), "app/action/probe.txt")
	require.Contains(t, image, "probe: ran", "the install script ran")
	require.Contains(t, image, "PATH=", "it read the environment")
	for _, l := range strings.Split(image, "\n") {
		if strings.HasPrefix(l, "probe: ") {
			t.Log(l)
		}
	}
	logs := api.Call(t, "alice", http.MethodGet, "/"+st.Str("id")+"/logs?tail=5000", nil)
	require.Equal(t, http.StatusOK, logs.Code)
	status, err := json.Marshal(st.Body)
	require.NoError(t, err)
	secrets := []string{
		env.Registry.Password,
		base64.StdEncoding.EncodeToString([]byte(env.Registry.User + ":" + env.Registry.Password)),
		string(env.Registry.DockerConfigJSON()),
	}
	for where, text := range map[string]string{"image": image, "log": fmt.Sprint(logs.Body), "status": string(status)} {
		for _, s := range secrets {
			assert.NotContains(t, text, s, "the %s holds a part of the platform's registry Secret", where)
		}
	}
}
