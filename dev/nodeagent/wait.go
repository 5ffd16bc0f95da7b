package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"
	v1 "k8s.io/api/core/v1"
)

// errPodDeleted stops the wait for a pod's objects when the pod goes.
var errPodDeleted = errors.New("pod deleted")

// waitForObjects waits, as the kubelet retries, for the ConfigMaps and
// Secrets the pod's volumes (when volumes is set: they are read once, for
// the first container) and the container's env refer to, up to
// MountTimeout, with a Warning event when they are first missing.
func (a *Agent) waitForObjects(ctx context.Context, pod *v1.Pod, c *v1.Container, img Image, volumes bool, w *podWorker, log logrus.FieldLogger) (map[string]map[string]volumeFile, []string, error) {
	deadline := time.Now().Add(a.o.MountTimeout)
	warned := false
	for {
		payloads, env, reason, err := a.objectsOnce(ctx, pod, c, img, volumes)
		if err == nil || !errors.Is(err, errNotReady) {
			return payloads, env, err
		}
		if !warned {
			msg := err.Error()
			if reason == "Failed" {
				msg = "Error: " + msg // the kubelet's form for a container it cannot configure
			}
			a.events.Event(containerRef(pod, c), v1.EventTypeWarning, reason, msg)
			log.WithError(err).Info("waiting for pod objects")
			warned = true
		}
		if time.Now().After(deadline) {
			return nil, nil, fmt.Errorf("gave up after %s: %w", a.o.MountTimeout, err)
		}
		select {
		case <-time.After(time.Second):
		case <-w.deleted:
			return nil, nil, errPodDeleted
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
}

// objectsOnce reads the pod's volume files and the container's env once;
// reason is the event reason of a failure, as the kubelet names it.
func (a *Agent) objectsOnce(ctx context.Context, pod *v1.Pod, c *v1.Container, img Image, volumes bool) (map[string]map[string]volumeFile, []string, string, error) {
	objs := newObjects(a.o.Client, pod.Namespace)
	payloads := map[string]map[string]volumeFile{}
	if volumes {
		for _, vol := range pod.Spec.Volumes {
			files, err := volumePayload(ctx, objs, vol)
			if err != nil {
				return nil, nil, "FailedMount", fmt.Errorf("MountVolume.SetUp failed for volume %q : %w", vol.Name, err)
			}
			payloads[vol.Name] = files
		}
	}
	env, err := containerEnv(ctx, objs, pod, c, img.Env, hostIP)
	if err != nil {
		return nil, nil, "Failed", err
	}
	return payloads, env, "", nil
}
