package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/runtimebuild"
	"github.com/apache/openserverless-deployer/lib/webaction"
)

// Status serves build/<id>: GET is the build's state, DELETE cancels it, and
// GET build/<id>/logs is its log (one path reaches one action, which
// branches on the method). GET build/status?id=<id> is the same as GET build/<id>.
func Status(ctx context.Context, c Call) (webaction.Response, error) {
	seg := c.Request.PathSegments()
	if len(seg) == 2 && seg[1] == "logs" {
		return Logs(ctx, c)
	}
	if len(seg) > 1 {
		return webaction.Response{}, fault.New(fault.NotFound, "NotFound", "No such resource: %s", c.Request.Path)
	}
	if c.Request.Method == http.MethodDelete {
		return Cancel(ctx, c)
	}
	if err := requireMethod(c.Request, http.MethodGet); err != nil {
		return webaction.Response{}, err
	}
	id, err := buildID(c.Request)
	if err != nil {
		return webaction.Response{}, err
	}
	st, tail, err := c.Builds.Status(ctx, c.Caller.User, id)
	if err != nil {
		return webaction.Response{}, err
	}
	return statusReply(st, tail), nil
}

// buildID is the id in the path (build/<id>), else the id field.
func buildID(r webaction.Request) (string, error) {
	if seg := r.PathSegments(); len(seg) > 0 {
		return seg[0], nil
	}
	if id := r.String("id"); id != "" {
		return id, nil
	}
	return "", fault.New(fault.Invalid, "MissingID", "No build id provided.")
}

// statusReply answers a build's state: 200 succeeded, 202 queued or
// running, 409 failed with its reason and last log lines.
func statusReply(st runtimebuild.Status, tail []string) webaction.Response {
	fields := map[string]any{
		"id":    st.ID,
		"state": string(st.State),
		"image": st.Image,
		"kind":  st.Kind,
	}
	if st.JobName != "" { // an image that exists already has no Job
		fields["job_name"] = st.JobName
	}
	if !st.Created.IsZero() {
		fields["created"] = st.Created.UTC().Format(time.RFC3339)
	}
	if st.Started != nil {
		fields["started"] = st.Started.UTC().Format(time.RFC3339)
	}
	if st.Finished != nil {
		fields["finished"] = st.Finished.UTC().Format(time.RFC3339)
	}
	if st.Reason != "" {
		fields["reason"] = st.Reason
	}
	switch st.State {
	case runtimebuild.Succeeded:
		fields["digest"] = st.Digest
		return webaction.Reply(http.StatusOK, "Build succeeded.", fields)
	case runtimebuild.Failed:
		fields["logs"] = nonNil(tail)
		r := webaction.Reply(http.StatusConflict, st.Message, fields)
		r.Body["status"] = "ko"
		return r
	default:
		msg := "Build " + string(st.State) + "."
		if st.Message != "" {
			msg = st.Message
		}
		return webaction.Reply(http.StatusAccepted, msg, fields)
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Logs serves GET build/<id>/logs (and build/logs?id=<id>): a page of the
// build's log, ?tail=N (default 200, at most 5000) and ?since=<RFC3339>.
func Logs(ctx context.Context, c Call) (webaction.Response, error) {
	if err := requireMethod(c.Request, http.MethodGet); err != nil {
		return webaction.Response{}, err
	}
	id, err := buildID(c.Request)
	if err != nil {
		return webaction.Response{}, err
	}
	o := runtimebuild.LogOptions{Tail: runtimebuild.DefaultLogTail}
	if v := c.Request.String("tail"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > runtimebuild.MaxLogTail {
			return webaction.Response{}, fault.New(fault.Invalid, "InvalidTail", "tail must be a whole number from 1 to %d", runtimebuild.MaxLogTail)
		}
		o.Tail = n
	}
	if v := c.Request.String("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return webaction.Response{}, fault.New(fault.Invalid, "InvalidSince", "since must be an RFC 3339 time, such as 2026-01-02T15:04:05Z")
		}
		o.Since = t
	}
	page, err := c.Builds.Logs(ctx, c.Caller.User, id, o)
	if err != nil {
		return webaction.Response{}, err
	}
	fields := map[string]any{"id": id, "lines": nonNil(page.Lines), "truncated": page.Truncated}
	if !page.Next.IsZero() {
		fields["next_since"] = page.Next.UTC().Format(time.RFC3339Nano)
	}
	return webaction.Reply(http.StatusOK, "", fields), nil
}

// Cancel serves DELETE build/<id> (and build/cancel?id=<id>): stop and delete
// the build.
func Cancel(ctx context.Context, c Call) (webaction.Response, error) {
	if err := requireMethod(c.Request, http.MethodDelete, http.MethodPost); err != nil {
		return webaction.Response{}, err
	}
	id, err := buildID(c.Request)
	if err != nil {
		return webaction.Response{}, err
	}
	st, err := c.Builds.Cancel(ctx, c.Caller.User, id)
	if err != nil {
		return webaction.Response{}, err
	}
	return webaction.Reply(http.StatusOK, "Build cancelled: job "+st.JobName+" deleted.", map[string]any{"id": id, "job_name": st.JobName}), nil
}
