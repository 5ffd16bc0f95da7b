package builds

import (
	"context"
	"net/http"

	"github.com/apache/openserverless-deployer/lib/api"
	"github.com/apache/openserverless-deployer/lib/webaction"
)

// Status serves build/<id>: GET is the build's state, DELETE cancels it, and
// GET build/<id>/logs is its log (one path reaches one action, which
// branches on the method). GET build/status?id=<id> is the same as GET build/<id>.
func (o Ops) Status(ctx context.Context, c api.Call) (webaction.Response, error) {
	h, err := o.handlers(c)
	if err != nil {
		return webaction.Response{}, err
	}
	return api.Routes{
		api.On(http.MethodGet, "", h.status),
		api.On(http.MethodDelete, "", h.cancel),
		api.On(http.MethodGet, "{id}", h.status),
		api.On(http.MethodDelete, "{id}", h.cancel),
		api.On(http.MethodGet, "{id}/logs", h.logs),
	}.Serve(ctx, c)
}

// buildRequest names one build, for status and cancel.
type buildRequest struct {
	ID string
}

func parseBuild(r webaction.Request) (buildRequest, error) {
	id, err := api.BuildID(r)
	return buildRequest{ID: id}, err
}

func (h handlers) status(ctx context.Context, c api.Call) (webaction.Response, error) {
	req, err := parseBuild(c.Request)
	if err != nil {
		return webaction.Response{}, err
	}
	st, tail, err := h.svc.Status(ctx, c.Caller.User, req.ID)
	if err != nil {
		return webaction.Response{}, err
	}
	return statusReply(st, tail), nil
}
