#!/bin/sh
# Installs the Debian packages bkspi builds and tests with, when they are
# missing and we are root; otherwise names them and stops.
set -eu

missing=""
pkg() { pkg-config --exists "$1" 2>/dev/null || missing="$missing $2"; }
cmd() { command -v "$1" >/dev/null 2>&1 || missing="$missing $2"; }

cmd cc gcc
cmd clang clang
cmd make make
cmd pkg-config pkg-config
pkg libusb-1.0 libusb-1.0-0-dev
pkg json-c libjson-c-dev
pkg zlib zlib1g-dev
pkg nettle nettle-dev
pkg cmocka libcmocka-dev
cmd valgrind valgrind
# The man page (make), its lint in the tests, and the package build that
# make check tests (mk/deb.mk).
cmd scdoc scdoc
cmd mandoc mandoc
cmd dpkg-buildpackage dpkg-dev
cmd dh debhelper
cmd lintian lintian
[ -n "$missing" ] || exit 0

if [ "$(id -u)" != 0 ]; then
	echo "bkspi: missing packages:$missing" >&2
	echo "bkspi: install them with: sudo apt-get install$missing" >&2
	exit 1
fi
echo "bkspi: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
