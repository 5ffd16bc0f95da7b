package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	yamlutil "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"

	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/kube"
)

// RBACFile is the deployer's production identity, relative to the
// repository root: a ServiceAccount, its token Secret and a narrow Role.
const RBACFile = "deploy/rbac.yaml"

// tokenTimeout bounds the wait for the serviceaccount-token controller.
const tokenTimeout = 60 * time.Second

// Identity is how the actions reach the API server in production: the
// token of the deployer's own service account (never an admin's
// credentials), bound as the kube_host, kube_token and kube_ca inputs.
type Identity struct {
	Host, Token, CA string
	// Namespace holds the ServiceAccount and its Role.
	Namespace string
	// ServiceAccount is the account's name; the API server knows the
	// account as user "system:serviceaccount:<Namespace>:<ServiceAccount>".
	ServiceAccount string
}

// Inputs are the package inputs that bind the identity, as `./task deploy`
// binds them.
func (id Identity) Inputs() map[string]any {
	return map[string]any{"kube_host": id.Host, "kube_token": id.Token, "kube_ca": id.CA}
}

// Client is a clientset made from the identity exactly as the actions make
// theirs (lib/kube).
func (id Identity) Client() (kubernetes.Interface, error) {
	return kube.Client(config.Config{KubeHost: id.Host, KubeToken: id.Token, KubeCA: id.CA})
}

// Username is the user the API server sees for the identity (as in its audit log).
func (id Identity) Username() string {
	return "system:serviceaccount:" + id.Namespace + ":" + id.ServiceAccount
}

// InstallRBAC creates the objects of root/deploy/rbac.yaml in namespace
// (with ${BUILD_NAMESPACE} expanded, as `./task deploy` does through
// `builder subst`), waits until the controller manager has filled the token
// Secret, and returns the identity for the API server at host.
func InstallRBAC(ctx context.Context, client kubernetes.Interface, root, namespace, host string) (Identity, error) {
	raw, err := os.ReadFile(filepath.Join(root, RBACFile))
	if err != nil {
		return Identity{}, fmt.Errorf("reading %s: %w", RBACFile, err)
	}
	objs, err := rbacObjects(raw, namespace)
	if err != nil {
		return Identity{}, err
	}
	id := Identity{Host: host, Namespace: namespace}
	var tokenSecret string
	for _, o := range objs {
		if err := create(ctx, client, namespace, o); err != nil {
			return Identity{}, err
		}
		switch o := o.(type) {
		case *corev1.ServiceAccount:
			id.ServiceAccount = o.Name
		case *corev1.Secret:
			if o.Type == corev1.SecretTypeServiceAccountToken {
				tokenSecret = o.Name
			}
		}
	}
	if id.ServiceAccount == "" || tokenSecret == "" {
		return Identity{}, fmt.Errorf("%s holds no ServiceAccount and token Secret", RBACFile)
	}
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, tokenTimeout, true, func(ctx context.Context) (bool, error) {
		s, err := client.CoreV1().Secrets(namespace).Get(ctx, tokenSecret, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		id.Token = string(s.Data[corev1.ServiceAccountTokenKey])
		id.CA = string(s.Data[corev1.ServiceAccountRootCAKey])
		return id.Token != "" && id.CA != "", nil
	})
	if err != nil {
		return Identity{}, fmt.Errorf("waiting for the token of Secret %s/%s: %w", namespace, tokenSecret, err)
	}
	// The API server checks a Secret's token against its own cache of
	// Secrets, which may not hold the new one yet: until it does, the token
	// is Unauthorized. Wait until it authenticates.
	c, err := id.Client()
	if err != nil {
		return Identity{}, err
	}
	err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, tokenTimeout, true, func(ctx context.Context) (bool, error) {
		_, err := c.CoreV1().ConfigMaps(namespace).Get(ctx, "config", metav1.GetOptions{})
		return !apierrors.IsUnauthorized(err), nil
	})
	if err != nil {
		return Identity{}, fmt.Errorf("waiting for the token of %s to authenticate: %w", id.Username(), err)
	}
	return id, nil
}

// rbacObjects expands and decodes the documents of rbac.yaml. A variable
// other than BUILD_NAMESPACE is an error: the local stack would not know
// what the deploy task gives it.
func rbacObjects(raw []byte, namespace string) ([]runtime.Object, error) {
	var unknown []string
	text := os.Expand(string(raw), func(v string) string {
		if v == "BUILD_NAMESPACE" {
			return namespace
		}
		unknown = append(unknown, v)
		return ""
	})
	if len(unknown) > 0 {
		return nil, fmt.Errorf("%s uses variables the local stack does not set: %v", RBACFile, unknown)
	}
	dec := yamlutil.NewYAMLOrJSONDecoder(bytes.NewReader([]byte(text)), 4096)
	var objs []runtime.Object
	for {
		var u unstructured.Unstructured
		if err := dec.Decode(&u.Object); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("decoding %s: %w", RBACFile, err)
		}
		if len(u.Object) == 0 {
			continue
		}
		var o runtime.Object
		switch u.GetKind() {
		case "ServiceAccount":
			o = &corev1.ServiceAccount{}
		case "Secret":
			o = &corev1.Secret{}
		case "Role":
			o = &rbacv1.Role{}
		case "RoleBinding":
			o = &rbacv1.RoleBinding{}
		default:
			return nil, fmt.Errorf("%s: kind %s is not handled by the local stack", RBACFile, u.GetKind())
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, o, true); err != nil {
			return nil, fmt.Errorf("decoding %s %s: %w", u.GetKind(), u.GetName(), err)
		}
		objs = append(objs, o)
	}
	return objs, nil
}

// create creates one object of rbac.yaml.
func create(ctx context.Context, client kubernetes.Interface, ns string, o runtime.Object) error {
	var err error
	switch o := o.(type) {
	case *corev1.ServiceAccount:
		_, err = client.CoreV1().ServiceAccounts(ns).Create(ctx, o, metav1.CreateOptions{})
	case *corev1.Secret:
		_, err = client.CoreV1().Secrets(ns).Create(ctx, o, metav1.CreateOptions{})
	case *rbacv1.Role:
		_, err = client.RbacV1().Roles(ns).Create(ctx, o, metav1.CreateOptions{})
	case *rbacv1.RoleBinding:
		_, err = client.RbacV1().RoleBindings(ns).Create(ctx, o, metav1.CreateOptions{})
	}
	if err != nil {
		return fmt.Errorf("creating %T from %s: %w", o, RBACFile, err)
	}
	return nil
}
