package buildstats

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Memory is what a Sampler saw of the processes of a build.
type Memory struct {
	// PeakRSS is the largest sum of resident memory (VmRSS) of all the
	// build's processes at one sample: the figure a memory limit on the
	// container compares with (page cache aside).
	PeakRSS int64
	// PeakHWM is the largest high-water mark (VmHWM) of any one process:
	// exact for that process, even between samples.
	PeakHWM int64
	// Command is the command of the process with PeakHWM.
	Command string
	// Samples is how many samples saw at least one process.
	Samples int
}

// Sampler samples, every interval, the processes of a build: those whose
// root directory is at or below a folder (sandboxes that chroot there), or
// those in a cgroup tree (a node's containers).
type Sampler struct {
	match    func(pid string) bool
	interval time.Duration
	mu       sync.Mutex
	m        Memory
}

// NewSampler samples the processes rooted at or below dir.
func NewSampler(dir string, interval time.Duration) *Sampler {
	under := filepath.Clean(dir)
	return &Sampler{interval: interval, match: func(pid string) bool {
		root, err := os.Readlink(filepath.Join("/proc", pid, "root"))
		return err == nil && (root == under || strings.HasPrefix(root, under+"/"))
	}}
}

// NewCgroupSampler samples the processes whose memory cgroup is at or below
// cgroup (a node's kubepods tree, say), the Pods' sandbox (pause) processes
// left out.
func NewCgroupSampler(cgroup string, interval time.Duration) *Sampler {
	cgroup = filepath.Clean(cgroup)
	return &Sampler{interval: interval, match: func(pid string) bool {
		data, err := os.ReadFile(filepath.Join("/proc", pid, "cgroup"))
		if err != nil {
			return false
		}
		if comm, _ := os.ReadFile(filepath.Join("/proc", pid, "comm")); strings.TrimSpace(string(comm)) == "pause" {
			return false
		}
		for _, line := range strings.Split(string(data), "\n") {
			// hierarchy-id:controllers:path; v1 names "memory", v2 none.
			f := strings.SplitN(line, ":", 3)
			if len(f) == 3 && (f[1] == "memory" || f[1] == "") && (f[2] == cgroup || strings.HasPrefix(f[2], cgroup+"/")) {
				return true
			}
		}
		return false
	}}
}

// Run samples until ctx is done.
func (s *Sampler) Run(ctx context.Context) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		s.sample()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Take returns what was seen since the last Take and starts again.
func (s *Sampler) Take() Memory {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.m
	s.m = Memory{}
	return m
}

func (s *Sampler) sample() {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	var rss int64
	seen := false
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		if !s.match(e.Name()) {
			continue
		}
		st, err := readStatus(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue // exited meanwhile
		}
		seen = true
		rss += st.rss
		s.mu.Lock()
		if st.hwm > s.m.PeakHWM {
			s.m.PeakHWM, s.m.Command = st.hwm, st.name
		}
		s.mu.Unlock()
	}
	if !seen {
		return
	}
	s.mu.Lock()
	s.m.Samples++
	s.m.PeakRSS = max(s.m.PeakRSS, rss)
	s.mu.Unlock()
}

type procStatus struct {
	name     string
	rss, hwm int64 // bytes
}

// readStatus reads Name, VmRSS and VmHWM of /proc/<pid>/status.
func readStatus(path string) (procStatus, error) {
	f, err := os.Open(path)
	if err != nil {
		return procStatus{}, err
	}
	defer f.Close()
	var st procStatus
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "Name":
			st.name = v
		case "VmRSS", "VmHWM":
			kb, err := strconv.ParseInt(strings.TrimSuffix(v, " kB"), 10, 64)
			if err != nil {
				return procStatus{}, fmt.Errorf("parsing %s of %s: %w", k, path, err)
			}
			if k == "VmRSS" {
				st.rss = kb * 1024
			} else {
				st.hwm = kb * 1024
			}
		}
	}
	return st, sc.Err()
}
