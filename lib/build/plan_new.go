package build

import "github.com/apache/openserverless-deployer/lib/registry"

// plan fills the parts of a Plan that come from the configuration and the
// resolved source; the caller sets the user, id and image names.
func (s *Service) plan(reg registryAccess, src registry.Source, kind, fileName string, file []byte) Plan {
	return Plan{
		Kind:               kind,
		Namespace:          s.cfg.Namespace,
		Source:             src.Name,
		Pinned:             src.Pinned(),
		BaseDigest:         src.Digest,
		BaseUser:           src.User,
		FileName:           fileName,
		File:               file,
		Secret:             reg.secret,
		credentials:        reg.credentials,
		InsecureRegistries: s.insecureRegistries(reg.platform),
		Cache:              s.cfg.BuildCache,
		KanikoImage:        s.cfg.KanikoImage,
		Deadline:           s.cfg.BuildTimeout,
		TTL:                s.cfg.JobTTL,
		Resources:          s.cfg.Resources,
	}
}
