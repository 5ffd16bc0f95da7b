package userregistry

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/apache/openserverless-deployer/lib/imagestore"
	"github.com/apache/openserverless-deployer/lib/kube"
)

// DefaultHost is the internal registry service of an OpenServerless cluster.
const DefaultHost = "nuvolaris-registry-svc:5000"

// ConfigMapName is the operator's ConfigMap whose annotations name the registry.
const ConfigMapName = "config"

// ResolveHosts finds the registry hosts in the order upstream uses: the
// push setting (REGISTRY_HOST), then the registry_push_host,
// registry_internal_host and registry_host annotations of the "config"
// ConfigMap, then DefaultHost. The pull host is the pull setting, then the
// registry_host annotation, then the push host. The ConfigMap is read only
// when a setting is missing.
func ResolveHosts(ctx context.Context, client kubernetes.Interface, namespace, pushSetting, pullSetting string) (imagestore.Hosts, error) {
	h := imagestore.Hosts{Push: pushSetting, Pull: pullSetting}
	if h.Push != "" && h.Pull != "" {
		return h, nil
	}
	var ann map[string]string
	cm, err := client.CoreV1().ConfigMaps(namespace).Get(ctx, ConfigMapName, metav1.GetOptions{})
	switch {
	case err == nil:
		ann = cm.Annotations
	case apierrors.IsNotFound(err):
	default:
		return imagestore.Hosts{}, kube.Error(err, "reading the registry configuration (ConfigMap %s)", ConfigMapName)
	}
	if h.Push == "" {
		h.Push = first(ann["registry_push_host"], ann["registry_internal_host"], ann["registry_host"], DefaultHost)
	}
	if h.Pull == "" {
		h.Pull = first(ann["registry_host"], h.Push)
	}
	return h, nil
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
