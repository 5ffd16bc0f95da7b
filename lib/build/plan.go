package build

import (
	"time"

	"github.com/apache/openserverless-deployer/lib/config"
)

// Plan is everything needed to write one build Job: the validated request,
// the resolved source and registry, and the settings that shape the Job.
type Plan struct {
	ID        string
	User      string
	Kind      string
	Namespace string

	// Source is the base image as given; Pinned is "repository@digest".
	Source     string
	Pinned     string
	BaseDigest string
	BaseUser   string

	// FileName is the dependency file's name for the kind; File its content (nil for none).
	FileName string
	File     []byte

	// Destination is where Kaniko pushes; Image is the same image as users pull it.
	Destination string
	Image       string

	// Secret is the dockerconfigjson Secret Kaniko pushes with, unless the
	// plan carries its own credentials: the Job then mounts the temporary
	// Secret named after it (NewSecret).
	Secret string
	// credentials, when set, are the content of that temporary Secret.
	credentials *pushCredentials
	// Cache turns on Kaniko's layer cache, in the destination's repository + "/cache".
	Cache bool
	// InsecureRegistries are reached over plain HTTP.
	InsecureRegistries []string

	KanikoImage string
	Deadline    time.Duration
	TTL         time.Duration
	Resources   config.Resources
}

// JobName is the plan's deterministic Job name.
func (p Plan) JobName() string { return JobName(p.User, p.ID) }

// pushSecret is the Secret the Job mounts: the temporary one, named after
// the Job, when the plan carries credentials, else Secret.
func (p Plan) pushSecret() string {
	if p.credentials != nil {
		return p.JobName()
	}
	return p.Secret
}
