package api

import (
	"context"
	"net/http"
	"sort"

	"github.com/apache/openserverless-deployer/lib/requirements"
	"github.com/apache/openserverless-deployer/lib/runtimebuild"
	"github.com/apache/openserverless-deployer/lib/runtimebuild/buildjob"
	"github.com/apache/openserverless-deployer/lib/webaction"
)

// Capabilities serves GET build/capabilities: the kinds and their files, the
// builder catalog, and the limits a caller must respect.
func Capabilities(_ context.Context, c Call) (webaction.Response, error) {
	if err := requireMethod(c.Request, http.MethodGet); err != nil {
		return webaction.Response{}, err
	}
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
		"version":  buildjob.Version,
		"kinds":    kinds,
		"builders": builders,
		"limits": map[string]any{
			"file_base64_chars":          requirements.MaxEncodedLen,
			"file_bytes":                 requirements.MaxDecodedLen,
			"max_active_builds_per_user": c.Config.MaxActiveBuildsPerUser,
			"max_active_builds":          c.Config.MaxActiveBuilds,
			"build_timeout_seconds":      int(c.Config.BuildTimeout.Seconds()),
			"log_tail_max":               runtimebuild.MaxLogTail,
			"max_age_hours_max":          8760,
		},
		"allowed_sources": nonNil(c.Config.AllowedSources),
	}), nil
}
