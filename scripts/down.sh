#!/usr/bin/env bash
# Stops the local stack started by up.sh, by pid: the devstack process stops
# the gateway, the node (its Pods, kubelet, containerd), the registry and the
# Kubernetes servers, and removes the node's traces (mounts, cgroups, NAT
# rules, the bridge) and its stack.json. A devstack that had to be killed, or
# died, leaves them and its stack.json: then `devstack -clean` removes them.
set -euo pipefail
state=${DEPLOYER_LOCAL:-$HOME/.cache/openserverless-deployer/local}
pidfile=$state/devstack.pid
[ -f "$pidfile" ] || { echo "The local stack is not running."; exit 0; }
pid=$(cat "$pidfile")
if kill -0 "$pid" 2>/dev/null; then
	kill -TERM "$pid"
	for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
	kill -0 "$pid" 2>/dev/null && { echo "devstack did not stop in 60 s: killing it" >&2; kill -KILL "$pid"; sleep 1; }
fi
[ -x "$state/devstack" ] && "$state/devstack" -dir "$state" -clean
rm -f "$pidfile" "$state/ready" "$state/wskprops" "$state"/wskprops-*
echo "The local stack is down."
