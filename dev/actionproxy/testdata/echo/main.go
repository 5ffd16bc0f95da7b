// Command echo is an ActionLoop action for the tests of package actionproxy:
// it answers with its parameters, the __OW_* environment it sees and its
// process id, logs one line on stdout and one on stderr, and sleeps or panics when asked.
package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/apache/openserverless-deployer/lib/actionloop"
)

func main() { actionloop.Run(echo) }

func echo(args map[string]any) map[string]any {
	if p, _ := args["panic"].(string); p != "" {
		panic(p)
	}
	if ms, _ := args["sleep_ms"].(float64); ms > 0 {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	env := map[string]any{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "__OW_") {
			env[k] = v
		}
	}
	fmt.Fprintf(os.Stdout, "stdout of %s\n", os.Getenv("__OW_ACTIVATION_ID"))
	fmt.Fprintf(os.Stderr, "stderr of %s\n", os.Getenv("__OW_ACTIVATION_ID"))
	return map[string]any{"args": args, "env": env, "pid": os.Getpid()}
}
