package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/apache/openserverless-deployer/lib/runtimebuild"
	"github.com/apache/openserverless-deployer/lib/webaction"
)

// Cleanup serves POST build/cleanup: delete the caller's finished build Jobs
// older than max_age_hours (default 24); with system scope (the schedule),
// everyone's.
func Cleanup(ctx context.Context, c Call) (webaction.Response, error) {
	if err := requireMethod(c.Request, http.MethodPost); err != nil {
		return webaction.Response{}, err
	}
	v, present := c.Request.Field("max_age_hours")
	hours, err := runtimebuild.ParseMaxAgeHours(v, present)
	if err != nil {
		return webaction.Response{}, err
	}
	n, err := c.Builds.Cleanup(ctx, c.Caller.User, c.Caller.System, time.Duration(hours)*time.Hour)
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
