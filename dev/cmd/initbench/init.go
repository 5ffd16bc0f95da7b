package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/openserverless-deployer/dev/actionproxy"
)

// initRequest is the part of the /init body the proxy reads for a
// precompiled action.
type initRequest struct {
	Value struct {
		Code   string `json:"code"`
		Binary bool   `json:"binary"`
		Main   string `json:"main,omitempty"`
	} `json:"value"`
}

// initBody is the /init body the invoker sends for a zip action: the zip in
// base64, marked binary.
func initBody(zipped []byte) ([]byte, error) {
	var req initRequest
	req.Value.Code = base64.StdEncoding.EncodeToString(zipped)
	req.Value.Binary = true
	req.Value.Main = "main"
	b, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encoding the /init body: %w", err)
	}
	return b, nil
}

// timing is one /init taken apart.
type timing struct {
	decode, unzip, ready time.Duration
	execSize             int64
}

// initOnce does what the proxy does on one /init of a precompiled zip, in
// runDir: decode the body and its base64, unzip into src and rename it bin
// (exec is already compiled), read exec.env, start bin/exec and wait for its
// acknowledgement. Then it stops the process, by pid if it must, which the
// proxy does only when the container goes.
func initOnce(ctx context.Context, body []byte, runDir string, timeout time.Duration) (timing, error) {
	var t timing

	start := time.Now()
	var req initRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return t, fmt.Errorf("decoding the /init body: %w", err)
	}
	zipped, err := base64.StdEncoding.DecodeString(req.Value.Code)
	if err != nil {
		return t, fmt.Errorf("decoding the code: %w", err)
	}
	t.decode = time.Since(start)

	start = time.Now()
	src, bin := filepath.Join(runDir, "src"), filepath.Join(runDir, "bin")
	if err := actionproxy.Unzip(zipped, src); err != nil {
		return t, err
	}
	if err := os.Rename(src, bin); err != nil {
		return t, fmt.Errorf("moving the action to bin: %w", err)
	}
	// The proxy refuses an exec.env other than its own; the bench passes it
	// on as the proxy's __OW_EXECUTION_ENV.
	execEnv, err := os.ReadFile(filepath.Join(bin, "exec.env"))
	if err != nil {
		return t, fmt.Errorf("reading exec.env: %w", err)
	}
	t.unzip = time.Since(start)

	exe := filepath.Join(bin, "exec")
	info, err := os.Stat(exe)
	if err != nil {
		return t, fmt.Errorf("the zip holds no exec: %w", err)
	}
	t.execSize = info.Size()

	// The proxy gives the executable only the variables it sets.
	env := []string{"__OW_EXECUTION_ENV=" + strings.TrimSpace(string(execEnv))}
	startCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start = time.Now()
	p, err := actionproxy.Start(startCtx, exe, env, nil, nil)
	t.ready = time.Since(start)
	if err != nil {
		return t, err
	}
	if err := p.Stop(); err != nil {
		return t, err
	}
	return t, nil
}
