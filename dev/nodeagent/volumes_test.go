package nodeagent

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

func TestWriteAtomicLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vol")
	files := map[string]volumeFile{
		"Dockerfile":   {data: []byte("FROM x\n"), mode: 0o644},
		"sub/deep.txt": {data: []byte("deep"), mode: 0o600},
	}
	require.NoError(t, writeAtomic(dir, files, time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)))

	data, err := os.Readlink(filepath.Join(dir, "..data"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(data, "..2025_01_02_03_04_05."), "..data points at a timestamped folder, got %q", data)
	for name, want := range map[string]string{"Dockerfile": "..data/Dockerfile", "sub": "..data/sub"} {
		got, err := os.Readlink(filepath.Join(dir, name))
		require.NoError(t, err, "%s is a symlink", name)
		assert.Equal(t, want, got)
	}
	b, err := os.ReadFile(filepath.Join(dir, "sub", "deep.txt"))
	require.NoError(t, err)
	assert.Equal(t, "deep", string(b))
	fi, err := os.Stat(filepath.Join(dir, data, "sub", "deep.txt"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	fi, err = os.Lstat(filepath.Join(dir, data, "Dockerfile"))
	require.NoError(t, err)
	assert.True(t, fi.Mode().IsRegular(), "the real files are in the timestamped folder")

	assert.Error(t, writeAtomic(filepath.Join(t.TempDir(), "bad"), map[string]volumeFile{"../x": {}}, time.Now()))
}

func TestVolumePayload(t *testing.T) {
	cm := &v1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "ctx"},
		Data:       map[string]string{"Dockerfile": "FROM x", "requirements.txt": "a==1"},
		BinaryData: map[string][]byte{"bin": {0, 1}},
	}
	secret := &v1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "reg"},
		Data:       map[string][]byte{".dockerconfigjson": []byte(`{"auths":{}}`)},
	}
	client := fake.NewClientset(cm, secret)
	tests := []struct {
		name    string
		vol     v1.VolumeSource
		want    map[string]volumeFile
		wantErr string
	}{
		{"configmap, all keys", v1.VolumeSource{ConfigMap: &v1.ConfigMapVolumeSource{
			LocalObjectReference: v1.LocalObjectReference{Name: "ctx"}}},
			map[string]volumeFile{"Dockerfile": {[]byte("FROM x"), 0o644}, "requirements.txt": {[]byte("a==1"), 0o644}, "bin": {[]byte{0, 1}, 0o644}}, ""},
		{"configmap, items and modes", v1.VolumeSource{ConfigMap: &v1.ConfigMapVolumeSource{
			LocalObjectReference: v1.LocalObjectReference{Name: "ctx"}, DefaultMode: ptr.To[int32](0o400),
			Items: []v1.KeyToPath{{Key: "Dockerfile", Path: "build/Dockerfile"}, {Key: "requirements.txt", Path: "req.txt", Mode: ptr.To[int32](0o640)}}}},
			map[string]volumeFile{"build/Dockerfile": {[]byte("FROM x"), 0o400}, "req.txt": {[]byte("a==1"), 0o640}}, ""},
		{"configmap, missing key", v1.VolumeSource{ConfigMap: &v1.ConfigMapVolumeSource{
			LocalObjectReference: v1.LocalObjectReference{Name: "ctx"}, Items: []v1.KeyToPath{{Key: "nope", Path: "x"}}}},
			nil, `references non-existent key "nope"`},
		{"configmap, missing", v1.VolumeSource{ConfigMap: &v1.ConfigMapVolumeSource{
			LocalObjectReference: v1.LocalObjectReference{Name: "later"}}},
			nil, `configmap "later" not found`},
		{"configmap, missing but optional", v1.VolumeSource{ConfigMap: &v1.ConfigMapVolumeSource{
			LocalObjectReference: v1.LocalObjectReference{Name: "later"}, Optional: ptr.To(true)}},
			map[string]volumeFile{}, ""},
		{"secret, one item", v1.VolumeSource{Secret: &v1.SecretVolumeSource{SecretName: "reg",
			Items: []v1.KeyToPath{{Key: ".dockerconfigjson", Path: "config.json"}}}},
			map[string]volumeFile{"config.json": {[]byte(`{"auths":{}}`), 0o644}}, ""},
		{"projected", v1.VolumeSource{Projected: &v1.ProjectedVolumeSource{Sources: []v1.VolumeProjection{
			{ConfigMap: &v1.ConfigMapProjection{LocalObjectReference: v1.LocalObjectReference{Name: "ctx"}, Items: []v1.KeyToPath{{Key: "Dockerfile", Path: "Dockerfile"}}}},
			{Secret: &v1.SecretProjection{LocalObjectReference: v1.LocalObjectReference{Name: "reg"}, Items: []v1.KeyToPath{{Key: ".dockerconfigjson", Path: "config.json"}}}},
		}}},
			map[string]volumeFile{"Dockerfile": {[]byte("FROM x"), 0o644}, "config.json": {[]byte(`{"auths":{}}`), 0o644}}, ""},
		{"emptyDir", v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}, nil, ""},
		{"hostPath is refused", v1.VolumeSource{HostPath: &v1.HostPathVolumeSource{Path: "/"}}, nil, "are supported on this node"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := volumePayload(context.Background(), newObjects(client, "ns"), v1.Volume{Name: "v", VolumeSource: tt.vol})
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestContainerEnv(t *testing.T) {
	cm := &v1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "settings"}, Data: map[string]string{"LEVEL": "debug", "A": "1"}}
	secret := &v1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "creds"}, Data: map[string][]byte{"TOKEN": []byte("s3cret")}}
	client := fake.NewClientset(cm, secret)
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "build-1", UID: "u1"}, Spec: v1.PodSpec{NodeName: "n"}}
	c := &v1.Container{
		EnvFrom: []v1.EnvFromSource{{Prefix: "CFG_", ConfigMapRef: &v1.ConfigMapEnvSource{LocalObjectReference: v1.LocalObjectReference{Name: "settings"}}}},
		Env: []v1.EnvVar{
			{Name: "HOME", Value: "/home/other"},
			{Name: "TOKEN", ValueFrom: &v1.EnvVarSource{SecretKeyRef: &v1.SecretKeySelector{LocalObjectReference: v1.LocalObjectReference{Name: "creds"}, Key: "TOKEN"}}},
			{Name: "POD", ValueFrom: &v1.EnvVarSource{FieldRef: &v1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
		},
	}
	env, err := containerEnv(context.Background(), newObjects(client, "ns"), pod, c, kanikoEnv, hostIP)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"PATH=/usr/local/bin:/kaniko", "HOME=/home/other", "USER=root", "SSL_CERT_DIR=/kaniko/ssl/certs",
		"DOCKER_CONFIG=/kaniko/.docker/", "DOCKER_CREDENTIAL_GCR_CONFIG=/kaniko/.config/gcloud/docker_credential_gcr_config.json",
		"HOSTNAME=build-1", "CFG_A=1", "CFG_LEVEL=debug", "TOKEN=s3cret", "POD=build-1",
	}, env)

	c.Env = append(c.Env, v1.EnvVar{Name: "X", ValueFrom: &v1.EnvVarSource{ConfigMapKeyRef: &v1.ConfigMapKeySelector{
		LocalObjectReference: v1.LocalObjectReference{Name: "settings"}, Key: "MISSING"}}})
	_, err = containerEnv(context.Background(), newObjects(client, "ns"), pod, c, kanikoEnv, hostIP)
	assert.ErrorIs(t, err, errNotReady, "a missing key is waited for")
}
