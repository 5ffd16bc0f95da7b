package buildstats

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Phase names of the layer engine that Kaniko's have not; its install and
// push are Install and Push.
const (
	BasePulled   = "base pulled"
	LayerWritten = "layer written"
)

// The lines of the layer engine's programs that mark its phases: the build
// step's layerhelper in the "build" container, layerpush in "push".
const (
	extendStarted = "layerhelper: running /bin/extend"
	extendDone    = "layerhelper: /bin/extend done"
	layerPushed   = "layerpush: pushed "
)

// layerWritten matches layerhelper's "layerhelper: layer written: <N> bytes,
// <M> entries".
var layerWritten = regexp.MustCompile(`^layerhelper: layer written: (\d+) bytes, (\d+) entries$`)

// Event is one of the kubelet's events about a build Pod.
type Event struct {
	Time   time.Time
	Reason string
	// FieldPath is the involved object's: "spec.initContainers{build}".
	FieldPath string
	Message   string
}

// LayerPhases returns the phases of a layer engine build found in its lines
// (ordered by time) and its Pod's events. The base is pulled, by the
// kubelet, before the build step's first line, so BasePulled lies within
// the build's queued time; then Install runs from "layerhelper: running
// /bin/extend" to "layerhelper: /bin/extend done", LayerWritten from there
// to "layerhelper: layer written: …", and Push from there to layerpush's
// "layerpush: pushed <repository>@<digest>". A phase whose markers are
// missing (a failed /bin/extend writes no layer) is left out.
func LayerPhases(lines []Line, events []Event) []Phase {
	var out []Phase
	if p, ok := BasePull(events); ok {
		out = append(out, p)
	}
	find := func(match func(string) bool) time.Time {
		for _, l := range lines {
			if match(strings.TrimSpace(l.Text)) {
				return l.Time
			}
		}
		return time.Time{}
	}
	started := find(func(s string) bool { return strings.HasPrefix(s, extendStarted) })
	done := find(func(s string) bool { return strings.HasPrefix(s, extendDone) })
	written := find(layerWritten.MatchString)
	pushed := find(func(s string) bool { return strings.HasPrefix(s, layerPushed) })
	add := func(name string, from, to time.Time) {
		if !from.IsZero() && !to.IsZero() && !to.Before(from) {
			out = append(out, Phase{Name: name, Start: from, Duration: to.Sub(from)})
		}
	}
	add(Install, started, done)
	add(LayerWritten, done, written)
	add(Push, written, pushed)
	return out
}

// LayerSize returns the size in bytes and the number of entries of the
// layer that layerhelper wrote, from its "layer written" line; ok is false
// without one.
func LayerSize(lines []Line) (bytes, entries int64, ok bool) {
	for _, l := range lines {
		g := layerWritten.FindStringSubmatch(strings.TrimSpace(l.Text))
		if g == nil {
			continue
		}
		b, err1 := strconv.ParseInt(g[1], 10, 64)
		e, err2 := strconv.ParseInt(g[2], 10, 64)
		if err1 == nil && err2 == nil {
			return b, e, true
		}
	}
	return 0, 0, false
}

// pulledIn reads the pull's duration from the kubelet's "Successfully pulled
// image "…" in 1.234s (1.5s including waiting). Image size: … bytes.".
var pulledIn = regexp.MustCompile(`^Successfully pulled image "[^"]*" in ((?:[0-9.]+[a-zµ]+)+)`)

// BasePull is the pull of the build step's image, the base, by the kubelet:
// the Pulled event of the "build" container, with the pull's duration its
// message gives (to the millisecond; the events' own times are whole
// seconds). An image already present on the node was pulled in no time. An
// event without a duration counts from the container's Pulling event; ok is
// false without a Pulled event.
func BasePull(events []Event) (_ Phase, ok bool) {
	var pulling, pulled *Event
	for i, e := range events {
		if !strings.HasSuffix(e.FieldPath, "{"+BuildContainer+"}") {
			continue
		}
		switch e.Reason {
		case "Pulling":
			if pulling == nil {
				pulling = &events[i]
			}
		case "Pulled":
			if pulled == nil {
				pulled = &events[i]
			}
		}
	}
	if pulled == nil {
		return Phase{}, false
	}
	var d time.Duration
	if g := pulledIn.FindStringSubmatch(pulled.Message); g != nil {
		if parsed, err := time.ParseDuration(g[1]); err == nil {
			d = parsed
		}
	} else if pulling != nil && strings.HasPrefix(pulled.Message, "Successfully pulled") && pulled.Time.After(pulling.Time) {
		d = pulled.Time.Sub(pulling.Time)
	}
	return Phase{Name: BasePulled, Start: pulled.Time.Add(-d), Duration: d}, true
}
