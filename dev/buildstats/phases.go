package buildstats

import (
	"regexp"
	"strings"
	"time"
)

// Line is one timestamped log line of a build container.
type Line struct {
	Time      time.Time
	Container string
	Text      string
}

// Phase is a named span of a build.
type Phase struct {
	Name     string
	Start    time.Time
	Duration time.Duration
}

// Phase names, in build order.
const (
	Fetch         = "base fetched"
	Unpack        = "unpacked"
	SnapshotFirst = "snapshot before RUN"
	Install       = "install (RUN)"
	SnapshotLast  = "snapshot after RUN"
	Save          = "image tar written"
	Push          = "pushed"
)

// Containers of the split build Pod; anything else is the single executor.
const (
	FetchContainer = "fetch"
	BuildContainer = "build"
	PushContainer  = "push"
)

// kanikoInfo matches a line Kaniko logs itself ("INFO[0012] …"); the RUN's
// own output has no such prefix.
var kanikoInfo = regexp.MustCompile(`^(INFO|WARN|ERRO|DEBU|TRAC|FATA)\[\d+\] `)

// Phases returns the phases found in lines (ordered by time), and end, the
// time the build ended (the last line's when zero). A phase whose markers are
// missing — no RUN in a build without a file, say — is left out.
//
// In the executor's log: the base is fetched from the first line to
// "Unpacking rootfs" (Kaniko reads the manifest and config first, and the
// layers while it unpacks, so with a remote base the unpack includes the
// download); the unpack ends at Kaniko's next line; the snapshot before RUN
// runs from "Initializing snapshotter"/"Taking snapshot of full filesystem"
// to "Running:"; the install from "Running:" to Kaniko's next line; the
// snapshot after it to the line after that; the push from "Pushing image"
// to "Pushed" or the end; with --no-push, writing the tar from "Skipping
// push" to the end. A "fetch" container's phase is its first line to the
// build step's first; a "push" container's its first line to the end.
func Phases(lines []Line, end time.Time) []Phase {
	if len(lines) == 0 {
		return nil
	}
	lines = plain(lines)
	if end.IsZero() {
		end = lines[len(lines)-1].Time
	}
	var (
		out  []Phase
		exec []Line
		byC  = map[string][]Line{}
	)
	for _, l := range lines {
		switch l.Container {
		case FetchContainer, PushContainer:
			byC[l.Container] = append(byC[l.Container], l)
		default:
			exec = append(exec, l)
		}
	}
	add := func(name string, from, to time.Time) {
		if !from.IsZero() && !to.IsZero() && !to.Before(from) {
			out = append(out, Phase{Name: name, Start: from, Duration: to.Sub(from)})
		}
	}
	if f := byC[FetchContainer]; len(f) > 0 {
		// The warmer logs when it begins only, so the fetch lasts until
		// the build step's first line: the step starts once it has exited.
		to := f[len(f)-1].Time
		if len(exec) > 0 {
			to = exec[0].Time
		}
		add(Fetch, f[0].Time, to)
	}
	execEnd := end
	if p := byC[PushContainer]; len(p) > 0 {
		execEnd = p[0].Time
	}
	out = append(out, executorPhases(exec, execEnd, len(byC[FetchContainer]) > 0)...)
	if p := byC[PushContainer]; len(p) > 0 {
		add(Push, p[0].Time, end)
	}
	return out
}

// escapes matches terminal colour sequences: Kaniko's default log format
// colours the level.
var escapes = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// plain returns lines without colour sequences.
func plain(lines []Line) []Line {
	out := make([]Line, len(lines))
	for i, l := range lines {
		l.Text = escapes.ReplaceAllString(l.Text, "")
		out[i] = l
	}
	return out
}

// executorPhases reads the executor's own lines; fetched says a fetch
// container already fetched the base.
func executorPhases(lines []Line, end time.Time, fetched bool) []Phase {
	var out []Phase
	add := func(name string, from, to time.Time) {
		if !from.IsZero() && !to.IsZero() && !to.Before(from) {
			out = append(out, Phase{Name: name, Start: from, Duration: to.Sub(from)})
		}
	}
	// next returns the time of the first Kaniko line after index i.
	next := func(i int) (time.Time, int) {
		for j := i + 1; j < len(lines); j++ {
			if kanikoInfo.MatchString(lines[j].Text) {
				return lines[j].Time, j
			}
		}
		return end, len(lines)
	}
	find := func(from int, substr ...string) int {
		for j := from; j < len(lines); j++ {
			if !kanikoInfo.MatchString(lines[j].Text) {
				continue
			}
			for _, s := range substr {
				if strings.Contains(lines[j].Text, s) {
					return j
				}
			}
		}
		return -1
	}
	if len(lines) == 0 {
		return nil
	}
	unpack := find(0, "Unpacking rootfs as cmd")
	if unpack >= 0 {
		if !fetched {
			add(Fetch, lines[0].Time, lines[unpack].Time)
		}
		t, _ := next(unpack)
		add(Unpack, lines[unpack].Time, t)
	}
	run := find(0, "Running: [")
	if run >= 0 {
		if snap := find(max(unpack, 0), "Initializing snapshotter", "Taking snapshot of full filesystem"); snap >= 0 && snap < run {
			add(SnapshotFirst, lines[snap].Time, lines[run].Time)
		}
		ran, i := next(run)
		add(Install, lines[run].Time, ran)
		if i < len(lines) && strings.Contains(lines[i].Text, "Taking snapshot") {
			t, _ := next(i)
			add(SnapshotLast, ran, t)
		}
	}
	if skip := find(0, "Skipping push"); skip >= 0 {
		add(Save, lines[skip].Time, end)
	}
	if push := find(0, "Pushing image to"); push >= 0 {
		to := end
		if done := find(push, "Pushed "); done >= 0 {
			to = lines[done].Time
		}
		add(Push, lines[push].Time, to)
	}
	return out
}
