package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/kubernetes/scheme"
)

// counter counts the requests that pass through its transport, by verb.
type counter struct {
	mu       sync.Mutex
	calls    map[string]int
	statuses map[int]int
	busy     map[string]time.Duration // summed round trips, by verb
	inFlight int
	maxIn    int
	jobLists int          // lists of Jobs, among calls["list"]
	listed   atomic.Int64 // bytes of list answers
	// lists keeps the bodies of list answers, when keepLists, for take to
	// count their objects after the call it measured.
	keepLists bool
	lists     []*bytes.Buffer
}

func newCounter() *counter {
	return &counter{calls: map[string]int{}, statuses: map[int]int{}, busy: map[string]time.Duration{}}
}

// wrap is a rest.Config WrapTransport.
func (c *counter) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		v := verb(req)
		c.mu.Lock()
		c.calls[v]++
		if v == "list" && strings.HasSuffix(req.URL.Path, "/jobs") {
			c.jobLists++
		}
		c.inFlight++
		c.maxIn = max(c.maxIn, c.inFlight)
		c.mu.Unlock()
		began := time.Now()
		resp, err := next.RoundTrip(req)
		c.mu.Lock()
		c.inFlight--
		c.busy[v] += time.Since(began)
		if err == nil {
			c.statuses[resp.StatusCode]++
		}
		c.mu.Unlock()
		if err == nil && v == "list" {
			body := countingBody{ReadCloser: resp.Body, n: &c.listed}
			if c.keepLists {
				body.copy = &bytes.Buffer{}
				c.mu.Lock()
				c.lists = append(c.lists, body.copy)
				c.mu.Unlock()
			}
			resp.Body = body
		}
		return resp, err
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// countingBody adds what is read from it to n, and keeps a copy when copy
// is set.
type countingBody struct {
	io.ReadCloser
	n    *atomic.Int64
	copy *bytes.Buffer
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	if b.copy != nil {
		b.copy.Write(p[:n])
	}
	return n, err
}

// verb names a request as the API server's audit log does: a GET of a
// collection is a list, of one object a get.
func verb(req *http.Request) string {
	switch req.Method {
	case http.MethodGet:
		if req.URL.Query().Get("watch") == "true" {
			return "watch"
		}
		if collection(req.URL.Path) {
			return "list"
		}
		return "get"
	case http.MethodPost:
		return "create"
	case http.MethodPut:
		return "update"
	case http.MethodPatch:
		return "patch"
	case http.MethodDelete:
		if collection(req.URL.Path) {
			return "deletecollection"
		}
		return "delete"
	}
	return strings.ToLower(req.Method)
}

// collection reports whether a resource path names a collection:
// /api/v1/<resource>, /apis/<group>/<version>/<resource>, either with
// namespaces/<ns>/ before the resource.
func collection(path string) bool {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	at := 2 // the resource, after api/v1
	if len(parts) > 0 && parts[0] == "apis" {
		at = 3
	}
	if len(parts) > at+2 && parts[at] == "namespaces" {
		at += 2
	}
	return len(parts) == at+1
}

// report is what the counter saw, one verb a line.
func (c *counter) report() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	verbs := make([]string, 0, len(c.calls))
	for v := range c.calls {
		verbs = append(verbs, v)
	}
	sort.Strings(verbs)
	var lines []string
	for _, v := range verbs {
		n := c.calls[v]
		lines = append(lines, fmt.Sprintf("%-7s %5d calls, mean round trip %s", v, n, (c.busy[v]/time.Duration(n)).Round(10*time.Microsecond)))
	}
	return lines
}

// total is how many requests the counter saw.
func (c *counter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	total := 0
	for _, n := range c.calls {
		total += n
	}
	return total
}

// sample is what one measured call sent through a counter.
type sample struct {
	calls       int
	lists, gets int
	jobLists    int
	listBytes   int64
	listObjects int
}

// take returns what the counter saw since the last take, and starts over.
// It decodes the kept list answers only now, so their counting is no part
// of the call measured.
func (c *counter) take() (sample, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := sample{lists: c.calls["list"], gets: c.calls["get"], jobLists: c.jobLists, listBytes: c.listed.Swap(0)}
	for _, n := range c.calls {
		s.calls += n
	}
	for _, b := range c.lists {
		// Protobuf or JSON, as the client asked.
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(b.Bytes(), nil, nil)
		if err != nil {
			return sample{}, fmt.Errorf("decoding a list answer: %w", err)
		}
		s.listObjects += meta.LenList(obj)
	}
	clear(c.calls)
	c.jobLists = 0
	clear(c.busy)
	clear(c.statuses)
	c.lists = nil
	return s, nil
}
