package kube

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
	rc, err := RESTConfig(config.Config{KubeHost: "https://10.0.0.1:443", KubeToken: "t0ken", KubeCA: "PEM"})
	require.NoError(t, err)
	assert.Equal(t, "https://10.0.0.1:443", rc.Host)
	assert.Equal(t, "t0ken", rc.BearerToken)
	assert.Equal(t, []byte("PEM"), rc.TLSClientConfig.CAData)

	_, err = RESTConfig(config.Config{KubeToken: "t0ken"})
	assert.ErrorContains(t, err, "kube_host")

	_, err = RESTConfig(config.Config{Kubeconfig: t.TempDir() + "/missing"})
	assert.Error(t, err)
}
