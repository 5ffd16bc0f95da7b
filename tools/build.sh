#!/usr/bin/env bash
# Builds the pinned tool binaries the project needs (go-task, kube-apiserver,
# kube-controller-manager, the Kaniko executor and warmer, crane, wskdeploy) from the Go module
# proxy into a cache outside the work tree, keyed by version, so a machine
# builds each one once. Prints the path of each binary asked for.
#
#   tools/build.sh task kube-apiserver ...
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${DEPLOYER_CACHE:-$HOME/.cache/openserverless-deployer}
mkdir -p "$cache/bin"

k8s_version=v1.37.2
kaniko_version=v1.24.0
crane_version=v0.22.1
task_version=v3.54.0
wskdeploy_version=v0.0.0-20241212232442-16acc805fe2c

# build MODULE_DIR OUT PKG [LDFLAGS]: builds once, under a lock, atomically.
build() {
	local dir=$1 out=$2 pkg=$3 ldflags=${4:-"-s -w"}
	if [ ! -x "$out" ]; then
		(
			flock 9
			if [ ! -x "$out" ]; then
				echo "building $(basename "$out") (once per machine)..." >&2
				(cd "$here/$dir" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$out.tmp" "$pkg")
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

for tool in "$@"; do
	case $tool in
	task) build task "$cache/bin/task-$task_version" github.com/go-task/task/v3/cmd/task ;;
	kube-apiserver | kube-controller-manager)
		build kube "$cache/bin/$tool-$k8s_version" "k8s.io/kubernetes/cmd/$tool" "$(kube_ldflags)" ;;
	kaniko) build kaniko "$cache/bin/kaniko-executor-$kaniko_version" github.com/GoogleContainerTools/kaniko/cmd/executor ;;
	warmer) build kaniko "$cache/bin/kaniko-warmer-$kaniko_version" github.com/GoogleContainerTools/kaniko/cmd/warmer ;;
	crane) build crane "$cache/bin/crane-$crane_version" github.com/google/go-containerregistry/cmd/crane ;;
	wskdeploy) build wskdeploy "$cache/bin/wskdeploy-$wskdeploy_version" github.com/apache/openwhisk-wskdeploy ;;
	*) echo "unknown tool: $tool" >&2; exit 2 ;;
	esac
done
