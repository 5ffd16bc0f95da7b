#!/usr/bin/env bash
# Builds the pinned tool binaries the project needs (go-task, kube-apiserver,
# kube-controller-manager, the Kaniko executor and warmer, crane, wskdeploy, and
# the local node's kubelet, kube-scheduler, containerd, ctr,
# containerd-shim-runc-v2 and runc) from the Go module proxy into a cache
# outside the work tree, keyed by version, so a machine builds each one once.
# Prints the path of each binary asked for.
#
#   tools/build.sh task kube-apiserver ...
#   tools/build.sh -parallel kube-apiserver containerd ...
#
# -parallel builds the tools in lanes, the lanes at once: the Kubernetes
# binaries; containerd's and runc; Kaniko's and crane; any other alone. On
# a cold machine one lane compiles while another downloads modules or
# links. The tools of a lane are built one after the other: they share most
# of their packages, which two go builds at once would both compile.
#
# runc links libseccomp with cgo (Debian's libseccomp-dev and pkg-config,
# installed by scripts/setup.sh); every other tool builds with CGO_ENABLED=0.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${DEPLOYER_CACHE:-$HOME/.cache/openserverless-deployer}
mkdir -p "$cache/bin"

k8s_version=v1.37.2
kaniko_version=v1.24.0
crane_version=v0.22.1
task_version=v3.54.0
wskdeploy_version=v0.0.0-20241212232442-16acc805fe2c
containerd_version=v2.4.2
runc_version=v1.5.3

# [cgo=1] [tags="A B"] build MODULE_DIR OUT PKG [LDFLAGS]: builds once, under a
# lock, atomically; cgo and tags, set on the call, default to none.
build() {
	local dir=$1 out=$2 pkg=$3 ldflags=${4:-"-s -w"}
	if [ ! -x "$out" ]; then
		(
			flock 9
			if [ ! -x "$out" ]; then
				echo "building $(basename "$out") (once per machine)..." >&2
				(cd "$here/$dir" && CGO_ENABLED=${cgo:-0} GOFLAGS=-mod=mod \
					go build -trimpath -tags "${tags:-}" -ldflags "$ldflags" -o "$out.tmp" "$pkg")
				mv "$out.tmp" "$out"
			fi
		) 9>"$out.lock"
	fi
	echo "$out"
}

kube_ldflags() {
	local f="-s -w" v
	for v in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		f="$f -X $v.gitVersion=$k8s_version -X $v.gitMajor=1 -X $v.gitMinor=37"
	done
	echo "$f"
}

containerd_ldflags() {
	local v=github.com/containerd/containerd/v2/version
	echo "-s -w -X $v.Version=$containerd_version -X $v.Package=github.com/containerd/containerd/v2"
}

# lane TOOL: the lane of -parallel a tool builds in.
lane() {
	case $1 in
	kube-* | kubelet) echo kube ;;
	containerd* | ctr | runc) echo node ;;
	kaniko | warmer | crane) echo steps ;;
	*) echo "$1" ;;
	esac
}

if [ "${1:-}" = -parallel ]; then
	shift
	declare -A lanes=()
	for tool in "$@"; do lanes[$(lane "$tool")]+=" $tool"; done
	pids=()
	for l in "${!lanes[@]}"; do
		# shellcheck disable=SC2086 # the lane's tools, one word each
		"$0" ${lanes[$l]} >/dev/null &
		pids+=($!)
	done
	failed=0
	for p in "${pids[@]}"; do wait "$p" || failed=1; done
	[ "$failed" -eq 0 ] || exit 1
	exec "$0" "$@" # every tool built: print the paths in order
fi

for tool in "$@"; do
	case $tool in
	task) build task "$cache/bin/task-$task_version" github.com/go-task/task/v3/cmd/task ;;
	kube-apiserver | kube-controller-manager | kube-scheduler | kubelet)
		build kube "$cache/bin/$tool-$k8s_version" "k8s.io/kubernetes/cmd/$tool" "$(kube_ldflags)" ;;
	kaniko) build kaniko "$cache/bin/kaniko-executor-$kaniko_version" github.com/GoogleContainerTools/kaniko/cmd/executor ;;
	warmer) build kaniko "$cache/bin/kaniko-warmer-$kaniko_version" github.com/GoogleContainerTools/kaniko/cmd/warmer ;;
	crane) build crane "$cache/bin/crane-$crane_version" github.com/google/go-containerregistry/cmd/crane ;;
	wskdeploy) build wskdeploy "$cache/bin/wskdeploy-$wskdeploy_version" github.com/apache/openwhisk-wskdeploy ;;
	containerd | ctr)
		tags=no_btrfs build containerd "$cache/bin/$tool-$containerd_version" \
			"github.com/containerd/containerd/v2/cmd/$tool" "$(containerd_ldflags)" ;;
	containerd-shim-runc-v2)
		tags="no_btrfs no_grpc" build containerd "$cache/bin/$tool-$containerd_version" \
			"github.com/containerd/containerd/v2/cmd/$tool" "$(containerd_ldflags)" ;;
	# Not the Makefile's default libpathrs tag: its C library is not in Debian.
	runc) cgo=1 tags="seccomp urfave_cli_no_docs" build runc "$cache/bin/runc-$runc_version" github.com/opencontainers/runc ;;
	*) echo "unknown tool: $tool" >&2; exit 2 ;;
	esac
done
