package api

import (
	"context"
	"net/http"
	"sort"

	"github.com/apache/openserverless-deployer/lib/requirements"
	"github.com/apache/openserverless-deployer/lib/webaction"
)

// Version names the build recipe that build ids are made for. It is
// buildjob.Version, written again so that capabilities links none of the
// build machinery; TestCapabilities keeps the two equal.
const Version = "openserverless-deployer/build/v1"

// Capabilities serves GET build/capabilities, under any path.
func Capabilities(ctx context.Context, c Call) (webaction.Response, error) {
	return Routes{On(http.MethodGet, "*", capabilities)}.Serve(ctx, c)
}

// capabilities answers the kinds and their files, the builder catalog, the
// limits a caller must respect, and how builds are made (the engine, and
// whether they run in a user namespace).
func capabilities(_ context.Context, c Call) (webaction.Response, error) {
	kinds := map[string]string{}
	for _, k := range requirements.Kinds() {
		kinds[k], _ = requirements.FileName(k)
	}
	ids := make([]string, 0, len(c.Config.Builders))
	for id := range c.Config.Builders {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	builders := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		b := c.Config.Builders[id]
		builders = append(builders, map[string]any{"id": id, "kind": b.Kind, "source": b.Source})
	}
	return webaction.Reply(http.StatusOK, "", map[string]any{
		"version":  Version,
		"kinds":    kinds,
		"builders": builders,
		"limits": map[string]any{
			"file_base64_chars":          requirements.MaxEncodedLen,
			"file_bytes":                 requirements.MaxDecodedLen,
			"max_active_builds_per_user": c.Config.MaxActiveBuildsPerUser,
			"max_active_builds":          c.Config.MaxActiveBuilds,
			"build_timeout_seconds":      int(c.Config.BuildTimeout.Seconds()),
			// What one build may use on its node: over the memory, the
			// build fails with OutOfMemory; over the disk, the node evicts it.
			"build_memory_limit":            c.Config.Resources.LimitMemory,
			"build_ephemeral_storage_limit": c.Config.Resources.LimitEphemeralStorage,
			"log_tail_max":                  MaxLogTail,
			"max_age_hours_max":             MaxMaxAgeHours,
		},
		"allowed_sources": NonNil(c.Config.AllowedSources),
		"build_engine":    c.Config.BuildEngine,
		"user_namespace":  c.Config.BuildUserNamespace,
	}), nil
}

// NonNil is s, or an empty list for nil: a reply's lists are never null.
func NonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
