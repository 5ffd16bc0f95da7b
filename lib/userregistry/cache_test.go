package userregistry

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/apache/openserverless-deployer/lib/config"
)

// A warm process reads the platform's settings once per PlatformTTL; a
// failed read is not kept, and another client reads its own.
func TestPlatformSettingsAreReusedForAWhile(t *testing.T) {
	clock := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	now = func() time.Time { return clock }
	t.Cleanup(func() { now = time.Now })

	client := fake.NewClientset()
	cfg := config.Config{Namespace: "ns", RegistrySecret: "push", RegistryPushHost: "registry.example.com"}
	reads := func() int {
		n := 0
		for _, a := range client.Actions() {
			if a.GetVerb() == "get" {
				n++
			}
		}
		return n
	}
	ctx := context.Background()

	_, err := New(client, cfg).Reusing().Platform(ctx)
	require.Error(t, err, "no Secret yet")
	_, err = client.CoreV1().Secrets("ns").Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "push", Namespace: "ns"}, Type: corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{".dockerconfigjson": []byte(`{"auths":{"registry.example.com":{"username":"u","password":"p"}}}`)},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = New(client, cfg).Reusing().Platform(ctx)
	require.NoError(t, err, "the failure was not kept")
	read := reads()

	clock = clock.Add(PlatformTTL - time.Millisecond)
	_, err = New(client, cfg).Reusing().Platform(ctx)
	require.NoError(t, err)
	assert.Equal(t, read, reads(), "reused within PlatformTTL")

	other := cfg
	other.RegistrySecret = "other"
	_, err = New(client, other).Reusing().Platform(ctx)
	assert.Error(t, err, "other settings read their own")

	clock = clock.Add(time.Millisecond)
	require.NoError(t, client.CoreV1().Secrets("ns").Delete(ctx, "push", metav1.DeleteOptions{}))
	_, err = New(client, cfg).Reusing().Platform(ctx)
	assert.Error(t, err, "read again after PlatformTTL: the Secret is gone")

	_, err = New(fake.NewClientset(), cfg).Reusing().Platform(ctx)
	assert.Error(t, err, "another client reads its own cluster")
}

// A selector that is not Reusing reads the settings on every call.
func TestPlatformSettingsAreReadEveryTimeUnlessReused(t *testing.T) {
	client := fake.NewClientset(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "push", Namespace: "ns"}, Type: corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{".dockerconfigjson": []byte(`{"auths":{"registry.example.com":{"username":"u","password":"p"}}}`)},
	})
	cfg := config.Config{Namespace: "ns", RegistrySecret: "push", RegistryPushHost: "registry.example.com"}
	ctx := context.Background()
	_, err := New(client, cfg).Reusing().Platform(ctx)
	require.NoError(t, err)
	require.NoError(t, client.CoreV1().Secrets("ns").Delete(ctx, "push", metav1.DeleteOptions{}))
	_, err = New(client, cfg).Platform(ctx)
	assert.Error(t, err, "read again: the Secret is gone")
}
