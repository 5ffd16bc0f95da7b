package userenv

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/lib/kube"
	"github.com/apache/openserverless-deployer/lib/runtimebuild"
)

// A user whose environment names a registry of their own, with
// "user:password", gets a build that Kaniko pushes there with a temporary
// Secret the Job owns; cleanup takes the Secret away with the Job.
func TestBuildPushesToTheUserRegistry(t *testing.T) {
	ctx := context.Background()
	kube := env.Kube.Client
	r := call(t, owner, http.MethodPost, "/start", map[string]any{
		"source": env.Source("python"), "target": owner + ":own", "kind": "python",
		"file": base64.StdEncoding.EncodeToString([]byte("requests\n")),
	})
	require.Equal(t, http.StatusOK, r.Code, "%v", r.Body)
	image := userRegistry.Host + "/" + owner + ":own"
	assert.Equal(t, image, r.Str("image"), "userenv's REGISTRY_HOST wins over env's")
	jobName := r.Str("job_name")

	job, err := kube.BatchV1().Jobs(local.Namespace).Get(ctx, jobName, metav1.GetOptions{})
	require.NoError(t, err)
	secret := temporarySecret(t, job)
	assert.Equal(t, corev1.SecretTypeDockerConfigJson, secret.Type)
	require.Len(t, secret.OwnerReferences, 1)
	assert.Equal(t, job.UID, secret.OwnerReferences[0].UID, "the Job owns it")
	var config struct {
		Auths map[string]struct{ Username, Password string } `json:"auths"`
	}
	require.NoError(t, json.Unmarshal(secret.Data[corev1.DockerConfigJsonKey], &config))
	assert.Equal(t, pusher, config.Auths[userRegistry.Host].Username)
	assert.Equal(t, pusherPassword, config.Auths[userRegistry.Host].Password)
	assert.Equal(t, map[string]string{"pull-config": "registry-pull-secret", "push-config": secret.Name}, mountedSecrets(job), "the push step mounts it")

	st := follow(t, owner, r.Str("id"))
	require.Equal(t, "succeeded", st.Str("state"), "%v", st.Body)

	// The image is in the user's registry, readable with the user's credentials…
	ref, err := name.ParseReference(image, name.Insecure)
	require.NoError(t, err)
	img, err := remote.Image(ref, remote.WithAuth(&authn.Basic{Username: pusher, Password: pusherPassword}))
	require.NoError(t, err)
	digest, err := img.Digest()
	require.NoError(t, err)
	assert.Equal(t, digest.String(), st.Str("digest"))
	cfg, err := img.ConfigFile()
	require.NoError(t, err)
	assert.Equal(t, env.Runtimes["python"].DigestStr(), cfg.Config.Labels["org.opencontainers.image.base.digest"],
		"built on the source the platform's registry holds")
	// …and not in the platform's.
	platformRef, err := name.ParseReference(env.Registry.Host+"/"+owner+":own", name.Insecure)
	require.NoError(t, err)
	_, err = remote.Head(platformRef, remote.WithAuth(env.Registry.Auth()))
	assert.Error(t, err, "nothing pushed to the platform registry")

	// The user's images are listed from the user's own registry.
	list := call(t, owner, http.MethodGet, "/images", nil)
	require.Equal(t, http.StatusOK, list.Code, "%v", list.Body)
	imgs, _ := list.Body["images"].([]any)
	require.Len(t, imgs, 1, "%v", list.Body)
	listed, _ := imgs[0].(map[string]any)
	assert.Equal(t, "own", listed["tag"])
	assert.Equal(t, image, listed["image"])
	assert.Equal(t, st.Str("digest"), listed["digest"])

	// The credentials are nowhere but in that Secret.
	ctxName := job.Spec.Template.Spec.Volumes[0].ConfigMap.Name
	cms, err := kube.CoreV1().ConfigMaps(local.Namespace).Get(ctx, ctxName, metav1.GetOptions{})
	require.NoError(t, err)
	job, err = kube.BatchV1().Jobs(local.Namespace).Get(ctx, jobName, metav1.GetOptions{})
	require.NoError(t, err)
	auth := base64.StdEncoding.EncodeToString([]byte(pusher + ":" + pusherPassword))
	for what, obj := range map[string]any{"job": job, "context": cms, "secret metadata": secret.ObjectMeta} {
		raw, err := json.Marshal(obj)
		require.NoError(t, err)
		assert.NotContains(t, string(raw), pusherPassword, "in the %s", what)
		assert.NotContains(t, string(raw), auth, "in the %s", what)
	}
	logs, err := os.ReadFile(stackLog)
	require.NoError(t, err)
	assert.NotContains(t, string(logs), pusherPassword, "in the logs of the actions, the node and the servers")
	assert.NotContains(t, string(logs), auth, "in the logs of the actions, the node and the servers")

	c := call(t, owner, http.MethodPost, "/cleanup", map[string]any{"max_age_hours": 0})
	require.Equal(t, http.StatusOK, c.Code, "%v", c.Body)
	assert.Equal(t, float64(1), c.Body["deleted"])
	eventually(t, "the Job, its temporary Secret and its context are gone", func() bool {
		_, errJ := kube.BatchV1().Jobs(local.Namespace).Get(ctx, jobName, metav1.GetOptions{})
		_, errS := kube.CoreV1().Secrets(local.Namespace).Get(ctx, secret.Name, metav1.GetOptions{})
		_, errC := kube.CoreV1().ConfigMaps(local.Namespace).Get(ctx, ctxName, metav1.GetOptions{})
		return apierrors.IsNotFound(errJ) && apierrors.IsNotFound(errS) && apierrors.IsNotFound(errC)
	})
}

