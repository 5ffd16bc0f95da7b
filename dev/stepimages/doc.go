// Package stepimages makes the images a build Pod's steps and the local
// node's sandboxes run, as real images in the stack's registry, built from
// the pinned sources in the layout and entrypoint of the upstream images, and
// pushes them. Push pushes all five; PauseTarball writes the pause image as a
// Docker archive for `ctr -n k8s.io images import`, since containerd must
// have its sandbox image without credentials for the registry.
//
// Each image is linux/amd64 (Docker schema 2), has one layer, and every file
// in it is owned by 0:0 and dated fixtures.Epoch, so the same programs make
// the same digests:
//
//   - <host>/kaniko-project/executor:v1.24.0 and
//     <host>/kaniko-project/warmer:v1.24.0: /kaniko/executor or
//     /kaniko/warmer (tools/build.sh kaniko, warmer), the entrypoint;
//     /kaniko (mode 0777), the empty /kaniko/.docker/,
//     /kaniko/ssl/certs/ca-certificates.crt (the machine's bundle, CABundle,
//     which also trusts the certificate authority of this machine's egress),
//     /etc/nsswitch.conf ("hosts: files dns"), /workspace, the working
//     directory; Env HOME=/root, USER=root, PATH=/usr/local/bin:/kaniko,
//     SSL_CERT_DIR=/kaniko/ssl/certs, DOCKER_CONFIG=/kaniko/.docker/,
//     DOCKER_CREDENTIAL_GCR_CONFIG=/kaniko/.config/gcloud/docker_credential_gcr_config.json.
//     That is upstream's deploy/Dockerfile (kaniko-base), less its credential
//     helpers (/kaniko/docker-credential-gcr, -ecr-login, -acr-env): the
//     steps are given a Docker config.json, never a cloud's helper.
//   - <host>/go-containerregistry/crane:v0.22.1: /ko-app/crane (tools/build.sh
//     crane), the entrypoint, as ko lays it out; the machine's bundle at
//     /etc/ssl/certs/ca-certificates.crt, /tmp (1777), /var/run/ko; Env
//     PATH=…:/ko-app, SSL_CERT_FILE, KO_DATA_PATH. No User: it runs as root.
//   - <host>/pause:3.10 (PauseImage, the kubelet's default sandbox image
//     mirrored, though the program is ours): /pause, the entrypoint, built
//     static from dev/cmd/pause; User 65535:65535, as upstream's.
//   - <host>/apache/openserverless-deployer/layer:0.1.0, the layer engine's
//     image: /layer/layerhelper and /layer/layerpush, built static from
//     cmd/layerhelper and cmd/layerpush, the entrypoint layerpush; the
//     machine's bundle at /etc/ssl/certs/ca-certificates.crt,
//     /etc/nsswitch.conf ("hosts: files dns"), /tmp (1777); Env PATH=/layer,
//     SSL_CERT_FILE. No User: it runs as root.
//
// The repositories and tags of Kaniko's, crane's and the layer engine's
// images are those of their defaults without the registry, as an operator
// mirroring them names them; tools/build.sh pins the same versions.
//
// Everything is made once per machine in the tool cache
// (~/.cache/openserverless-deployer, or $DEPLOYER_CACHE): the programs in
// bin/ (pause as pause-<hash of its source>), and each image's gzip layer
// with its digests in stepimages/<key>/, the key being the layer's contents
// (a program by its path, size and time, as tools/build.sh names binaries
// by version). The layer engine's programs change with the repository's
// code, so every Push builds them (Go's build cache keeps that to a link),
// hashes them and keeps each as bin/<name>-<hash of its content>: unchanged
// code makes the same file, and its layer is the cached one. Apart from
// them, a warm Push reads no program and hashes nothing: it uploads the
// layers, which the registry skips when it has them.
//
// Measured on this 2-core machine (shared), pushing to a fresh Debian
// registry on loopback: the programs weigh 98 MB and the layers 32 MB
// compressed (executor 17.4, warmer 9.7, crane 5.0, pause 0.7). Push cold,
// with the layers to compress and pause to build, took 4.9 s (building
// Kaniko's executor and warmer and crane with tools/build.sh first takes
// about 6 min once per machine); Push warm 0.5–0.9 s; a second Push to the
// same registry 0.06–0.12 s. Building the layer engine's two programs adds
// about 1 s of CPU to every Push (3.4–3.8 s of wall time on the machine
// loaded by other work); their layer (10 MB of programs) is 4.5 MB
// compressed. TestPush runs in 10 s warm.
package stepimages
