package api

import (
	"context"
	"net/http"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/runtimebuild"
	"github.com/apache/openserverless-deployer/lib/webaction"
)

// Start serves POST build/start: build {source, target, kind, file?} into
// <push host>/<target>, answering as soon as the Job exists.
func Start(ctx context.Context, c Call) (webaction.Response, error) {
	if err := requireMethod(c.Request, http.MethodPost); err != nil {
		return webaction.Response{}, err
	}
	r := c.Request
	if !r.HasAny("source", "target", "kind", "file") {
		return webaction.Response{}, fault.New(fault.Invalid, "NoPayload", "No JSON payload provided for build.")
	}
	started, err := c.Builds.Start(ctx, c.Caller.User, runtimebuild.StartRequest{
		Source: r.String("source"),
		Target: r.String("target"),
		Kind:   r.String("kind"),
		File:   r.String("file"),
	})
	if err != nil {
		return webaction.Response{}, err
	}
	return webaction.Reply(http.StatusOK, "Build process initiated successfully. Job: "+started.JobName, map[string]any{
		"id":       started.ID,
		"job_name": started.JobName,
		"image":    started.Image,
	}), nil
}
