# Shared helpers for the CLI tests (POSIX sh). A test script does
#
#	here=$(cd "$(dirname "$0")" && pwd)
#	. "$here/lib.sh"
#	... checks ...
#	finish
#
# and is run as `BKSPI=/abs/build/bkspi BKSPI_WRAP="" sh tests/cli/test_x.sh`
# from any directory. Every check counts once; a failed one prints a single
# line "FAIL <name>: <why>". finish prints "N passed, N failed, N skipped"
# and exits 0 only when nothing failed.
#
# The tool is always started as `$BKSPI_WRAP "$BKSPI" ...` (BKSPI_WRAP may be
# a valgrind command). All work happens in a private temporary directory,
# which is also HOME and XDG_STATE_HOME, so the user's files are never touched.
# Flash images are synthetic; nothing here ever prints a flash image's bytes.

set -u
LC_ALL=C
export LC_ALL

cli_dir=$(cd "$(dirname "$0")" && pwd)
repo_root=$(cd "$cli_dir/../.." && pwd)
BKSPI=${BKSPI:-$repo_root/build/bkspi}
BKSPI_WRAP=${BKSPI_WRAP:-}
DUMPS=$repo_root/../shared/dumps

passed=0 failed=0 skipped=0

if [ ! -x "$BKSPI" ]; then
	echo "FAIL setup: $BKSPI is not an executable (build with make first)"
	echo "0 passed, 1 failed"
	exit 1
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/bkspi-cli.XXXXXX") || exit 1
trap 'cd /; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
cd "$T" || exit 1
HOME=$T
XDG_STATE_HOME=$T/state
export HOME XDG_STATE_HOME
# A progress setting from the caller's shell would change what stderr holds.
unset BKSPI_PROGRESS

# ---- counting ---------------------------------------------------------

pass() { passed=$((passed + 1)); }

# fail NAME [WHY]
fail() {
	failed=$((failed + 1))
	echo "FAIL $1${2:+: $2}"
}

# skip NAME WHY: a check that cannot run here.
skip() {
	skipped=$((skipped + 1))
	echo "skip: $1${2:+: $2}"
}

# check NAME WHY COMMAND...: passes when COMMAND succeeds.
check() {
	_name=$1 _why=$2
	shift 2
	if "$@"; then pass; else fail "$_name" "$_why"; fi
}

finish() {
	if [ "$skipped" -gt 0 ]; then
		echo "$passed passed, $failed failed, $skipped skipped"
	else
		echo "$passed passed, $failed failed"
	fi
	[ "$failed" -eq 0 ]
	exit $?
}

# ---- working directories and images ---------------------------------------

# newcase NAME: a fresh empty directory for one scenario, made the cwd, so
# backups/ and output files of different scenarios never mix.
newcase() {
	cd "$T" || exit 1
	mkdir "$T/$1" || exit 1
	cd "$T/$1" || exit 1
}

# mkimg FILE BYTES [random|ff|zero]: a synthetic image.
mkimg() {
	case ${3:-random} in
	random) head -c "$2" /dev/urandom >"$1" ;;
	ff) head -c "$2" /dev/zero | tr '\000' '\377' >"$1" ;;
	zero) head -c "$2" /dev/zero >"$1" ;;
	esac
}

# poke FILE OFFSET OCTAL: overwrite one byte, e.g. poke f 0x100 '\125'.
poke() {
	printf "$3" | dd of="$1" bs=1 seek=$(($2)) conv=notrunc 2>/dev/null
}

# extract FILE OFFSET LENGTH: those bytes on stdout.
extract() {
	tail -c +$(($2 + 1)) "$1" | head -c $(($3))
}

# splice OLD OFFSET DATA OUT: OLD with DATA's bytes at OFFSET, into OUT.
splice() {
	_len=$(wc -c <"$3")
	{
		head -c $(($2)) "$1"
		cat "$3"
		tail -c +$(($2 + _len + 1)) "$1"
	} >"$4"
}

# all_ff FILE: every byte is 0xFF (and the file is not empty).
all_ff() {
	[ -s "$1" ] && [ "$(tr -d '\377' <"$1" | wc -c)" -eq 0 ]
}

same() { cmp -s "$1" "$2"; }

# all_same REF FILE...: every FILE has REF's bytes.
all_same() {
	_ref=$1
	shift
	for _f in "$@"; do
		cmp -s "$_ref" "$_f" || return 1
	done
}

# between N LO HI: LO <= N <= HI.
between() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }

size_of() { wc -c <"$1" | tr -d ' '; }

# count_files DIR: regular files in DIR (0 when DIR is missing).
count_files() {
	if [ -d "$1" ]; then
		find "$1" -type f | wc -l | tr -d ' '
	else
		echo 0
	fi
}

# backup_files: the files in backups/ of the current directory, one a line.
backup_files() { find backups -type f 2>/dev/null; }

no_partial() { [ -z "$(find "$T" -name '*.partial')" ]; }

