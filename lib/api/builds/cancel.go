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
	b, err := o.builds(c)
	if err != nil {
		return webaction.Response{}, err
	}
	return api.Routes{
		api.On(http.MethodDelete, "*", b.cancel),
		api.On(http.MethodPost, "*", b.cancel),
	}.Serve(ctx, c)
}

func (b builds) cancel(ctx context.Context, c api.Call) (webaction.Response, error) {
	req, err := parseBuild(c.Request)
	if err != nil {
		return webaction.Response{}, err
	}
	st, err := b.svc.Cancel(ctx, c.Caller.User, req.ID)
	if err != nil {
		return webaction.Response{}, err
	}
	return webaction.Reply(http.StatusOK, "Build cancelled: job "+st.JobName+" deleted.", map[string]any{"id": req.ID, "job_name": st.JobName}), nil
}
