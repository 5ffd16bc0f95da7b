package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Start starts one warm process for every action of Options.Actions, then the HTTP server on
// addr, which must be a loopback address ("127.0.0.1:0" picks a free port).
// ctx bounds the start of the processes. Stop ends both.
func (g *Gateway) Start(ctx context.Context, addr string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.started {
		return errors.New("starting the gateway: already started")
	}
	g.started = true
	if err := loopback(addr); err != nil {
		return fmt.Errorf("starting the gateway: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("starting the gateway: %w", err)
	}
	pools := g.store.allPools()
	for _, c := range pools {
		if err := c.warm(ctx); err != nil {
			ln.Close()
			for _, c := range pools {
				_ = c.stop()
			}
			return fmt.Errorf("starting the gateway: %w", err)
		}
	}
	g.url = "http://" + ln.Addr().String()
	g.srv = &http.Server{
		Handler:           http.HandlerFunc(g.serve),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = g.srv.Serve(ln) }() // Serve returns ErrServerClosed once Stop runs
	return nil
}

// loopback checks that addr ("host:port") names the loopback interface.
func loopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("address %q is not on the loopback interface", addr)
	}
	return nil
}
