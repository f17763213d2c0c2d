#!/bin/sh
# make bench: finds flashrom (installing it when root and it is missing),
# then runs the benchmark. Usage: run.sh BENCH BKSPI LIBFAKEUSB
set -u
bench=$1 bkspi=$2 so=$3
root=$(cd "$(dirname "$0")/../.." && pwd)

find_flashrom() {
	command -v flashrom 2>/dev/null && return 0
	for p in /usr/sbin/flashrom /usr/local/sbin/flashrom /sbin/flashrom; do
		[ -x "$p" ] && { echo "$p"; return 0; }
	done
	return 1
}

flashrom=$(find_flashrom)
if [ -z "$flashrom" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "bench: installing flashrom (the comparison needs it)" >&2
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get update -qq && apt-get install -y -qq --no-install-recommends flashrom; } >/dev/null 2>&1
	flashrom=$(find_flashrom)
fi
if [ -z "$flashrom" ]; then
	echo "bench: flashrom is not installed and cannot be here (not root): skipping its rows" >&2
	flashrom=-
fi
exec "$bench" "$bkspi" "$so" "$flashrom" "$root/../shared/dumps"
