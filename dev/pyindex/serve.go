package pyindex

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// Server is a running index.
type Server struct {
	// URL is the index URL pip takes (PIP_INDEX_URL): http://<addr>:<port>/simple/.
	URL string
	srv *http.Server
	ln  net.Listener
}

// Start serves dir, which must hold a "simple" folder, on a free port of
// addr (127.0.0.1, or the local stack's bridge gateway, where its Pods
// reach it) until Stop.
func Start(dir, addr string) (*Server, error) {
	if fi, err := os.Stat(filepath.Join(dir, "simple")); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("package index %s has no simple/ folder", dir)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		return nil, fmt.Errorf("listening for the package index: %w", err)
	}
	s := &Server{
		URL: "http://" + ln.Addr().String() + "/simple/",
		srv: &http.Server{Handler: http.FileServer(http.Dir(dir)), ReadHeaderTimeout: 10 * time.Second},
		ln:  ln,
	}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Stop closes the listener and waits up to five seconds for open requests.
func (s *Server) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("stopping the package index: %w", err)
	}
	return nil
}
