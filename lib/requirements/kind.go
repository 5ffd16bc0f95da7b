package requirements

import (
	"maps"
	"slices"
)

// files maps each runtime kind to the name of the dependency file its
// runtime's /bin/extend installs from.
var files = map[string]string{
	"dotnet": "project.json",
	"go":     "go.mod",
	"java":   "pom.xml",
	"nodejs": "package.json",
	"php":    "composer.json",
	"python": "requirements.txt",
	"ruby":   "Gemfile",
}

// FileName returns the dependency file name for kind, and false when the kind
// is not supported.
func FileName(kind string) (string, bool) {
	name, ok := files[kind]
	return name, ok
}

// Kinds returns the supported kinds, sorted.
func Kinds() []string {
	return slices.Sorted(maps.Keys(files))
}
