package builds

import (
	"context"
	"net/http"

	"github.com/apache/openserverless-deployer/lib/api"
	"github.com/apache/openserverless-deployer/lib/webaction"
)

// Cancel serves DELETE build/<id> (and build/cancel?id=<id>, DELETE or
// POST): stop and delete the build.
func (o Ops) Cancel(ctx context.Context, c api.Call) (webaction.Response, error) {
	h, err := o.handlers(c)
	if err != nil {
		return webaction.Response{}, err
	}
	return api.Routes{
		api.On(http.MethodDelete, "*", h.cancel),
		api.On(http.MethodPost, "*", h.cancel),
	}.Serve(ctx, c)
}

func (h handlers) cancel(ctx context.Context, c api.Call) (webaction.Response, error) {
	req, err := parseBuild(c.Request)
	if err != nil {
		return webaction.Response{}, err
	}
	st, err := h.svc.Cancel(ctx, c.Caller.User, req.ID)
	if err != nil {
		return webaction.Response{}, err
	}
	return webaction.Reply(http.StatusOK, "Build cancelled: job "+st.JobName+" deleted.", map[string]any{"id": req.ID, "job_name": st.JobName}), nil
}
