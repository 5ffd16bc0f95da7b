#!/usr/bin/env bash
# Installs the Debian packages the local stack and the tests need, once per
# machine: etcd, the registry (distribution 2.8) and htpasswd, busybox for
# the runtime fixtures, util-linux for unshare (the build sandbox); the
# node's CNI plugins (bridge, host-local, loopback in /usr/lib/cni) and
# iptables; libseccomp-dev and pkg-config, which runc's build links; then
# pouchdb-server (npm, with Debian's nodejs and npm when they are missing),
# the CouchDB stand-in of the per-user settings tests.
set -euo pipefail
need=()
for p in etcd-server docker-registry apache2-utils busybox-static util-linux \
	containernetworking-plugins iptables libseccomp-dev pkg-config; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	echo "installing ${need[*]}" >&2
	# Another apt on the machine (an unattended upgrade) holds the lock for a while: wait for it.
	lock=(-o DPkg::Lock::Timeout=600)
	$sudo apt-get "${lock[@]}" update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get "${lock[@]}" install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
bash "$(dirname "$0")/pouchdb.sh" >/dev/null
