#!/usr/bin/env bash
# build.sh prints the path of a Traefik binary at the version this module pins,
# building it first when the cache lacks it. The cache lives outside the clone
# (GATEHOUSE_CACHE, default ~/.cache/gatehouse) so CI and the demo build it once
# per machine; the first build takes about six minutes on two cores.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=$(sed -n 's/^require github.com\/traefik\/traefik\/v3 \(v[0-9.]*\)$/\1/p' "$here/go.mod")
cache=${GATEHOUSE_CACHE:-$HOME/.cache/gatehouse}
bin=$cache/traefik-$version/traefik
if [ ! -x "$bin" ]; then
	mkdir -p "$(dirname "$bin")"
	echo "building Traefik $version into $bin (first time only, several minutes)..." >&2
	# A file of its own, renamed into place whole: two builds at once (CI
	# and a test run on one machine) never write or move each other's.
	tmp=$(mktemp "$bin.XXXXXX")
	trap 'rm -f "$tmp"' EXIT
	(cd "$here" && go build -mod=mod -trimpath -o "$tmp" github.com/traefik/traefik/v3/cmd/traefik)
	mv "$tmp" "$bin"
fi
echo "$bin"
