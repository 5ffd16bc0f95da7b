package builds

import (
	"context"
	"net/http"
	"time"

	"github.com/apache/openserverless-deployer/lib/api"
	"github.com/apache/openserverless-deployer/lib/runtimebuild"
	"github.com/apache/openserverless-deployer/lib/webaction"
)

// Logs serves GET build/<id>/logs (and build/logs?id=<id>): a page of the
// build's log, ?tail=N (default 200, at most 5000) and ?since=<RFC3339>.
func (o Ops) Logs(ctx context.Context, c api.Call) (webaction.Response, error) {
	h, err := o.handlers(c)
	if err != nil {
		return webaction.Response{}, err
	}
	return api.Routes{api.On(http.MethodGet, "*", h.logs)}.Serve(ctx, c)
}

// logsRequest is the build and the page of its log asked for.
type logsRequest struct {
	ID      string
	Options runtimebuild.LogOptions
}

// parseLogs reads the id, then tail, then since.
func parseLogs(r webaction.Request) (logsRequest, error) {
	id, err := api.BuildID(r)
	if err != nil {
		return logsRequest{}, err
	}
	tail, err := api.Tail(r)
	if err != nil {
		return logsRequest{}, err
	}
	since, err := api.Since(r)
	if err != nil {
		return logsRequest{}, err
	}
	return logsRequest{ID: id, Options: runtimebuild.LogOptions{Tail: tail, Since: since}}, nil
}

func (h handlers) logs(ctx context.Context, c api.Call) (webaction.Response, error) {
	req, err := parseLogs(c.Request)
	if err != nil {
		return webaction.Response{}, err
	}
	page, err := h.svc.Logs(ctx, c.Caller.User, req.ID, req.Options)
	if err != nil {
		return webaction.Response{}, err
	}
	fields := map[string]any{"id": req.ID, "lines": api.NonNil(page.Lines), "truncated": page.Truncated}
	if !page.Next.IsZero() {
		fields["next_since"] = page.Next.UTC().Format(time.RFC3339Nano)
	}
	return webaction.Reply(http.StatusOK, "", fields), nil
}
