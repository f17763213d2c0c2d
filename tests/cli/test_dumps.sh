#!/bin/sh
# A real BK7231T dump from ../shared/dumps written over the default synthetic
# simulator image. The dumps hold device secrets: they are only compared with
# cmp -s, never printed, and the copies in the temporary directory go with it.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

dump=$DUMPS/bk7231t-tuya-ds-101jl-4gang-switch.bin
if [ ! -d "$DUMPS" ] || [ ! -r "$dump" ]; then
	echo "skip: ../shared/dumps not found"
	skipped=$((skipped + 1))
	finish
fi

newcase real_dump
image=$XDG_STATE_HOME/bkspi/sim-flash.bin
run -p sim -q detect   # makes the default synthetic 2 MiB image
check "dump: default sim image made" "no 2 MiB $image" test "$(size_of "$image" 2>/dev/null)" = 2097152
cp "$image" before.bin 2>/dev/null

# --keep-rf no: the whole dump, its RF sector included (keeping the
# device's is tested in test_beken.sh). The synthetic board names its
# bootloader BK7231N, so the T dump needs --force, which says so.
run -p sim --keep-rf no --force write "$dump"
expect_rc 0 "dump write (exit)"
expect_error_line "dump write (the override is named)" 'warning: --force overrides.*BK7231T'

check "dump write (sim image = dump)" "the simulator image differs from the dump" same "$image" "$dump"
check "dump write (one backup)" "backups/ has $(count_files backups) files" test "$(count_files backups)" -eq 1
check "dump write (backup = previous image)" "the backup differs from the synthetic image" \
	same "$(backup_files | head -n 1)" before.bin
expect_stdout_match "dump write (verified)" '^verify +OK: 2097152 bytes'

run -p sim -q verify "$dump"
expect_rc 0 "dump verify (exit)"
run -p sim -q --keep-rf no write "$dump"
expect_rc 0 "dump write again (exit)"
run -p sim --json --no-backup --keep-rf no write "$dump"
expect_json "dump write again (all 512 sectors skipped)" .write.skipped 512

# And back: the backup restores the synthetic image, whose BK7231N-style
# bootloader the T chip would refuse without --force.
run -p sim -q --no-backup --force --keep-rf no write before.bin
expect_rc 0 "dump restore (exit)"
check "dump restore (sim image = previous image)" "the simulator image differs from the backup" same "$image" before.bin

finish
