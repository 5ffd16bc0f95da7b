package nodeagent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"

	"github.com/sirupsen/logrus"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// launch is what starting a container needs once its sandbox is laid out.
type launch struct {
	argv    []string
	env     []string
	workDir string
}

// run lays out the sandbox, runs the container in it and reports how it
// ended. The sandbox is removed before the final status is written, so a
// finished Job never has a sandbox left behind.
func (a *Agent) run(ctx context.Context, pod *v1.Pod, c *v1.Container, w *podWorker, log logrus.FieldLogger) {
	if err := a.updateStatus(ctx, pod, pendingStatus(pod, nil, metav1.Now())); err != nil {
		log.WithError(err).Warn("writing pod status")
	}
	sb, err := newSandbox(a.o.WorkDir, pod.UID)
	if err != nil {
		a.fail(ctx, pod, c, err.Error(), log)
		return
	}
	remove := func() {
		if err := sb.remove(); err != nil {
			log.WithError(err).Error("removing sandbox")
		}
	}
	defer remove()

	l, err := a.prepare(ctx, pod, c, w, sb, log)
	switch {
	case errors.Is(err, errPodDeleted):
		remove()
		a.terminate(ctx, pod, log)
		return
	case ctx.Err() != nil:
		return
	case err != nil:
		remove()
		a.fail(ctx, pod, c, err.Error(), log)
		return
	}
	a.execute(ctx, pod, c, w, sb, l, remove, log)
}

// prepare waits for the objects the pod refers to, lays out the sandbox root
// and checks that the command exists in it; its errors end the pod with
// StartError, after a Warning event as the kubelet records one.
func (a *Agent) prepare(ctx context.Context, pod *v1.Pod, c *v1.Container, w *podWorker, sb *sandbox, log logrus.FieldLogger) (launch, error) {
	payloads, env, err := a.waitForObjects(ctx, pod, c, w, log)
	if err != nil {
		return launch{}, err
	}
	ref := containerRef(pod, c)
	if err := sb.layoutRoot(pod, c, a.o.Executor, payloads); err != nil {
		a.events.Event(ref, v1.EventTypeWarning, "FailedMount", err.Error())
		return launch{}, err
	}
	if a.o.Prepared != nil {
		a.o.Prepared(pod, sb.root)
	}
	l := launch{argv: append(append([]string(nil), c.Command...), c.Args...), env: env, workDir: c.WorkingDir}
	if len(c.Command) == 0 {
		l.argv = append(append([]string(nil), imageEntrypoint...), c.Args...)
	}
	if l.workDir == "" {
		l.workDir = imageWorkDir
	}
	if err := sb.lookPath(l.argv[0], env); err != nil {
		a.events.Event(ref, v1.EventTypeWarning, "Failed", "Error: "+err.Error())
		return launch{}, err
	}
	return l, nil
}

// execute starts the container, reports it Running, waits for it (killing it
// if its pod is deleted) and reports it terminated with its exit code and
// termination message; a deleted pod then gets its final delete.
func (a *Agent) execute(ctx context.Context, pod *v1.Pod, c *v1.Container, w *podWorker, sb *sandbox, l launch, remove func(), log logrus.FieldLogger) {
	path := logPath(a.o.WorkDir, pod.Namespace, pod.Name, pod.UID, c.Name)
	clog, err := createContainerLog(path)
	if err != nil {
		remove()
		a.fail(ctx, pod, c, err.Error(), log)
		return
	}
	defer clog.Close()
	stdout, stderr := clog.stream("stdout"), clog.stream("stderr")
	ref := containerRef(pod, c)
	a.events.Eventf(ref, v1.EventTypeNormal, "Pulled", "Container image %q already present on machine", c.Image)
	a.events.Eventf(ref, v1.EventTypeNormal, "Created", "Created container: %s", c.Name)
	containerID := "unshare://" + randomID()
	startedAt := metav1.Now()
	proc, err := sb.start(a.unshare, l.argv, l.env, l.workDir, stdout, stderr)
	if err != nil {
		remove()
		a.fail(ctx, pod, c, err.Error(), log)
		return
	}
	if err := a.updateStatus(ctx, pod, runningStatus(pod, c, containerID, startedAt, startedAt)); err != nil {
		log.WithError(err).Warn("writing pod status")
	}
	a.events.Eventf(ref, v1.EventTypeNormal, "Started", "Started container %s", c.Name)
	// Only the command: arguments may carry what must not be logged.
	log.WithField("command", l.argv[0]).Info("container started")

	stop := make(chan struct{})
	go func() {
		select {
		case <-w.deleted:
			a.events.Eventf(ref, v1.EventTypeNormal, "Killing", "Stopping container %s", c.Name)
			close(stop)
		case <-proc.done:
		}
	}()
	code, killed := proc.wait(ctx, stop)
	finishedAt := metav1.Now()
	if err := errors.Join(stdout.flush(), stderr.flush()); err != nil {
		log.WithError(err).Warn("writing container log")
	}
	msg := terminationMessage(ctx, sb.terminationFile(), path, c, code)
	remove()
	w.markExited()
	log.WithFields(logrus.Fields{"exitCode": code, "killed": killed}).Info("container exited")
	if killed && ctx.Err() != nil && !isClosed(w.deleted) {
		return // Run is ending: the pod is left as it was
	}
	reason := "Completed"
	if code != 0 {
		reason = "Error"
	}
	term := v1.ContainerStateTerminated{
		ExitCode: int32(code), Reason: reason, Message: msg,
		StartedAt: startedAt, FinishedAt: finishedAt, ContainerID: containerID,
	}
	if err := a.updateStatus(ctx, pod, terminatedStatus(pod, c, term, finishedAt)); err != nil {
		log.WithError(err).Warn("writing pod status")
	}
	if isClosed(w.deleted) {
		a.forceDelete(ctx, pod, log)
	}
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
