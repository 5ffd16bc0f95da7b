package userregistry

import (
	"reflect"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/apache/openserverless-deployer/lib/imagestore"
)

// PlatformTTL is how long a warm process's builds (Selector.Reusing) reuse
// the platform registry's settings they read: the operator's hosts and the
// platform Secret's credentials. A burst of calls (a deploy ensures all its
// actions at once) reads them once instead of twice a call, and a change
// the operator makes is seen within it. Only what was read without error
// is kept.
const PlatformTTL = 5 * time.Second

// platformKey names one platform registry's settings in one cluster: the
// client (one per cluster and identity in a process, kube.Client) and what
// the settings read.
type platformKey struct {
	client                        uintptr
	namespace, secret, push, pull string
}

type platformRead struct {
	// client holds the keyed client, so that its address names no other
	// client while the read is kept.
	client kubernetes.Interface
	hosts  imagestore.Hosts
	creds  *imagestore.Credentials
	at     time.Time
}

var (
	platformMu    sync.Mutex
	platformReads = map[platformKey]platformRead{}
	// now is the cache's clock; tests move it.
	now = time.Now
)

// key returns the cache key of the selector's platform settings, or false
// when its client has no identity to key on (not a pointer).
func (s *Selector) key() (platformKey, bool) {
	v := reflect.ValueOf(s.client)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return platformKey{}, false
	}
	return platformKey{v.Pointer(), s.cfg.Namespace, s.cfg.RegistrySecret, s.cfg.RegistryPushHost, s.cfg.RegistryPullHost}, true
}

// cachedPlatform returns what was read for k less than PlatformTTL ago.
func cachedPlatform(k platformKey) (platformRead, bool) {
	platformMu.Lock()
	defer platformMu.Unlock()
	r, ok := platformReads[k]
	if !ok || now().Sub(r.at) >= PlatformTTL {
		return platformRead{}, false
	}
	return r, true
}

// keepPlatform records what was read for k, and drops what has expired.
func keepPlatform(k platformKey, r platformRead) {
	platformMu.Lock()
	defer platformMu.Unlock()
	for old, read := range platformReads {
		if now().Sub(read.at) >= PlatformTTL {
			delete(platformReads, old)
		}
	}
	platformReads[k] = r
}
