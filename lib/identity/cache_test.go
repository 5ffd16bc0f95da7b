package identity

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clock is a settable time source for a Cache.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newTestCache() (*Cache, *clock) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := NewCache()
	c.now = clk.now
	return c, clk
}

func TestCacheHitAndMiss(t *testing.T) {
	c, _ := newTestCache()
	c.Put("https://ow", "uuid:key", "alice", time.Minute)

	tests := []struct {
		name, host, token string
		want              string
		hit               bool
	}{
		{"same host and token", "https://ow", "uuid:key", "alice", true},
		{"another token", "https://ow", "uuid:other", "", false},
		{"another host", "https://other", "uuid:key", "", false},
		{"host and token split elsewhere", "https://owuuid", ":key", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := c.Get(tt.host, tt.token, time.Minute)
			assert.Equal(t, tt.hit, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestCacheExpiry(t *testing.T) {
	c, clk := newTestCache()
	c.Put("h", "uuid:key", "alice", time.Minute)

	clk.advance(time.Minute - time.Nanosecond)
	got, ok := c.Get("h", "uuid:key", time.Minute)
	require.True(t, ok, "fresh just before the TTL")
	assert.Equal(t, "alice", got)

	clk.advance(time.Nanosecond)
	_, ok = c.Get("h", "uuid:key", time.Minute)
	assert.False(t, ok, "expired at the TTL")
	assert.Empty(t, c.entries, "an expired entry is dropped when seen")
}

func TestCacheDisabled(t *testing.T) {
	var nilCache *Cache
	nilCache.Put("h", "uuid:key", "alice", time.Minute)
	_, ok := nilCache.Get("h", "uuid:key", time.Minute)
	assert.False(t, ok)

	c := NewCache()
	c.Put("h", "uuid:key", "alice", 0)
	assert.Empty(t, c.entries, "a TTL of zero stores nothing")
	c.Put("h", "uuid:key", "alice", time.Minute)
	_, ok = c.Get("h", "uuid:key", 0)
	assert.False(t, ok, "a TTL of zero finds nothing")
}

func TestCacheKeysAreNotTokens(t *testing.T) {
	c, _ := newTestCache()
	tokens := []string{
		"23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP",
		"uuid-b:secret-b",
	}
	for i, tok := range tokens {
		c.Put("https://ow", tok, "user"+strconv.Itoa(i), time.Minute)
	}
	require.Len(t, c.entries, len(tokens))
	dump := fmt.Sprintf("%#v %+v", c.entries, c.entries)
	for k := range c.entries {
		dump += " " + hex.EncodeToString(k[:]) + " " + string(k[:])
	}
	for _, tok := range tokens {
		_, key, _ := strings.Cut(tok, ":")
		assert.NotContains(t, dump, tok)
		assert.NotContains(t, dump, key, "no part of the key is stored")
		_, ok := c.entries[sha256.Sum256([]byte("https://ow\x00"+tok))]
		assert.True(t, ok, "the entry is under the hash of host and token")
	}
}

func TestCacheIsBounded(t *testing.T) {
	c, clk := newTestCache()
	for i := 0; i < cacheSize+10; i++ {
		c.Put("h", "uuid:"+strconv.Itoa(i), "u"+strconv.Itoa(i), time.Hour)
		clk.advance(time.Millisecond)
	}
	assert.Len(t, c.entries, cacheSize)
	for i := 0; i < 10; i++ {
		_, ok := c.Get("h", "uuid:"+strconv.Itoa(i), time.Hour)
		assert.False(t, ok, "the oldest entry %d made room", i)
	}
	for _, i := range []int{10, cacheSize + 9} {
		got, ok := c.Get("h", "uuid:"+strconv.Itoa(i), time.Hour)
		assert.True(t, ok, "entry %d kept", i)
		assert.Equal(t, "u"+strconv.Itoa(i), got)
	}
}

func TestCacheDropsExpiredBeforeFresh(t *testing.T) {
	c, clk := newTestCache()
	const half = cacheSize / 2
	for i := 0; i < half; i++ {
		c.Put("h", "old:"+strconv.Itoa(i), "old", time.Hour)
	}
	clk.advance(30 * time.Minute)
	for i := 0; i < cacheSize-half; i++ {
		c.Put("h", "new:"+strconv.Itoa(i), "new", time.Hour)
	}
	require.Len(t, c.entries, cacheSize)
	clk.advance(30 * time.Minute) // the old half has expired

	c.Put("h", "one:more", "more", time.Hour)
	assert.Len(t, c.entries, cacheSize-half+1, "every expired entry went, no fresh one")
	for i := 0; i < cacheSize-half; i++ {
		_, ok := c.Get("h", "new:"+strconv.Itoa(i), time.Hour)
		require.True(t, ok, "fresh entry %d kept", i)
	}
}

func TestCacheConcurrentUse(t *testing.T) {
	c := NewCache()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				tok := "uuid:" + strconv.Itoa(g*1000+i)
				c.Put("h", tok, "u", time.Minute)
				c.Get("h", tok, time.Minute)
			}
		}(g)
	}
	wg.Wait()
	assert.Len(t, c.entries, cacheSize)
}

// The TTL is each call's: a process whose settings change trusts a token
// for as long as the current call says, whatever the first call said.
func TestCacheTTLIsEachCalls(t *testing.T) {
	c, clk := newTestCache()
	c.Put("h", "uuid:key", "alice", time.Hour)
	clk.advance(2 * time.Minute)

	_, ok := c.Get("h", "uuid:key", time.Minute)
	assert.False(t, ok, "older than the shorter TTL of this call")
	c.Put("h", "uuid:key", "alice", time.Minute)
	got, ok := c.Get("h", "uuid:key", time.Hour)
	require.True(t, ok)
	assert.Equal(t, "alice", got)
}
