// Command cleanup is the builder/cleanup web action: see builds.Ops.Cleanup.
package main

import (
	"github.com/apache/openserverless-deployer/lib/actionloop"
	"github.com/apache/openserverless-deployer/lib/api"
	"github.com/apache/openserverless-deployer/lib/api/builds"
)

// Main is the action's entry point.
func Main(args map[string]any) map[string]any {
	return api.Handle(api.Process(), args, builds.Process().Cleanup)
}

func main() { actionloop.Run(Main) }
