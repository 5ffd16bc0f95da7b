// Command packaction packs a precompiled Go action for OpenWhisk: a zip
// holding the executable as "exec" and the runtime's execution environment
// as "exec.env" (the Go runtime refuses a zip whose exec.env differs from
// its OW_EXECUTION_ENV). Entries carry a fixed time, so the same binary
// always gives the same zip.
//
//	packaction -exec build/start/exec -env apacheopenserverless/runtime-golang-v1.22 -o packages/start.zip
package main

import (
	"archive/zip"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

func main() {
	execPath := flag.String("exec", "", "the linux/amd64 action executable")
	execEnv := flag.String("env", "apacheopenserverless/runtime-golang-v1.22", "the runtime's OW_EXECUTION_ENV")
	out := flag.String("o", "", "the zip to write")
	flag.Parse()
	if *execPath == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := pack(*execPath, *execEnv, *out); err != nil {
		fmt.Fprintln(os.Stderr, "packaction:", err)
		os.Exit(1)
	}
}

func pack(execPath, execEnv, out string) error {
	exe, err := os.Open(execPath)
	if err != nil {
		return err
	}
	defer exe.Close()
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	zw := zip.NewWriter(f)
	stamp := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	add := func(name string, mode os.FileMode, r io.Reader) error {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: stamp}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return fmt.Errorf("adding %s: %w", name, err)
		}
		_, err = io.Copy(w, r)
		return err
	}
	if err := add("exec", 0o755, exe); err != nil {
		return err
	}
	if err := add("exec.env", 0o644, strings.NewReader(execEnv)); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}
