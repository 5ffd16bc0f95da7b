package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// api is the deployer's HTTP API as one user calls it.
type api struct {
	base  string
	token string
	http  *http.Client
}

// newAPI finds the API and the token (see the package doc).
func newAPI() (*api, error) {
	props := wskprops()
	token := firstOf(os.Getenv("AUTH"), props["AUTH"])
	if token == "" {
		return nil, fmt.Errorf("no token: set AUTH or write AUTH=<uuid:key> in ~/.wskprops")
	}
	base := os.Getenv("DEPLOYER_URL")
	if base == "" {
		host := firstOf(os.Getenv("APIHOST"), props["APIHOST"])
		if host == "" {
			return nil, fmt.Errorf("no API host: set DEPLOYER_URL or APIHOST, or write APIHOST in ~/.wskprops")
		}
		if !strings.Contains(host, "://") {
			host = "https://" + host
		}
		base = strings.TrimSuffix(host, "/") + "/system/api/v1/build"
	}
	return &api{base: strings.TrimSuffix(base, "/"), token: token, http: &http.Client{Timeout: 70 * time.Second}}, nil
}

// wskprops reads KEY=VALUE lines of $WSK_CONFIG_FILE or ~/.wskprops.
func wskprops() map[string]string {
	path := os.Getenv("WSK_CONFIG_FILE")
	if path == "" {
		home, _ := os.UserHomeDir()
		path = filepath.Join(home, ".wskprops")
	}
	out := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok {
			out[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return out
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// reply is the API's JSON answer with its HTTP status.
type reply struct {
	Code int
	Body map[string]any
}

func (r reply) str(k string) string { s, _ := r.Body[k].(string); return s }

// call sends one request; body nil for none. It fails only when there is no answer.
func (a *api) call(ctx context.Context, method, path string, body any) (reply, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return reply{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return reply{}, err
	}
	req.Header.Set("Authorization", a.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	r := reply{Code: resp.StatusCode, Body: map[string]any{}}
	if err := json.Unmarshal(raw, &r.Body); err != nil {
		r.Body = map[string]any{"message": strings.TrimSpace(string(raw))}
	}
	return r, nil
}

// print writes an answer as indented JSON and turns a 4xx/5xx into an error.
func (r reply) print(w io.Writer) error {
	b, _ := json.MarshalIndent(r.Body, "", "  ")
	fmt.Fprintf(w, "%s\n", b)
	if r.Code >= 400 {
		return fmt.Errorf("HTTP %d: %s", r.Code, r.str("message"))
	}
	return nil
}
