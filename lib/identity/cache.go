package identity

import (
	"crypto/sha256"
	"sync"
	"time"
)

// cacheSize bounds the verified tokens one warm process remembers.
const cacheSize = 1024

// Cache remembers verified tokens for a TTL, so a warm process does not ask
// OpenWhisk again for every call. Entries are keyed by the SHA-256 of the API
// host and the token, never by the token. It is safe for concurrent use and
// holds at most 1024 entries, dropping expired then oldest ones. A nil Cache,
// or one with a TTL of zero, remembers nothing.
type Cache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[[sha256.Size]byte]cacheEntry
}

type cacheEntry struct {
	user    string
	expires time.Time
}

// NewCache returns a Cache whose entries live for ttl.
func NewCache(ttl time.Duration) *Cache {
	return &Cache{ttl: ttl, now: time.Now, entries: map[[sha256.Size]byte]cacheEntry{}}
}

// cacheKey hashes the API host and the token; the NUL keeps "a"+"bc" and
// "ab"+"c" apart.
func cacheKey(apiHost, token string) [sha256.Size]byte {
	return sha256.Sum256([]byte(apiHost + "\x00" + token))
}

// Get returns the user verified for token at apiHost, if still fresh.
func (c *Cache) Get(apiHost, token string) (string, bool) {
	if c == nil || c.ttl <= 0 {
		return "", false
	}
	k := cacheKey(apiHost, token)
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		return "", false
	}
	if !c.now().Before(e.expires) {
		delete(c.entries, k)
		return "", false
	}
	return e.user, true
}

// Put remembers that token at apiHost belongs to user.
func (c *Cache) Put(apiHost, token, user string) {
	if c == nil || c.ttl <= 0 {
		return
	}
	k := cacheKey(apiHost, token)
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if _, ok := c.entries[k]; !ok && len(c.entries) >= cacheSize {
		c.evict(now)
	}
	c.entries[k] = cacheEntry{user: user, expires: now.Add(c.ttl)}
}

// evict drops the expired entries, or else the oldest one: with one TTL for
// all, the oldest is the one that expires first.
func (c *Cache) evict(now time.Time) {
	var oldest [sha256.Size]byte
	var oldestExpiry time.Time
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
			continue
		}
		if oldestExpiry.IsZero() || e.expires.Before(oldestExpiry) {
			oldest, oldestExpiry = k, e.expires
		}
	}
	if len(c.entries) >= cacheSize {
		delete(c.entries, oldest)
	}
}
