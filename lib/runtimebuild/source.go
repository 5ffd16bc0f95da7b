package runtimebuild

import (
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/apache/openserverless-deployer/lib/fault"
)

// sourcePattern admits the characters of an image reference and nothing a
// shell, a Dockerfile or a YAML file would read differently.
var sourcePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,511}$`)

// ParseSource checks that s is an image reference.
func ParseSource(s string) (name.Reference, error) {
	if !sourcePattern.MatchString(s) {
		return nil, fault.New(fault.Invalid, "InvalidSource", "Invalid source image %q: it must be an image reference such as apache/openserverless-runtime-python:v3.13", s)
	}
	r, err := name.ParseReference(s)
	if err != nil {
		return nil, fault.Wrap(err, fault.Invalid, "InvalidSource", "Invalid source image %q: %v", s, err)
	}
	return r, nil
}

// Allowed reports whether ref's repository is in allowed: each entry is a
// repository ("docker.io/apache/runtime-python", "apache/runtime-python") or a
// prefix ending in "*" ("registry.example.com/runtimes/*"; "*" alone
// allows every source). An empty list allows nothing.
func Allowed(ref name.Reference, allowed []string) bool {
	names := repositoryNames(ref.Context())
	for _, pattern := range allowed {
		prefix, wildcard := strings.CutSuffix(pattern, "*")
		for _, n := range names {
			if n == pattern || (wildcard && strings.HasPrefix(n, prefix)) {
				return true
			}
		}
	}
	return false
}

// repositoryNames are the spellings of a repository a pattern may use. A
// short Docker Hub spelling counts only when it names the same repository:
// "docker.io/registry.example.com/x" is on Docker Hub, and its short form
// "registry.example.com/x" would name another registry.
func repositoryNames(r name.Repository) []string {
	names := []string{r.Name()}
	if r.RegistryStr() != name.DefaultRegistry {
		return names
	}
	short := []string{"docker.io/" + r.RepositoryStr(), r.RepositoryStr()}
	if rest, ok := strings.CutPrefix(r.RepositoryStr(), "library/"); ok {
		short = append(short, rest)
	}
	for _, s := range short {
		if same, err := name.NewRepository(s); err == nil && same.Name() == r.Name() {
			names = append(names, s)
		}
	}
	return names
}
