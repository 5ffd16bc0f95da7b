package runtimebuild

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The logs in testdata/installer are tails of failed builds. The npm9 and
// pip lines were captured from the realistic fixtures (dev/fixtures): their
// npm 9.2 and pip 23.0 failing on a package that does not exist, between the
// lines Kaniko v1.24.0 writes around a failed RUN; the others follow the
// installers' documented output.
func TestInstallerError(t *testing.T) {
	tests := []struct {
		log  string
		want []string
	}{
		{"npm9-e404.log", []string{
			"npm ERR! code E404",
			"npm ERR! 404 Not Found - GET https://registry.npmjs.org/osd-no-such-package-7f3a",
			"npm ERR! 404  'osd-no-such-package-7f3a@1.0.0' is not in this registry.",
			"npm ERR! 404 Note that you can also install from a",
			"npm ERR! 404 tarball, folder, http url, or git url.",
		}},
		{"pip-notfound.log", []string{
			"ERROR: Could not find a version that satisfies the requirement osd-no-such-package==1.0 (from versions: none)",
			"ERROR: No matching distribution found for osd-no-such-package==1.0",
		}},
		{"composer.log", []string{
			"Your requirements could not be resolved to an installable set of packages.",
			"  Problem 1",
			"    - Root composer.json requires acme/does-not-exist, it could not be found in any version, there may be a typo in the package name.",
		}},
		{"bundler.log", []string{
			"Could not find gem 'does-not-exist-osd' in rubygems repository https://rubygems.org/ or installed locally.",
		}},
		{"go.log", []string{
			"go: example.com/action imports",
			"\tgithub.com/acme/does-not-exist: cannot find module providing package github.com/acme/does-not-exist: module github.com/acme/does-not-exist: git ls-remote -q origin in /root/go/pkg/mod/cache/vcs/1f2e: exit status 128:",
			"\tfatal: could not read Username for 'https://github.com': terminal prompts disabled",
		}},
		{"maven.log", []string{
			"[ERROR] Failed to execute goal on project action: Could not resolve dependencies for project org.example:action:jar:1.0: Could not find artifact com.acme:does-not-exist:jar:9.9 in central (https://repo.maven.apache.org/maven2) -> [Help 1]",
		}},
		{"npm10-etarget.log", []string{
			"npm error code ETARGET",
			"npm error notarget No matching version found for is-number@99.0.0.",
			"npm error notarget In most cases you or one of your dependencies are requesting",
			"npm error notarget a package version that doesn't exist.",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.log, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "installer", tt.log))
			require.NoError(t, err)
			got := InstallerError(string(data))
			assert.Equal(t, tt.want, got)
			for _, l := range got {
				assert.NotContains(t, l, "error building image")
				assert.NotRegexp(t, `^INFO\[`, l)
			}
		})
	}
}

func TestInstallerErrorEdges(t *testing.T) {
	tests := []struct {
		name, log string
		want      []string
	}{
		{"only Kaniko's wrapper", "INFO[0001] Running: [/bin/sh -c /bin/extend]\nerror building image: error building stage: failed to execute command: waiting for process to exit: exit status 1\n", nil},
		{"empty", "", nil},
		{"colour stripped, repeats once", "\x1b[31mERROR: No matching distribution found for nope\x1b[0m\nERROR: No matching distribution found for nope\n",
			[]string{"ERROR: No matching distribution found for nope"}},
		{"npm's debug log pointer left out", "npm ERR! code E404\nnpm ERR! A complete log of this run can be found in:\nnpm ERR!     /root/.npm/_logs/x-debug-0.log\n",
			[]string{"npm ERR! code E404"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, InstallerError(tt.log))
		})
	}
	var many string
	for i := range 50 {
		many += "[ERROR] problem " + string(rune('A'+i%26)) + string(rune('a'+i/26)) + "\n"
	}
	got := InstallerError(many)
	assert.Len(t, got, maxInstallerLines)
	assert.Equal(t, "[ERROR] problem Xb", got[len(got)-1], "the last lines are kept")
}
