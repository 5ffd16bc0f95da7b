package imagestore

// Store is one registry as a user sees it: builds push to Hosts.Push,
// users pull from Hosts.Pull, and Client holds the credentials for both.
// What it lists and deletes are a user's images: the tags of their own
// repository, <push host>/<user>. It never names another user's
// repository: the repository is always the caller's, and a tag cannot hold
// a path.
type Store struct {
	Hosts  Hosts
	Client *Client
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
func (s Store) repository(user string) string { return s.Hosts.Push + "/" + user }

// image is the reference a user pulls tag with.
func (s Store) image(user, tag string) string { return s.Hosts.Pull + "/" + user + ":" + tag }
