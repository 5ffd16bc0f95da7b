package userregistry

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/imagestore"
)

func operatorConfig(ns string, annotations map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "config", Namespace: ns, Annotations: annotations}}
}

func TestResolveHosts(t *testing.T) {
	all := map[string]string{
		"registry_push_host":     "push.annotation:5000",
		"registry_internal_host": "internal.annotation:5000",
		"registry_host":          "public.annotation",
	}
	without := func(keys ...string) map[string]string {
		m := map[string]string{}
		for k, v := range all {
			m[k] = v
		}
		for _, k := range keys {
			delete(m, k)
		}
		return m
	}
	tests := []struct {
		name        string
		cm          *corev1.ConfigMap
		push, pull  string
		want        imagestore.Hosts
		wantReadsCM bool
	}{
		{
			name: "both settings", cm: operatorConfig("ns", all), push: "push.setting", pull: "pull.setting",
			want: imagestore.Hosts{Push: "push.setting", Pull: "pull.setting"}, wantReadsCM: false,
		},
		{
			name: "push setting over the annotations", cm: operatorConfig("ns", all), push: "push.setting",
			want: imagestore.Hosts{Push: "push.setting", Pull: "public.annotation"}, wantReadsCM: true,
		},
		{
			name: "pull setting over the annotations", cm: operatorConfig("ns", all), pull: "pull.setting",
			want: imagestore.Hosts{Push: "push.annotation:5000", Pull: "pull.setting"}, wantReadsCM: true,
		},
		{
			name: "registry_push_host first", cm: operatorConfig("ns", all),
			want: imagestore.Hosts{Push: "push.annotation:5000", Pull: "public.annotation"}, wantReadsCM: true,
		},
		{
			name: "registry_internal_host second", cm: operatorConfig("ns", without("registry_push_host")),
			want: imagestore.Hosts{Push: "internal.annotation:5000", Pull: "public.annotation"}, wantReadsCM: true,
		},
		{
			name: "registry_host third", cm: operatorConfig("ns", without("registry_push_host", "registry_internal_host")),
			want: imagestore.Hosts{Push: "public.annotation", Pull: "public.annotation"}, wantReadsCM: true,
		},
		{
			name: "empty annotation is skipped", cm: operatorConfig("ns", map[string]string{"registry_push_host": "", "registry_internal_host": "internal.annotation:5000"}),
			want: imagestore.Hosts{Push: "internal.annotation:5000", Pull: "internal.annotation:5000"}, wantReadsCM: true,
		},
		{
			name: "pull falls back to the push host", cm: operatorConfig("ns", without("registry_host")),
			want: imagestore.Hosts{Push: "push.annotation:5000", Pull: "push.annotation:5000"}, wantReadsCM: true,
		},
		{
			name: "pull falls back to the push setting", cm: operatorConfig("ns", without("registry_host")), push: "push.setting",
			want: imagestore.Hosts{Push: "push.setting", Pull: "push.setting"}, wantReadsCM: true,
		},
		{
			name: "no annotations", cm: operatorConfig("ns", nil),
			want: imagestore.Hosts{Push: DefaultHost, Pull: DefaultHost}, wantReadsCM: true,
		},
		{
			name: "no ConfigMap",
			want: imagestore.Hosts{Push: "nuvolaris-registry-svc:5000", Pull: "nuvolaris-registry-svc:5000"}, wantReadsCM: true,
		},
		{
			name: "ConfigMap of another namespace", cm: operatorConfig("other", all),
			want: imagestore.Hosts{Push: DefaultHost, Pull: DefaultHost}, wantReadsCM: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var objects []runtime.Object
			if tt.cm != nil {
				objects = append(objects, tt.cm)
			}
			client := fake.NewClientset(objects...)
			got, err := ResolveHosts(context.Background(), client, "ns", tt.push, tt.pull)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			reads := 0
			for _, a := range client.Actions() {
				if a.Matches("get", "configmaps") {
					reads++
					assert.Equal(t, "ns", a.GetNamespace())
					assert.Equal(t, "config", a.(k8stesting.GetAction).GetName())
				}
			}
			if tt.wantReadsCM {
				assert.Equal(t, 1, reads)
			} else {
				assert.Zero(t, reads)
			}
		})
	}
}

func TestResolveHostsAPIError(t *testing.T) {
	tests := []struct {
		name string
		err  error
		kind fault.Kind
	}{
		{name: "unavailable", err: apierrors.NewServiceUnavailable("down"), kind: fault.Unavailable},
		// RBAC refusing the deployer is its own misconfiguration, not an outage.
		{name: "forbidden", err: apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, "config", errors.New("rbac")), kind: fault.Internal},
		{name: "connection", err: errors.New("connection refused"), kind: fault.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := fake.NewClientset()
			client.PrependReactor("get", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, tt.err
			})
			got, err := ResolveHosts(context.Background(), client, "ns", "", "")
			require.Error(t, err)
			assert.Equal(t, imagestore.Hosts{}, got)
			fe := fault.As(err)
			require.NotNil(t, fe)
			assert.Equal(t, tt.kind, fe.Kind)
			assert.ErrorIs(t, err, tt.err)
		})
	}
}
