package runtimebuild

import (
	"context"
	"strings"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/runtimebuild/buildjob"
	"github.com/apache/openserverless-deployer/lib/userregistry"
)

// StartRequest is the body of a start call, as upstream defines it.
type StartRequest struct {
	Source string
	Target string
	Kind   string
	// File is the dependency file, base64-encoded; "" for none.
	File string
}

// Started is the answer to a start: the build and its Job.
type Started struct {
	ID      string
	JobName string
	Image   string
	// Existing is true when the same build's Job already existed.
	Existing bool
}

// validateStart checks a start request in the order upstream reports its
// errors: the required fields, the kind, the target, the source, the file.
func (s *Service) validateStart(ctx context.Context, user string, r StartRequest) (request, error) {
	switch {
	case strings.TrimSpace(r.Source) == "":
		return request{}, fault.New(fault.Invalid, "MissingSource", "No source provided for build.")
	case strings.TrimSpace(r.Target) == "":
		return request{}, fault.New(fault.Invalid, "MissingTarget", "No target provided for build.")
	case strings.TrimSpace(r.Kind) == "":
		return request{}, fault.New(fault.Invalid, "MissingKind", "No kind provided for build.")
	}
	if err := supportedKind(r.Kind); err != nil {
		return request{}, err
	}
	target, err := ParseTarget(r.Target, user, s.cfg.StrictUserCheck)
	if err != nil {
		return request{}, err
	}
	req := request{user: target.User, kind: r.Kind, source: r.Source, target: target.String()}
	return req, s.checkSourceAndFile(ctx, &req, r.File)
}

// Start validates a start request of user, pins its source to a digest and
// submits the build Job, pushing to <push host>/<target>: the platform's
// registry, or the one of the user's environment (userregistry). It returns
// as soon as the Job exists; the same request while its Job exists answers
// that Job.
func (s *Service) Start(ctx context.Context, user string, r StartRequest) (Started, error) {
	req, err := s.validateStart(ctx, user, r)
	if err != nil {
		return Started{}, err
	}
	// The quota's reads depend on nothing the plan holds: they go while
	// the registry is chosen and the source resolved.
	ahead := s.readQuota(ctx, s.cfg.Namespace)
	p, _, err := s.planFor(ctx, req)
	if err != nil {
		ahead.recorded.Wait()
		return Started{}, err
	}
	job, existing, err := s.submit(ctx, p, ahead)
	if err != nil {
		return Started{}, err
	}
	return Started{ID: p.ID, JobName: job.Name, Image: p.Image, Existing: existing}, nil
}

// planFor finds the registry of the request's user, resolves its source
// there and makes its Plan.
func (s *Service) planFor(ctx context.Context, req request) (buildjob.Plan, userregistry.Registry, error) {
	reg, err := s.registries.ForUser(ctx, req.user)
	if err != nil {
		return buildjob.Plan{}, userregistry.Registry{}, err
	}
	src, err := reg.Client.Resolve(ctx, req.source)
	if err != nil {
		return buildjob.Plan{}, userregistry.Registry{}, err
	}
	p, err := s.newPlan(reg, src, req)
	return p, reg, err
}
