#!/bin/sh
# Runs every test program in BUILD (cmocka unit and emulator tests) and
# every CLI test script, sums their counts and ends with one line:
# "N passed, N failed, N skipped". With BKSPI_VALGRIND=1 each program and
# each bkspi the CLI tests start runs under valgrind.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-build}" && pwd) || exit 1
passed=0 failed=0 skipped=0 broken=""

wrap=""
# Under valgrind (30x slower) a representative subset runs: every layer and
# every command once, not every fault position again; the plain and
# ASan+UBSan passes run everything.
valgrind_subset="unit/test_beken unit/test_plan unit/test_sfdp unit/test_safety emu/test_entry emu/test_flash
emu/test_ops emu/test_handle cli/test_read.sh cli/test_write.sh cli/test_target.sh cli/test_fuzz_replay.sh"
in_subset() { [ -z "$wrap" ] || echo "$valgrind_subset" | tr ' ' '\n' | grep -qx "$1"; }
if [ "${BKSPI_VALGRIND:-0}" = 1 ]; then
	wrap="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect"
fi

count() { # file pattern -> number on the first matching line, else 0
	n=$(grep -E "$2" "$1" | head -n1 | sed -E 's/[^0-9]*([0-9]+).*/\1/')
	echo "${n:-0}"
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Emulator tests run twice: on the CH341A and, with BKSPI_RIG=ch347, on the
# CH347 (tests/emu/rig.h).
set --
for t in "$build"/tests/emu/test_*; do
	set -- "$@" "$t@ch347"
done
for t in "$build"/tests/unit/test_* "$build"/tests/emu/test_* "$@"; do
	rig=ch341a
	case "$t" in *@ch347) rig=ch347 t=${t%@ch347} ;; esac
	case "$t" in *.d|*.o) continue ;; esac
	[ -x "$t" ] || continue
	name=${t#"$build"/tests/}
	in_subset "$name" || continue
	[ "$rig" = ch347 ] && name="$name[ch347]"
	# cmocka tests find ../shared relative to the project root.
	(cd "$root" && BKSPI_RIG=$rig $wrap "$t") >"$log" 2>&1
	rc=$?
	p=$(count "$log" '^\[  PASSED  \]')
	f=$(count "$log" '^\[  FAILED  \] [0-9]+ test')
	s=$(count "$log" '^\[  SKIPPED \] [0-9]+ test')
	grep -E '^(skip:|\[  FAILED|\[  ERROR|\[   LINE)' "$log" | sort -u | sed "s|^|$name: |"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		broken="$broken $name(rc=$rc)"
		tail -n 20 "$log" | sed "s|^|$name: |"
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	echo "$name: $p passed, $f failed, $s skipped"
done

for t in "$root"/tests/cli/test_*.sh; do
	[ -f "$t" ] || continue
	name=cli/$(basename "$t")
	in_subset "$name" || continue
	BKSPI="$build/bkspi" BKSPI_WRAP="$wrap" sh "$t" >"$log" 2>&1
	rc=$?
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n1)
	p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
	s=$(echo "$line" | sed -nE 's/.*, ([0-9]+) skipped.*/\1/p')
	grep -E '^(FAIL|skip:)' "$log" | sed "s|^|$name: |"
	if [ -z "$line" ] || { [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; }; then
		broken="$broken $name(rc=$rc)"
		tail -n 20 "$log" | sed "s|^|$name: |"
	fi
	passed=$((passed + ${p:-0})) failed=$((failed + ${f:-0})) skipped=$((skipped + ${s:-0}))
	echo "$name: ${p:-0} passed, ${f:-0} failed, ${s:-0} skipped"
done

[ -z "$broken" ] || echo "crashed or errored:$broken"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ -z "$broken" ]
