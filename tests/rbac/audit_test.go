package rbac

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apache/openserverless-deployer/dev/local"
)

// right is one (API group, resource[/subresource], verb) of RBAC.
type right struct{ group, resource, verb string }

func (r right) String() string { return r.verb + " " + r.resource + " (group \"" + r.group + "\")" }

// auditEvent is the part of an audit.k8s.io/v1 Event the test reads.
type auditEvent struct {
	Stage string `json:"stage"`
	Verb  string `json:"verb"`
	User  struct {
		Username string `json:"username"`
	} `json:"user"`
	ObjectRef *struct {
		APIGroup    string `json:"apiGroup"`
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
}

// audited reads the API server's audit log: the rights the user used with
// success, and those it was refused (403).
func audited(t *testing.T, user string) (used, refused map[right]int) {
	t.Helper()
	f, err := os.Open(env.Kube.AuditLog)
	require.NoError(t, err)
	defer f.Close()
	used, refused = map[right]int{}, map[right]int{}
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 1<<20), 16<<20)
	for s.Scan() {
		var e auditEvent
		require.NoError(t, json.Unmarshal(s.Bytes(), &e))
		if e.User.Username != user || e.ObjectRef == nil || e.Stage != "ResponseComplete" {
			continue
		}
		r := right{group: e.ObjectRef.APIGroup, resource: e.ObjectRef.Resource, verb: e.Verb}
		if e.ObjectRef.Subresource != "" {
			r.resource += "/" + e.ObjectRef.Subresource
		}
		switch {
		case e.ResponseStatus != nil && e.ResponseStatus.Code == http.StatusForbidden:
			refused[r]++
		default:
			used[r]++
		}
	}
	require.NoError(t, s.Err())
	return used, refused
}

// Every right the Role grants is used by an operation, and no operation is
// refused a right: deploy/rbac.yaml is exactly what the code uses.
func TestEveryGrantedRightIsUsed(t *testing.T) {
	operations(t)
	role, err := env.Kube.Client.RbacV1().Roles(local.Namespace).Get(context.Background(), env.Identity.ServiceAccount, metav1.GetOptions{})
	require.NoError(t, err, "the Role of %s", local.RBACFile)
	used, refused := audited(t, env.Identity.Username())
	require.NotEmpty(t, used, "no request of %s in the audit log", env.Identity.Username())

	var granted []right
	for _, rule := range role.Rules {
		// A rule may name its objects (the quota record): that narrows it,
		// and its verbs must still be used.
		for _, g := range rule.APIGroups {
			for _, res := range rule.Resources {
				for _, v := range rule.Verbs {
					granted = append(granted, right{g, res, v})
				}
			}
		}
	}
	var spare []string
	for _, r := range granted {
		if used[r] == 0 {
			spare = append(spare, r.String())
		}
	}
	sort.Strings(spare)
	assert.Empty(t, spare, "%s grants rights no operation uses: remove them", local.RBACFile)

	var missing []string
	for r, n := range refused {
		missing = append(missing, r.String())
		t.Logf("refused %d times: %s", n, r)
	}
	sort.Strings(missing)
	assert.Empty(t, missing, "operations were refused rights the Role does not grant")
	for r, n := range used {
		t.Logf("used %d times: %s", n, r)
	}
}
