package buildjob

import (
	"path"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	corev1 "k8s.io/api/core/v1"
)

// The steps of a build Pod, in the order they run. Only fetch and push see
// a credential; build, which runs the user's code, sees none.
const (
	StepFetch = "fetch"
	StepBuild = "build"
	StepPush  = "push"
)

// Paths inside the steps' containers; dev/cmd/kanikoargs lays out its
// sandbox with the exported ones.
const (
	Workspace      = "/workspace"
	CacheDir       = "/cache"
	OutputDir      = "/output"
	imageTar       = OutputDir + "/image.tar"
	warmerConfig   = "/kaniko/.docker" // DOCKER_CONFIG of Kaniko's images
	pusherConfig   = "/docker"         // DOCKER_CONFIG given to the push step
	terminationLog = "/dev/termination-log"
	dockerfileKey  = "Dockerfile"
	hostsKey       = "hosts"
	resolvConfKey  = "resolv.conf"
)

// hostsFile is the /etc/hosts of the steps that hold a credential: they
// reach registries by the resolver alone.
const hostsFile = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"

// nameMounts replace the Pod's shared /etc/hosts and /etc/resolv.conf in a
// step that holds a credential with read-only files of its context (the
// kubelet and containerd do not mount their own over a container's), so
// nothing the build step writes decides where its credential goes. A plan
// without ResolvConf keeps the Pod's.
func nameMounts(p Plan) []corev1.VolumeMount {
	if len(p.ResolvConf) == 0 {
		return nil
	}
	return []corev1.VolumeMount{
		{Name: volContext, MountPath: "/etc/hosts", SubPath: hostsKey, ReadOnly: true},
		{Name: volContext, MountPath: "/etc/resolv.conf", SubPath: resolvConfKey, ReadOnly: true},
	}
}

// Volume names.
const (
	volContext    = "context"
	volCache      = "base"
	volOutput     = "output"
	volPullConfig = "pull-config"
	volPushConfig = "push-config"
)

// droppedCapabilities are taken from every step. NET_RAW, in the
// container runtime's default set, lets a process send raw packets on the
// Pod network: a build could answer ARP for the registry's address on the
// node's bridge and read another build's push credential off the wire. No
// install, Kaniko nor the credential steps need it.
var droppedCapabilities = []corev1.Capability{"NET_RAW"}

// stepSecurity is the security context of every step: the capabilities
// above dropped, nothing added, no privilege.
func stepSecurity() *corev1.SecurityContext {
	return &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Drop: droppedCapabilities}}
}

// fetchStep reads the pinned base into the cache volume with Kaniko's
// warmer and the platform's credentials. It runs nothing of the user's: the
// source passed the source policy and is pinned by digest.
func fetchStep(p Plan) corev1.Container {
	args := []string{"--cache-dir=" + CacheDir, "--image=" + p.Pinned}
	for _, h := range p.InsecureRegistries {
		args = append(args, "--insecure-registry="+h)
	}
	return corev1.Container{
		Name:  StepFetch,
		Image: p.WarmerImage,
		Args:  args,
		VolumeMounts: append([]corev1.VolumeMount{
			{Name: volCache, MountPath: CacheDir},
			{Name: volPullConfig, MountPath: warmerConfig, ReadOnly: true},
		}, nameMounts(p)...),
		SecurityContext:          stepSecurity(),
		Resources:                resources(p),
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
	}
}

// buildStep runs the Dockerfile with Kaniko's executor: the one step that
// executes the user's code (the runtime's /bin/extend and every install
// script it runs), so it has no credential, no token and no Secret volume.
// The base comes from the cache volume (--cache with --cache-dir is what
// makes Kaniko read it there; layer caching is off, so the cache
// repository is never contacted), and the image goes to a tarball for the
// push step.
func buildStep(p Plan) corev1.Container {
	mounts := []corev1.VolumeMount{
		{Name: volContext, MountPath: path.Join(Workspace, dockerfileKey), SubPath: dockerfileKey, ReadOnly: true},
		{Name: volCache, MountPath: CacheDir, ReadOnly: true},
		{Name: volOutput, MountPath: OutputDir},
	}
	if p.FileName != "" {
		mounts = append(mounts, corev1.VolumeMount{Name: volContext, MountPath: path.Join(Workspace, p.FileName), SubPath: p.FileName, ReadOnly: true})
	}
	return corev1.Container{
		Name:                     StepBuild,
		Image:                    p.KanikoImage,
		Args:                     KanikoArgs(p),
		VolumeMounts:             mounts,
		SecurityContext:          stepSecurity(),
		Resources:                resources(p),
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
	}
}

