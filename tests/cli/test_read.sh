#!/bin/sh
# read: default backup names, exact contents, ranges, never overwriting,
# no leftovers, progress output, the default simulator image.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

stamp='[0-9]{8}-[0-9]{6}'

# ---- default name ------------------------------------------------------------

newcase default_name
mkimg img.bin 65536
sim read
expect_rc 0 "read default name (exit)"
files=$(backup_files)
name=${files#backups/}
if printf '%s\n' "$files" | grep -Eq "^backups/0B4010_read_${stamp}\.bin$"; then
	pass
else
	fail "read default name (backups/<part>_read_<YYYYmmdd-HHMMSS>.bin)" "got '$files'"
fi
today=$(date +%Y%m%d)
case $name in
*"_read_$today"-*) pass ;;
*) [ "$(date +%Y%m%d)" != "$today" ] && pass || fail "read default name has today's date" "got '$name'" ;;
esac
check "read default name (contents)" "backup differs from the flash" same "$files" img.bin
expect_stdout_match "read default name (reported)" "to backups/0B4010_read_${stamp}\.bin"
# A second read in the same second gets a new name, never the old one.
sim -q read
sim -q read
check "read default name twice (3 files)" "backups/ has $(count_files backups) files" \
	test "$(count_files backups)" -eq 3
check "read default name twice (all equal the flash)" "a backup differs" \
	all_same img.bin backups/*

newcase label
mkimg img.bin 65536
sim -q --label "my board/1" read
if backup_files | grep -Eq "^backups/0B4010_my-board-1_${stamp}\.bin$"; then
	pass
else
	fail "read --label names the file (sanitized)" "got '$(backup_files)'"
fi

# The known part of the default simulated flash names its backups.
newcase part_name
run -p sim -q read
expect_rc 0 "read default sim (exit)"
if backup_files | grep -Eq "^backups/XT25F16B_read_${stamp}\.bin$"; then
	pass
else
	fail "read default sim names the part" "got '$(backup_files)'"
fi
check "read default sim (contents)" "backup differs from the simulator image" \
	same backups/XT25F16B_read_*.bin "$XDG_STATE_HOME/bkspi/sim-flash.bin"

# ---- explicit file, whole flash ------------------------------------------------

newcase explicit
mkimg img.bin 65536
sim read out.bin
expect_rc 0 "read FILE (exit)"
check "read FILE (contents)" "out.bin differs from the flash" same out.bin img.bin
expect_stderr_empty "read FILE (stderr)"
expect_stdout_match "read FILE (summary)" '^read +64 KiB from 0x000000 to out\.bin'
check "read FILE (no backups/)" "backups/ was created" test ! -e backups
check "read FILE (no .partial)" "a .partial file is left" no_partial

mkimg img.bin 524288
sim read big.bin
expect_rc 0 "read 512 KiB (exit)"
check "read 512 KiB (contents)" "big.bin differs from the flash" same big.bin img.bin

# With -t spi the same flash is read without the Beken entry.
sim -t spi read spi.bin
expect_rc 0 "read -t spi (exit)"
check "read -t spi (contents)" "spi.bin differs from the flash" same spi.bin img.bin
expect_stdout_match "read -t spi (plain SPI)" 'plain SPI flash'

# ---- ranges --------------------------------------------------------------------

newcase ranges
mkimg img.bin 524288
# read_range NAME OFFSET LENGTH [OFFSET_ARG LENGTH_ARG]: reads the range
# (given to bkspi as the ARG forms when present, LENGTH_ARG "-" for none)
# and compares it with the bytes the shell cuts out of the image.
read_range() {
	_off=$2 _len=$3 _oarg=${4:-$2} _larg=${5:-$3}
	rm -f part.bin
	if [ "$_larg" = - ]; then
		sim -q --offset "$_oarg" read part.bin
	else
		sim -q --offset "$_oarg" --length "$_larg" read part.bin
	fi
	expect_rc 0 "$1 (exit)"
	extract img.bin "$_off" "$_len" >want.bin
	check "$1 (bytes)" "part.bin is not the expected range" same part.bin want.bin
}
read_range "read range K suffix" 4096 8192 4K 8K
read_range "read range k suffix, decimal" 4096 8192 4096 8k
read_range "read range hex unaligned" 0x1234 0x100
read_range "read range decimal odd" 70001 12345
read_range "read range last byte" 0x7FFFF 1
read_range "read range to the end" 0x70000 0x10000 0x70000 -
read_range "read range crossing 64 KiB frames" 0xFFF0 0x20020
sim -q --offset 0 --length 1M read one_m.bin
expect_rc 2 "read range 1M of 512 KiB (exit)"
sim -q --length 512K read --force part.bin
expect_rc 0 "read range M/K whole (exit)"
check "read range --length 512K (bytes)" "differs from the flash" same part.bin img.bin
sim -q --offset 0x1234 --length 0x100 --json read --force part.bin
expect_stdout_match "read --json (stdout is JSON)" '^\{'
expect_stdout_nomatch "read --json (no text lines)" '^read  '
run -p sim --sim-image img.bin --json --offset 0x1234 --length 0x100 read --force part.bin
expect_json "read --json (offset)" .offset 0x001234
expect_json "read --json (length)" .length 256
expect_json "read --json (file)" .file part.bin
expect_json "read --json (ok)" .ok true

newcase ranges_m
mkimg img.bin 2097152
read_range "read range M suffix" 1048576 4096 1M 4K
read_range "read range m suffix" 1048576 4096 1m 0x1000
read_range "read range hex offset, no length" 0x1FF000 4096 0x1FF000 -

# ---- never overwrite -------------------------------------------------------------

newcase overwrite
mkimg img.bin 65536
mkimg exists.bin 1000
cp exists.bin exists.orig
sim read exists.bin
expect_rc 2 "read existing file (exit)"
expect_error_line "read existing file (message)" 'exists.bin exists.*--force'
expect_stdout_empty "read existing file (stdout)"
check "read existing file (unchanged)" "exists.bin was changed" same exists.bin exists.orig
check "read existing file (no .partial)" "a .partial file is left" no_partial
sim -q --force read exists.bin
expect_rc 0 "read --force (exit)"
check "read --force (replaced)" "exists.bin is not the flash" same exists.bin img.bin
check "read --force (no .partial)" "a .partial file is left" no_partial
# A symlink to an existing file is an existing file too.
cp exists.orig target.bin
ln -s target.bin link.bin
sim -q read link.bin
expect_rc 2 "read onto a symlink (exit)"
check "read onto a symlink (target unchanged)" "the link target changed" same target.bin exists.orig

# A read that fails half-way leaves nothing behind.
newcase failed_read
mkimg img.bin 65536
sim -q --sim-config unplug-after=300 read out.bin
expect_rc 3 "read unplugged (exit)"
expect_error_line "read unplugged (message)" 'disconnected|gone'
check "read unplugged (no file)" "out.bin was created" test ! -e out.bin
check "read unplugged (no .partial)" "a .partial file is left" no_partial

# ---- progress -------------------------------------------------------------------

newcase progress
mkimg img.bin 524288
BKSPI_PROGRESS=1
export BKSPI_PROGRESS
sim read p.bin
expect_rc 0 "progress (exit)"
expect_stderr_match "progress (percent)" '100%'
expect_stderr_match "progress (rate)" '[0-9.]+ KB/s'
# The rate shown is the rate of the read: close to the one in the summary
# (which also counts the entry, so it is a little lower).
shown=$(tr '\r' '\n' <err.txt | grep '100%' | tail -n 1 | sed -E 's/.* ([0-9.]+) KB\/s.*/\1/')
real=$(sed -nE 's/^read .*\(([0-9.]+) KB\/s\)$/\1/p' out.txt)
if awk -v s="${shown:-0}" -v r="${real:-0}" 'BEGIN { exit !(r > 0 && s >= 0.95 * r && s <= 1.10 * r) }'; then
	pass
