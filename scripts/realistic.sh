#!/usr/bin/env bash
# Builds the realistic fixture runtimes from Debian packages, once per machine,
# into a cache outside the work tree keyed by the recipe version, and prints
# that folder. It holds, for each runtime (nodejs, python), layer.tar.gz: the
# root filesystem as one gzip layer; and pyindex/simple/<project>/*.whl, the
# wheels the python fixture installs from (PyPI is not reachable here).
#
#   scripts/realistic.sh        # ~5 minutes the first time, then instant
#
# Recipe: debootstrap --variant=minbase bookworm (with ca-certificates), then,
# inside the root, apt-get install of the runtime's packages (nodejs and npm
# cannot be part of debootstrap's --include: dpkg's configure order fails).
# The machine's CA bundle replaces the fixture's, so npm trusts this
# machine's egress. Needs root (debootstrap, chroot, unshare).
set -euo pipefail

recipe=r1 # change when anything below changes: it names the cache folder
cache=${DEPLOYER_CACHE:-$HOME/.cache/openserverless-deployer}/realistic/$recipe
mkdir -p "$cache"

[ "$(id -u)" -eq 0 ] || { echo "realistic fixtures: run as root (debootstrap, chroot)" >&2; exit 1; }

# mirror: the machine's own Debian mirror (deb822 sources first, then sources.list).
mirror() {
	local m
	m=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1 || true)
	[ -n "$m" ] || m=$(awk '$1=="deb" && $3 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
	echo "${m:-http://deb.debian.org/debian}"
}

need() {
	command -v "$1" >/dev/null && return
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null
}

# in_root DIR CMD...: runs CMD chrooted in DIR with /proc mounted, in a mount
# namespace of its own so the mount goes away with it.
in_root() {
	local dir=$1
	shift
	cp /etc/resolv.conf "$dir/etc/resolv.conf"
	unshare --mount --fork --propagation private -- sh -c 'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' "$dir" \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive HOME=/root "$@"
}

base() {
	[ -f "$cache/base.done" ] && return
	[ -f "$cache/nodejs/layer.tar.gz" ] && [ -f "$cache/python/layer.tar.gz" ] && return
	need debootstrap debootstrap
	rm -rf "$cache/base"
	echo "realistic fixtures: debootstrap bookworm minbase (~2 min)..." >&2
	debootstrap --variant=minbase --include=ca-certificates bookworm "$cache/base" "$(mirror)" >"$cache/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$cache/debootstrap.log" >&2; exit 1; }
	touch "$cache/base.done"
}

# runtime NAME PACKAGES...: the base plus packages, user 1001 and the host's
# CA bundle, packed as NAME/layer.tar.gz.
runtime() {
	local name=$1
	shift
	[ -f "$cache/$name/layer.tar.gz" ] && return
	local root=$cache/$name/root
	rm -rf "$cache/$name"
	mkdir -p "$cache/$name"
	cp -a "$cache/base" "$root"
	echo "realistic fixtures: $name: apt-get install $* ..." >&2
	in_root "$root" apt-get update -qq
	in_root "$root" apt-get install -y -qq --no-install-recommends "$@" >"$cache/$name/apt.log" 2>&1 ||
		{ tail -n 20 "$cache/$name/apt.log" >&2; exit 1; }
	in_root "$root" apt-get clean
	rm -rf "$root"/var/lib/apt/lists/* "$root/etc/resolv.conf"
	cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
	echo "app:x:1001:1001:app:/app:/bin/sh" >>"$root/etc/passwd"
	echo "app:x:1001:" >>"$root/etc/group"
	mkdir -p "$root/app/action"
	chown -R 1001:1001 "$root/app"
	if [ "$name" = python ]; then wheels "$root"; fi
	echo "realistic fixtures: $name: packing the layer..." >&2
	tar --numeric-owner --exclude='./proc/*' --exclude='./dev/*' --exclude='./sys/*' -C "$root" -cf - . | gzip -6 >"$cache/$name/layer.tar.gz.tmp"
	mv "$cache/$name/layer.tar.gz.tmp" "$cache/$name/layer.tar.gz"
	rm -rf "$root"
}

# wheels ROOT: builds two tiny pure-Python projects into wheels with the
# fixture's own pip, as a PEP 503 "simple" layout: pyindex/simple/<name>/.
wheels() {
	local root=$1 src=$1/tmp/wheel-src
	rm -rf "$src" "$cache/pyindex"
	project "$src/osd-hello" osd_hello "" 'def hello(name="world"):\n    return f"hello, {name}"'
	project "$src/osd-greet" osd_greet '"osd-hello>=1.0"' 'from osd_hello import hello\n\ndef greet(name):\n    return hello(name).capitalize() + "!"'
	in_root "$root" python3 -m pip wheel --quiet --no-build-isolation --no-deps --no-index -w /tmp/wheels /tmp/wheel-src/osd-hello /tmp/wheel-src/osd-greet
	for p in osd-hello osd-greet; do
		mkdir -p "$cache/pyindex/simple/$p"
		mv "$root"/tmp/wheels/"${p//-/_}"-*.whl "$cache/pyindex/simple/$p/"
	done
	rm -rf "$src" "$root/tmp/wheels"
	find "$root/tmp" -mindepth 1 -delete
}

# project DIR MODULE DEPS BODY: a pyproject.toml project with one module.
project() {
	mkdir -p "$1/$2"
	printf '%b\n' "$4" >"$1/$2/__init__.py"
	cat >"$1/pyproject.toml" <<TOML
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "$(basename "$1")"
version = "1.0.0"
description = "A tiny package of the deployer's python fixture index"
dependencies = [$3]
TOML
}

(
	flock 9
	base
	runtime nodejs nodejs npm
	runtime python python3 python3-pip python3-setuptools python3-wheel
	rm -rf "$cache/base" "$cache/base.done"
) 9>"$cache.lock"
echo "$cache"