// KanikoArgs returns the build step's arguments, an argv list that no
// shell ever reads.
func KanikoArgs(p Plan) []string {
	return []string{
		"--dockerfile=" + path.Join(Workspace, dockerfileKey),
		"--context=dir://" + Workspace,
		"--destination=" + p.Destination,
		"--no-push",
		"--tar-path=" + imageTar,
		"--cache=true",
		"--cache-dir=" + CacheDir,
		"--cache-repo=" + cacheRepo(p.Destination),
		"--cache-run-layers=false",
		"--cache-copy-layers=false",
		// Without it Kaniko first checks that it may push to the cache
		// repository, which a step with no credential may not.
		"--no-push-cache",
		"--snapshot-mode=redo",
		"--label=org.opencontainers.image.base.name=" + p.Source,
		"--label=org.opencontainers.image.base.digest=" + p.BaseDigest,
	}
}

// cacheRepo is the repository Kaniko would keep layers in. Kaniko requires
// one with --cache and --no-push; with run and copy layer caching off it is
// never contacted, and it names the user's own repository all the same.
func cacheRepo(destination string) string {
	repo := destination
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	return repo + "/cache"
}

// pushStep pushes the tarball with crane and writes "<repo>@<digest>" to
// the termination log, where the Pod status carries it back.
func pushStep(p Plan) corev1.Container {
	args := []string{"push", imageTar, p.Destination, "--image-refs=" + terminationLog}
	if ref, err := name.ParseReference(p.Destination); err == nil && slices.Contains(p.InsecureRegistries, ref.Context().RegistryStr()) {
		args = append(args, "--insecure")
	}
	mounts := []corev1.VolumeMount{{Name: volOutput, MountPath: OutputDir, ReadOnly: true}}
	if p.pushSecret() != "" {
		mounts = append(mounts, corev1.VolumeMount{Name: volPushConfig, MountPath: pusherConfig, ReadOnly: true})
	}
	mounts = append(mounts, nameMounts(p)...)
	return corev1.Container{
		Name:                     StepPush,
		Image:                    p.PusherImage,
		Args:                     args,
		Env:                      []corev1.EnvVar{{Name: "DOCKER_CONFIG", Value: pusherConfig}},
		VolumeMounts:             mounts,
		SecurityContext:          stepSecurity(),
		Resources:                resources(p),
		TerminationMessagePath:   terminationLog,
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
	}
}

// volumes are the Pod's volumes: the context (ConfigMap and Secret volumes
// are folders of symlinks into "..data/", so a file Kaniko copies, or one
// in /etc, is mounted on its own with subPath, which the kubelet resolves to
// the file itself), the base and the output shared by the steps, and the
// registry credentials. The layer engine's helper reads the dependency file
// from a volume of its own, and the credentials are mounted as the folder
// DOCKER_CONFIG names, which a program reads through the symlink: the
// kubelet sets a volume up while it waits for all of them, before the Pod's
// first step, but bind-mounts a subPath (two runs of mount(8), ~35 ms) just
// before the step that has it, between one step and the next.
func volumes(p Plan) []corev1.Volume {
	items := []corev1.KeyToPath{{Key: dockerfileKey, Path: dockerfileKey}}
	if p.FileName != "" {
		items = append(items, corev1.KeyToPath{Key: p.FileName, Path: p.FileName})
	}
	if len(p.ResolvConf) > 0 {
		items = append(items, corev1.KeyToPath{Key: hostsKey, Path: hostsKey}, corev1.KeyToPath{Key: resolvConfKey, Path: resolvConfKey})
	}
	secret := func(vol, name string) corev1.Volume {
		return corev1.Volume{Name: vol, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: name,
			Items:      []corev1.KeyToPath{{Key: corev1.DockerConfigJsonKey, Path: "config.json"}},
		}}}
	}
	configMap := func(vol string, items []corev1.KeyToPath) corev1.Volume {
		return corev1.Volume{Name: vol, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: p.objectName()},
			Items:                items,
		}}}
	}
	vols := []corev1.Volume{
		configMap(volContext, items),
		{Name: volOutput, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		secret(volPullConfig, p.PullSecret),
	}
	// Kaniko's fetch step fills the base volume; the layer engine's tools
	// step brings its helper in one, or the node mounts the layer image.
	switch {
	case !p.layerEngine():
		vols = append(vols, corev1.Volume{Name: volCache, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	case p.LayerImageVolume:
		vols = append(vols, corev1.Volume{Name: volTools, VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{
			Reference: p.LayerImage, PullPolicy: corev1.PullIfNotPresent,
		}}})
	default:
		vols = append(vols, corev1.Volume{Name: volTools, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	}
	if p.layerEngine() && p.FileName != "" {
		vols = append(vols, configMap(volInput, []corev1.KeyToPath{{Key: p.FileName, Path: p.FileName}}))
	}
	if s := p.pushSecret(); s != "" {
		vols = append(vols, secret(volPushConfig, s))
	}
	return vols
}
