#!/usr/bin/env bash
# Installs pouchdb-server, an in-memory server that speaks CouchDB's HTTP API
# (databases, documents, Mango _find), with npm into a cache outside the work
# tree, once per machine, and prints the path of its binary. The tests use it
# in place of the platform's CouchDB (users_metadata). Installs Debian's
# nodejs and npm first when they are missing.
set -euo pipefail

version=4.2.0
cache=${DEPLOYER_CACHE:-$HOME/.cache/openserverless-deployer}
prefix=$cache/npm/pouchdb-server-$version
bin=$prefix/node_modules/.bin/pouchdb-server

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	echo "installing nodejs and npm" >&2
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

mkdir -p "$prefix"
if [ ! -x "$bin" ]; then
	(
		flock 9
		if [ ! -x "$bin" ]; then
			echo "installing pouchdb-server $version (once per machine)..." >&2
			npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error \
				"pouchdb-server@$version" >&2
		fi
	) 9>"$prefix.lock"
fi
echo "$bin"
