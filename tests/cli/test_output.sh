#!/bin/sh
# What the user sees: progress (one line per phase, true totals, real
# rates), -v statistics, --json fields, plurals, small sizes, -q read.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# lines FILE: the progress output as drawn lines ('\r' and '\n' both end one).
lines() { tr '\r' '\n' <"$1" | grep -v '^ *$'; }

# ---- 20: progress -------------------------------------------------------------

newcase progress_write
mkimg img.bin 524288
mkimg new.bin 524288
BKSPI_PROGRESS=1 sim -t spi write new.bin
expect_rc 0 "progress write (exit)"
n=$(grep -c '' err.txt)
check "progress write: one line per phase" "$n lines: $(tr '\r' '|' <err.txt | head -c 300)" test "$n" -le 3
for phase in backup erase+program verify; do
	k=$(tr '\r' '\n' <err.txt | grep -c "^$phase ")
	check "progress write: a $phase line" "none" test "$k" -ge 1
done
expect_stderr_nomatch "progress write: no 0.0 KB/s" ' 0\.0 KB/s'
expect_stderr_nomatch "progress write: no ETA 0 s" 'ETA +0 s'
# Every rate is a plausible one: below the 181 KB/s wire ceiling (+10 %).
high=$(lines err.txt | sed -nE 's/.* ([0-9.]+) KB\/s.*/\1/p' | awk '$1 > 200' | head -n 1)
check "progress write: no absurd rate" "saw $high KB/s" test -z "$high"
# The backup line ends at the whole flash, the verify at what was written.
check "progress write: backup total" "no 'backup 512.0 / 512.0 KiB 100%'" \
	grep -Eq 'backup +512\.0 / 512\.0 KiB 100%' err.txt
check "progress write: verify total" "no 'verify 512.0 / 512.0 KiB 100%'" \
	grep -Eq 'verify +512\.0 / 512\.0 KiB 100%' err.txt

newcase progress_erase
mkimg img.bin 524288
BKSPI_PROGRESS=1 sim --no-backup erase
expect_rc 0 "progress erase (exit)"
# The whole-chip blank check shows its real progress, not 64 KiB at a time.
check "progress erase: verify against the whole chip" "$(lines err.txt | grep verify | tail -n 1)" \
	grep -Eq 'verify +512\.0 / 512\.0 KiB 100%' err.txt
expect_stderr_nomatch "progress erase: no per-chunk total" 'verify +64\.0 / 64\.0 KiB'
n=$(grep -c '' err.txt)
check "progress erase: one line per phase" "$n lines" test "$n" -le 2

# ---- 21: --json, sizes, plurals, -q ----------------------------------------------

newcase json_fields
mkimg img.bin 65536
mkimg new.bin 65536
sim -t spi --json write new.bin
expect_rc 0 "json write (exit)"
b=$(backup_files | head -n 1)
expect_json "json write: backup on success" .backup "$b"
secs=$(json_get out.txt .seconds)
case $secs in
*.????*) fail "json seconds rounded to ms" "got $secs" ;;
*) pass ;;
esac
# A byte whose bit 0 cannot be programmed fails the verify of zeros.
mkimg img.bin 65536 ff
mkimg zero.bin 65536 zero
sim -t spi --json --sim-config bad-byte=0x100 write zero.bin
expect_rc 1 "json failed write (exit)"
b=$(ls -t backups/* | head -n 1)
expect_json "json write: backup on failure" .backup "$b"
expect_stderr_match "plural: 1 byte differs" 'verify failed: 1 byte differs between'
run --json info new.bin
expect_rc 0 "json info (exit)"
expect_json "json info: no programmer (offline)" .programmer null
expect_json "json info: no seconds (offline)" .seconds null

newcase small_write
mkimg img.bin 65536
printf 'hello world!' >small.bin
sim -t spi --offset 0x1000 write small.bin
expect_rc 0 "small write (exit)"
expect_stdout_match "small write: wrote 12 bytes" '^wrote +12 bytes at 0x001000'
expect_stdout_match "plural: 1 sector" '^sectors +1: '
expect_stdout_match "plural: 1 operation" 'erased in 1 operation,'

newcase quiet_read
mkimg img.bin 65536
sim -q read
expect_rc 0 "-q read (exit)"
b=$(backup_files | head -n 1)
check "-q read prints the backup's name" "stdout: $(head -c 200 out.txt)" test "$(cat out.txt)" = "$b"
sim -q read mine.bin
expect_stdout_empty "-q read FILE prints nothing"

finish
