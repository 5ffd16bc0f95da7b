package runtimebuild

import (
	"time"

	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/imagestore"
	"github.com/apache/openserverless-deployer/lib/userregistry"
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
	// credentials, when set, are the content of that temporary Secret.
	credentials *userregistry.PushConfig
	// Attempt tells this Job's context and temporary Secret apart from the
	// leftovers of an earlier Job of the same name, which the garbage
	// collector may not have removed yet: a retried build then needs no
	// right to delete them. Random, chosen before the Job is created.
	Attempt string
	// InsecureRegistries are reached over plain HTTP.
	InsecureRegistries []string

	// The images of the three steps: fetch (warmer), build (Kaniko's
	// executor), push (crane).
	WarmerImage string
	KanikoImage string
	PusherImage string
	Deadline    time.Duration
	TTL         time.Duration
	Resources   config.Resources
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
	if p.credentials != nil {
		return p.objectName()
	}
	return p.PushSecret
}

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

// newPlan makes the Plan of a request from the source resolved to a digest
// and the registry the build pushes to. The build id covers the inputs and
// the destination: a start's target, or for ensure the user's own registry
// host ("" for the platform's, whose ids stay as they were).
func (s *Service) newPlan(reg userregistry.Registry, src imagestore.Source, r request) (Plan, error) {
	if err := checkBaseUser(src.User); err != nil {
		return Plan{}, err
	}
	p := Plan{
		User:               r.user,
		Kind:               r.kind,
		Namespace:          s.cfg.Namespace,
		Source:             src.Name,
		Pinned:             src.Pinned(),
		BaseDigest:         src.Digest,
		BaseUser:           src.User,
		FileName:           r.fileName,
		File:               r.file,
		PullSecret:         s.cfg.RegistrySecret,
		PushSecret:         reg.PushSecret,
		credentials:        reg.PushConfig,
		InsecureRegistries: reg.Insecure,
		WarmerImage:        s.cfg.WarmerImage,
		KanikoImage:        s.cfg.KanikoImage,
		PusherImage:        s.cfg.PusherImage,
		Deadline:           s.cfg.BuildTimeout,
		TTL:                s.cfg.JobTTL,
		Resources:          s.cfg.Resources,
	}
	target, idTarget := r.target, reg.UserHost
	if target != "" {
		idTarget = reg.Hosts.Push + "/" + target
	}
	p.ID = ID(Inputs{Kind: p.Kind, Source: p.Pinned, File: p.File, Target: idTarget})
	if target == "" {
		target = r.user + ":" + r.kind + "-" + p.ID[:imageTagLen]
	}
	p.Destination = reg.Hosts.Push + "/" + target
	p.Image = reg.Hosts.Pull + "/" + target
	return p, nil
}
