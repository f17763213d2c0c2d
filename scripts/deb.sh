#!/bin/sh
# Builds the bkspi .deb and checks it: scripts/deb.sh [--if-tools] OUTDIR
#
# The package is built with dpkg-buildpackage -us -uc from a copy of the
# tree (the files git tracks or would track, so uncommitted work is in it)
# in a temporary directory, so nothing lands in the tree or beside it. The
# copy builds with DEB_BUILD_OPTIONS=nocheck: make check runs the tests
# itself, and building here must not start them again. Then the .deb's file
# list, permissions and metadata are checked, its binary and man page are
# run, and lintian must report no error or warning. The .deb ends up in
# OUTDIR with the build log and lintian's output. With --if-tools (make check) missing tools or build dependencies
# skip the whole test with one line instead of failing.
set -eu

if_tools=0
if [ "${1:-}" = --if-tools ]; then
	if_tools=1
	shift
fi
out=${1:?usage: scripts/deb.sh [--if-tools] OUTDIR}
root=$(cd "$(dirname "$0")/.." && pwd)

missing=""
for t in dpkg-buildpackage dpkg-deb dpkg-checkbuilddeps dh lintian; do
	command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
if [ -z "$missing" ] && ! deps=$(cd "$root" && dpkg-checkbuilddeps -Pnocheck 2>&1); then
	missing=" build dependencies ($(echo "$deps" | sed 's/.*Unmet build dependencies: //' | head -n 1))"
fi
if [ -n "$missing" ]; then
	if [ "$if_tools" = 1 ]; then
		echo "skip: deb: missing$missing (make deps installs them as root)"
		exit 0
	fi
	echo "bkspi: cannot build the package, missing$missing" >&2
	exit 1
fi

version=$(sed -nE '1s/^bkspi \(([^)]*)\).*/\1/p' "$root/debian/changelog")
arch=$(dpkg --print-architecture)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bkspi-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
src=$tmp/bkspi-$version
mkdir -p "$src" "$tmp/home"

# The copy: what git tracks or would track (not build/, not backups/).
cd "$root"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files --cached --others --exclude-standard | while IFS= read -r f; do
		[ -e "$f" ] && printf '%s\n' "$f"
	done | tar -cf - -T - | tar -xf - -C "$src"
else
	tar --exclude=./.git --exclude='./build*' --exclude=./backups -cf - . | tar -xf - -C "$src"
fi

# A clean environment: make check's WERROR, CFLAGS or MAKEFLAGS (its
# jobserver) must not leak into the packager's build.
fail=0
(cd "$src" && env -i PATH="$PATH" HOME="$tmp/home" LC_ALL=C.UTF-8 TMPDIR="${TMPDIR:-/tmp}" \
	DEB_BUILD_OPTIONS="nocheck parallel=2" \
	dpkg-buildpackage -us -uc --build-profiles=nocheck) >"$tmp/build.log" 2>&1 || fail=1
if [ "$fail" = 1 ]; then
	tail -n 30 "$tmp/build.log" | sed 's/^/deb: /'
	echo "FAIL deb: dpkg-buildpackage failed (log above)"
	exit 1
fi
deb=$tmp/bkspi_${version}_$arch.deb
changes=$tmp/bkspi_${version}_$arch.changes
[ -f "$deb" ] || { echo "FAIL deb: no $deb"; exit 1; }

problems=0
problem() {
	problems=$((problems + 1))
	echo "FAIL deb: $1"
}

# ---- the file list --------------------------------------------------------

dpkg-deb -c "$deb" >"$tmp/list"
# "MODE OWNER PATH" for every file, the udev directory as the distribution's
# udev.pc says (/lib/udev or /usr/lib/udev).
awk '$1 !~ /^d/ { p = $6; sub(/^\.\//, "/", p); print $1, $2, p }' "$tmp/list" |
	sed -E 's#^([^ ]+ [^ ]+) (/usr)?/lib/udev/#\1 /UDEV/#' | sort >"$tmp/files"
sort >"$tmp/expected" <<LIST
-rw-r--r-- root/root /UDEV/rules.d/60-bkspi-ch341a.rules
-rw-r--r-- root/root /usr/share/bash-completion/completions/bkspi
-rw-r--r-- root/root /usr/share/doc/bkspi/README.md.gz
-rw-r--r-- root/root /usr/share/doc/bkspi/changelog.gz
-rw-r--r-- root/root /usr/share/doc/bkspi/copyright
-rw-r--r-- root/root /usr/share/man/man1/bkspi.1.gz
-rw-r--r-- root/root /usr/share/zsh/vendor-completions/_bkspi
-rwxr-xr-x root/root /usr/bin/bkspi
LIST
if ! cmp -s "$tmp/files" "$tmp/expected"; then
	problem "the file list differs from the expected one (- expected, + in the .deb):"
	diff "$tmp/expected" "$tmp/files" | grep '^[<>]' | sed 's/^</  -/; s/^>/  +/'
fi

# ---- metadata, and the files work ---------------------------------------------

[ "$(dpkg-deb -f "$deb" Package)" = bkspi ] || problem "Package is not bkspi"
dpkg-deb -f "$deb" Depends | grep -q 'libusb-1.0-0' || problem "Depends lacks libusb-1.0-0: $(dpkg-deb -f "$deb" Depends)"
dpkg-deb -x "$deb" "$tmp/root"
got=$("$tmp/root/usr/bin/bkspi" --version 2>&1) || true
[ "$got" = "bkspi $version" ] || problem "the packaged bkspi --version says '$got', not 'bkspi $version'"
if command -v mandoc >/dev/null 2>&1; then
	lint=$(mandoc -T lint "$tmp/root/usr/share/man/man1/bkspi.1.gz" 2>&1) || true
	[ -z "$lint" ] || problem "mandoc -T lint: $(echo "$lint" | head -n 1)"
fi
rule=$(find "$tmp/root" -name 60-bkspi-ch341a.rules)
cmp -s "$rule" "$root/contrib/60-bkspi-ch341a.rules" || problem "the packaged udev rule is not contrib's"

# ---- lintian ----------------------------------------------------------------

# Root is fine here (a throwaway copy); lintian only says it is unusual.
lintian --fail-on error,warning "$changes" "$tmp"/bkspi_"$version".dsc >"$tmp/lintian" 2>&1 || lintian_rc=$?
lintian_rc=${lintian_rc:-0}
grep -E '^[EW]: ' "$tmp/lintian" | sed 's/^/deb: lintian: /' || true
if [ "$lintian_rc" -ne 0 ]; then
	grep -vE '^[EWIPNX]: |running with root' "$tmp/lintian" | head -n 5 | sed 's/^/deb: lintian: /'
	problem "lintian reports errors or warnings (exit $lintian_rc)"
fi

mkdir -p "$out"
cp "$deb" "$tmp/build.log" "$tmp/lintian" "$out/"
if [ "$problems" -gt 0 ]; then
	echo "deb: $problems problem(s) in $out/$(basename "$deb")"
	exit 1
fi
echo "deb: $out/$(basename "$deb"): $(wc -l <"$tmp/files" | tr -d ' ') files as expected, lintian clean"
