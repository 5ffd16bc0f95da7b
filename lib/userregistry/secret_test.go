package userregistry

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/apache/openserverless-deployer/lib/fault"
)

func TestLoadSecret(t *testing.T) {
	secret := func(name string, data map[string][]byte) *corev1.Secret {
		return &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
			Type:       corev1.SecretTypeDockerConfigJson,
			Data:       data,
		}
	}
	good := `{"auths":{"r.example.com":{"username":"u","password":"p"}}}`
	tests := []struct {
		name       string
		objects    []runtime.Object
		getErr     error
		wantKind   fault.Kind
		wantReason string
		wantMsg    string
		wantUser   string
	}{
		{
			name:     "valid",
			objects:  []runtime.Object{secret("push", map[string][]byte{".dockerconfigjson": []byte(good)})},
			wantUser: "u",
		},
		{
			name:       "missing",
			wantKind:   fault.Internal,
			wantReason: "RegistrySecretMissing",
			wantMsg:    "Secret push is not configured!",
		},
		{
			name:       "in another namespace",
			objects:    []runtime.Object{&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "push", Namespace: "other"}, Data: map[string][]byte{".dockerconfigjson": []byte(good)}}},
			wantKind:   fault.Internal,
			wantReason: "RegistrySecretMissing",
			wantMsg:    "Secret push is not configured!",
		},
		{
			name:       "no key",
			objects:    []runtime.Object{secret("push", map[string][]byte{"config.json": []byte(good)})},
			wantKind:   fault.Internal,
			wantReason: "RegistrySecretInvalid",
			wantMsg:    "Secret push has no .dockerconfigjson",
		},
		{
			name:       "bad JSON",
			objects:    []runtime.Object{secret("push", map[string][]byte{".dockerconfigjson": []byte("{not json")})},
			wantKind:   fault.Internal,
			wantReason: "RegistrySecretInvalid",
			wantMsg:    "Secret push is not a valid docker config",
		},
		{
			name:       "API unavailable",
			getErr:     apierrors.NewServiceUnavailable("down"),
			wantKind:   fault.Unavailable,
			wantReason: "KubernetesUnavailable",
		},
		{
			name:       "connection refused",
			getErr:     errors.New("dial tcp: connection refused"),
			wantKind:   fault.Unavailable,
			wantReason: "KubernetesUnavailable",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := fake.NewClientset(tt.objects...)
			if tt.getErr != nil {
				client.PrependReactor("get", "secrets", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, tt.getErr
				})
			}
			creds, err := LoadSecret(context.Background(), client, "ns", "push")
			if tt.wantUser != "" {
				require.NoError(t, err)
				auth, err := creds.Resolve(name.MustParseReference("r.example.com/x").Context().Registry)
				require.NoError(t, err)
				got, err := authn.Authorization(context.Background(), auth)
				require.NoError(t, err)
				assert.Equal(t, tt.wantUser, got.Username)
				return
			}
			require.Error(t, err)
			assert.Nil(t, creds)
			fe := fault.As(err)
			require.NotNil(t, fe)
			assert.Equal(t, tt.wantKind, fe.Kind)
			assert.Equal(t, tt.wantReason, fe.Reason)
			if tt.wantMsg != "" {
				assert.Equal(t, tt.wantMsg, fe.Message)
			}
			assert.NotContains(t, err.Error(), "p\"", "no credential in the error")
		})
	}
}
