package buildjob

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// Version names the recipe (Dockerfile and Kaniko arguments) a build id
// stands for; changing the recipe changes it, so old images are not reused.
const Version = "openserverless-deployer/build/v1"

// Inputs are what a build's result depends on.
type Inputs struct {
	Kind string
	// Source is the base image pinned by digest ("repo@sha256:…").
	Source string
	// File is the dependency file; nil for none.
	File []byte
	// Target is the destination a start names ("user:tag"); empty for ensure,
	// whose image name derives from the id.
	Target string
}

// ID returns the build id: the SHA-256, in hex, of the canonical form of the
// inputs. Each field is on its own line and the file enters by its own
// SHA-256, so no two different inputs share a canonical form.
func ID(in Inputs) string {
	file := "none"
	if in.File != nil {
		sum := sha256.Sum256(in.File)
		file = "sha256:" + hex.EncodeToString(sum[:])
	}
	canonical := fmt.Sprintf("%s\nkind=%s\nsource=%s\ntarget=%s\nfile=%s\n", Version, in.Kind, in.Source, in.Target, file)
	sum := sha256.Sum256([]byte(canonical))
	return hex.EncodeToString(sum[:])
}

// idPrefixLen is how much of the id the Job name and the label carry: 64
// bits in the name is plenty among one user's builds; the label, limited to
// 63 characters, carries 32 hex digits (128 bits).
const (
	namePrefixLen  = 16
	labelPrefixLen = 32
)

// LabelID is the build-id label value for an id.
func LabelID(id string) string { return id[:min(len(id), labelPrefixLen)] }

var notSlug = regexp.MustCompile(`[^a-z0-9-]+`)

// userHashLen is how much of the SHA-256 of the user the Job name carries.
const userHashLen = 10

// maxSlug keeps "build-" + slug + "-" + user hash + "-" + id prefix within
// 63 characters.
const maxSlug = 63 - len("build-") - 1 - userHashLen - 1 - namePrefixLen

// JobName returns the build Job's name, "build-<user slug>-<user
// hash>-<id prefix>": a valid DNS label of at most 63 characters, the same
// for the same user and id. The slug only makes the name readable (users
// "a.b" and "a-b" share one); the hash of the full user name keeps two
// users' names apart.
func JobName(user, id string) string {
	slug := strings.Trim(notSlug.ReplaceAllString(strings.ToLower(user), "-"), "-")
	slug = strings.Trim(slug[:min(len(slug), maxSlug)], "-")
	sum := sha256.Sum256([]byte(user))
	h := hex.EncodeToString(sum[:])[:userHashLen]
	if slug != "" {
		h = slug + "-" + h
	}
	return "build-" + h + "-" + id[:namePrefixLen]
}
