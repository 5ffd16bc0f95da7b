package builds

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/apache/openserverless-deployer/lib/api"
	"github.com/apache/openserverless-deployer/lib/runtimebuild"
	"github.com/apache/openserverless-deployer/lib/webaction"
)

// Cleanup serves POST build/cleanup: delete the caller's finished build Jobs
// older than max_age_hours (default 24); with system scope (the schedule),
// everyone's.
func (o Ops) Cleanup(ctx context.Context, c api.Call) (webaction.Response, error) {
	h, err := o.handlers(c)
	if err != nil {
		return webaction.Response{}, err
	}
	return api.Routes{api.On(http.MethodPost, "*", h.cleanup)}.Serve(ctx, c)
}

// cleanupRequest is a cleanup's one field.
type cleanupRequest struct {
	MaxAge time.Duration
}

func parseCleanup(r webaction.Request) (cleanupRequest, error) {
	maxAge, err := api.MaxAge(r)
	return cleanupRequest{MaxAge: maxAge}, err
}

func (h handlers) cleanup(ctx context.Context, c api.Call) (webaction.Response, error) {
	req, err := parseCleanup(c.Request)
	if err != nil {
		return webaction.Response{}, err
	}
	n, err := h.svc.Cleanup(ctx, c.Caller.User, c.Caller.System, req.MaxAge)
	var partial *runtimebuild.CleanupFailures
	switch {
	case errors.As(err, &partial):
		// What could be deleted was: the reply says so and names the rest.
		return webaction.Reply(http.StatusOK, runtimebuild.CleanupMessage(n, partial.Failed),
			map[string]any{"deleted": n, "failed": partial.Failed}), nil
	case err != nil:
		return webaction.Response{}, err
	}
	return webaction.Reply(http.StatusOK, runtimebuild.CleanupMessage(n, nil), map[string]any{"deleted": n}), nil
}
