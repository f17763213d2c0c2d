#!/bin/sh
# Runs each libFuzzer harness for FUZZ_SECONDS (`make fuzz`):
#	tests/fuzz/run.sh BUILD_DIR NAME...
# Corpora live in BUILD_DIR/corpus/NAME, seeded from tests/fuzz/seeds/NAME;
# crashes go to BUILD_DIR/crashes/NAME/, logs to BUILD_DIR/logs/NAME.log.
# One line per harness; exits 1 if any crashed, naming the crash file.
#
# fuzz_beken and fuzz_classify also get the real dumps in FUZZ_DUMPS (when
# that folder exists) for the last quarter of their time, as -seed_inputs
# with no output corpus: the dumps hold device secrets, so neither they nor
# their mutants are copied anywhere (a crash file would be: it stays in
# BUILD_DIR/crashes, which is never committed). Their bytes are never printed.
set -u
build=$1
shift
secs=${FUZZ_SECONDS:-20}
dumps=${FUZZ_DUMPS:-../shared/dumps}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
crashed=""
start=$(date +%s)

# stat NAME LOG: a -print_final_stats value
stat() { sed -nE "s/^stat::$1: *([0-9]+).*/\1/p" "$2" | tail -n1; }
# last "cov: N ft: N corp: N" of a log
cov() { grep -E '^#[0-9]+.*cov: ' "$1" | tail -n1 | sed -nE 's/.*cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+).*/cov \1, ft \2, corpus \3/p'; }

# run NAME LOG SECONDS ARGS...: one libFuzzer run; 0 or the crash line
run() {
	_name=$1 _log=$2 _secs=$3
	shift 3
	"$build/fuzz_$_name" -max_total_time="$_secs" -print_final_stats=1 -timeout=25 \
		-rss_limit_mb=4096 -artifact_prefix="$build/crashes/$_name/" "$@" >"$_log" 2>&1
}

# report NAME LOG RC: prints the crash and returns 1 when the run failed
report() {
	[ "$3" -eq 0 ] && return 0
	_file=$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$2" | tail -n1)
	_why=$(grep -m1 -E '^SUMMARY: |fuzz invariant failed|runtime error:|ERROR: libFuzzer: ' "$2" |
		sed -E 's/^SUMMARY: //' | cut -c 1-200)
	echo "fuzz_$1: CRASH ${_why:-exit $3}; input: ${_file:-none written}; log: $2"
	[ -n "$_file" ] && echo "  reproduce: $build/fuzz_$1 $_file"
	crashed="$crashed fuzz_$1"
	return 1
}

for name in "$@"; do
	corpus=$build/corpus/$name
	log=$build/logs/$name.log
	mkdir -p "$corpus" "$build/crashes/$name" "$build/logs"
	set --
	[ -f "tests/fuzz/$name.dict" ] && set -- "$@" -dict="tests/fuzz/$name.dict"
	case $name in
	replies) set -- "$@" -max_len=16384 ;;
	esac
	main=$secs dump_secs=0 dump_list=""
	case $name in
	beken | classify)
		if [ -d "$dumps" ]; then
			dump_list=$(find "$dumps" -maxdepth 1 -type f -name '*.bin' | sort | tr '\n' ',' | sed 's/,$//')
			if [ -n "$dump_list" ]; then
				dump_secs=$((secs / 4))
				[ "$dump_secs" -ge 1 ] || dump_secs=1
				main=$((secs - dump_secs))
				[ "$main" -ge 1 ] || main=1
			fi
		fi
		;;
	esac
	t0=$(date +%s)
	if [ -d "tests/fuzz/seeds/$name" ]; then
		run "$name" "$log" "$main" "$@" "$corpus" "tests/fuzz/seeds/$name"
	else
		run "$name" "$log" "$main" "$@" "$corpus"
	fi
	rc=$?
	report "$name" "$log" "$rc" || continue
	runs=$(stat number_of_executed_units "$log")
	rate=$(stat average_exec_per_sec "$log")
	line="fuzz_$name: ok, ${runs:-?} runs, ${rate:-?}/s, $(cov "$log")"
	if [ "$dump_secs" -gt 0 ]; then
		dlog=$build/logs/$name-dumps.log
		run "$name" "$dlog" "$dump_secs" "$@" -max_len=4194304 -seed_inputs="$dump_list"
		rc=$?
		report "$name" "$dlog" "$rc" || continue
		line="$line; with the dumps: $(stat number_of_executed_units "$dlog") runs, $(stat average_exec_per_sec "$dlog")/s, $(cov "$dlog" | sed 's/, corpus.*//')"
	fi
	echo "$line ($(($(date +%s) - t0)) s)"
done

echo "fuzzing took $(($(date +%s) - start)) s"
if [ -n "$crashed" ]; then
	echo "crashed:$crashed (keep each crash input, minimised, in tests/fuzz/regress/NAME/)"
	exit 1
fi
