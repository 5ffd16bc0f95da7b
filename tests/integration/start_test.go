package integration

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/kube"
	"github.com/apache/openserverless-deployer/lib/runtimebuild"
	"github.com/apache/openserverless-deployer/lib/webaction"
)

func TestStartCreatesWhatTheAPIServerAccepts(t *testing.T) {
	cfg, deployer := namespace(t)
	ctx := context.Background()
	user := strings.Repeat("a", 40)
	svc := runtimebuild.NewService(deployer, cfg)
	file := base64.StdEncoding.EncodeToString([]byte("requests==2.32.3\n"))

	started, err := svc.Start(ctx, user, runtimebuild.StartRequest{
		Source: runtime.Context().Name() + ":v3.13", Target: user + ":custom", Kind: "python", File: file,
	})
	require.NoError(t, err)
	assert.Empty(t, validation.IsDNS1123Label(started.JobName))
	assert.Equal(t, reg.Host+"/"+user+":custom", started.Image)

	job, err := apiserver.Client.BatchV1().Jobs(cfg.Namespace).Get(ctx, started.JobName, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, user, job.Labels[kube.LabelUser])
	assert.Equal(t, runtime.String(), job.Annotations[kube.AnnotationSource])

	cm, err := apiserver.Client.CoreV1().ConfigMaps(cfg.Namespace).Get(ctx, job.Spec.Template.Spec.Volumes[0].ConfigMap.Name, metav1.GetOptions{})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(cm.Name, started.JobName+"-"), "the context %s is named after its Job", cm.Name)
	require.Len(t, cm.OwnerReferences, 1)
	assert.Equal(t, job.UID, cm.OwnerReferences[0].UID)
	assert.Contains(t, cm.Data["Dockerfile"], "FROM "+runtime.String()+"\n")
	assert.Contains(t, cm.Data["Dockerfile"], "USER 1001\n")
	assert.Equal(t, "requests==2.32.3\n", cm.Data["requirements.txt"])

	// The real Job controller accepts the template: it creates the Pod.
	eventually(t, "the job controller creates the pod", func() bool {
		pods, err := apiserver.Client.CoreV1().Pods(cfg.Namespace).List(ctx, metav1.ListOptions{LabelSelector: kube.LabelUser + "=" + user})
		return err == nil && len(pods.Items) == 1
	})

	again, err := svc.Start(ctx, user, runtimebuild.StartRequest{
		Source: runtime.Context().Name() + ":v3.13", Target: user + ":custom", Kind: "python", File: file,
	})
	require.NoError(t, err)
	assert.True(t, again.Existing)
	assert.Equal(t, started.JobName, again.JobName)
	jobs, err := apiserver.Client.BatchV1().Jobs(cfg.Namespace).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	assert.Len(t, jobs.Items, 1, "the same start must not make a second job")
}

func TestStartWithoutTheRegistrySecret(t *testing.T) {
	cfg, deployer := namespace(t)
	cfg.RegistrySecret = "no-such-secret"
	_, err := runtimebuild.NewService(deployer, cfg).Start(context.Background(), "alice", runtimebuild.StartRequest{
		Source: runtime.Context().Name() + ":v3.13", Target: "alice:t", Kind: "python",
	})
	require.Error(t, err)
	assert.Equal(t, 500, webaction.Status(err))
	assert.Equal(t, "Secret no-such-secret is not configured!", fault.As(err).Message)
}

// A deployer allowed to create Jobs but not ConfigMaps fails on the second
// create: the Job it made first must be gone again.
func TestStartLeavesNothingWhenTheContextCannotBeCreated(t *testing.T) {
	cfg, _ := namespace(t)
	ctx := context.Background()
	_, err := apiserver.Client.RbacV1().Roles(cfg.Namespace).Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "no-configmaps"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"batch"}, Resources: []string{"jobs"}, Verbs: []string{"create", "get", "list", "delete"}},
			{APIGroups: []string{""}, Resources: []string{"secrets", "configmaps"}, Verbs: []string{"get"}},
			{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{runtimebuild.QuotaRecord}, Verbs: []string{"update"}},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	// The quota record exists (an earlier build made it): what fails is the context.
	_, err = apiserver.Client.CoreV1().ConfigMaps(cfg.Namespace).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: runtimebuild.QuotaRecord}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = apiserver.Client.RbacV1().RoleBindings(cfg.Namespace).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "no-configmaps"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "no-configmaps"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: "limited-deployer"}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	rc, err := apiserver.AddUser("limited-deployer", nil)
	require.NoError(t, err)
	limited, err := kubernetes.NewForConfig(rc)
	require.NoError(t, err)
	// The API server's authorizer learns of a new binding from a watch, a
	// moment later: until then every call is forbidden.
	eventually(t, "the Role applies to the limited deployer", func() bool {
		_, err := limited.CoreV1().ConfigMaps(cfg.Namespace).Get(ctx, runtimebuild.QuotaRecord, metav1.GetOptions{})
		return err == nil
	})

	_, err = runtimebuild.NewService(limited, cfg).Start(ctx, "alice", runtimebuild.StartRequest{
		Source: runtime.Context().Name() + ":v3.13", Target: "alice:t", Kind: "python",
	})
	require.Error(t, err)
	assert.Equal(t, 500, webaction.Status(err))
	assert.Contains(t, err.Error(), "creating build context", "the second create is the one that fails")

	jobs, err := apiserver.Client.BatchV1().Jobs(cfg.Namespace).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	assert.Empty(t, jobs.Items, "the job must be deleted when its context cannot be created")
	cms, err := apiserver.Client.CoreV1().ConfigMaps(cfg.Namespace).List(ctx, metav1.ListOptions{LabelSelector: kube.LabelBuildID})
	require.NoError(t, err)
	assert.Empty(t, cms.Items)
	eventually(t, "no pod is left", func() bool {
		pods, err := apiserver.Client.CoreV1().Pods(cfg.Namespace).List(ctx, metav1.ListOptions{})
		return err == nil && len(pods.Items) == 0 || allTerminating(pods.Items)
	})
}

func allTerminating(pods []corev1.Pod) bool {
	for _, p := range pods {
		if p.DeletionTimestamp == nil {
			return false
		}
	}
	return true
}
