package nodeagent

import (
	"context"
	"fmt"

	"github.com/sirupsen/logrus"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// refuse leaves the pod Pending as a kubelet does after failing to pull the
// image of container c: ErrImagePull, then ImagePullBackOff, with the
// kubelet's events. The containers before c keep the states they ended in.
func (a *Agent) refuse(ctx context.Context, pod *v1.Pod, cs *containerStates, c *v1.Container, log logrus.FieldLogger) {
	ref := containerRef(pod, c)
	msg := fmt.Sprintf("Failed to pull image %q: refused by the local node agent: only %s run here", c.Image, imageNames(a.o.Images))
	a.events.Eventf(ref, v1.EventTypeNormal, "Pulling", "Pulling image %q", c.Image)
	cs.waiting(c.Name, "ErrImagePull", msg)
	if err := a.updateStatus(ctx, pod, cs.change(metav1.Now())); err != nil {
		log.WithError(err).Warn("writing pod status")
	}
	a.events.Event(ref, v1.EventTypeWarning, "Failed", msg)
	a.events.Event(ref, v1.EventTypeWarning, "Failed", "Error: ErrImagePull")
	cs.waiting(c.Name, "ImagePullBackOff", fmt.Sprintf("Back-off pulling image %q: ErrImagePull: %s", c.Image, msg))
	if err := a.updateStatus(ctx, pod, cs.change(metav1.Now())); err != nil {
		log.WithError(err).Warn("writing pod status")
	}
	a.events.Eventf(ref, v1.EventTypeNormal, "BackOff", "Back-off pulling image %q", c.Image)
	a.events.Event(ref, v1.EventTypeWarning, "Failed", "Error: ImagePullBackOff")
	log.WithFields(logrus.Fields{"container": c.Name, "image": c.Image}).Info("image refused")
}
