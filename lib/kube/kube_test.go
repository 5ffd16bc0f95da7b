package kube

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/fault"
)

func TestError(t *testing.T) {
	gr := schema.GroupResource{Group: "batch", Resource: "jobs"}
	own := fault.New(fault.Invalid, "X", "mine")
	tests := []struct {
		name string
		err  error
		kind fault.Kind
	}{
		{"connection refused", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), fault.Unavailable},
		{"unavailable", apierrors.NewServiceUnavailable("down"), fault.Unavailable},
		{"timeout", apierrors.NewTimeoutError("slow", 1), fault.Unavailable},
		{"too many requests", apierrors.NewTooManyRequests("busy", 1), fault.Unavailable},
		{"internal", apierrors.NewInternalError(errors.New("etcd")), fault.Unavailable},
		{"forbidden", apierrors.NewForbidden(gr, "x", errors.New("rbac")), fault.Internal},
		{"invalid", apierrors.NewInvalid(schema.GroupKind{Group: "batch", Kind: "Job"}, "x", nil), fault.Internal},
		{"wrapped forbidden", fmt.Errorf("deleting: %w", apierrors.NewForbidden(gr, "x", errors.New("rbac"))), fault.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Error(tt.err, "creating build job %s", "j")
			fe := fault.As(err)
			require.NotNil(t, fe)
			assert.Equal(t, tt.kind, fe.Kind)
			assert.Contains(t, fe.Message, "creating build job j")
			assert.ErrorIs(t, err, tt.err)
		})
	}
	assert.Same(t, own, Error(own, "anything"), "a fault.Error passes through")
}

func TestRESTConfig(t *testing.T) {
	rc, err := RESTConfig(config.Config{KubeHost: "https://127.0.0.2:443", KubeToken: "t0ken", KubeCA: "PEM"})
	require.NoError(t, err)
	assert.Equal(t, "https://127.0.0.2:443", rc.Host)
	assert.Equal(t, "t0ken", rc.BearerToken)
	assert.Equal(t, []byte("PEM"), rc.TLSClientConfig.CAData)

	_, err = RESTConfig(config.Config{KubeToken: "t0ken"})
	assert.ErrorContains(t, err, "kube_host")

	_, err = RESTConfig(config.Config{Kubeconfig: t.TempDir() + "/missing"})
	assert.Error(t, err)
}

// silentServer accepts connections on 127.0.0.1 and never answers, as a
// frozen server does: the kernel completes the handshake, nobody reads.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	return l.Addr().String()
}

func TestClientBoundsACallToAServerThatNeverAnswers(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		within  time.Duration
	}{
		{"configured", time.Second, 3 * time.Second},
		{"default when unset", 0, config.DefaultCallTimeout + 3*time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := Client(config.Config{KubeHost: "https://" + silentServer(t), KubeToken: "t0ken", KubeTimeout: tt.timeout})
			require.NoError(t, err)
			began := time.Now()
			_, err = cs.CoreV1().ConfigMaps("nuvolaris").Get(context.Background(), "config", metav1.GetOptions{})
			took := time.Since(began)
			require.Error(t, err)
			assert.Less(t, took, tt.within)
			fe := fault.As(Error(err, "reading ConfigMap config"))
			require.NotNil(t, fe)
			assert.Equal(t, fault.Unavailable, fe.Kind)
			assert.Equal(t, "KubernetesUnavailable", fe.Reason)
		})
	}
}

func TestClientAnswersARefusedConnectionAtOnce(t *testing.T) {
	// Nothing listens on the port once the listener is closed.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	free := l.Addr().String()
	require.NoError(t, l.Close())
	cs, err := Client(config.Config{KubeHost: "https://" + free, KubeToken: "refused", KubeTimeout: 4 * time.Second})
	require.NoError(t, err)
	began := time.Now()
	_, err = cs.CoreV1().ConfigMaps("nuvolaris").Get(context.Background(), "config", metav1.GetOptions{})
	require.Error(t, err)
	assert.Less(t, time.Since(began), 4*time.Second, "a refused connection does not wait for the timeout")
	assert.Equal(t, fault.Unavailable, fault.KindOf(Error(err, "reading ConfigMap config")))
}
