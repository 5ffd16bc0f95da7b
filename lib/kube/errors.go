package kube

import (
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/apache/openserverless-deployer/lib/fault"
)

// Error classifies an API server error for the caller, saying what was
// being done: unreachable or overloaded is Unavailable (503, worth a retry);
// anything else, a refusal by RBAC included, is Internal (the deployer's own
// rights or objects are wrong). The cause is kept for the log. An error that
// already carries a fault.Error is returned as it is.
func Error(err error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	switch {
	case fault.As(err) != nil:
		return err
	case apierrors.IsServiceUnavailable(err), apierrors.IsTimeout(err), apierrors.IsServerTimeout(err),
		apierrors.IsTooManyRequests(err), apierrors.IsInternalError(err), unanswered(err):
		return fault.Wrap(err, fault.Unavailable, "KubernetesUnavailable", "Kubernetes API is unavailable while %s", msg)
	default:
		return fault.Wrap(err, fault.Internal, "KubernetesError", "Kubernetes refused %s", msg)
	}
}

// unanswered reports an error that never reached the API server.
func unanswered(err error) bool {
	var status apierrors.APIStatus
	return !errors.As(err, &status)
}
