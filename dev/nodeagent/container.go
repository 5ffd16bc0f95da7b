package nodeagent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"time"

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

// runStep runs container c of image img in a sandbox of its own under the
// pod folder dir, laying out the pod's volumes first if no step did, and
// returns how it ended. Its sandbox is removed before it returns. A failure
// before the container starts is a StartError, after a Warning event as the
// kubelet records one.
func (a *Agent) runStep(ctx context.Context, pod *v1.Pod, cs *containerStates, c *v1.Container, img Image, dir string, vols **podVolumes, w *podWorker, log logrus.FieldLogger) (v1.ContainerStateTerminated, stepEnd) {
	log = log.WithField("container", c.Name)
	startError := func(err error) (v1.ContainerStateTerminated, stepEnd) {
		log.WithError(err).Warn("container failed to start")
		now := metav1.Now()
		return v1.ContainerStateTerminated{ExitCode: 128, Reason: "StartError", Message: err.Error(),
			StartedAt: now, FinishedAt: now}, stepExited
	}
	payloads, env, err := a.waitForObjects(ctx, pod, c, img, *vols == nil, w, log)
	switch {
	case errors.Is(err, errPodDeleted):
		return v1.ContainerStateTerminated{}, stepDeleted
	case ctx.Err() != nil:
		return v1.ContainerStateTerminated{}, stepStopped
	case err != nil:
		return startError(err)
	}
	ref := containerRef(pod, c)
	if *vols == nil {
		v, err := layoutVolumes(filepath.Join(dir, "volumes"), pod, payloads)
		if err != nil {
			a.events.Event(ref, v1.EventTypeWarning, "FailedMount", err.Error())
			return startError(err)
		}
		*vols = v
	}
	sb, err := newSandbox(filepath.Join(dir, "containers", c.Name))
	if err != nil {
		return startError(err)
	}
	defer func() {
		if err := a.removeSandbox(sb); err != nil {
			log.WithError(err).Error("removing sandbox")
		}
	}()
	if err := sb.layoutRoot(pod, c, img, *vols); err != nil {
		a.events.Event(ref, v1.EventTypeWarning, "FailedMount", err.Error())
		return startError(err)
	}
	if a.o.Prepared != nil {
		a.o.Prepared(pod, c.Name, sb.root)
	}
	l := launch{argv: img.argv(c), env: env, workDir: img.workDir(c)}
	if len(l.argv) == 0 {
		err := errors.New("no command specified")
		a.events.Event(ref, v1.EventTypeWarning, "Failed", "Error: "+err.Error())
		return startError(err)
	}
	if err := sb.lookPath(l.argv[0], env); err != nil {
		a.events.Event(ref, v1.EventTypeWarning, "Failed", "Error: "+err.Error())
		return startError(err)
	}
	return a.execute(ctx, pod, cs, c, w, sb, l, log)
}

// execute starts the container, reports it running in cs, waits for it (killing
// it if its pod is deleted) and returns its terminated state: exit code and
// termination message.
func (a *Agent) execute(ctx context.Context, pod *v1.Pod, cs *containerStates, c *v1.Container, w *podWorker, sb *sandbox, l launch, log logrus.FieldLogger) (v1.ContainerStateTerminated, stepEnd) {
	defer w.stepExited(c.Name)
	path := logPath(a.o.WorkDir, pod.Namespace, pod.Name, pod.UID, c.Name)
	clog, err := createContainerLog(path)
	if err != nil {
		now := metav1.Now()
		return v1.ContainerStateTerminated{ExitCode: 128, Reason: "StartError", Message: err.Error(), StartedAt: now, FinishedAt: now}, stepExited
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
		return v1.ContainerStateTerminated{ExitCode: 128, Reason: "StartError", Message: err.Error(), StartedAt: startedAt, FinishedAt: startedAt}, stepExited
	}
	cs.running(c.Name, containerID, startedAt)
	a.writeStatus(ctx, pod, cs, log)
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
	log.WithFields(logrus.Fields{"exitCode": code, "killed": killed}).Info("container exited")
	if killed && ctx.Err() != nil && !isClosed(w.deleted) {
		return v1.ContainerStateTerminated{}, stepStopped
	}
	reason := "Completed"
	if code != 0 {
		reason = "Error"
	}
	return v1.ContainerStateTerminated{
		ExitCode: int32(code), Reason: reason, Message: msg,
		StartedAt: startedAt, FinishedAt: finishedAt, ContainerID: containerID,
	}, stepExited
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

// removeSandbox takes sb away from its pod's folder at once and deletes its
// files in the background; Run waits for them before it returns.
func (a *Agent) removeSandbox(sb *sandbox) error {
	trash := filepath.Join(a.o.WorkDir, "trash", strconv.FormatInt(a.trashed.Add(1), 10)+"-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	if err := sb.removeLater(trash); err != nil {
		return err
	}
	a.wg.Go(func() {
		if err := os.RemoveAll(trash); err != nil {
			a.o.Log.WithError(err).Error("deleting a removed sandbox")
		}
	})
	return nil
}
