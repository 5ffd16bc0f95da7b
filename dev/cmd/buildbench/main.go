// Command buildbench measures request → image on a local stack it starts
// itself (dev/local, in a temporary folder, with its real node), with
// the realistic runtimes: for each case it calls ensure, polls the build's
// status (every 200 ms, -poll) until it ends, and prints the phases of the build,
// the kubelet's events of the build Pod, and the peak memory of the build's
// processes (sampled from /proc every 100 ms). Needs root (the node); the
// first run on a machine makes the realistic runtimes (~5 min).
//
//	go run ./dev/cmd/buildbench [-engine both|kaniko|layer] [-repeat 20] [-busybox 0] [-poll 200ms] [-node-on-disk] [-user-namespace=false]
//
// -engine both (the default) runs the cases on a stack with each build
// engine (build_engine), one stack after the other, then prints the two
// side by side.
//
// Phases with Kaniko: queued (ensure answered → the build's first log
// line), then what the Kaniko log's timestamps show (base fetched,
// unpacked, snapshots, install, pushed). With the layer engine: queued,
// base pulled (by the kubelet, for the "build" container: the duration its
// Pulled event gives; it lies within queued unless the "tools" step logs
// a line), install (layerhelper's "running /bin/extend" →
// "/bin/extend done"), layer written (→ "layer written: N bytes, M
// entries"; the size is printed too) and pushed (→ layerpush's "pushed
// <repository>@<digest>"). Then the last line → seen final.
//
// Cases: nodejs + 2 npm packages on a base no build has seen (a fresh
// variant of the runtime: one extra tiny layer), the same base again with
// another package.json (seen before), python + a wheel from the local index
// (its base never run on the node), then another wheel on that base, the
// busybox fixture, and the repeated ensure of an image that exists (200,
// no Job). -busybox N then builds the busybox fixture N times more, one
// after the other, each with a file of its own, and prints the fastest,
// the median and the slowest: a build of ~2 s moves by a few tenths from
// one to the next, more than one build of each case can show.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	repeat := flag.Int("repeat", 20, "repeated ensures of an existing image to time")
	onDisk := flag.Bool("node-on-disk", false, "keep the node's containers on disk instead of in memory")
	userns := flag.Bool("user-namespace", true, "run the build Pods in a user namespace (build_user_namespace)")
	engine := flag.String("engine", "both", "the build engine: kaniko, layer, or both, one stack after the other")
	busybox := flag.Int("busybox", 0, "busybox builds to time after the cases, each with a file of its own")
	poll := flag.Duration("poll", 200*time.Millisecond, "how often a build's status is read")
	flag.Parse()
	var engines []string
	switch *engine {
	case "both":
		engines = []string{engineKaniko, engineLayer}
	case engineKaniko, engineLayer:
		engines = []string{*engine}
	default:
		fmt.Fprintf(os.Stderr, "buildbench: -engine is kaniko, layer or both, not %q\n", *engine)
		os.Exit(2)
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "buildbench: the local stack's node (containerd, kubelet) needs root")
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if *poll <= 0 || *busybox < 0 {
		fmt.Fprintln(os.Stderr, "buildbench: -poll must be positive and -busybox not negative")
		os.Exit(2)
	}
	o := options{engines: engines, repeat: *repeat, onDisk: *onDisk, userns: *userns, busybox: *busybox, poll: *poll}
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "buildbench:", err)
		os.Exit(1)
	}
}
