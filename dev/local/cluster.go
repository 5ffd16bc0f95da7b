package local

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/userregistry"
)

// setUpCluster leaves the cluster as the OpenServerless operator does: the
// build namespace, the registry pull secret and the "config" ConfigMap whose
// annotation names the registry.
func (s *Stack) setUpCluster(ctx context.Context) error {
	c := s.Kube.Client
	if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace}}, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating namespace %s: %w", Namespace, err)
	}
	if _, err := c.CoreV1().Secrets(Namespace).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: config.DefaultRegistrySecret},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: s.Registry.DockerConfigJSON()},
	}, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating the registry secret: %w", err)
	}
	if _, err := c.CoreV1().ConfigMaps(Namespace).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: userregistry.ConfigMapName, Annotations: map[string]string{"registry_host": s.Registry.Host}},
	}, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating the config ConfigMap: %w", err)
	}
	return nil
}
