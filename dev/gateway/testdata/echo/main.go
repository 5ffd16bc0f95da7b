// Command echo is an ActionLoop action for the tests of package gateway. It
// answers a web response whose JSON body holds its parameters ("params"), the
// __OW_* environment it sees ("env") and its process id ("pid"). Request
// fields change that: "result" (an object) is returned as the whole result,
// "big" makes the body a string of that many bytes, "sleep_ms" delays the
// answer, and "exit" ends the process in the middle of the activation.
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
	fmt.Printf("echo %s\n", os.Getenv("__OW_ACTIVATION_ID"))
	if ms, ok := number(args["sleep_ms"]); ok && ms > 0 {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	if args["exit"] == true {
		os.Exit(3)
	}
	if r, ok := args["result"].(map[string]any); ok {
		return r
	}
	if n, ok := number(args["big"]); ok {
		return map[string]any{"statusCode": 200, "body": strings.Repeat("x", int(n))}
	}
	env := map[string]any{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "__OW_") {
			env[k] = v
		}
	}
	return map[string]any{
		"statusCode": 200,
		"headers":    map[string]any{"Content-Type": "application/json"},
		"body":       map[string]any{"params": args, "env": env, "pid": os.Getpid()},
	}
}

// number reads a JSON number sent as a number or a numeric string.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case string:
		var f float64
		_, err := fmt.Sscan(x, &f)
		return f, err == nil
	}
	return 0, false
}
