package stepimages

import (
	"fmt"
	"os"

	"github.com/apache/openserverless-deployer/dev/fixtures"
	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// CABundle is the machine's certificate bundle, copied into every image: it
// also holds the certificate authority this machine's egress presents.
const CABundle = "/etc/ssl/certs/ca-certificates.crt"

// PauseImage is the pause image's repository and tag in the stack's
// registry: the kubelet's default sandbox image, mirrored.
const PauseImage = "pause:3.10"

// stepImage is one image to push: its repository and tag in the stack's
// registry, its one layer and its configuration.
type stepImage struct {
	ref      string // "<repository>:<tag>", without the registry
	contents []content
	config   v1.Config
}

// mirrored is the repository and tag of an upstream image reference without
// its registry, as an operator mirroring it would name it:
// "gcr.io/kaniko-project/executor:v1.24.0" → "kaniko-project/executor:v1.24.0".
func mirrored(upstream string) string {
	tag, err := name.NewTag(upstream, name.StrictValidation)
	if err != nil {
		panic(fmt.Sprintf("default image %q: %v", upstream, err)) // constants of lib/config
	}
	return tag.RepositoryStr() + ":" + tag.TagStr()
}

// kaniko is the image of one of Kaniko's programs (executor or warmer) in
// the layout of upstream's deploy/Dockerfile (kaniko-base), without the
// credential helpers (docker-credential-gcr, -ecr-login, -acr-env): the
// steps are given a Docker config.json instead.
func kaniko(upstream, program, bin string, ca []byte) stepImage {
	return stepImage{
		ref: mirrored(upstream),
		contents: []content{
			{path: "etc", mode: 0o755, dir: true},
			{path: "etc/nsswitch.conf", mode: 0o644, body: []byte(nsswitch)},
			{path: "kaniko", mode: 0o777, dir: true}, // upstream: world-writable, for a non-root run
			{path: "kaniko/.docker", mode: 0o755, dir: true},
			{path: "kaniko/ssl", mode: 0o755, dir: true},
			{path: "kaniko/ssl/certs", mode: 0o755, dir: true},
			{path: "kaniko/ssl/certs/ca-certificates.crt", mode: 0o644, body: ca},
			{path: "workspace", mode: 0o755, dir: true},
			{path: "kaniko/" + program, mode: 0o755, from: bin},
		},
		config: v1.Config{
			Entrypoint: []string{"/kaniko/" + program},
			Env: []string{
				"HOME=/root",
				"USER=root",
				"PATH=/usr/local/bin:/kaniko",
				"SSL_CERT_DIR=/kaniko/ssl/certs",
				"DOCKER_CONFIG=/kaniko/.docker/",
				"DOCKER_CREDENTIAL_GCR_CONFIG=/kaniko/.config/gcloud/docker_credential_gcr_config.json",
			},
			WorkingDir: "/workspace",
		},
	}
}

// nsswitch is Kaniko's /etc/nsswitch.conf: Go's resolver reads the hosts
// file before DNS only when told so.
const nsswitch = "hosts: files dns\n"

// crane is crane's image in the layout ko gives it: the program in /ko-app,
// the certificate bundle where Go looks for it, ko's environment.
func crane(bin string, ca []byte) stepImage {
	return stepImage{
		ref: mirrored(config.DefaultPusherImage),
		contents: []content{
			{path: "etc", mode: 0o755, dir: true},
			{path: "etc/ssl", mode: 0o755, dir: true},
			{path: "etc/ssl/certs", mode: 0o755, dir: true},
			{path: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, body: ca},
			{path: "tmp", mode: 0o1777, dir: true},
			{path: "var", mode: 0o755, dir: true},
			{path: "var/run", mode: 0o755, dir: true},
			{path: "var/run/ko", mode: 0o755, dir: true},
			{path: "ko-app", mode: 0o755, dir: true},
			{path: "ko-app/crane", mode: 0o755, from: bin},
		},
		config: v1.Config{
			Entrypoint: []string{"/ko-app/crane"},
			Env: []string{
				"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/ko-app",
				"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
				"KO_DATA_PATH=/var/run/ko",
			},
		},
	}
}

// pause is the sandbox image: dev/cmd/pause as /pause, run as upstream's
// pause runs, by 65535:65535.
func pause(bin string) stepImage {
	return stepImage{
		ref:      PauseImage,
		contents: []content{{path: "pause", mode: 0o755, from: bin}},
		config:   v1.Config{Entrypoint: []string{"/pause"}, User: "65535:65535"},
	}
}

// layer is the layer engine's image: its two programs in /layer, the first
// step copying the helper out of it into a volume the base image's step
// runs it from, the push step running layerpush, its entrypoint. Like
// crane's, it has the certificate bundle where Go looks for it, /tmp and no
// User: it runs as root.
func layer(helper, push string, ca []byte) stepImage {
	return stepImage{
		ref: mirrored(config.DefaultLayerImage),
		contents: []content{
			{path: "etc", mode: 0o755, dir: true},
			{path: "etc/nsswitch.conf", mode: 0o644, body: []byte(nsswitch)},
			{path: "etc/ssl", mode: 0o755, dir: true},
			{path: "etc/ssl/certs", mode: 0o755, dir: true},
			{path: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, body: ca},
			{path: "tmp", mode: 0o1777, dir: true},
			{path: "layer", mode: 0o755, dir: true},
			{path: "layer/layerhelper", mode: 0o755, from: helper},
			{path: "layer/layerpush", mode: 0o755, from: push},
		},
		config: v1.Config{
			Entrypoint: []string{"/layer/layerpush"},
			Env: []string{
				"PATH=/layer",
				"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
			},
		},
	}
}

// stepImages are the five images, in the order of Images' fields.
func stepImages(bins binaries) ([]stepImage, error) {
	ca, err := os.ReadFile(CABundle)
	if err != nil {
		return nil, fmt.Errorf("reading the machine's certificate bundle: %w", err)
	}
	return []stepImage{
		kaniko(config.DefaultKanikoImage, "executor", bins.executor, ca),
		kaniko(config.DefaultWarmerImage, "warmer", bins.warmer, ca),
		crane(bins.crane, ca),
		pause(bins.pause),
		layer(bins.layerhelper, bins.layerpush, ca),
	}, nil
}

// image assembles s on its cached layer.
func (s stepImage) image(cache string) (v1.Image, error) {
	l, err := cachedLayer(cache, s.contents)
	if err != nil {
		return nil, err
	}
	img, err := fixtures.Assemble(s.config, mutate.Addendum{
		Layer:   l,
		History: v1.History{Created: v1.Time{Time: fixtures.Epoch}, CreatedBy: "stepimages: " + s.ref},
	})
	if err != nil {
		return nil, fmt.Errorf("assembling %s: %w", s.ref, err)
	}
	return img, nil
}
