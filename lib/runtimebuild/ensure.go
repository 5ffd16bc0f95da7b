package runtimebuild

import (
	"context"
	"strings"

	batchv1 "k8s.io/api/batch/v1"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/kube"
	"github.com/apache/openserverless-deployer/lib/runtimebuild/buildjob"
)

// EnsureRequest asks for the runtime of a builder (a catalog id) or of a
// source and kind, extended with a dependency file.
type EnsureRequest struct {
	Builder string
	Source  string
	Kind    string
	// File is the dependency file, base64-encoded; "" for none.
	File string
	// Retry rebuilds a failed build (the default); false answers the failure.
	Retry bool
}

// Ensured is the answer to an ensure: the build's status, and whether this
// call created its Job.
type Ensured struct {
	Status
	Created bool
	// Log is the tail of a failed build's log.
	Log []string
}

// imageTagLen is how much of the id an ensure image's tag carries.
const imageTagLen = 20

// Ensure makes sure the user has the image for the inputs: the image name is
// derived from the content-addressed build id, so an image already in the
// registry answers at once (Succeeded, no Job); a Job for the id answers its
// state; otherwise a Job is created. Concurrent identical requests race on
// the deterministic Job name, so exactly one Job is made. The registry is
// the platform's, or the one of the user's environment (userregistry).
func (s *Service) Ensure(ctx context.Context, user string, r EnsureRequest) (Ensured, error) {
	req, err := s.ensureRequest(ctx, user, r)
	if err != nil {
		return Ensured{}, err
	}
	p, reg, err := s.planFor(ctx, req)
	if err != nil {
		return Ensured{}, err
	}
	ready := Ensured{Status: Status{ID: p.ID, User: user, Kind: p.Kind, Image: p.Image, State: Succeeded}}

	if digest, found, err := reg.Client.Digest(ctx, p.Destination); err != nil {
		return Ensured{}, err
	} else if found {
		ready.Digest = digest
		return ready, nil
	}
	job, err := s.existing(ctx, p)
	if err != nil {
		return Ensured{}, err
	}
	if job != nil {
		st, tail, err := s.statusOf(ctx, job)
		if err != nil {
			return Ensured{}, err
		}
		// A failed build is retried on request; a succeeded one whose image has
		// gone from the registry (deleted since) is built again.
		rebuild := st.State == Failed && r.Retry || st.State == Succeeded
		if !rebuild {
			return Ensured{Status: st, Log: tail}, nil
		}
		if err := deleteJob(ctx, s.client, job); err != nil && !isConflict(err) {
			return Ensured{}, kube.Error(err, "removing the previous build %s", job.Name)
		}
	}
	job, existing, err := s.submit(ctx, p, nil)
	if err != nil {
		return Ensured{}, err
	}
	if existing {
		st, tail, err := s.statusOf(ctx, job)
		return Ensured{Status: st, Log: tail}, err
	}
	return Ensured{Status: queuedStatus(p, job), Created: true}, nil
}

// ensureRequest resolves a builder id through the catalog, or checks an
// explicit source and kind, then the file.
func (s *Service) ensureRequest(ctx context.Context, user string, r EnsureRequest) (request, error) {
	req := request{user: user, kind: r.Kind, source: r.Source}
	if r.Builder != "" {
		b, ok := s.cfg.Builders[r.Builder]
		if !ok {
			return request{}, fault.New(fault.Invalid, "UnknownBuilder", "Unknown builder: %s", r.Builder)
		}
		req.kind, req.source = b.Kind, b.Source
		return req, s.decodeFile(&req, r.File)
	}
	switch {
	case strings.TrimSpace(r.Source) == "":
		return request{}, fault.New(fault.Invalid, "MissingSource", "No builder or source provided.")
	case strings.TrimSpace(r.Kind) == "":
		return request{}, fault.New(fault.Invalid, "MissingKind", "No kind provided for build.")
	}
	if err := supportedKind(r.Kind); err != nil {
		return request{}, err
	}
	return req, s.checkSourceAndFile(ctx, &req, r.File)
}

func queuedStatus(p buildjob.Plan, job *batchv1.Job) Status {
	return Status{ID: p.ID, JobName: job.Name, User: p.User, Kind: p.Kind, Image: p.Image, State: Queued, Created: job.CreationTimestamp.Time}
}
