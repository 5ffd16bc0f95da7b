package stack

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRepoRoot(t *testing.T) {
	tmp := t.TempDir()
	root := filepath.Join(tmp, "repo")
	nested := filepath.Join(root, "tools", "kube") // a nested module must be passed over
	deep := filepath.Join(nested, "a", "b")
	other := filepath.Join(tmp, "other")
	for _, d := range []string{deep, other} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
	require.NoError(t, os.WriteFile(filepath.Join(root, "go.mod"), []byte("module "+modulePath+"\n\ngo 1.26.0\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(nested, "go.mod"), []byte("module example.com/tools\n"), 0o644))

	tests := []struct {
		name, from, want string
		wantErr          bool
	}{
		{"at the root", root, root, false},
		{"below a nested module", deep, root, false},
		{"outside the repository", other, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := repoRootFrom(tt.from)
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}

	t.Run("from the working directory", func(t *testing.T) {
		got, err := RepoRoot()
		require.NoError(t, err)
		assert.FileExists(t, filepath.Join(got, "tools", "build.sh"))
		wd, err := os.Getwd()
		require.NoError(t, err)
		assert.Equal(t, filepath.Join(got, "dev", "stack"), wd)
	})
}
