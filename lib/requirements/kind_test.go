package requirements_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/apache/openserverless-deployer/lib/requirements"
)

func TestFileName(t *testing.T) {
	tests := []struct {
		kind string
		file string
		ok   bool
	}{
		{"go", "go.mod", true},
		{"java", "pom.xml", true},
		{"nodejs", "package.json", true},
		{"php", "composer.json", true},
		{"python", "requirements.txt", true},
		{"ruby", "Gemfile", true},
		{"dotnet", "project.json", true},
		{"rust", "", false},
		{"", "", false},
		{"Python", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.kind, func(t *testing.T) {
			file, ok := requirements.FileName(tc.kind)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.file, file)
		})
	}
}

func TestKinds(t *testing.T) {
	kinds := requirements.Kinds()
	assert.Equal(t, []string{"dotnet", "go", "java", "nodejs", "php", "python", "ruby"}, kinds)
	assert.True(t, slices.IsSorted(kinds))
	for _, k := range kinds {
		_, ok := requirements.FileName(k)
		assert.True(t, ok, k)
	}
	// The result is the caller's to change.
	kinds[0] = "changed"
	assert.Equal(t, "dotnet", requirements.Kinds()[0])
}
