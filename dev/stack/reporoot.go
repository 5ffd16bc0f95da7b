package stack

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/mod/modfile"
)

// modulePath is the module path of the repository this package belongs to.
const modulePath = "github.com/apache/openserverless-deployer"

// RepoRoot finds the repository root, the folder holding the go.mod of
// modulePath, from the working directory up.
func RepoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the repository root: %w", err)
	}
	return repoRootFrom(wd)
}

func repoRootFrom(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		switch {
		case err == nil:
			if modfile.ModulePath(data) == modulePath {
				return d, nil
			}
		case !errors.Is(err, os.ErrNotExist):
			return "", fmt.Errorf("finding the repository root: %w", err)
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod of %s in %s or above", modulePath, dir)
		}
	}
}
