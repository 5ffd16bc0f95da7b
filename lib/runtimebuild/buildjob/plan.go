package buildjob

import (
	"time"

	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/imagestore"
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
	// BaseRun is what a RUN on the base runs with (the layer engine's
	// build step runs /bin/extend the same way).
	BaseRun imagestore.RunConfig

	// FileName is the dependency file's name for the kind; File its content (nil for none).
	FileName string
	File     []byte

	// Destination is where the push step pushes; Image is the same image as users pull it.
	Destination string
	Image       string

	// PullSecret is the platform's dockerconfigjson Secret, with which the
	// fetch step reads the source.
	PullSecret string
	// PushSecret is the dockerconfigjson Secret the push step pushes with:
	// the platform's for the platform's registry, the one the user named for
	// their own; "" pushes anonymously (a user's registry without a Secret
	// of theirs never gets the platform's credentials). A plan that carries
	// its own credentials mounts the temporary Secret of NewSecret instead.
	PushSecret string
	// PushCredentials, when set, are the content of that temporary Secret.
	PushCredentials *imagestore.Credentials
	// Attempt tells this Job's context and temporary Secret apart from the
	// leftovers of an earlier Job of the same name, which the garbage
	// collector may not have removed yet: a retried build then needs no
	// right to delete them. Random, chosen before the Job is created.
	Attempt string
	// InsecureRegistries are reached over plain HTTP.
	InsecureRegistries []string

	// Engine is config.EngineKaniko or config.EngineLayer.
	Engine string
	// The images of Kaniko's three steps: fetch (warmer), build (Kaniko's
	// executor), push (crane); and the layer engine's programs.
	WarmerImage string
	KanikoImage string
	PusherImage string
	LayerImage  string
	// MaxLayerBytes bounds the layer the layer engine pushes.
	MaxLayerBytes int64
	// LayerImageVolume brings the helper in as an image volume of
	// LayerImage, with no tools step.
	LayerImageVolume bool
	Deadline         time.Duration
	TTL              time.Duration
	Resources        config.Resources
	// UserNamespace runs the Pod with hostUsers: false.
	UserNamespace bool
	// ResolvConf is the resolver configuration of the steps that hold a
	// credential: the deployer's own, which reaches the registries it
	// checks sources in. The Pod's /etc/resolv.conf and /etc/hosts are one
	// file each for all its containers, writable by root in any of them:
	// the build step could point the registry's name at a host of its own
	// for the push step that follows. Those steps mount these instead.
	ResolvConf []byte
}

// JobName is the plan's deterministic Job name.
func (p Plan) JobName() string { return JobName(p.User, p.ID) }

// objectName names the objects this Job owns: its context, and its
// temporary Secret.
func (p Plan) objectName() string {
	if p.Attempt == "" {
		return p.JobName()
	}
	return p.JobName() + "-" + p.Attempt
}

// pushSecret is the Secret the push step mounts: the temporary one when the
// plan carries credentials, else PushSecret ("" for none).
func (p Plan) pushSecret() string {
	if p.PushCredentials != nil {
		return p.objectName()
	}
	return p.PushSecret
}
