package nodeagent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	v1 "k8s.io/api/core/v1"
)

// Image is an image this node can run. There is no image store: a host
// binary stands for the image's program and is placed, read-only, in the
// root of every container of that image, beside what the image's config
// says (entrypoint, working folder, environment) and the few folders and
// files of its filesystem the program relies on.
type Image struct {
	// Binary is the host path of the program.
	Binary string
	// Path is where the program is in the image, e.g. /kaniko/executor.
	Path string
	// Entrypoint, WorkingDir and Env are the image's ENTRYPOINT, WORKDIR and
	// ENV; a container's command, workingDir and env override them.
	Entrypoint []string
	WorkingDir string
	Env        []v1.EnvVar
	// Dirs are folders of the image's filesystem, with their modes.
	Dirs map[string]os.FileMode
	// CABundle is where the image keeps its CA certificates; the host's
	// bundle is copied there. Empty: the image has none.
	CABundle string
}

// kanikoEnv is the environment the Kaniko images set (deploy/Dockerfile of
// Kaniko v1.24.0, shared by the executor and the warmer).
var kanikoEnv = []v1.EnvVar{
	{Name: "PATH", Value: "/usr/local/bin:/kaniko"},
	{Name: "HOME", Value: "/root"},
	{Name: "USER", Value: "root"},
	{Name: "SSL_CERT_DIR", Value: "/kaniko/ssl/certs"},
	{Name: "DOCKER_CONFIG", Value: "/kaniko/.docker/"},
	{Name: "DOCKER_CREDENTIAL_GCR_CONFIG", Value: "/kaniko/.config/gcloud/docker_credential_gcr_config.json"},
}

// KanikoExecutor is the Kaniko executor image
// (gcr.io/kaniko-project/executor) with binary as /kaniko/executor.
func KanikoExecutor(binary string) Image { return kaniko(binary, "/kaniko/executor") }

// KanikoWarmer is the Kaniko warmer image (gcr.io/kaniko-project/warmer)
// with binary as /kaniko/warmer.
func KanikoWarmer(binary string) Image { return kaniko(binary, "/kaniko/warmer") }

func kaniko(binary, path string) Image {
	return Image{
		Binary: binary, Path: path, Entrypoint: []string{path}, WorkingDir: "/workspace", Env: kanikoEnv,
		// Kaniko keeps its own state under /kaniko: the image leaves it writable by anyone.
		Dirs: map[string]os.FileMode{"/kaniko": 0o777, "/kaniko/.docker": 0o755,
			"/kaniko/ssl/certs": 0o755, "/root": 0o700, "/workspace": 0o755},
		CABundle: "/kaniko/ssl/certs/ca-certificates.crt",
	}
}

// Crane is the crane image (gcr.io/go-containerregistry/crane), built by ko
// on a distroless static base, with binary as /ko-app/crane. Go finds the
// base's CA bundle at its usual path, so it needs no SSL_CERT_FILE.
func Crane(binary string) Image {
	return Image{
		Binary: binary, Path: "/ko-app/crane", Entrypoint: []string{"/ko-app/crane"}, WorkingDir: "/",
		Env: []v1.EnvVar{
			{Name: "PATH", Value: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/ko-app"},
			{Name: "HOME", Value: "/home/nonroot"},
		},
		Dirs:     map[string]os.FileMode{"/ko-app": 0o755, "/home/nonroot": 0o700, "/etc/ssl/certs": 0o755},
		CABundle: "/etc/ssl/certs/ca-certificates.crt",
	}
}

// check reports what makes the image unusable.
func (img Image) check(name string) error {
	switch {
	case name == "":
		return errors.New("an image with no name")
	case !filepath.IsAbs(img.Path):
		return fmt.Errorf("image %s: program path %q is not absolute", name, img.Path)
	case img.WorkingDir != "" && !filepath.IsAbs(img.WorkingDir):
		return fmt.Errorf("image %s: working folder %q is not absolute", name, img.WorkingDir)
	}
	if fi, err := os.Stat(img.Binary); err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("image %s: program %q is not a file", name, img.Binary)
	}
	return nil
}

// workDir is the folder a container of this image starts in.
func (img Image) workDir(c *v1.Container) string {
	switch {
	case c.WorkingDir != "":
		return c.WorkingDir
	case img.WorkingDir != "":
		return img.WorkingDir
	}
	return "/"
}

// argv is the command line of container c as the runtime builds it: the
// container's command, else the image's entrypoint, then the container's args.
func (img Image) argv(c *v1.Container) []string {
	cmd := c.Command
	if len(cmd) == 0 {
		cmd = img.Entrypoint
	}
	return append(append([]string(nil), cmd...), c.Args...)
}

// imageNames lists the names of the images, sorted, for messages.
func imageNames(images map[string]Image) string {
	names := make([]string, 0, len(images))
	for n := range images {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
