package runtimebuild

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/apache/openserverless-deployer/lib/kube"
	"github.com/apache/openserverless-deployer/lib/runtimebuild/buildjob"
)

// State is where a build is in its life.
type State string

// The states of a build. Succeeded and Failed are final.
const (
	Queued    State = "queued"  // no running Pod yet
	Running   State = "running" // Kaniko is building
	Succeeded State = "succeeded"
	Failed    State = "failed"
)

// Reasons a build failed.
const (
	ReasonDeadlineExceeded  = "DeadlineExceeded"
	ReasonSourcePullFailed  = "SourcePullFailed"
	ReasonBuilderPullFailed = "BuilderPullFailed"
	ReasonOutOfMemory       = "OutOfMemory"
	ReasonBuildFailed       = "BuildFailed"
	ReasonPushFailed        = "PushFailed"
	ReasonUnschedulable     = "Unschedulable"
)

// Status is what the deployer knows of one build.
type Status struct {
	ID      string
	JobName string
	User    string
	Kind    string
	Image   string
	// Digest is the pushed image's digest, once succeeded.
	Digest string
	State  State
	// Reason and Message explain a failure, or a Pod stuck Pending (a Warning event).
	Reason  string
	Message string

	Created  time.Time
	Started  *time.Time
	Finished *time.Time
}

// Final reports whether the build has ended.
func (s Status) Final() bool { return s.State == Succeeded || s.State == Failed }

var digestPattern = regexp.MustCompile(`sha256:[0-9a-f]{64}`)

// StatusOf reads a build's state from its Job, the Job's Pods (newest
// first), the Warning events of the newest Pod and, for a failed build, the
// tail of its log (Kaniko writes no termination message when it fails). It is
// pure: the Service fetches, this decides.
func StatusOf(job *batchv1.Job, pods []corev1.Pod, warnings []corev1.Event, logTail []string) Status {
	s := Status{
		ID:      job.Annotations[kube.AnnotationBuildID],
		JobName: job.Name,
		User:    job.Labels[kube.LabelUser],
		Kind:    job.Labels[kube.LabelKind],
		Image:   job.Annotations[kube.AnnotationImage],
		Created: job.CreationTimestamp.Time,
		State:   Queued,
	}
	var pod *corev1.Pod
	if len(pods) > 0 {
		pod = &pods[0]
	}
	if at, done := finished(job); done {
		s.Finished = &at
		s.Started = startedAt(job, pod)
		if isComplete(job) {
			s.State = Succeeded
			s.Digest = digestOf(pod)
			return s
		}
		s.State = Failed
		s.Reason, s.Message = failureOf(job, pod, warnings, logTail)
		return s
	}
	// The image is pushed once the push step has written its digest: the
	// Job controller records the Pod's success about a second later (it
	// batches a Job's Pod events for a second), which a caller polling for
	// the image need not wait for.
	if at, digest, ok := pushed(pod); ok {
		s.State, s.Digest, s.Finished = Succeeded, digest, &at
		s.Started = startedAt(job, pod)
		return s
	}
	// A step whose image cannot be pulled keeps the build waiting, even
	// after an earlier step ran (the layer engine pulls its source for its
	// second step).
	if reason, msg := pullTrouble(pod, warnings, job.Annotations[kube.AnnotationSource]); reason != "" {
		s.Reason, s.Message = reason, msg
		return s
	}
	// A Pod with a step that started is running (its phase stays Pending
	// while init containers run); one that has ended ran: the Job
	// controller has yet to record it.
	if pod != nil && (anyStarted(pod) || pod.Status.Phase == corev1.PodRunning || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed) {
		s.State = Running
		s.Started = startedAt(job, pod)
		return s
	}
	// Still queued: say why when the Pod is stuck (pull or scheduling trouble).
	if pod != nil {
		if reason, msg := pendingTrouble(pod, warnings, job.Annotations[kube.AnnotationSource]); reason != "" {
			s.Reason, s.Message = reason, msg
		}
	}
	return s
}

