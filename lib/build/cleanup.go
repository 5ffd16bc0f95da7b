package build

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/kube"
)

// DefaultMaxAgeHours is the age past which cleanup deletes finished builds.
const DefaultMaxAgeHours = 24

// maxMaxAgeHours is a year: anything longer is surely a mistake.
const maxMaxAgeHours = 8760

// ParseMaxAgeHours reads max_age_hours: absent means the default; a
// non-negative whole number, as a JSON number or a numeric string (the
// upstream task sends "24"), up to 8760.
func ParseMaxAgeHours(v any, present bool) (int, error) {
	if !present || v == nil {
		return DefaultMaxAgeHours, nil
	}
	var n float64
	switch x := v.(type) {
	case float64:
		n = x
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return 0, badMaxAge(v)
		}
		n = f
	case int:
		n = float64(x)
	case string:
		i, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			return 0, badMaxAge(v)
		}
		n = float64(i)
	default:
		return 0, badMaxAge(v)
	}
	if n < 0 || n > maxMaxAgeHours || n != float64(int(n)) {
		return 0, badMaxAge(v)
	}
	return int(n), nil
}

func badMaxAge(v any) error {
	return fault.New(fault.Invalid, "InvalidMaxAge", "max_age_hours must be a whole number of hours from 0 to %d, not %v", maxMaxAgeHours, v)
}

// Cleanup deletes the finished build Jobs, Complete or Failed, that ended
// more than maxAge ago: the user's own, or everyone's with system scope.
// Jobs still running are left alone. Deletion propagates in the background,
// so the Pods, context ConfigMaps and temporary Secrets go with their Jobs.
func (s *Service) Cleanup(ctx context.Context, user string, system bool, maxAge time.Duration) (int, error) {
	selector := ofUser(user)
	if system {
		selector = builds()
	}
	list, err := s.client.BatchV1().Jobs(s.cfg.Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return 0, kube.Error(err, "listing build jobs")
	}
	cutoff := s.now().Add(-maxAge)
	deleted := 0
	for i := range list.Items {
		job := &list.Items[i]
		at, done := finished(job)
		if !done || at.After(cutoff) {
			continue
		}
		if err := deleteJob(ctx, s.client, job); err != nil {
			return deleted, kube.Error(err, "deleting build job %s", job.Name)
		}
		s.log.WithField("job", job.Name).Info("build job cleaned up")
		deleted++
	}
	return deleted, nil
}
