#!/bin/sh
# Line coverage of the parsers by the fuzz corpora (`make fuzz-coverage`):
#	tests/fuzz/coverage.sh BUILD_DIR NAME...
# Replays BUILD_DIR/corpus/NAME, tests/fuzz/seeds/NAME and (for beken and
# classify, when present) the dumps in FUZZ_DUMPS through
# BUILD_DIR/cov/replay_NAME, built with clang's source-based coverage, and
# prints llvm-cov's line and function coverage of the files that harness
# targets. Inputs that crash write no profile, so they do not count.
set -u
build=$1
shift
dumps=${FUZZ_DUMPS:-../shared/dumps}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
profdata=${LLVM_PROFDATA:-llvm-profdata}
llvmcov=${LLVM_COV:-llvm-cov}

for name in "$@"; do
	case $name in
	num) files="src/cli/args.c" ;;
	sfdp) files="src/spi/sfdp.c" ;;
	beken)
		files=""
		for f in src/beken/*.c; do
			[ "$f" = src/beken/classify.c ] || files="$files $f"
		done
		;;
	classify) files="src/beken/classify.c" ;;
	replies) files="src/usb/usb.c src/prog/ch341a.c src/target/target.c src/spi/flash.c" ;;
	simconfig) files="src/emu/config.c" ;;
	*) files="" ;;
	esac
	bin=$build/cov/replay_$name
	rm -f "$build/cov/$name"-*.profraw
	set -- "$build/corpus/$name" "tests/fuzz/seeds/$name"
	case $name in
	beken | classify) [ -d "$dumps" ] && set -- "$@" "$dumps" ;;
	esac
	LLVM_PROFILE_FILE="$build/cov/$name-%4m.profraw" "$bin" "$@" >"$build/cov/$name.log" 2>&1
	inputs=$(tail -n1 "$build/cov/$name.log")
	"$profdata" merge -sparse -o "$build/cov/$name.profdata" "$build/cov/$name"-*.profraw || continue
	# shellcheck disable=SC2086
	"$llvmcov" report "$bin" -instr-profile="$build/cov/$name.profdata" $files >"$build/cov/$name.txt" 2>&1
	echo "fuzz_$name ($inputs):"
	awk 'NR > 2 && NF >= 13 && $1 != "TOTAL" { sub(/^.*src\//, "", $1); printf "  %-24s lines %6s of %5s, functions %6s, branches %s\n", $1, $10, $8, $7, $13 }
	     $1 == "TOTAL" { printf "  %-24s lines %6s of %5s, functions %6s, branches %s\n", "all", $10, $8, $7, $13 }' \
		"$build/cov/$name.txt"
done
