#!/usr/bin/env bash
# Starts the local stack (dev/cmd/devstack) in the background, once: the API
# server and Job controller, a real node (containerd, runc, kubelet,
# scheduler) on a bridge of its own, the registry on that bridge's gateway,
# and the gateway (the OpenWhisk API) on 127.0.0.1, onto which the package is
# deployed from manifest.yaml with wskdeploy. The first run on a machine
# builds the pinned Kubernetes, containerd, runc and Kaniko binaries (~25
# minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
state=${DEPLOYER_LOCAL:-$HOME/.cache/openserverless-deployer/local}
mkdir -p "$state"
pidfile=$state/devstack.pid
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && [ -f "$state/ready" ]; then
	echo "The local stack is already up (pid $(cat "$pidfile"))."
else
	[ "$(id -u)" -eq 0 ] || { echo "The local stack runs a real node (containerd, kubelet): run it as root." >&2; exit 1; }
	bash scripts/setup.sh
	# The actions' build flags: a cold machine compiles client-go and the
	# rest they share once.
	CGO_ENABLED=0 go build -trimpath -o "$state/devstack" ./dev/cmd/devstack
	rm -f "$state/ready"
	rm -f "$state"/wskprops-*
	setsid "$state/devstack" -dir "$state" -users "${USERS:-devel,guest}" $([ "${REALISTIC:-0}" = 1 ] && echo -realistic) $([ "${NODE_ON_DISK:-0}" = 1 ] && echo -node-on-disk) $([ -n "${ENGINE:-}" ] && echo -engine "$ENGINE") >"$state/devstack.log" 2>&1 </dev/null &
	echo $! >"$pidfile"
	echo "Starting the local stack (pid $(cat "$pidfile"), log $state/devstack.log)..."
	shown=0
	for _ in $(seq 1 2400); do
		[ -f "$state/ready" ] && break
		if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
			tail -n 30 "$state/devstack.log" >&2
			echo "The local stack failed to start (log: $state/devstack.log)." >&2
			rm -f "$pidfile"
			exit 1
		fi
		n=$(wc -l <"$state/devstack.log")
		[ "$n" -gt "$shown" ] && sed -n "$((shown + 1)),${n}p" "$state/devstack.log" | grep -E "building|ready|started|start" || true
		shown=$n
		sleep 0.5
	done
	[ -f "$state/ready" ] || { echo "The local stack did not become ready in 20 minutes." >&2; exit 1; }
fi
api=$(sed -n 's/.*"api": "\(.*\)".*/\1/p' "$state/stack.json")
cat <<TXT

The deployer is up at $api
  tokens:               $state/wskprops  (APIHOST and AUTH of the first user, as ~/.wskprops)
                        $state/wskprops-<user> for each of ${USERS:-devel,guest} (./task up USERS="alice bob" for others)
  operator:             $state/wskprops-whisk-system  (APIHOST and AUTH of whisk-system)
  package:              deployed from manifest.yaml by wskdeploy (./task deploy:manifest), as on a cluster
  build engine:         ${ENGINE:-the default, kaniko} (./task up ENGINE=layer for the layer engine)
  actions run as:       the service account of deploy/rbac.yaml (its token bound as kube_token)
  cluster (admin):      KUBECONFIG=$state/kube/$(basename "$(sed -n 's/.*"kubeconfig": "\(.*\)".*/\1/p' "$state/stack.json")")
  stack details:        $state/stack.json

Build an extended runtime and follow it to the end:
  ./task builder:send KIND=python REQUIREMENTS=\$(base64 -w0 deploy/samples/requirements.txt)
Bring a runtime of your own (push it as runtime-<name>:<tag>, then build from it):
  ./task builder:push-image FROM=<image tarball|OCI layout folder|reference> IMAGE=runtime-mine:v1
Or call the API yourself:
  curl -s -H "Authorization: \$(sed -n 's/^AUTH=//p' $state/wskprops)" $api/capabilities
Stop everything:
  ./task down
TXT
