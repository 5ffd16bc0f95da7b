package layer

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// The benchmarks walk LAYER_BENCH_ROOT when it is set (an unpacked base
// image, such as the realistic nodejs runtime: ~38,000 files), or else a
// synthetic tree of 40,000 files in 4,040 folders:
//
//	LAYER_BENCH_ROOT=/dev/shm/nodejs-root go test -run '^$' -bench . -count 5 ./lib/layer/
//
// BenchmarkWriteChanges first changes a folder of its own below the root
// (removed at the end): files added, changed, deleted, a symlink, a hard
// link, a new folder.

func benchRoot(b *testing.B) string {
	if root := os.Getenv("LAYER_BENCH_ROOT"); root != "" {
		return filepath.Clean(root)
	}
	root := b.TempDir()
	for i := range 40 {
		for j := range 100 {
			dir := filepath.Join(root, fmt.Sprintf("d%02d", i), fmt.Sprintf("sub%03d", j))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				b.Fatal(err)
			}
			for k := range 10 {
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("file-%d.js", k)), []byte("x"), 0o644); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	return root
}

// benchSetup returns the root's exclusions (no mounts) and a start time
// after the root was made.
func benchSetup(b *testing.B, root string) (*exclusions, time.Time) {
	tmp := b.TempDir()
	mountinfo := filepath.Join(tmp, "mountinfo")
	if err := os.WriteFile(mountinfo, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	ex, err := newExclusions(root, tmp, mountinfo)
	if err != nil {
		b.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	start, err := startTime(tmp)
	if err != nil {
		b.Fatal(err)
	}
	return ex, start
}

// cpuTime is the process's user and system time so far, all threads.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the CPU time per operation beside the wall time, which
// other processes on the machine can stretch.
func reportCPU(b *testing.B, since time.Duration) {
	b.ReportMetric(float64(cpuTime(b)-since)/float64(b.N), "cpu-ns/op")
}

func BenchmarkRecord(b *testing.B) {
	root := benchRoot(b)
	ex, start := benchSetup(b, root)
	n := 0
	cpu := cpuTime(b)
	for b.Loop() {
		bf, err := record(root, ex, start)
		if err != nil {
			b.Fatal(err)
		}
		n = len(bf.entries)
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(n), "dirs")
}

func BenchmarkWriteChanges(b *testing.B) {
	root := benchRoot(b)
	changed := filepath.Join(root, "layer-bench-changes")
	b.Cleanup(func() { os.RemoveAll(changed) })
	write := func(name, content string) {
		p := filepath.Join(changed, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 20 {
		write(fmt.Sprintf("old/f%02d", i), "old")
	}
	write("gone/a", "a")
	ex, start := benchSetup(b, root)
	bf, err := record(root, ex, start)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 5 {
		os.Remove(filepath.Join(changed, fmt.Sprintf("old/f%02d", i)))
		write(fmt.Sprintf("old/f%02d", 10+i), "changed")
	}
	os.RemoveAll(filepath.Join(changed, "gone"))
	for i := range 40 {
		write(fmt.Sprintf("new/pkg/f%02d.js", i), "module.exports = 1\n")
	}
	os.Symlink("pkg/f00.js", filepath.Join(changed, "new/link"))
	os.Link(filepath.Join(changed, "new/pkg/f01.js"), filepath.Join(changed, "new/hard"))

	entries := 0
	cpu := cpuTime(b)
	for b.Loop() {
		entries, err = writeChanges(io.Discard, root, ex, bf, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(entries), "entries")
}
