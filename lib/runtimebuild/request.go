package runtimebuild

import (
	"context"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/requirements"
)

// request is a build request that passed every check: what start and
// ensure both hand to newPlan.
type request struct {
	user     string
	kind     string
	source   string
	fileName string
	file     []byte
	// target is the "<user>:<tag>" a start names; "" for ensure, whose tag
	// derives from the build id.
	target string
}

// The checks start and ensure share, in the order upstream reports their
// errors: the kind, then (after a start's target) the source policy, then
// the file. A catalog builder's kind and source are the operator's, so an
// ensure of a builder checks its file only.

// supportedKind refuses a kind no dependency file is known for.
func supportedKind(kind string) error {
	if _, ok := requirements.FileName(kind); !ok {
		return fault.New(fault.Invalid, "UnsupportedKind", "Unsupported kind: %s", kind)
	}
	return nil
}

// checkSourceAndFile applies the source policy to the request's source,
// then decodes and checks its file.
func (s *Service) checkSourceAndFile(ctx context.Context, req *request, encodedFile string) error {
	if err := s.checkSource(ctx, req.user, req.source); err != nil {
		return err
	}
	return s.decodeFile(req, encodedFile)
}

// decodeFile decodes and checks a request's dependency file, when it has one.
func (s *Service) decodeFile(req *request, encoded string) error {
	if encoded == "" {
		return nil
	}
	file, err := requirements.Decode(encoded)
	if err != nil {
		return err
	}
	if err := requirements.Check(req.kind, file); err != nil {
		return err
	}
	req.fileName, _ = requirements.FileName(req.kind)
	req.file = file
	return nil
}
