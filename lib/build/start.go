package build

import (
	"context"
	"strings"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/requirements"
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

// validStart is a start request that passed every check that needs no I/O.
type validStart struct {
	target   Target
	kind     string
	source   string
	fileName string
	file     []byte
}

// validateStart checks a start request in the order upstream reports its
// errors: the required fields, the kind, the target, the source, the file.
func (s *Service) validateStart(user string, r StartRequest) (validStart, error) {
	switch {
	case strings.TrimSpace(r.Source) == "":
		return validStart{}, fault.New(fault.Invalid, "MissingSource", "No source provided for build.")
	case strings.TrimSpace(r.Target) == "":
		return validStart{}, fault.New(fault.Invalid, "MissingTarget", "No target provided for build.")
	case strings.TrimSpace(r.Kind) == "":
		return validStart{}, fault.New(fault.Invalid, "MissingKind", "No kind provided for build.")
	}
	fileName, ok := requirements.FileName(r.Kind)
	if !ok {
		return validStart{}, fault.New(fault.Invalid, "UnsupportedKind", "Unsupported kind: %s", r.Kind)
	}
	target, err := ParseTarget(r.Target, user, s.cfg.StrictUserCheck)
	if err != nil {
		return validStart{}, err
	}
	if err := s.checkSource(r.Source); err != nil {
		return validStart{}, err
	}
	v := validStart{target: target, kind: r.Kind, source: r.Source}
	if r.File != "" {
		file, err := requirements.Decode(r.File)
		if err != nil {
			return validStart{}, err
		}
		if err := requirements.Check(r.Kind, file); err != nil {
			return validStart{}, err
		}
		v.fileName, v.file = fileName, file
	}
	return v, nil
}

// checkSource checks a source's syntax and the allowlist: the configured
// patterns plus the builder catalog's sources.
func (s *Service) checkSource(source string) error {
	ref, err := ParseSource(source)
	if err != nil {
		return err
	}
	if len(s.cfg.AllowedSources) == 0 {
		return nil
	}
	allowed := append([]string{}, s.cfg.AllowedSources...)
	for _, b := range s.cfg.Builders {
		if r, err := ParseSource(b.Source); err == nil {
			allowed = append(allowed, r.Context().Name())
		}
	}
	if !Allowed(ref, allowed) {
		return fault.New(fault.Invalid, "SourceNotAllowed", "Source image %s is not allowed on this platform", source)
	}
	return nil
}

// Start validates a start request of user, pins its source to a digest and
// submits the build Job, pushing to <push host>/<target>: the platform's
// registry, or the one of the user's environment (registryFor). It returns
// as soon as the Job exists; the same request while its Job exists answers
// that Job.
func (s *Service) Start(ctx context.Context, user string, r StartRequest) (Started, error) {
	v, err := s.validateStart(user, r)
	if err != nil {
		return Started{}, err
	}
	reg, err := s.registryFor(ctx, user)
	if err != nil {
		return Started{}, err
	}
	src, err := reg.client.Resolve(ctx, v.source)
	if err != nil {
		return Started{}, err
	}
	p := s.plan(reg, src, v.kind, v.fileName, v.file)
	p.User = v.target.User
	p.Destination = reg.hosts.Push + "/" + v.target.String()
	p.Image = reg.hosts.Pull + "/" + v.target.String()
	p.ID = ID(Inputs{Kind: p.Kind, Source: p.Pinned, File: p.File, Target: p.Destination})
	job, existing, err := s.submit(ctx, p)
	if err != nil {
		return Started{}, err
	}
	return Started{ID: p.ID, JobName: job.Name, Image: p.Image, Existing: existing}, nil
}