// startedAt is when the build container started, else when the Job
// started: a queued build has not started, though its Job has a start time
// as soon as the controller sees it.
func startedAt(job *batchv1.Job, pod *corev1.Pod) *time.Time {
	if pod != nil {
		for _, cs := range steps(pod) {
			var at time.Time
			switch {
			case cs.State.Running != nil:
				at = cs.State.Running.StartedAt.Time
			case cs.State.Terminated != nil:
				at = cs.State.Terminated.StartedAt.Time
			}
			if !at.IsZero() {
				return &at
			}
		}
	}
	if job.Status.StartTime != nil {
		t := job.Status.StartTime.Time
		return &t
	}
	return nil
}

func isComplete(job *batchv1.Job) bool {
	for _, c := range job.Status.Conditions {
		if c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// steps returns the status of each step of a Pod in the order they run:
// the init containers, then the containers.
func steps(pod *corev1.Pod) []corev1.ContainerStatus {
	return append(append([]corev1.ContainerStatus(nil), pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...)
}

// started reports whether a step has started (it runs, or it ran).
func started(cs corev1.ContainerStatus) bool {
	return cs.State.Running != nil || cs.State.Terminated != nil
}

// anyStarted reports whether a step of the Pod has started.
func anyStarted(pod *corev1.Pod) bool {
	return slices.ContainsFunc(steps(pod), started)
}

// digestOf reads the digest the push step wrote to its termination log.
func digestOf(pod *corev1.Pod) string {
	if pod == nil {
		return ""
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if t := cs.State.Terminated; t != nil {
			return digestPattern.FindString(t.Message)
		}
	}
	return ""
}

// pushed reports the push step of a Pod that ended well: when it ended and
// the digest it wrote.
func pushed(pod *corev1.Pod) (at time.Time, digest string, ok bool) {
	if pod == nil {
		return time.Time{}, "", false
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if t := cs.State.Terminated; cs.Name == buildjob.StepPush && t != nil && t.ExitCode == 0 && t.Reason != "OOMKilled" {
			if d := digestPattern.FindString(t.Message); d != "" {
				return t.FinishedAt.Time, d, true
			}
		}
	}
	return time.Time{}, "", false
}

// failedStep returns the first step of the Pod that ended in failure.
func failedStep(pod *corev1.Pod) (string, *corev1.ContainerStateTerminated) {
	if pod == nil {
		return "", nil
	}
	for _, cs := range steps(pod) {
		if t := cs.State.Terminated; t != nil && (t.ExitCode != 0 || t.Reason == "OOMKilled") {
			return cs.Name, t
		}
	}
	return "", nil
}

// failureOf names why a Job failed, most specific cause first.
func failureOf(job *batchv1.Job, pod *corev1.Pod, warnings []corev1.Event, logTail []string) (reason, message string) {
	if r, msg := pendingTrouble(pod, warnings, job.Annotations[kube.AnnotationSource]); r != "" {
		return r, msg
	}
	if pod != nil && pod.Status.Reason == podReasonEvicted {
		return ReasonBuildFailed, evictionMessage(pod.Status.Message)
	}
	step, t := failedStep(pod)
	if t != nil {
		switch t.Reason {
		case "OOMKilled":
			return ReasonOutOfMemory, "The build ran out of memory"
		case "StartError", "ContainerCannotRun", "CreateContainerError":
			return ReasonBuildFailed, "The build container could not start: " + strings.TrimSpace(t.Message)
		}
	}
	last := lastLine(t, logTail)
	switch {
	case step == buildjob.StepFetch:
		return ReasonSourcePullFailed, "The source image could not be pulled: " + last
	case step == buildjob.StepPush:
		return ReasonPushFailed, "The image could not be pushed to " + job.Annotations[kube.AnnotationImage] + ": " + last
	case step != buildjob.StepBuild:
		// A build of one container (made before the steps were split) says
		// in its log that the source could not be pulled.
		if line := sourcePullFailure(logTail); line != "" {
			return ReasonSourcePullFailed, "The source image could not be pulled: " + line
		}
	}
	for _, c := range job.Status.Conditions {
		if c.Type == batchv1.JobFailed && c.Status == corev1.ConditionTrue && c.Reason == batchv1.JobReasonDeadlineExceeded {
			msg := "The build did not finish within its deadline"
			if pod == nil {
				// The Job controller deleted the waiting Pod; its events say why it waited.
				if _, why := warningTrouble(warnings, job.Annotations[kube.AnnotationSource]); why != "" {
					msg += ": " + why
				}
			}
			return ReasonDeadlineExceeded, msg
		}
	}
	msg := "The build failed"
	if t != nil {
		msg += " with exit code " + strconv.Itoa(int(t.ExitCode))
	}
	if last != "" {
		msg += ": " + last
	}
	// What the user can act on comes first: the installer's own words
	// (npm's, pip's, …); Kaniko's wrapper line says only that RUN failed.
	if lines := InstallerError(strings.Join(logTail, "\n")); len(lines) > 0 {
		msg = strings.Join(lines, "\n") + "\n" + msg
	}
	return ReasonBuildFailed, msg
}

// podReasonEvicted is the reason of a Pod its node stopped: over its
// ephemeral storage limit, or to free a resource the node ran short of.
const podReasonEvicted = "Evicted"

// evictionMessage says why the node stopped a build, in the kubelet's words
// ("Pod ephemeral local storage usage exceeds the total limit of
// containers 10Gi."), naming the setting when the build's disk was the cause.
func evictionMessage(kubelet string) string {
	kubelet = strings.TrimSpace(Sanitize(kubelet))
	if strings.Contains(kubelet, "ephemeral local storage") {
		return "The build used more disk than build_ephemeral_storage_limit allows: " + kubelet
	}
	return "The node evicted the build: " + kubelet
}

// lastLine is the last line the failed step logged: from the log tail
// (whose last lines are the failed step's, as no later step ran), else
// from the termination message, which the kubelet fills with the end of
// the log when the step wrote none.
func lastLine(t *corev1.ContainerStateTerminated, logTail []string) string {
	if n := len(logTail); n > 0 {
		return logTail[n-1]
	}
	if t != nil {
		lines := strings.Split(strings.TrimSpace(t.Message), "\n")
		return strings.TrimSpace(Sanitize(lines[len(lines)-1]))
	}
	return ""
}

// pendingTrouble names what keeps a Pod from running: a builder image that
// cannot be pulled, or no node to run on, with the Warning event's message.
// The layer engine's build step runs the source image itself: a pull of it
// that fails is the source's fault.
func pendingTrouble(pod *corev1.Pod, warnings []corev1.Event, source string) (reason, message string) {
	if pod == nil || pod.Status.Phase != corev1.PodPending {
		return "", ""
	}
	if reason, msg := pullTrouble(pod, warnings, source); reason != "" {
		return reason, msg
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return ReasonUnschedulable, warningOr(warnings, "FailedScheduling", c.Message)
		}
	}
	return warningTrouble(warnings, source)
}

// warningTrouble reads why a Pod waited from its Warning events alone,
// newest first: an image it could not pull (the source, or a builder
// image; the kubelet's "Failed to pull image" says why, its later back-off
// events do not), or no node to run it.
func warningTrouble(warnings []corev1.Event, source string) (reason, message string) {
	if msg := kubeletPullFailure(warnings); msg != "" {
		return pullFailed(msg, source, false)
	}
	for _, e := range warnings {
		switch e.Reason {
		case "Failed", "ErrImagePull", "BackOff":
			if strings.Contains(strings.ToLower(e.Message), "image") {
				return pullFailed(e.Message, source, false)
			}
		case "FailedScheduling":
			return ReasonUnschedulable, e.Message
		}
	}
	return "", ""
}

// pullTrouble names a step of a Pending Pod that waits for an image that
// cannot be pulled: the source (the layer engine's build step runs it), or
// a builder image.
func pullTrouble(pod *corev1.Pod, warnings []corev1.Event, source string) (reason, message string) {
	if pod == nil || pod.Status.Phase != corev1.PodPending {
		return "", ""
	}
	for _, cs := range steps(pod) {
		if w := cs.State.Waiting; w != nil {
			switch w.Reason {
			case "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull":
				return pullFailed(pullWarning(warnings, w.Message), source, runsSource(pod, cs.Name, source))
			}
		}
	}
	return "", ""
}

// pullFailed names the image of a pull failure's message: the source when
// the message names it, or names no image and comes from a step that runs
// the source; a builder image otherwise. A step may wait for an image
// volume of its own (the layer engine's helper) rather than for the image
// it runs: the kubelet's message names the one it could not pull.
func pullFailed(msg, source string, stepRunsSource bool) (reason, message string) {
	if img := pulledImage(msg); source != "" && (img == source || img == "" && stepRunsSource) {
		return ReasonSourcePullFailed, "The source image could not be pulled: " + msg
	}
	return ReasonBuilderPullFailed, msg
}

// pulledImage is the image a kubelet pull message names ("Failed to pull
// image \"<ref>\": …"), "" if it names none.
func pulledImage(msg string) string {
	_, rest, ok := strings.Cut(msg, `image "`)
	if !ok {
		return ""
	}
	img, _, ok := strings.Cut(rest, `"`)
	if !ok {
		return ""
	}
	return img
}

// runsSource reports whether the Pod's step runs the source image itself.
func runsSource(pod *corev1.Pod, step, source string) bool {
	for _, c := range pod.Spec.InitContainers {
		if c.Name == step {
			return source != "" && c.Image == source
		}
	}
	return false
}

// pullWarning returns the message of the kubelet's "Failed to pull image …"
// event, else of the newest "Failed" one, else fallback.
func pullWarning(warnings []corev1.Event, fallback string) string {
	if msg := kubeletPullFailure(warnings); msg != "" {
		return msg
	}
	return warningOr(warnings, "Failed", fallback)
}

// kubeletPullFailure returns the message of the newest "Failed to pull
// image …" event, "" if there is none: it names the image and the cause,
// where the later "Error: ImagePullBackOff" and "BackOff" events of the
// same pull do not.
func kubeletPullFailure(warnings []corev1.Event) string {
	for _, e := range warnings {
		if strings.Contains(strings.ToLower(e.Message), "failed to pull image") {
			return e.Message
		}
	}
	return ""
}

// warningOr returns the newest Warning event's message with the given
// reason, else fallback.
func warningOr(warnings []corev1.Event, reason, fallback string) string {
	for _, e := range warnings {
		if e.Reason == reason && e.Message != "" {
			return e.Message
		}
	}
	return fallback
}

// sourcePullFailure returns the error line where Kaniko failed to fetch the
// FROM image, or "". Kaniko logs "Retrieving image …" on every build, so only
// lines that report an error count.
func sourcePullFailure(logTail []string) string {
	for i := len(logTail) - 1; i >= 0; i-- {
		m := strings.ToLower(logTail[i])
		if !strings.Contains(m, "error") || strings.HasPrefix(m, "info[") || pushFailure(m) {
			continue
		}
		for _, sign := range []string{"manifest_unknown", "name_unknown", "manifest unknown", "retrieving image",
			"unable to find image", "failed to get filesystem from image", "unauthorized", "denied"} {
			if strings.Contains(m, sign) {
				return logTail[i]
			}
		}
	}
	return ""
}

// pushFailure reports Kaniko's errors about the destination, which also say
// "unauthorized" or "denied" but are no fault of the source.
func pushFailure(lower string) bool {
	return strings.Contains(lower, "error pushing image") || strings.Contains(lower, "push permission")
}
