package local

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/apache/openserverless-deployer/dev/fixtures"
	"github.com/apache/openserverless-deployer/dev/pyindex"
)

// RealisticBuilders are the catalog ids of the realistic runtimes, by
// fixture name.
var RealisticBuilders = map[string]string{fixtures.NodeJS: "nodejs:bookworm", fixtures.Python: "python:bookworm"}

// startRealistic makes the realistic runtimes (once per machine), serves the
// python fixture's package index on 127.0.0.1 and pushes both runtimes, the
// python one pointing pip at that index.
func (s *Stack) startRealistic(ctx context.Context, o Options) error {
	dir, err := fixtures.RealisticDir(ctx, o.RepoRoot, o.Log)
	if err != nil {
		return err
	}
	// Where the build Pods reach it: the bridge's gateway.
	if s.Index, err = pyindex.Start(fixtures.IndexDir(dir), s.Bridge.Gateway.String()); err != nil {
		return err
	}
	for rt, builder := range RealisticBuilders {
		r := fixtures.Realistic{Name: rt, Repo: "runtime-" + rt, Tag: "bookworm"}
		if rt == fixtures.Python {
			// pip trusts plain HTTP on localhost only; the index is on the
			// bridge's gateway, the stack's own.
			r.Env = []string{"PIP_INDEX_URL=" + s.Index.URL, "PIP_TRUSTED_HOST=" + s.Bridge.Gateway.String()}
		}
		fmt.Fprintf(o.Log, "pushing the realistic %s runtime...\n", rt)
		d, err := fixtures.PushRealistic(ctx, s.Registry.Host, s.Registry.Auth(), dir, r)
		if err != nil {
			return err
		}
		s.Realistic[builder] = d
	}
	return nil
}

// RealisticSource returns the tagged reference of a realistic builder's runtime.
func (s *Stack) RealisticSource(builder string) string {
	d, ok := s.Realistic[builder]
	if !ok {
		return ""
	}
	return d.Context().Name() + ":bookworm"
}

// realisticDigests is the type of Stack.Realistic.
type realisticDigests = map[string]name.Digest
