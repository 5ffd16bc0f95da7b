package imagestore

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// A warm action process keeps one remote.Puller per registry and
// credential. Without it every read starts over: a ping of /v2/ to learn
// the auth scheme (and a token exchange on token registries) before the
// request itself, each an authenticated round trip that an htpasswd
// registry checks with bcrypt. With it, a warm process pings once and each
// later HEAD is one request.
//
// The key is the credential the keychain gives for the registry, so a
// changed Secret gets a new Puller, and one credential never serves
// another's reads. A Puller remembers each repository it has read, so it
// is replaced after pullerLifetime, and the whole set is dropped at
// maxPullers: both bound what a long-lived process holds.
const (
	pullerLifetime = 10 * time.Minute
	maxPullers     = 64
)

type pullerKey struct {
	registry name.Registry // its host and scheme
	auth     [32]byte      // sha256 of the credential's JSON
	timeout  time.Duration // which shared transport
}

type keptPuller struct {
	puller *remote.Puller
	made   time.Time
}

var pullers = struct {
	sync.Mutex
	m map[pullerKey]keptPuller
}{m: map[pullerKey]keptPuller{}}

// reuse returns the remote option that reads target's registry through
// the process's Puller for the credential c's keychain gives it, or
// nothing when c has a transport of its own (tests) or its credential
// cannot be read (the call then authenticates as it would without reuse,
// and reports the error itself).
func (c *Client) reuse(ctx context.Context, reg name.Registry) []remote.Option {
	if !c.sharedTransport {
		return nil
	}
	auth, err := authn.Resolve(ctx, c.keychain, reg)
	if err != nil {
		return nil
	}
	cfg, err := authn.Authorization(ctx, auth)
	if err != nil {
		return nil
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil
	}
	key := pullerKey{registry: reg, auth: sha256.Sum256(raw), timeout: c.timeout}

	pullers.Lock()
	defer pullers.Unlock()
	if kept, ok := pullers.m[key]; ok && time.Since(kept.made) < pullerLifetime {
		return []remote.Option{remote.Reuse(kept.puller)}
	}
	p, err := remote.NewPuller(remote.WithAuth(auth), remote.WithTransport(c.transport))
	if err != nil {
		return nil
	}
	if len(pullers.m) >= maxPullers {
		clear(pullers.m)
	}
	pullers.m[key] = keptPuller{puller: p, made: time.Now()}
	return []remote.Option{remote.Reuse(p)}
}
