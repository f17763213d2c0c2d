#!/bin/sh
# Replays every fuzz harness over its saved inputs (tests/fuzz/regress/NAME:
# inputs that once crashed; tests/fuzz/seeds/NAME) with the replay_NAME
# programs `make test` builds beside bkspi (in BUILD/tests/fuzz/), under
# BKSPI_WRAP (valgrind in the valgrind pass). One check per input.
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/cli/lib.sh
. "$here/lib.sh"

fuzz_src=$repo_root/tests/fuzz
bin_dir=$(cd "$(dirname "$BKSPI")" && pwd)/tests/fuzz

names=""
for src in "$fuzz_src"/fuzz_*.c; do
	[ -f "$src" ] || continue
	src=${src##*/fuzz_}
	names="$names ${src%.c}"
done
[ -n "$names" ] || fail "harnesses" "no tests/fuzz/fuzz_*.c found"

for name in $names; do
	replay=$bin_dir/replay_$name
	if [ ! -x "$replay" ]; then
		fail "replay_$name" "$replay is missing; build it with make test (or make fuzz-replay)"
		continue
	fi
	$BKSPI_WRAP "$replay" "$fuzz_src/regress/$name" "$fuzz_src/seeds/$name" >replay.txt 2>&1
	rc=$?
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' replay.txt | tail -n1)
	p=${line%% passed*}
	f=$(echo "$line" | sed -nE 's/^[0-9]+ passed, ([0-9]+) failed$/\1/p')
	if [ -z "$line" ]; then
		fail "replay_$name" "no result line (exit $rc): $(tail -n 3 replay.txt | tr '\n' ' ' | cut -c 1-300)"
		continue
	fi
	passed=$((passed + p))
	if [ "$f" -gt 0 ]; then
		failed=$((failed + f))
		# FAIL lines name the inputs; the sanitizer's or valgrind's first
		# words say why.
		grep -E '^FAIL ' replay.txt | sed -e "s|^FAIL $fuzz_src/|FAIL fuzz_$name: |"
		grep -m3 -E 'SUMMARY:|fuzz invariant failed|runtime error:|Invalid (read|write)' replay.txt |
			cut -c 1-300 | sed "s|^|  fuzz_$name: |"
	elif [ "$rc" -ne 0 ]; then
		fail "replay_$name" "exit $rc with nothing failed: $(tail -n 3 replay.txt | tr '\n' ' ' | cut -c 1-300)"
	fi
done
finish
