// Package imagestore is the deployer's view of the container registry: which
// host builds push to and users pull from, the credentials of the
// dockerconfigjson Secret, and what an image reference resolves to (its
// digest and the user its config runs as). It talks to the registry with
// go-containerregistry and to Kubernetes through a kubernetes.Interface.
package imagestore