else
	fail "progress rate matches the read" "progress shows ${shown:-?} KB/s, the read took ${real:-?} KB/s"
fi
sim -q read --force p.bin
expect_rc 0 "progress -q (exit)"
expect_stderr_empty "progress -q (stderr)"
sim --json read --force p.bin
expect_stderr_empty "progress --json (stderr)"
unset BKSPI_PROGRESS
sim read --force p.bin
expect_stderr_empty "progress off when stderr is not a terminal"

# ---- the default simulator image --------------------------------------------------

newcase default_image
XDG_STATE_HOME=$T/default_image/state
run -p sim detect
expect_rc 0 "default sim image (exit)"
check "default sim image (2 MiB under XDG_STATE_HOME)" "no 2 MiB $XDG_STATE_HOME/bkspi/sim-flash.bin" \
	test "$(size_of "$XDG_STATE_HOME/bkspi/sim-flash.bin" 2>/dev/null)" = 2097152
expect_stderr_match "default sim image (announced)" 'created the simulated flash'
run -p sim detect
expect_stderr_empty "default sim image (made once)"
(
	unset XDG_STATE_HOME
	run -p sim -q detect
	[ "$rc" -eq 0 ] && [ -f "$HOME/.local/state/bkspi/sim-flash.bin" ]
)
check "default sim image under HOME without XDG_STATE_HOME" "no $HOME/.local/state/bkspi/sim-flash.bin" test $? -eq 0
XDG_STATE_HOME=$T/state

finish
