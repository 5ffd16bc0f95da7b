package builds

import (
	"net/http"
	"time"

	"github.com/apache/openserverless-deployer/lib/api"
	"github.com/apache/openserverless-deployer/lib/runtimebuild"
	"github.com/apache/openserverless-deployer/lib/webaction"
)

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
		fields["logs"] = api.NonNil(tail)
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
