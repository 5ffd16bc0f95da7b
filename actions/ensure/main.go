// Command ensure is the builder/ensure web action: see api.Ensure.
package main

import (
	"github.com/apache/openserverless-deployer/lib/actionloop"
	"github.com/apache/openserverless-deployer/lib/api"
)

// Main is the action's entry point.
func Main(args map[string]any) map[string]any { return api.Handle(api.Process(), args, api.Ensure) }

func main() { actionloop.Run(Main) }
