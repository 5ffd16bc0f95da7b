package userregistry

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/imagestore"
	"github.com/apache/openserverless-deployer/lib/kube"
)

// LoadSecret reads the dockerconfigjson Secret name in namespace. A Secret
// that does not exist is a configuration fault of the platform (500, naming
// it); an API server that does not answer is Unavailable.
func LoadSecret(ctx context.Context, client kubernetes.Interface, namespace, name string) (*imagestore.Credentials, error) {
	s, err := client.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fault.New(fault.Internal, "RegistrySecretMissing", "Secret %s is not configured!", name)
	}
	if err != nil {
		return nil, kube.Error(err, "reading Secret %s", name)
	}
	data, ok := s.Data[corev1.DockerConfigJsonKey]
	if !ok {
		return nil, fault.New(fault.Internal, "RegistrySecretInvalid", "Secret %s has no %s", name, corev1.DockerConfigJsonKey)
	}
	c, err := imagestore.ParseDockerConfig(data)
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "RegistrySecretInvalid", "Secret %s is not a valid docker config", name)
	}
	return c, nil
}

func invalidRegistrySecret() error {
	return fault.New(fault.Invalid, "InvalidRegistrySecret",
		"%s in the user environment must name a Secret or be <user>:<password>", EnvRegistrySecret)
}

// userSecret checks that the Secret named in the user's environment is
// there for the user: a dockerconfigjson Secret in the build namespace
// labelled with the user, and not one the deployer made for a build. Every
// refusal reads the same, so the answer does not tell whether it exists.
func (s *Selector) userSecret(ctx context.Context, user, secretName string) (*imagestore.Credentials, error) {
	if len(validation.IsDNS1123Subdomain(secretName)) > 0 {
		return nil, invalidRegistrySecret()
	}
	refused := fault.New(fault.Invalid, "RegistrySecretRefused", "Registry secret %s is not available to this user", secretName)
	sec, err := s.client.CoreV1().Secrets(s.cfg.Namespace).Get(ctx, secretName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, refused
	}
	if err != nil {
		return nil, kube.Error(err, "reading registry secret %s", secretName)
	}
	if sec.Type != corev1.SecretTypeDockerConfigJson || sec.Labels[kube.LabelUser] != user ||
		sec.Labels[kube.LabelComponent] == kube.Component || sec.DeletionTimestamp != nil {
		return nil, refused
	}
	creds, err := imagestore.ParseDockerConfig(sec.Data[corev1.DockerConfigJsonKey])
	if err != nil {
		return nil, refused
	}
	return creds, nil
}

// temporaryConfig is the docker config.json of the temporary Secret for
// "user:password": the user's credentials for the push registry, and
// nothing else. The push step alone mounts it.
func temporaryConfig(push name.Registry, username, password string) (*imagestore.Credentials, error) {
	// Docker Hub's entry has a key of its own, the one docker login writes.
	key := push.RegistryStr()
	if key == name.DefaultRegistry {
		key = authn.DefaultAuthKey
	}
	auths := map[string]any{key: map[string]string{
		"username": username,
		"password": password,
		"auth":     base64.StdEncoding.EncodeToString([]byte(username + ":" + password)),
	}}
	config, err := json.Marshal(map[string]any{"auths": auths})
	if err != nil {
		return nil, fmt.Errorf("encoding registry credentials: %w", err)
	}
	return imagestore.ParseDockerConfig(config)
}
