// Package buildstats measures builds for the benchmark commands: where a
// build spends its time, read from the timestamps of its log lines,
// and how much memory the build's processes hold at their peak.
//
// A build Pod has either one container ("kaniko": fetch, build and push in
// one executor) or the split shape: init containers "fetch" (the base into a
// cache folder) and "build" (the executor with --no-push and --tar-path),
// then container "push". Phases handles both: each container's lines carry
// their container's name.
//
// A build Pod of the layer engine has init containers "tools" (copies
// layerhelper into a volume) and "build" (layerhelper in the base image,
// which runs /bin/extend and writes the layer), then container "push"
// (layerpush); LayerPhases reads their lines and the kubelet's events.
package buildstats
