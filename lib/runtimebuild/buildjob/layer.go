package buildjob

import (
	"path"
	"slices"
	"strconv"

	"github.com/google/go-containerregistry/pkg/name"
	corev1 "k8s.io/api/core/v1"

	"github.com/apache/openserverless-deployer/lib/config"
)

// The layer engine's step that brings the helper into the Pod; its build
// and push steps are named as Kaniko's.
const StepTools = "tools"

// Paths of the layer engine. The build step's image is the user's base, so
// its mounts sit under one folder a runtime is unlikely to have; they are
// mount points, which the helper leaves out of the layer.
const (
	layerDir        = "/.deployer"
	layerToolsDir   = layerDir + "/bin"
	layerInputDir   = layerDir + "/in"
	layerOutputDir  = layerDir + "/out"
	layerHelper     = "/layer/layerhelper" // in the layer image
	layerPusher     = "/layer/layerpush"
	layerTarName    = "layer.tar" // lib/layer.FileName
	layerPullConfig = "/pull"     // the push step's DOCKER_CONFIG for the base
	volTools        = "tools"
	volInput        = "input" // the dependency file alone, for the build step
)

// layerSteps are the layer engine's steps: tools copies the helper into a
// volume (none with an image volume of the layer image: the node mounts
// it); build runs it in the base image itself, as root (the
// Dockerfile's USER root), with the base's own environment, with no
// credential, no token and no Secret volume; push appends the layer it
// wrote to the base and pushes, with the push credential (and the
// platform's pull credential to read a base on another registry). A build
// without a file has nothing to run: push alone writes the base with the
// new config.
func layerSteps(p Plan) (init, main []corev1.Container) {
	push := layerPushStep(p)
	if p.FileName == "" {
		return nil, []corev1.Container{push}
	}
	helper := path.Join(layerToolsDir, path.Base(layerHelper))
	if p.LayerImageVolume {
		helper = path.Join(layerToolsDir, layerHelper) // the whole image is mounted
	}
	args := []string{
		"-file", path.Join(layerInputDir, p.FileName), "-name", p.FileName,
		"-out", layerOutputDir, "-workdir", p.BaseRun.WorkingDir,
	}
	for _, kv := range p.BaseRun.Env {
		args = append(args, "-env", kv)
	}
	for _, s := range p.BaseRun.Shell {
		args = append(args, "-shell", s)
	}
	build := corev1.Container{
		Name:    StepBuild,
		Image:   p.Pinned,
		Command: []string{helper},
		Args:    args,
		VolumeMounts: []corev1.VolumeMount{
			{Name: volTools, MountPath: layerToolsDir, ReadOnly: true},
			{Name: volInput, MountPath: layerInputDir, ReadOnly: true},
			{Name: volOutput, MountPath: layerOutputDir},
		},
		SecurityContext:          asRoot(stepSecurity()),
		Resources:                resources(p),
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
	}
	if p.LayerImageVolume {
		return []corev1.Container{build}, []corev1.Container{push}
	}
	tools := corev1.Container{
		Name:                     StepTools,
		Image:                    p.LayerImage,
		Command:                  []string{layerHelper, "-copy-to", layerToolsDir},
		VolumeMounts:             []corev1.VolumeMount{{Name: volTools, MountPath: layerToolsDir}},
		SecurityContext:          stepSecurity(),
		Resources:                resources(p),
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
	}
	return []corev1.Container{tools, build}, []corev1.Container{push}
}

// asRoot runs a step as root, user and group, as the Dockerfile's RUN runs
// after its USER root, whatever user the base image names.
func asRoot(sc *corev1.SecurityContext) *corev1.SecurityContext {
	sc.RunAsUser, sc.RunAsGroup = ptr(int64(0)), ptr(int64(0))
	return sc
}

// layerPushStep runs the layer engine's push program, which writes
// "<repo>@<digest>" to the termination log.
func layerPushStep(p Plan) corev1.Container {
	user := p.BaseUser
	if user == "" && p.FileName != "" {
		user = DefaultUser // the Dockerfile's USER after RUN
	}
	args := []string{"-base", p.Pinned, "-base-name", p.Source, "-destination", p.Destination,
		"-base-config", path.Join(layerPullConfig, "config.json"), "-termination-log", terminationLog}
	if user != "" {
		args = append(args, "-user", user)
	}
	mounts := []corev1.VolumeMount{{Name: volPullConfig, MountPath: layerPullConfig, ReadOnly: true}}
	if p.FileName != "" {
		args = append(args, "-layer", path.Join(OutputDir, layerTarName), "-max-bytes", strconv.FormatInt(p.MaxLayerBytes, 10))
		mounts = append(mounts, corev1.VolumeMount{Name: volOutput, MountPath: OutputDir, ReadOnly: true})
	}
	var insecure []string
	for _, r := range []string{p.Pinned, p.Destination} {
		if ref, err := name.ParseReference(r); err == nil {
			if host := ref.Context().RegistryStr(); slices.Contains(p.InsecureRegistries, host) && !slices.Contains(insecure, host) {
				insecure = append(insecure, host)
				args = append(args, "-insecure-registry", host)
			}
		}
	}
	if p.pushSecret() != "" {
		mounts = append(mounts, corev1.VolumeMount{Name: volPushConfig, MountPath: pusherConfig, ReadOnly: true})
	}
	mounts = append(mounts, nameMounts(p)...)
	return corev1.Container{
		Name:                     StepPush,
		Image:                    p.LayerImage,
		Command:                  []string{layerPusher},
		Args:                     args,
		Env:                      []corev1.EnvVar{{Name: "DOCKER_CONFIG", Value: pusherConfig}},
		VolumeMounts:             mounts,
		SecurityContext:          stepSecurity(),
		Resources:                resources(p),
		TerminationMessagePath:   terminationLog,
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
	}
}

// layerEngine reports whether a plan builds with the layer engine.
func (p Plan) layerEngine() bool { return p.Engine == config.EngineLayer }
