// Package manifest checks the wskdeploy manifest against the actions that
// exist and against wskdeploy itself, offline (--preview), with zips packed
// as `task build` packs them.
package manifest

import (
	"archive/zip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

const root = "../.."

type manifest struct {
	Project struct {
		Namespace string `json:"namespace"`
		Packages  map[string]struct {
			Inputs  map[string]any `json:"inputs"`
			Actions map[string]struct {
				Function    string         `json:"function"`
				Runtime     string         `json:"runtime"`
				Web         any            `json:"web"`
				Annotations map[string]any `json:"annotations"`
			} `json:"actions"`
			Triggers map[string]struct {
				Feed   string         `json:"feed"`
				Inputs map[string]any `json:"inputs"`
			} `json:"triggers"`
			Rules map[string]struct {
				Trigger string `json:"trigger"`
				Action  string `json:"action"`
			} `json:"rules"`
		} `json:"packages"`
	} `json:"project"`
}

func load(t *testing.T) manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "manifest.yaml"))
	require.NoError(t, err)
	var m manifest
	require.NoError(t, yaml.Unmarshal(b, &m))
	return m
}

func actionDirs(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, "actions"))
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

// Every action under actions/ is in the manifest as a final web action on
// go:1.22 from its own zip, and nothing else is.
func TestManifestListsEveryAction(t *testing.T) {
	m := load(t)
	assert.Equal(t, "whisk-system", m.Project.Namespace)
	pkg, ok := m.Project.Packages["builder"]
	require.True(t, ok, "package builder")
	var names []string
	for name, a := range pkg.Actions {
		names = append(names, name)
		assert.Equal(t, "packages/"+name+".zip", a.Function, name)
		assert.Equal(t, "go:1.22", a.Runtime, name)
		assert.Equal(t, true, a.Web, name)
		assert.Equal(t, true, a.Annotations["final"], name)
	}
	sort.Strings(names)
	assert.Equal(t, actionDirs(t), names)

	// cleanup runs on a schedule both ways OpenServerless supports.
	assert.NotEmpty(t, pkg.Actions["cleanup"].Annotations["cron"])
	require.Len(t, pkg.Rules, 1)
	for _, r := range pkg.Rules {
		assert.Equal(t, "cleanup", r.Action)
		trig, ok := pkg.Triggers[r.Trigger]
		require.True(t, ok, "the rule's trigger exists")
		assert.Equal(t, "/whisk.system/alarms/alarm", trig.Feed)
		assert.NotEmpty(t, trig.Inputs["cron"])
	}
}

// wskdeploy parses and plans the manifest offline, with every zip packed.
func TestWskdeployPreview(t *testing.T) {
	out, err := exec.Command(filepath.Join(root, "tools", "build.sh"), "wskdeploy").Output()
	require.NoError(t, err)
	wskdeploy := strings.TrimSpace(string(out))

	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join(root, "manifest.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "manifest.yaml"), b, 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "packages"), 0o755))
	for _, a := range actionDirs(t) {
		bin := filepath.Join(dir, "build", a)
		build := exec.Command("go", "build", "-o", bin, "./actions/"+a)
		build.Dir = root
		build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
		o, err := build.CombinedOutput()
		require.NoError(t, err, "%s", o)
		zipPath := filepath.Join(dir, "packages", a+".zip")
		pack := exec.Command("go", "run", "./cmd/packaction", "-exec", bin, "-o", zipPath)
		pack.Dir = root
		o, err = pack.CombinedOutput()
		require.NoError(t, err, "%s", o)
		checkZip(t, zipPath)
	}

	// wskdeploy checks runtimes against what the API host advertises at "/"
	// (its built-in list when none answers, which predates go:1.22); this one
	// advertises the OpenServerless Go runtime, as the controller does.
	controller := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		_, _ = io.WriteString(w, `{"description":"OpenServerless","runtimes":{"go":[{"kind":"go:1.22","default":true,`+
			`"image":{"prefix":"apacheopenserverless","name":"runtime-golang-v1.22","tag":"latest"}}]}}`)
	}))
	defer controller.Close()
	cmd := exec.Command(wskdeploy, "--preview", "-m", filepath.Join(dir, "manifest.yaml"),
		"--apihost", controller.URL, "--auth", "a:b", "--namespace", "whisk-system")
	cmd.Dir = dir
	o, err := cmd.CombinedOutput()
	require.NoError(t, err, "wskdeploy --preview: %s", o)
	for _, a := range actionDirs(t) {
		assert.Contains(t, string(o), a, "the plan names action %s", a)
	}
	assert.Contains(t, string(o), "builder-cleanup-rule")

	// A broken manifest is refused: the check above can fail.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("project: [\n"), 0o644))
	bad := exec.Command(wskdeploy, "--preview", "-m", filepath.Join(dir, "broken.yaml"), "--apihost", controller.URL, "--auth", "a:b")
	bad.Dir = dir
	assert.Error(t, bad.Run())
}

// checkZip: exec (executable) and exec.env naming the Go runtime.
func checkZip(t *testing.T, path string) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	require.NoError(t, err)
	defer zr.Close()
	got := map[string]*zip.File{}
	for _, f := range zr.File {
		got[f.Name] = f
	}
	require.Contains(t, got, "exec")
	require.Contains(t, got, "exec.env")
	assert.Equal(t, os.FileMode(0o755), got["exec"].Mode().Perm())
	rc, err := got["exec.env"].Open()
	require.NoError(t, err)
	defer rc.Close()
	env, err := io.ReadAll(rc)
	require.NoError(t, err)
	assert.Equal(t, "apacheopenserverless/runtime-golang-v1.22", string(env))
}
