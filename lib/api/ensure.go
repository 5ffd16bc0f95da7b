package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/runtimebuild"
	"github.com/apache/openserverless-deployer/lib/webaction"
)

// Ensure serves POST build/ensure, {builder, file?} or {source, kind, file?}:
// 200 with the image when it exists, 202 while it builds, 409 when it failed
// and retry is false.
func Ensure(ctx context.Context, c Call) (webaction.Response, error) {
	if err := requireMethod(c.Request, http.MethodPost); err != nil {
		return webaction.Response{}, err
	}
	r := c.Request
	if !r.HasAny("builder", "source", "kind", "file") {
		return webaction.Response{}, fault.New(fault.Invalid, "NoPayload", "No JSON payload provided for build.")
	}
	retry := true
	if v := r.String("retry"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return webaction.Response{}, fault.New(fault.Invalid, "InvalidRetry", "retry must be true or false")
		}
		retry = b
	}
	e, err := c.Builds.Ensure(ctx, c.Caller.User, runtimebuild.EnsureRequest{
		Builder: r.String("builder"),
		Source:  r.String("source"),
		Kind:    r.String("kind"),
		File:    r.String("file"),
		Retry:   retry,
	})
	if err != nil {
		return webaction.Response{}, err
	}
	return statusReply(e.Status, e.Log), nil
}