# ---- running the tool -----------------------------------------------------

# run ARGS...: runs bkspi; sets rc, leaves stdout in out.txt and stderr in
# err.txt of the current directory.
run() {
	$BKSPI_WRAP "$BKSPI" "$@" >out.txt 2>err.txt
	rc=$?
}

# sim ARGS...: run on the simulated programmer with img.bin as the flash.
sim() { run -p sim --sim-image img.bin "$@"; }

first_err() { head -n 1 err.txt | cut -c 1-300; }

# expect_exit CODE NAME -- ARGS...: runs bkspi with ARGS, checks its exit code.
expect_exit() {
	_code=$1 _name=$2
	shift 3
	run "$@"
	expect_rc "$_code" "$_name"
}

# expect_rc CODE NAME: checks the exit code of the last run.
expect_rc() {
	if [ "$rc" -eq "$1" ]; then
		pass
	else
		fail "$2" "exit $rc, expected $1 (stderr: $(first_err))"
	fi
}

# expect_stderr_match NAME ERE: stderr of the last run matches.
expect_stderr_match() {
	if grep -Eq -- "$2" err.txt; then
		pass
	else
		fail "$1" "stderr does not match /$2/ (stderr: $(first_err))"
	fi
}

expect_stderr_nomatch() {
	if grep -Eq -- "$2" err.txt; then
		fail "$1" "stderr matches /$2/ (stderr: $(first_err))"
	else
		pass
	fi
}

expect_stdout_match() {
	if grep -Eq -- "$2" out.txt; then
		pass
	else
		fail "$1" "stdout does not match /$2/"
	fi
}

expect_stdout_nomatch() {
	if grep -Eq -- "$2" out.txt; then
		fail "$1" "stdout matches /$2/"
	else
		pass
	fi
}

expect_stdout_empty() {
	if [ -s out.txt ]; then
		fail "$1" "stdout not empty: $(head -n 1 out.txt | cut -c 1-200)"
	else
		pass
	fi
}

expect_stderr_empty() {
	if [ -s err.txt ]; then
		fail "$1" "stderr not empty: $(first_err)"
	else
		pass
	fi
}

# expect_error_line NAME [ERE]: stderr is exactly one line, "bkspi: ...",
# matching ERE when given.
expect_error_line() {
	_lines=$(wc -l <err.txt | tr -d ' ')
	if [ "$_lines" -ne 1 ] || ! head -n 1 err.txt | grep -q '^bkspi: '; then
		fail "$1" "stderr should be one 'bkspi: ' line, has $_lines (stderr: $(first_err))"
	elif [ -n "${2:-}" ] && ! grep -Eq -- "$2" err.txt; then
		fail "$1" "message does not match /$2/ (stderr: $(first_err))"
	else
		pass
	fi
}

# expect_usage_error NAME ERE -- ARGS...: exit 2 before any flash access:
# one error line matching ERE and nothing on stdout. Three checks.
expect_usage_error() {
	_uname=$1 _ure=$2
	shift 3
	expect_exit 2 "$_uname (exit)" -- "$@"
	expect_error_line "$_uname (message)" "$_ure"
	expect_stdout_empty "$_uname (stdout)"
}

# ---- JSON -------------------------------------------------------------------

if command -v jq >/dev/null 2>&1; then
	json_tool=jq
elif command -v python3 >/dev/null 2>&1; then
	json_tool=python3
else
	json_tool=
fi

# json_object FILE: FILE holds exactly one JSON object.
json_object() {
	case $json_tool in
	jq) [ "$(jq -s 'length == 1 and (.[0] | type == "object")' <"$1" 2>/dev/null)" = true ] ;;
	python3) python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if isinstance(d, dict) else 1)' "$1" 2>/dev/null ;;
	*) return 1 ;;
	esac
}

# json_get FILE .a.b: that value (strings bare, the rest as JSON text).
json_get() {
	case $json_tool in
	jq) jq -r "$2" <"$1" 2>/dev/null ;;
	python3) python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for k in sys.argv[2].split(".")[1:]:
    d = d[k] if isinstance(d, dict) and k in d else None
print(d if isinstance(d, str) else json.dumps(d))' "$1" "$2" 2>/dev/null ;;
	esac
}

# expect_json NAME .path VALUE: stdout of the last run (a JSON object) has
# VALUE at .path. Skipped without jq or python3.
expect_json() {
	if [ -z "$json_tool" ]; then
		skip "$1" "no jq or python3 to parse JSON"
		return
	fi
	_got=$(json_get out.txt "$2")
	if [ "$_got" = "$3" ]; then
		pass
	else
		fail "$1" "$2 is '$_got', expected '$3'"
	fi
}

# expect_json_object NAME: stdout of the last run is one JSON object.
expect_json_object() {
	if [ -z "$json_tool" ]; then
		skip "$1" "no jq or python3 to parse JSON"
	elif json_object out.txt; then
		pass
	else
		fail "$1" "stdout is not exactly one JSON object"
	fi
}
