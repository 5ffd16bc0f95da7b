package nodeagent

import (
	"context"
	"fmt"

	"github.com/sirupsen/logrus"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// refusedImage returns the first container whose image is not the Kaniko
// image, and that image.
func (a *Agent) refusedImage(pod *v1.Pod) (*v1.Container, string) {
	for _, cs := range [][]v1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range cs {
			if cs[i].Image != a.o.KanikoImage {
				return &cs[i], cs[i].Image
			}
		}
	}
	return nil, ""
}

// refuse leaves the pod Pending as a kubelet does after failing to pull an
// image: ErrImagePull, then ImagePullBackOff, with the kubelet's events.
func (a *Agent) refuse(ctx context.Context, pod *v1.Pod, c *v1.Container, image string, log logrus.FieldLogger) {
	ref := containerRef(pod, c)
	msg := fmt.Sprintf("Failed to pull image %q: refused by the local node agent: only %s runs here", image, a.o.KanikoImage)
	a.events.Eventf(ref, v1.EventTypeNormal, "Pulling", "Pulling image %q", image)
	waiting := map[string]v1.ContainerStateWaiting{c.Name: {Reason: "ErrImagePull", Message: msg}}
	if err := a.updateStatus(ctx, pod, pendingStatus(pod, waiting, metav1.Now())); err != nil {
		log.WithError(err).Warn("writing pod status")
	}
	a.events.Event(ref, v1.EventTypeWarning, "Failed", msg)
	a.events.Event(ref, v1.EventTypeWarning, "Failed", "Error: ErrImagePull")
	waiting[c.Name] = v1.ContainerStateWaiting{Reason: "ImagePullBackOff",
		Message: fmt.Sprintf("Back-off pulling image %q: ErrImagePull: %s", image, msg)}
	if err := a.updateStatus(ctx, pod, pendingStatus(pod, waiting, metav1.Now())); err != nil {
		log.WithError(err).Warn("writing pod status")
	}
	a.events.Eventf(ref, v1.EventTypeNormal, "BackOff", "Back-off pulling image %q", image)
	a.events.Event(ref, v1.EventTypeWarning, "Failed", "Error: ImagePullBackOff")
	log.WithField("image", image).Info("image refused")
}
