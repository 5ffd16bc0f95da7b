package builds

import (
	"context"
	"net/http"

	"github.com/apache/openserverless-deployer/lib/api"
	"github.com/apache/openserverless-deployer/lib/runtimebuild"
	"github.com/apache/openserverless-deployer/lib/webaction"
)

// Start serves POST build/start: build {source, target, kind, file?} into
// <push host>/<target>, answering as soon as the Job exists.
func (o Ops) Start(ctx context.Context, c api.Call) (webaction.Response, error) {
	h, err := o.handlers(c)
	if err != nil {
		return webaction.Response{}, err
	}
	return api.Routes{api.On(http.MethodPost, "*", h.start)}.Serve(ctx, c)
}

// parseStart reads a start request.
func parseStart(r webaction.Request) (runtimebuild.StartRequest, error) {
	if err := api.RequireAny(r, "source", "target", "kind", "file"); err != nil {
		return runtimebuild.StartRequest{}, err
	}
	return runtimebuild.StartRequest{
		Source: r.String("source"),
		Target: r.String("target"),
		Kind:   r.String("kind"),
		File:   r.String("file"),
	}, nil
}

func (h handlers) start(ctx context.Context, c api.Call) (webaction.Response, error) {
	req, err := parseStart(c.Request)
	if err != nil {
		return webaction.Response{}, err
	}
	started, err := h.svc.Start(ctx, c.Caller.User, req)
	if err != nil {
		return webaction.Response{}, err
	}
	return webaction.Reply(http.StatusOK, "Build process initiated successfully. Job: "+started.JobName, map[string]any{
		"id":       started.ID,
		"job_name": started.JobName,
		"image":    started.Image,
	}), nil
}
