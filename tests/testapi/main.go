package testapi

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// StackMain is the TestMain of a package whose tests need a local stack of
// their own: skipped in -short mode, refused without root. run sets the
// package up and runs its tests (InStackDir); StackMain exits with its code.
func StackMain(name string, run func(dir string, log *os.File) int) {
	flag.Parse()
	if testing.Short() {
		fmt.Printf("%s: skipped in -short mode (needs the local stack)\n", name)
		os.Exit(0)
	}
	RequireRoot(name)
	os.Exit(InStackDir(name, run))
}

// RequireRoot exits when the tests do not run as root: the local stack runs
// a real node (containerd, runc, kubelet).
func RequireRoot(name string) {
	if os.Geteuid() != 0 {
		fmt.Printf("%s: the local stack's node (containerd, kubelet) needs root\n", name)
		os.Exit(1)
	}
}

// InStackDir gives run a fresh folder and the stack's log file in it
// (stack.log), and returns run's code. The log is printed when the code is
// not 0; the folder is removed afterwards.
func InStackDir(name string, run func(dir string, log *os.File) int) int {
	dir, err := os.MkdirTemp("", name+"-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	logf, err := os.Create(filepath.Join(dir, "stack.log"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer logf.Close()
	code := run(dir, logf)
	if code != 0 {
		Dump(logf.Name())
	}
	return code
}

// EngineVariable names the build engine a test package's stack deploys the
// deployer with ("kaniko" or "layer"); unset, the default. `./task test`
// runs the isolation tests once more with the layer engine.
const EngineVariable = "DEPLOYER_TEST_ENGINE"

// WithEngine adds the engine EngineVariable names to a stack's settings.
func WithEngine(inputs map[string]any) map[string]any {
	if e := os.Getenv(EngineVariable); e != "" {
		inputs["build_engine"] = e
	}
	return inputs
}