// A user whose REGISTRY_SECRET names a Secret made for another user is
// refused, in the words used for a Secret that does not exist.
func TestSecretOfAnotherUserIsRefused(t *testing.T) {
	ctx := context.Background()
	r := call(t, borrower, http.MethodPost, "/start", map[string]any{
		"source": env.Source("python"), "target": borrower + ":borrowed", "kind": "python",
	})
	assert.Equal(t, http.StatusBadRequest, r.Code, "%v", r.Body)
	assert.Equal(t, "ko", r.Str("status"))
	assert.Equal(t, "RegistrySecretRefused", r.Str("reason"))
	assert.Equal(t, "Registry secret "+lenderSecret+" is not available to this user", r.Str("message"))

	jobs, err := env.Kube.Client.BatchV1().Jobs(local.Namespace).List(ctx, metav1.ListOptions{LabelSelector: kube.LabelUser + "=" + borrower})
	require.NoError(t, err)
	assert.Empty(t, jobs.Items, "no build for the borrower")
	_, err = env.Kube.Client.CoreV1().Secrets(local.Namespace).Get(ctx, lenderSecret, metav1.GetOptions{})
	assert.NoError(t, err, "the lender's Secret is left alone")
}

// temporarySecret is the registry Secret a build Job owns, named after it.
func temporarySecret(t *testing.T, job *batchv1.Job) *corev1.Secret {
	t.Helper()
	list, err := env.Kube.Client.CoreV1().Secrets(local.Namespace).List(context.Background(), metav1.ListOptions{
		LabelSelector: kube.LabelBuildID + "=" + job.Labels[kube.LabelBuildID],
	})
	require.NoError(t, err)
	for i := range list.Items {
		if s := &list.Items[i]; metav1.IsControlledBy(s, job) {
			assert.True(t, strings.HasPrefix(s.Name, job.Name+"-"), "the temporary Secret %s is named after the Job", s.Name)
			return s
		}
	}
	t.Fatalf("no temporary Secret owned by %s", job.Name)
	return nil
}

// mountedSecrets maps the Secret volumes of a Job's Pod to their Secrets.
func mountedSecrets(job *batchv1.Job) map[string]string {
	out := map[string]string{}
	for _, v := range job.Spec.Template.Spec.Volumes {
		if v.Secret != nil {
			out[v.Name] = v.Secret.SecretName
		}
	}
	return out
}

// A push the registry refuses is its own failure, PushFailed, naming the
// image; a registry of the user's without a Secret of theirs is pushed to
// anonymously (the platform's credentials are not lent to it), and refused.
func TestFailedPushReportsPushFailed(t *testing.T) {
	for _, user := range []string{wrong, anonymous} {
		t.Run(user, func(t *testing.T) {
			r := call(t, user, http.MethodPost, "/start", map[string]any{
				"source": env.Source("python"), "target": user + ":refused", "kind": "python",
				"file": base64.StdEncoding.EncodeToString([]byte("requests\n")),
			})
			require.Equal(t, http.StatusOK, r.Code, "%v", r.Body)
			job, err := env.Kube.Client.BatchV1().Jobs(local.Namespace).Get(context.Background(), r.Str("job_name"), metav1.GetOptions{})
			require.NoError(t, err)
			if user == anonymous {
				assert.Equal(t, map[string]string{"pull-config": "registry-pull-secret"}, mountedSecrets(job), "no Secret for the push")
			}
			st := follow(t, user, r.Str("id"))
			assert.Equal(t, http.StatusConflict, st.Code, "%v", st.Body)
			assert.Equal(t, runtimebuild.ReasonPushFailed, st.Str("reason"))
			assert.Contains(t, st.Str("message"), "The image could not be pushed to "+userRegistry.Host+"/"+user+":refused")
			t.Logf("a failed push reports: %s", st.Str("message"))
		})
	}
}
