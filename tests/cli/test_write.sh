#!/bin/sh
# write, verify and erase on the simulated flash: backups, exact results,
# skipped sectors, unprotect, --json, and the failures the simulator injects
# (locked WP#, a stuck bit, a flash that never gets ready).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# Random images hold no Beken bootloader, and a Beken target refuses to
# put one at 0 (test_beken.sh): the generic writer is tested on a plain
# SPI flash.
sim() { run -p sim --sim-image img.bin -t spi "$@"; }

# sectors_line: "sectors N: S unchanged ..." of the last run as "N S".
sectors_line() {
	sed -nE 's/^sectors +([0-9]+): ([0-9]+) unchanged.*/\1 \2/p' out.txt
}

# ---- write at offset 0 -----------------------------------------------------

newcase write
mkimg img.bin 524288
cp img.bin old.bin
mkimg new.bin 100000
sim write new.bin
expect_rc 0 "write (exit)"
expect_stderr_empty "write (stderr)"
expect_stdout_match "write (unprotects the protected flash)" '^unprotect '
splice old.bin 0 new.bin want.bin
check "write (image = file + rest unchanged)" "image is not the file followed by the old rest" same img.bin want.bin
check "write (one backup)" "backups/ has $(count_files backups) files" test "$(count_files backups)" -eq 1
backup=$(backup_files)
if printf '%s\n' "$backup" | grep -Eq '^backups/0B4013_before-write_[0-9]{8}-[0-9]{6}\.bin$'; then
	pass
else
	fail "write (backup name)" "got '$backup'"
fi
check "write (backup = old flash)" "backup differs from the flash before the write" same "$backup" old.bin
expect_stdout_match "write (backup reported)" "^backup +$backup$"
expect_stdout_match "write (verified)" '^verify +OK'
expect_stdout_nomatch "write (no CEN pulse on a plain SPI flash)" '^reset '
check "write (no .partial)" "a .partial file is left" no_partial

