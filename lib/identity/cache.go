package identity

import (
	"crypto/sha256"
	"sync"
	"time"
)

// cacheSize bounds the verified tokens one warm process remembers.
const cacheSize = 1024

// Cache remembers verified tokens, so a warm process does not ask OpenWhisk
// again for every call. Entries are keyed by the SHA-256 of the API host and
// the token, never by the token. It is safe for concurrent use and holds at
// most 1024 entries, dropping expired then oldest ones. The TTL is given by
// each call, not fixed when the Cache is made: a process serves activations
// whose settings say how long a token stays trusted. A nil Cache, or a TTL
// of zero, remembers nothing.
type Cache struct {
	now func() time.Time

	mu      sync.Mutex
	entries map[[sha256.Size]byte]cacheEntry
}

type cacheEntry struct {
	user     string
	verified time.Time
}

// NewCache returns an empty Cache.
func NewCache() *Cache {
	return &Cache{now: time.Now, entries: map[[sha256.Size]byte]cacheEntry{}}
}

// cacheKey hashes the API host and the token; the NUL keeps "a"+"bc" and
// "ab"+"c" apart.
func cacheKey(apiHost, token string) [sha256.Size]byte {
	return sha256.Sum256([]byte(apiHost + "\x00" + token))
}

// Get returns the user verified for token at apiHost less than ttl ago.
func (c *Cache) Get(apiHost, token string, ttl time.Duration) (string, bool) {
	if c == nil || ttl <= 0 {
		return "", false
	}
	k := cacheKey(apiHost, token)
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		return "", false
	}
	if !c.now().Before(e.verified.Add(ttl)) {
		delete(c.entries, k)
		return "", false
	}
	return e.user, true
}

// Put remembers that token at apiHost belongs to user, for calls with a TTL
// of ttl; with a ttl of zero it remembers nothing.
func (c *Cache) Put(apiHost, token, user string, ttl time.Duration) {
	if c == nil || ttl <= 0 {
		return
	}
	k := cacheKey(apiHost, token)
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if _, ok := c.entries[k]; !ok && len(c.entries) >= cacheSize {
		c.evict(now.Add(-ttl))
	}
	c.entries[k] = cacheEntry{user: user, verified: now}
}

// evict drops the entries verified before cutoff, or else the oldest one.
func (c *Cache) evict(cutoff time.Time) {
	var oldest [sha256.Size]byte
	var oldestAt time.Time
	for k, e := range c.entries {
		if !e.verified.After(cutoff) {
			delete(c.entries, k)
			continue
		}
		if oldestAt.IsZero() || e.verified.Before(oldestAt) {
			oldest, oldestAt = k, e.verified
		}
	}
	if len(c.entries) >= cacheSize {
		delete(c.entries, oldest)
	}
}
