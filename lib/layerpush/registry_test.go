package layerpush

import (
	"net/http"
	"strings"
	"sync"
)

// request is one blob request a test registry served.
type request struct {
	method, repo, blob  string // blob: a digest, or "uploads" for an upload
	digest, mount, from string
}

// links gives go-containerregistry's in-process registry, which finds a
// blob in every repository once any has it, the per-repository blob links
// of a distribution registry: a blob is found only in the repositories it
// was pushed or mounted to, and a cross-repository mount (POST
// …/blobs/uploads/?mount=&from=) succeeds only from a repository that has
// it. It records every blob request with its query.
type links struct {
	mu     sync.Mutex
	linked map[string]bool // "repo@digest"
	log    []request
}

func newLinks() *links { return &links{linked: map[string]bool{}} }

func (l *links) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		repo, blob, isBlob := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v2/"), "/blobs/")
		if !isBlob {
			next.ServeHTTP(w, r)
			return
		}
		q := r.URL.Query()
		if strings.HasPrefix(blob, "uploads") {
			blob = "uploads"
		}
		l.mu.Lock()
		l.log = append(l.log, request{method: r.Method, repo: repo, blob: blob, digest: q.Get("digest"), mount: q.Get("mount"), from: q.Get("from")})
		l.mu.Unlock()
		switch {
		case blob != "uploads" && (r.Method == http.MethodHead || r.Method == http.MethodGet):
			if !l.has(repo, blob) {
				http.Error(w, `{"errors":[{"code":"BLOB_UNKNOWN"}]}`, http.StatusNotFound)
				return
			}
		case r.Method == http.MethodPost && q.Get("mount") != "":
			if l.has(q.Get("from"), q.Get("mount")) {
				l.link(repo, q.Get("mount"))
				w.Header().Set("Location", "/v2/"+repo+"/blobs/"+q.Get("mount"))
				w.Header().Set("Docker-Content-Digest", q.Get("mount"))
				w.WriteHeader(http.StatusCreated)
				return
			}
		case q.Get("digest") != "":
			rec := &statusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			if rec.status == http.StatusCreated {
				l.link(repo, q.Get("digest"))
			}
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (l *links) has(repo, digest string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.linked[repo+"@"+digest]
}

func (l *links) link(repo, digest string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.linked[repo+"@"+digest] = true
}

// requests returns the blob requests served since the last call.
func (l *links) requests() []request {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.log
	l.log = nil
	return out
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
