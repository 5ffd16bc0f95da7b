package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// run measures every zip in turn and prints the table once all are done, so
// a failure leaves no half table behind.
func run(ctx context.Context, out io.Writer, zips []string, runs int, timeout time.Duration) error {
	dir, err := os.MkdirTemp("", "initbench-")
	if err != nil {
		return fmt.Errorf("creating the work folder: %w", err)
	}
	defer os.RemoveAll(dir)

	var rows []row
	for _, zipPath := range zips {
		r, err := measure(ctx, zipPath, dir, runs, timeout)
		if err != nil {
			return err
		}
		rows = append(rows, r)
	}
	printTable(out, rows, runs)
	return nil
}

// row is what one action's runs come to.
type row struct {
	action   string
	zipSize  int64
	execSize int64
	total    []time.Duration // the whole /init, one per run
	decode   []time.Duration // the JSON body and its base64
	unzip    []time.Duration // into the run's folder, src renamed to bin
	ready    []time.Duration // exec started until {"ok":true}
}

// measure runs /init runs times over for one zip.
func measure(ctx context.Context, zipPath, dir string, runs int, timeout time.Duration) (row, error) {
	r := row{action: strings.TrimSuffix(filepath.Base(zipPath), ".zip")}
	zipped, err := os.ReadFile(zipPath)
	if err != nil {
		return r, fmt.Errorf("reading %s: %w", zipPath, err)
	}
	r.zipSize = int64(len(zipped))
	body, err := initBody(zipped)
	if err != nil {
		return r, fmt.Errorf("%s: %w", zipPath, err)
	}
	for i := 1; i <= runs; i++ {
		// Each run gets a folder of its own, as the proxy numbers each
		// /init's folder; it goes as soon as the run is over, so a long
		// series never holds more than one copy of exec.
		runDir := filepath.Join(dir, fmt.Sprint(i))
		t, err := initOnce(ctx, body, runDir, timeout)
		rmErr := os.RemoveAll(runDir)
		if err != nil {
			return r, fmt.Errorf("%s, run %d: %w", zipPath, i, err)
		}
		if rmErr != nil {
			return r, fmt.Errorf("%s, run %d: removing its folder: %w", zipPath, i, rmErr)
		}
		r.execSize = t.execSize
		r.total = append(r.total, t.decode+t.unzip+t.ready)
		r.decode = append(r.decode, t.decode)
		r.unzip = append(r.unzip, t.unzip)
		r.ready = append(r.ready, t.ready)
	}
	return r, nil
}
