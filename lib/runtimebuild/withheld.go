package runtimebuild

import (
	"errors"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// withheld is err without the API server's message, which for a Secret
// could quote what was sent; its status, reason and code, which classify
// it, are kept.
func withheld(err error) error {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return err // a transport error: nothing of the request is in it
	}
	st := status.Status()
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status:  st.Status,
		Code:    st.Code,
		Reason:  st.Reason,
		Message: "the API server's message is withheld: it may quote registry credentials",
	}}
}
