package nodeagent

import (
	"context"
	"fmt"
	"sort"

	v1 "k8s.io/api/core/v1"
)

// containerEnv returns the environment of c as "NAME=value" pairs: the
// image's, then HOSTNAME, then envFrom, then env, later ones winning, as the
// kubelet builds it. A missing non-optional ConfigMap or Secret, or key, is
// errNotReady: the kubelet retries those (CreateContainerConfigError).
func containerEnv(ctx context.Context, objs *objects, pod *v1.Pod, c *v1.Container, imageEnv []v1.EnvVar, hostIP string) ([]string, error) {
	vals := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vals[k]; !ok {
			order = append(order, k)
		}
		vals[k] = v
	}
	for _, e := range imageEnv {
		set(e.Name, e.Value)
	}
	set("HOSTNAME", pod.Name)
	for _, from := range c.EnvFrom {
		var data map[string]string
		switch {
		case from.ConfigMapRef != nil:
			cm, err := objs.configMap(ctx, from.ConfigMapRef.Name, from.ConfigMapRef.Optional)
			if err != nil {
				return nil, err
			}
			if cm != nil {
				data = cm.Data
			}
		case from.SecretRef != nil:
			s, err := objs.secret(ctx, from.SecretRef.Name, from.SecretRef.Optional)
			if err != nil {
				return nil, err
			}
			if s != nil {
				data = map[string]string{}
				for k, v := range s.Data {
					data[k] = string(v)
				}
			}
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			set(from.Prefix+k, data[k])
		}
	}
	for _, e := range c.Env {
		v, err := envValue(ctx, objs, pod, e, hostIP)
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", e.Name, err)
		}
		set(e.Name, v)
	}
	env := make([]string, 0, len(order))
	for _, k := range order {
		env = append(env, k+"="+vals[k])
	}
	return env, nil
}

// envValue resolves one env entry. $(VAR) references are passed on as they are.
func envValue(ctx context.Context, objs *objects, pod *v1.Pod, e v1.EnvVar, hostIP string) (string, error) {
	from := e.ValueFrom
	switch {
	case from == nil:
		return e.Value, nil
	case from.ConfigMapKeyRef != nil:
		ref := from.ConfigMapKeyRef
		cm, err := objs.configMap(ctx, ref.Name, ref.Optional)
		if err != nil || cm == nil {
			return "", err
		}
		v, ok := cm.Data[ref.Key]
		if !ok && (ref.Optional == nil || !*ref.Optional) {
			return "", notReadyf("couldn't find key %s in ConfigMap %s/%s", ref.Key, pod.Namespace, ref.Name)
		}
		return v, nil
	case from.SecretKeyRef != nil:
		ref := from.SecretKeyRef
		s, err := objs.secret(ctx, ref.Name, ref.Optional)
		if err != nil || s == nil {
			return "", err
		}
		v, ok := s.Data[ref.Key]
		if !ok && (ref.Optional == nil || !*ref.Optional) {
			return "", notReadyf("couldn't find key %s in Secret %s/%s", ref.Key, pod.Namespace, ref.Name)
		}
		return string(v), nil
	case from.FieldRef != nil:
		switch from.FieldRef.FieldPath {
		case "metadata.name":
			return pod.Name, nil
		case "metadata.namespace":
			return pod.Namespace, nil
		case "metadata.uid":
			return string(pod.UID), nil
		case "spec.nodeName":
			return pod.Spec.NodeName, nil
		case "spec.serviceAccountName":
			return pod.Spec.ServiceAccountName, nil
		case "status.hostIP", "status.podIP":
			return hostIP, nil
		}
		return "", fmt.Errorf("field %q is not supported on this node", from.FieldRef.FieldPath)
	}
	return "", fmt.Errorf("this kind of valueFrom is not supported on this node")
}
