#!/usr/bin/env bash
# install.sh prints the path of an oauth2-proxy binary at the version below,
# installing it first with `go install` when the cache lacks it. The benchmark
# (e2e/cmd/bench) and the cookie-size test run it behind Traefik's ForwardAuth,
# the setup Gatehouse replaces. The cache lives outside the clone
# (GATEHOUSE_CACHE, default ~/.cache/gatehouse), like the Traefik binary's; the
# first install takes about a minute.
set -euo pipefail
version=v7.15.6
cache=${GATEHOUSE_CACHE:-$HOME/.cache/gatehouse}
dir=$cache/oauth2-proxy-$version
bin=$dir/oauth2-proxy
if [ ! -x "$bin" ]; then
	mkdir -p "$dir"
	echo "installing oauth2-proxy $version into $bin (first time only, about a minute)..." >&2
	# A directory of its own, renamed into place whole: two installs at once
	# never leave a half-written binary at $bin.
	tmp=$(mktemp -d "$dir/install.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	GOBIN=$tmp go install "github.com/oauth2-proxy/oauth2-proxy/v7@$version"
	mv "$tmp/oauth2-proxy" "$bin"
fi
echo "$bin"
