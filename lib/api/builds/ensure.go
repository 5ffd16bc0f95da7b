package builds

import (
	"context"
	"net/http"

	"github.com/apache/openserverless-deployer/lib/api"
	"github.com/apache/openserverless-deployer/lib/runtimebuild"
	"github.com/apache/openserverless-deployer/lib/webaction"
)

// Ensure serves POST build/ensure, {builder, file?} or {source, kind, file?}:
// 200 with the image when it exists, 202 while it builds, 409 when it failed
// and retry is false.
func (o Ops) Ensure(ctx context.Context, c api.Call) (webaction.Response, error) {
	h, err := o.handlers(c)
	if err != nil {
		return webaction.Response{}, err
	}
	return api.Routes{api.On(http.MethodPost, "*", h.ensure)}.Serve(ctx, c)
}

// parseEnsure reads an ensure request.
func parseEnsure(r webaction.Request) (runtimebuild.EnsureRequest, error) {
	if err := api.RequireAny(r, "builder", "source", "kind", "file"); err != nil {
		return runtimebuild.EnsureRequest{}, err
	}
	retry, err := api.Retry(r)
	if err != nil {
		return runtimebuild.EnsureRequest{}, err
	}
	return runtimebuild.EnsureRequest{
		Builder: r.String("builder"),
		Source:  r.String("source"),
		Kind:    r.String("kind"),
		File:    r.String("file"),
		Retry:   retry,
	}, nil
}

func (h handlers) ensure(ctx context.Context, c api.Call) (webaction.Response, error) {
	req, err := parseEnsure(c.Request)
	if err != nil {
		return webaction.Response{}, err
	}
	e, err := h.svc.Ensure(ctx, c.Caller.User, req)
	if err != nil {
		return webaction.Response{}, err
	}
	return statusReply(e.Status, e.Log), nil
}
