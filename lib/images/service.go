package images

import (
	"github.com/apache/openserverless-deployer/lib/imagestore"
)

// Service lists and deletes users' images in one registry.
type Service struct {
	client *imagestore.Client
	hosts  imagestore.Hosts
}

// New returns a Service over client, for the images pushed to hosts.Push
// and pulled from hosts.Pull.
func New(client *imagestore.Client, hosts imagestore.Hosts) *Service {
	return &Service{client: client, hosts: hosts}
}

// Image is one tag of a user's repository.
type Image struct {
	// Tag is the tag, Digest the digest of the manifest it points at.
	Tag    string `json:"tag"`
	Digest string `json:"digest"`
	// Image is the reference to run it with: <pull host>/<user>:<tag>.
	Image string `json:"image"`
}

// repository is where the user's images are pushed.
func (s *Service) repository(user string) string { return s.hosts.Push + "/" + user }

// image is the reference a user pulls tag with.
func (s *Service) image(user, tag string) string { return s.hosts.Pull + "/" + user + ":" + tag }
