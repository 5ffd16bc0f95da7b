// Package engines builds the same requests with both build engines on the
// local stack (a real node, the real Kaniko images and the layer image) and
// compares what they pushed: the flattened file systems and the configs.
// The engine is switched as an operator would, by updating the package's
// build_engine parameter through the OpenWhisk API.
package engines

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/apache/openserverless-deployer/dev/fixtures"
	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/tests/testapi"
)

var (
	env *local.Stack
	api testapi.Client
	// runtimes are the extra bases of the cases, by name: "script" runs
	// one operation per requirement (scriptExtend), as user 1001;
	// "rootless" is the fixture runtime with no USER.
	runtimes = map[string]name.Digest{}
)

func TestMain(m *testing.M) {
	testapi.StackMain("engines", func(dir string, logf *os.File) int { return run(m, dir, logf) })
}

func run(m *testing.M, dir string, logf *os.File) int {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	var err error
	env, err = local.Start(ctx, local.Options{Dir: dir, Users: []string{"alice"}, Log: logf,
		Inputs: map[string]any{"max_active_builds_per_user": "4"}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the local stack:", err)
		return 1
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
	for repo, rt := range map[string]fixtures.Runtime{
		"script":   {Repo: "runtime-script", Tag: "local", User: "1001", Extend: true, Script: scriptExtend},
		"rootless": {Repo: "runtime-rootless", Tag: "local", Extend: true},
	} {
		if runtimes[repo], err = fixtures.Push(ctx, env.Registry.Host, env.Registry.Auth(), rt); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	api = testapi.New(env)
	return m.Run()
}

// scriptExtend is the /bin/extend of the "script" base: each line of
// /tmp/requirements.txt names one change to the file system, each of a
// kind a layer must carry exactly.
const scriptExtend = `#!/bin/sh
set -e
for op in $(grep -v '^#' /tmp/requirements.txt); do
	case "$op" in
	delete-base-file) rm /etc/group ;;
	chmod-only) chmod 0600 /etc/passwd ;;
	empty-dir) mkdir -p /opt/empty ;;
	symlink) mkdir -p /opt && ln -s /etc/passwd /opt/passwd-link ;;
	hard-link) mkdir -p /opt/h && echo linked > /opt/h/a && ln /opt/h/a /opt/h/b ;;
	setuid-file) mkdir -p /opt && echo '#!/bin/sh' > /opt/suid && chmod 4755 /opt/suid ;;
	chown-file) mkdir -p /opt && echo mine > /opt/owned && chown 1001:1001 /opt/owned ;;
	replace-dir-with-file) rm -rf /home && echo file > /home ;;
	fail-the-build) echo "ERROR: the install failed on purpose" >&2; exit 3 ;;
	*) echo "unknown operation $op" >&2; exit 2 ;;
	esac
	echo "extend: $op done"
done
`
