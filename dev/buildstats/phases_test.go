package buildstats

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// logAt turns "seconds|container|text" rows into Lines.
func logAt(rows string) []Line {
	t0 := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)
	var out []Line
	for _, r := range strings.Split(strings.TrimSpace(rows), "\n") {
		f := strings.SplitN(strings.TrimSpace(r), "|", 3)
		d, _ := time.ParseDuration(f[0] + "s")
		out = append(out, Line{Time: t0.Add(d), Container: f[1], Text: strings.ReplaceAll(f[2], `\x1b`, "\x1b")})
	}
	return out
}

func durations(ps []Phase) map[string]time.Duration {
	m := map[string]time.Duration{}
	for _, p := range ps {
		m[p.Name] = p.Duration
	}
	return m
}

func TestPhases(t *testing.T) {
	single := `
0|kaniko|INFO[0000] Retrieving image manifest 127.0.0.1:5000/runtime-nodejs@sha256:ab
0.5|kaniko|INFO[0000] Retrieving image 127.0.0.1:5000/runtime-nodejs@sha256:ab from registry 127.0.0.1:5000
1|kaniko|INFO[0001] Built cross stage deps: map[]
2|kaniko|\x1b[36mINFO\x1b[0m[0002] Unpacking rootfs as cmd COPY package.json /tmp/package.json requires it.
20|kaniko|\x1b[36mINFO\x1b[0m[0020] COPY package.json /tmp/package.json
20|kaniko|INFO[0020] Taking snapshot of files...
20.1|kaniko|INFO[0020] USER root
20.2|kaniko|INFO[0020] RUN /bin/extend
20.2|kaniko|INFO[0020] Initializing snapshotter ...
20.2|kaniko|INFO[0020] Taking snapshot of full filesystem...
26|kaniko|INFO[0026] Cmd: /bin/sh
26|kaniko|INFO[0026] Running: [/bin/sh -c /bin/extend]
26.1|kaniko|added 2 packages in 600ms
26.6|kaniko|INFO[0026] Taking snapshot of full filesystem...
30|kaniko|INFO[0030] USER 1001
30|kaniko|INFO[0030] Pushing image to 127.0.0.1:5000/devel:nodejs-1
31.5|kaniko|INFO[0031] Pushed 127.0.0.1:5000/devel@sha256:cd`
	split := `
0|fetch|INFO[0000] Retrieving image manifest 127.0.0.1:5000/runtime-nodejs@sha256:ab
8|fetch|INFO[0008] Wrote sha256:ab to cache
9|build|INFO[0000] Found sha256:ab in local cache
9.5|build|INFO[0000] Unpacking rootfs as cmd COPY package.json /tmp/package.json requires it.
15|build|INFO[0006] COPY package.json /tmp/package.json
16|build|INFO[0007] Taking snapshot of full filesystem...
22|build|INFO[0013] Running: [/bin/sh -c /bin/extend]
23|build|npm ERR! nothing
23|build|INFO[0014] Taking snapshot of full filesystem...
25|build|INFO[0016] Skipping push to container registry due to --no-push flag
27|push|pushing /cache/image.tar
29|push|pushed 127.0.0.1:5000/devel@sha256:cd`
	tests := []struct {
		name  string
		lines []Line
		end   time.Duration // after t0; 0 for the last line
		want  map[string]time.Duration
	}{
		{"single kaniko container", logAt(single), 0, map[string]time.Duration{
			Fetch: 2 * time.Second, Unpack: 18 * time.Second, SnapshotFirst: 5800 * time.Millisecond,
			Install: 600 * time.Millisecond, SnapshotLast: 3400 * time.Millisecond, Push: 1500 * time.Millisecond,
		}},
		{"fetch, build and push containers", logAt(split), 30 * time.Second, map[string]time.Duration{
			Fetch: 9 * time.Second, Unpack: 5500 * time.Millisecond, SnapshotFirst: 6 * time.Second,
			Install: time.Second, SnapshotLast: 2 * time.Second, Save: 2 * time.Second, Push: 3 * time.Second,
		}},
		{"no RUN: no install phases", logAt(`
0|kaniko|INFO[0000] Retrieving image manifest x
1|kaniko|INFO[0001] Skipping unpacking as no commands require it.
2|kaniko|INFO[0002] Pushing image to y
3|kaniko|INFO[0003] Pushed y@sha256:1`), 0, map[string]time.Duration{Push: time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var end time.Time
			if tt.end > 0 {
				end = tt.lines[0].Time.Add(tt.end)
			}
			assert.Equal(t, tt.want, durations(Phases(tt.lines, end)))
		})
	}
}
