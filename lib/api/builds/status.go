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
	b, err := o.builds(c)
	if err != nil {
		return webaction.Response{}, err
	}
	return api.Routes{
		api.On(http.MethodGet, "", b.status),
		api.On(http.MethodDelete, "", b.cancel),
		api.On(http.MethodGet, "{id}", b.status),
		api.On(http.MethodDelete, "{id}", b.cancel),
		api.On(http.MethodGet, "{id}/logs", b.logs),
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

func (b builds) status(ctx context.Context, c api.Call) (webaction.Response, error) {
	req, err := parseBuild(c.Request)
	if err != nil {
		return webaction.Response{}, err
	}
	st, tail, err := b.svc.Status(ctx, c.Caller.User, req.ID)
	if err != nil {
		return webaction.Response{}, err
	}
	return statusReply(st, tail), nil
}
