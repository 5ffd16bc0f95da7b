package runtimebuild

import (
	"bytes"
	"os"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/imagestore"
	"github.com/apache/openserverless-deployer/lib/runtimebuild/buildjob"
	"github.com/apache/openserverless-deployer/lib/userregistry"
)

// newPlan makes the Plan of a request from the source resolved to a digest
// and the registry the build pushes to. The build id covers the inputs and
// the destination: a start's target, or for ensure the user's own registry
// host ("" for the platform's, whose ids stay as they were).
func (s *Service) newPlan(reg userregistry.Registry, src imagestore.Source, r request) (buildjob.Plan, error) {
	if err := buildjob.CheckBaseUser(src.User); err != nil {
		return buildjob.Plan{}, err
	}
	// The steps that hold a credential resolve names with it; without it
	// they would read the Pod's files, which the build step can rewrite.
	resolvConf, err := os.ReadFile(s.resolvConf)
	if err != nil {
		return buildjob.Plan{}, fault.Wrap(err, fault.Internal, "Misconfigured", "Cannot read the resolver configuration %s", s.resolvConf)
	}
	if len(bytes.TrimSpace(resolvConf)) == 0 {
		return buildjob.Plan{}, fault.New(fault.Internal, "Misconfigured", "The resolver configuration %s is empty", s.resolvConf)
	}
	p := buildjob.Plan{
		User:               r.user,
		Kind:               r.kind,
		Namespace:          s.cfg.Namespace,
		Source:             src.Name,
		Pinned:             src.Pinned(),
		BaseDigest:         src.Digest,
		BaseUser:           src.User,
		BaseRun:            src.Run,
		FileName:           r.fileName,
		File:               r.file,
		PullSecret:         s.cfg.RegistrySecret,
		PushSecret:         reg.PushSecret,
		PushCredentials:    reg.PushCredentials,
		InsecureRegistries: reg.Insecure,
		WarmerImage:        s.cfg.WarmerImage,
		KanikoImage:        s.cfg.KanikoImage,
		PusherImage:        s.cfg.PusherImage,
		Engine:             s.cfg.BuildEngine,
		LayerImage:         s.cfg.LayerImage,
		MaxLayerBytes:      s.cfg.MaxLayerBytes,
		LayerImageVolume:   s.cfg.LayerImageVolume,
		Deadline:           s.cfg.BuildTimeout,
		TTL:                s.cfg.JobTTL,
		Resources:          s.cfg.Resources,
		UserNamespace:      s.cfg.BuildUserNamespace,
		ResolvConf:         resolvConf,
	}
	target, idTarget := r.target, reg.UserHost
	if target != "" {
		idTarget = reg.Hosts.Push + "/" + target
	}
	p.ID = buildjob.ID(buildjob.Inputs{Kind: p.Kind, Source: p.Pinned, File: p.File, Target: idTarget})
	if target == "" {
		target = r.user + ":" + r.kind + "-" + p.ID[:imageTagLen]
	}
	p.Destination = reg.Hosts.Push + "/" + target
	p.Image = reg.Hosts.Pull + "/" + target
	return p, nil
}
