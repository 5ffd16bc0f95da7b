package config

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// manifest is the part of the wskdeploy manifest these tests read.
type manifest struct {
	Project struct {
		Packages map[string]struct {
			Inputs  map[string]any `json:"inputs"`
			Actions map[string]struct {
				Web         any            `json:"web"`
				Annotations map[string]any `json:"annotations"`
			} `json:"actions"`
		} `json:"packages"`
	} `json:"project"`
}

func readManifest(t *testing.T) manifest {
	t.Helper()
	data, err := os.ReadFile("../../manifest.yaml")
	require.NoError(t, err)
	var m manifest
	require.NoError(t, yaml.Unmarshal(data, &m))
	return m
}

// Every setting is bound as an input of the package: web actions are
// final, so a bound input cannot be overridden by a caller, while an
// unbound one could be supplied in a request.
func TestManifestBindsEveryKey(t *testing.T) {
	m := readManifest(t)
	builder, ok := m.Project.Packages["builder"]
	require.True(t, ok, "manifest has no package builder")
	require.NotEmpty(t, builder.Inputs)
	for _, k := range Keys() {
		t.Run(k, func(t *testing.T) {
			assert.Contains(t, builder.Inputs, k, "setting %q is not bound in manifest.yaml", k)
		})
	}
}

func TestManifestWebActionsAreFinal(t *testing.T) {
	m := readManifest(t)
	builder := m.Project.Packages["builder"]
	require.NotEmpty(t, builder.Actions)
	for name, a := range builder.Actions {
		t.Run(name, func(t *testing.T) {
			if a.Web != true && a.Web != "true" && a.Web != "yes" {
				return
			}
			assert.Equal(t, true, a.Annotations["final"], "web action %s is not final", name)
		})
	}
}
