package nodeagent

import (
	"context"
	"path/filepath"

	"github.com/sirupsen/logrus"
	v1 "k8s.io/api/core/v1"
)

// stepEnd tells how a step left its pod.
type stepEnd int

const (
	stepExited  stepEnd = iota // it ran (or failed to start) and has a terminated state
	stepDeleted                // the pod was deleted before it started
	stepStopped                // the agent is stopping: the pod is left as it is
)

// runSteps runs the pod's init containers one after the other, then its
// container, each in a root of its own holding only its own mounts; the
// pod's volumes are laid out once, before the first step, and shared. The
// first step that fails ends the pod and the later ones never run. A step
// whose image is refused leaves the pod Pending until it is deleted; release
// gives back the pod's slot meanwhile. The pod's folder is removed before
// the final status is written, so a finished Job never leaves a sandbox;
// each step's root is moved out of it as the step ends and deleted in the
// background (removeSandbox), so the next step does not wait for that.
func (a *Agent) runSteps(ctx context.Context, pod *v1.Pod, w *podWorker, release func(), log logrus.FieldLogger) {
	cs := newContainerStates(pod)
	a.writeStatus(ctx, pod, cs, log)
	dir := filepath.Join(a.o.WorkDir, "pods", string(pod.UID))
	clean := func() {
		if err := clearDir(dir); err != nil {
			log.WithError(err).Error("removing pod sandbox")
		}
	}
	list := steps(pod)
	if err := clearDir(dir); err != nil { // left by an agent that died
		a.fail(ctx, pod, cs, list[0], err.Error(), log)
		return
	}
	defer clean()
	var vols *podVolumes
	for i, c := range list {
		img, ok := a.o.Images[c.Image]
		if !ok {
			release()
			a.refuse(ctx, pod, cs, c, log)
			select {
			case <-w.deleted:
				clean()
				a.terminate(ctx, pod, log)
			case <-ctx.Done():
			}
			return
		}
		term, end := a.runStep(ctx, pod, cs, c, img, dir, &vols, w, log)
		switch end {
		case stepStopped:
			return
		case stepDeleted:
			clean()
			a.terminate(ctx, pod, log)
			return
		}
		cs.terminated(c.Name, term)
		deleted := isClosed(w.deleted)
		final := deleted || term.ExitCode != 0 || i == len(list)-1
		if final {
			clean()
		}
		a.writeStatus(ctx, pod, cs, log)
		if deleted {
			a.forceDelete(ctx, pod, log)
		}
		if final {
			return
		}
	}
}