# The same file again: nothing to do, nothing unprotected.
sim write new.bin
expect_rc 0 "write again (exit)"
set -- $(sectors_line)
if [ $# -eq 2 ] && [ "$1" -gt 0 ] && [ "$1" = "$2" ]; then
	pass
else
	fail "write again (all sectors unchanged)" "sectors line: $(grep '^sectors' out.txt)"
fi
expect_stdout_match "write again (no pages)" '^pages +0 programmed'
expect_stdout_nomatch "write again (no unprotect needed)" '^unprotect '
check "write again (image unchanged)" "image changed" same img.bin want.bin
check "write again (second backup)" "backups/ has $(count_files backups) files" test "$(count_files backups)" -eq 2

# --no-backup
sim --no-backup write old.bin
expect_rc 0 "write --no-backup (exit)"
check "write --no-backup (image = file)" "image differs" same img.bin old.bin
check "write --no-backup (no new backup)" "backups/ has $(count_files backups) files" test "$(count_files backups)" -eq 2
expect_stdout_nomatch "write --no-backup (no backup line)" '^backup '

# --no-verify and --no-reset
mkimg new2.bin 4096
sim --no-backup --no-verify --no-reset write new2.bin
expect_rc 0 "write --no-verify --no-reset (exit)"
expect_stdout_match "write --no-verify (says skipped)" '^verify +skipped'
expect_stdout_nomatch "write --no-reset (no reset)" '^reset '
splice old.bin 0 new2.bin want.bin
check "write --no-verify (image)" "image differs" same img.bin want.bin

# ---- write at offsets --------------------------------------------------------

newcase offsets
mkimg img.bin 524288
# write_at NAME OFFSET FILE: write FILE at OFFSET; the image must be the old
# one with FILE spliced in.
write_at() {
	cp img.bin before.bin
	sim -q --no-backup --offset "$2" write "$3"
	expect_rc 0 "$1 (exit)"
	splice before.bin "$2" "$3" want.bin
	check "$1 (image)" "image is not the old one with the file at $2" same img.bin want.bin
}
mkimg f5000.bin 5000
write_at "write at 0x1234" 0x1234 f5000.bin
mkimg f1.bin 1
write_at "write 1 byte at 0x7FFFF (last byte)" 0x7FFFF f1.bin
mkimg f256.bin 256
write_at "write a page ending at the flash end" 0x7FF00 f256.bin
mkimg f70k.bin 70001
write_at "write 70001 bytes at 0x10FFF" 0x10FFF f70k.bin
mkimg f64k.bin 65536
write_at "write 64 KiB at 64K" 65536 f64k.bin
# An all-0xFF file over data: erase only.
mkimg ff.bin 8192 ff
write_at "write 0xFF over data" 0x3000 ff.bin
# Only clearing bits: program without erase.
mkimg zero.bin 4096 zero
write_at "write zeros (program only)" 0x3000 zero.bin

# ---- --json -------------------------------------------------------------------

newcase json
mkimg img.bin 65536
mkimg new.bin 65536
sim --json write new.bin
expect_rc 0 "write --json (exit)"
expect_json_object "write --json (one object)"
expect_json "write --json (ok)" .ok true
expect_json "write --json (exit field)" .exit 0
expect_json "write --json (command)" .command write
expect_json "write --json (sectors)" .write.sectors 16
expect_json "write --json (skipped)" .write.skipped 0
expect_json "write --json (pages)" .write.pages 256
expect_json "write --json (verified)" .write.verified 65536
expect_json "write --json (length)" .length 65536
expect_json "write --json (unprotect before)" .write.unprotect.sr1_before 0x1C
expect_json "write --json (unprotect after)" .write.unprotect.sr1_after 0x00
if [ -n "$json_tool" ]; then
	b=$(json_get out.txt .write.backup)
	check "write --json (backup exists)" "no backup file '$b'" test -f "$b"
fi
expect_stderr_empty "write --json (stderr)"
check "write --json (image)" "image differs" same img.bin new.bin
sim --json write new.bin
expect_json "write --json again (all skipped)" .write.skipped 16
expect_json "write --json again (no pages)" .write.pages 0

# ---- verify -------------------------------------------------------------------

newcase verify
mkimg img.bin 65536
cp img.bin copy.bin
cp img.bin orig.bin
sim verify copy.bin
expect_rc 0 "verify match (exit)"
expect_stdout_match "verify match (says OK)" '^verify +OK'
poke copy.bin 0x2345 '\125'
cmp -s copy.bin img.bin || poke copy.bin 0x2345 '\252'
sim verify copy.bin
expect_rc 1 "verify mismatch (exit)"
expect_error_line "verify mismatch (names the address)" '0x0*2345'
sim -q --json verify copy.bin
expect_json "verify mismatch --json (first)" .mismatch.first 0x002345
expect_json "verify mismatch --json (bytes)" .mismatch.bytes 1
expect_json "verify mismatch --json (error code)" .error.code BK_EVERIFY
extract img.bin 0x1234 777 >part.bin
sim -q --offset 0x1234 verify part.bin
expect_rc 0 "verify at --offset (exit)"
sim -q --offset 0x1235 verify part.bin
expect_rc 1 "verify at the wrong --offset (exit)"
check "verify changed nothing" "image changed" same img.bin orig.bin

# ---- erase -------------------------------------------------------------------

newcase erase_range
mkimg img.bin 524288
cp img.bin old.bin
sim --offset 0x10000 --length 0x1000 erase
expect_rc 0 "erase range (exit)"
mkimg ff4k.bin 4096 ff
splice old.bin 0x10000 ff4k.bin want.bin
check "erase range (only that range is 0xFF)" "image is not the old one with 0x10000-0x10FFF erased" same img.bin want.bin
check "erase range (one backup)" "backups/ has $(count_files backups) files" test "$(count_files backups)" -eq 1
if backup_files | grep -Eq '^backups/0B4013_before-erase_[0-9]{8}-[0-9]{6}\.bin$'; then
	pass
else
	fail "erase range (backup name)" "got '$(backup_files)'"
fi
check "erase range (backup = old flash)" "backup differs" same "$(backup_files)" old.bin

cp img.bin old.bin
sim -q --no-backup --offset 448K erase
expect_rc 0 "erase to the end (exit)"
mkimg ff64k.bin 65536 ff
splice old.bin 0x70000 ff64k.bin want.bin
check "erase to the end (image)" "image differs" same img.bin want.bin
check "erase --no-backup (no backup)" "backups/ has $(count_files backups) files" test "$(count_files backups)" -eq 1

newcase erase_chip
mkimg img.bin 524288
cp img.bin old.bin
sim erase
expect_rc 0 "erase chip (exit)"
check "erase chip (all 0xFF)" "image is not all 0xFF" all_ff img.bin
check "erase chip (backup = old flash)" "backup differs" same "$(backup_files | head -n 1)" old.bin
expect_stdout_match "erase chip (unprotects)" '^unprotect '
# With the backup read the blank sectors are known and left alone.
sim -q --json erase
expect_rc 0 "erase blank chip (exit)"
expect_json "erase blank chip (all skipped)" .write.skipped 128
expect_json "erase blank chip (no erase ops)" .write.erase_ops 0
sim -q --no-backup erase
expect_rc 0 "erase blank chip --no-backup (exit)"
check "erase blank chip --no-backup (no backup)" "backups/ has $(count_files backups) files" test "$(count_files backups)" -eq 2
check "erase blank chip (still all 0xFF)" "image is not all 0xFF" all_ff img.bin

# ---- injected failures: exit 1 --------------------------------------------------

newcase wp_locked
mkimg img.bin 65536
cp img.bin old.bin
mkimg new.bin 4096
sim --sim-config wp-locked=1 write new.bin
expect_rc 1 "write with WP# locked (exit)"
expect_error_line "write with WP# locked (message names WP#)" 'WP#'
check "write with WP# locked (image unchanged)" "image changed" same img.bin old.bin
check "write with WP# locked (backup kept)" "no backup" test "$(count_files backups)" -eq 1
sim -q --json --no-backup --sim-config wp-locked=1 erase
expect_rc 1 "erase with WP# locked (exit)"
expect_json "erase with WP# locked (error code)" .error.code BK_EPROTECT
check "erase with WP# locked (image unchanged)" "image changed" same img.bin old.bin

newcase bad_byte
mkimg img.bin 65536 ff
mkimg new.bin 8192
poke new.bin 0x100 '\000'
sim --no-backup --sim-config bad-byte=0x100 write new.bin
expect_rc 1 "write with a stuck bit (exit)"
expect_error_line "write with a stuck bit (names the address)" 'verify failed.*0x0*100'
# The same healthy flash takes the same file.
sim -q --no-backup write new.bin
expect_rc 0 "write after the stuck bit is gone (exit)"
extract img.bin 0 8192 >head.bin
check "write after the stuck bit is gone (image)" "image differs" same head.bin new.bin

newcase stuck_wip
mkimg img.bin 65536 ff
mkimg new.bin 8192
sim --no-backup --sim-config stuck-wip=1 write new.bin
expect_rc 1 "write with WIP stuck (exit)"
expect_error_line "write with WIP stuck (busy message)" 'busy.*WIP|WIP.*busy'
mkimg img.bin 65536
sim -q --no-backup --sim-config stuck-wip=1 erase
expect_rc 1 "erase with WIP stuck (exit)"
expect_error_line "erase with WIP stuck (busy message)" 'busy'

finish
