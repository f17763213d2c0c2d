#!/bin/sh
# Command line: --help, --version, usage errors and bad input (exit 2), the
# missing programmer (exit 3), the error line format and --json errors.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# ---- --help and --version -------------------------------------------------

newcase help
expect_exit 0 "help (exit)" -- --help
expect_stderr_empty "help (stderr)"
for word in detect read write verify erase enter reset \
	-p --programmer -t --target --offset --length --label --no-backup \
	--no-verify --no-reset --force --json -q --quiet -v --verbose \
	--sim-image --sim-config -h --help -V --version; do
	if grep -q -- "$word" out.txt; then pass; else fail "help mentions $word"; fi
done
expect_stdout_match "help mentions the exit codes" 'exit codes'
cp out.txt help.txt
run -h
expect_rc 0 "help -h (exit)"
check "help -h same text as --help" "-h and --help differ" same out.txt help.txt

# Every option the help lists is one the parser takes (with --help nothing runs).
for opt in "-p sim" "--programmer sim" "-t spi" "--target beken" "--offset 0x10" \
	"--length 4K" "--label x" --no-backup --no-verify --no-reset --force --json \
	-q --quiet -v --verbose "--sim-image x.bin" "--sim-config seed=1" -V; do
	# shellcheck disable=SC2086 # the option and its value are two words
	run $opt --help
	if [ "$rc" -eq 0 ]; then pass; else fail "help option '$opt' accepted" "exit $rc: $(first_err)"; fi
done

expect_exit 0 "version (exit)" -- --version
expect_stdout_match "version (text)" '^bkspi [0-9]+\.[0-9]+\.[0-9]+$'
expect_stderr_empty "version (stderr)"
run -V
expect_rc 0 "version -V (exit)"

# ---- usage errors: exit 2, one line, nothing on stdout --------------------

newcase usage
expect_usage_error "no command" 'no command' --
expect_usage_error "unknown command" "unknown command 'frobnicate'" -- frobnicate
expect_usage_error "unknown option" "unknown option '--bogus'" -- --bogus detect
expect_usage_error "unknown short option" "unknown option '-Z'" -- -Z detect
# The first of a cluster of short options is unknown: the message must
# name it, not the program or another argument.
expect_usage_error "unknown option in a cluster is named" "'-x" -- -xq detect
expect_usage_error "option value missing" 'needs a value' -- --offset
expect_usage_error "unknown programmer" "unknown programmer 'usb'" -- -p usb detect
expect_usage_error "unknown target" "unknown target 'foo'" -- -t foo detect
expect_usage_error "write without FILE" 'write needs a FILE' -- -p sim write
expect_usage_error "verify without FILE" 'verify needs a FILE' -- -p sim verify
expect_usage_error "extra argument" "unexpected argument 'b'" -- -p sim read a.bin b
expect_usage_error "empty file name" 'empty file name' -- -p sim read ""
check "usage errors made no simulator image" "the simulator image was created" \
	test ! -e "$XDG_STATE_HOME/bkspi/sim-flash.bin"
mkimg img.bin 65536
expect_usage_error "bad simulator setting" "unknown setting 'nosuch'" -- -p sim --sim-image img.bin --sim-config nosuch=1 detect
expect_usage_error "bad simulator style" 'style must be' -- -p sim --sim-image img.bin --sim-config style=loud detect

# ---- numbers ------------------------------------------------------------------

newcase numbers
for v in -1 abc 99999999999999999999 0x 12Q "" 17M 0x1000001 1.5 " 1" 1KK \
	0x-1 +5 0xffffffffffffffffffff 18446744073709551616K; do
	expect_usage_error "bad --offset '$v'" "--offset '.*' is not a byte count" -- -p sim --offset "$v" read x.bin
	check "bad --offset '$v' (no file)" "x.bin was created" test ! -e x.bin
done
for v in -4096 0x 1G ""; do
	expect_usage_error "bad --length '$v'" "--length '.*' is not a byte count" -- -p sim --length "$v" read x.bin
done
expect_usage_error "bad --offset=-1 (joined)" 'is not a byte count' -- -p sim --offset=-1 read x.bin
# Good forms parse (detect ignores the range, so only the parser is tested).
mkimg img.bin 65536
for v in 0 4096 0x1000 0X1000 4k 4K 1m 1M 16M 0x1000000; do
	run -p sim --sim-image img.bin --offset "$v" --help
	if [ "$rc" -eq 0 ]; then pass; else fail "good --offset '$v'" "exit $rc: $(first_err)"; fi
done

# ---- simulator settings: paths with commas, K/M sizes, overflows -------------

newcase sim_settings
mkimg "a,b.bin" 65536
run -p sim --sim-image "a,b.bin" -q read out.bin
expect_rc 0 "--sim-image with a comma (exit)"
check "--sim-image with a comma (read that image)" "out.bin differs" same out.bin "a,b.bin"
run -p sim --sim-image "a,b.bin" --sim-config size=2M -q detect
expect_rc 0 "--sim-config size=2M accepted"
expect_usage_error "--sim-config size=3M (not a power of two)" 'size must be a power of two' -- \
	-p sim --sim-image "a,b.bin" --sim-config size=3M detect
expect_usage_error "--sim-config size=32M (too large)" "bad value '32M' for size" -- \
	-p sim --sim-image "a,b.bin" --sim-config size=32M detect
expect_usage_error "--sim-config overflowing number" "bad value '18446744073709551616' for unplug-after" -- \
	-p sim --sim-image "a,b.bin" --sim-config unplug-after=18446744073709551616 detect
expect_usage_error "--sim-config number over a field's width" "bad value '0x1000000' for jedec" -- \
	-p sim --sim-image "a,b.bin" --sim-config jedec=0x1000000 detect

# ---- options that do not apply to the command ------------------------------

newcase not_applicable
mkimg img.bin 65536
expect_usage_error "--sim-image without -p sim" '--sim-image applies to the simulator only; add -p sim' -- \
	--sim-image img.bin detect
expect_usage_error "--sim-config without -p sim" '--sim-config applies to the simulator only' -- \
	--sim-config seed=1 read
expect_usage_error "--offset on detect" '--offset does not apply to detect \(only to read, write, verify and erase\)' -- \
	-p sim --sim-image img.bin --offset 0x1000 detect
expect_usage_error "--offset on reset" '--offset does not apply to reset' -- -p sim --sim-image img.bin --offset 0 reset
expect_usage_error "--keep-rf on read" '--keep-rf does not apply to read \(only to write and verify\)' -- \
	-p sim --sim-image img.bin --keep-rf no read
expect_usage_error "--keep-tuya-config on read" '--keep-tuya-config does not apply to read' -- \
	-p sim --sim-image img.bin --keep-tuya-config yes read
expect_usage_error "--length on verify" '--length does not apply to verify' -- \
	-p sim --sim-image img.bin --length 4K verify img.bin
expect_usage_error "--no-backup on read" '--no-backup does not apply to read' -- -p sim --sim-image img.bin --no-backup read
expect_usage_error "-p on info (offline)" '--programmer does not apply to info' -- -p sim info img.bin
expect_usage_error "--label with --no-backup" '--label names the backup, which --no-backup turns off' -- \
	-p sim --sim-image img.bin --no-backup --label x erase
expect_usage_error "--backup-dir on verify" '--backup-dir does not apply to verify' -- \
	-p sim --sim-image img.bin --backup-dir b verify img.bin
check "options that do not apply: no backup made" "backups/ was created" test ! -e backups

# ---- input and output files ------------------------------------------------

newcase files
mkimg img.bin 65536
cp img.bin img.orig
mkdir adir
: >empty.bin
expect_usage_error "write missing file" 'cannot open nosuch.bin' -- -p sim --sim-image img.bin write nosuch.bin
expect_usage_error "verify missing file" 'cannot open nosuch.bin' -- -p sim --sim-image img.bin verify nosuch.bin
expect_usage_error "write directory" 'adir is not a regular file' -- -p sim --sim-image img.bin write adir
expect_usage_error "verify directory" 'adir is not a regular file' -- -p sim --sim-image img.bin verify adir
expect_usage_error "read into a directory" 'adir is a folder' -- -p sim --sim-image img.bin read adir
expect_usage_error "write empty file" 'empty.bin is empty' -- -p sim --sim-image img.bin write empty.bin
head -c $((17 << 20)) /dev/zero >huge.bin
expect_usage_error "write file above 16 MiB" 'larger than any flash' -- -p sim --sim-image img.bin write huge.bin
rm -f huge.bin
check "bad input files left the image alone" "image changed" same img.bin img.orig

# Errors found after the flash is probed: exit 2, one line, image unchanged;
# with -q nothing at all on stdout.
mkimg big.bin 131072
# (-t spi: random bytes at 0 are no bootloader, refused first on a Beken target)
sim -t spi write big.bin
expect_rc 2 "write file larger than the flash (exit)"
expect_error_line "write file larger than the flash (message)" 'past the end of the 64 KiB flash; nothing was changed'
check "write file larger than the flash (image unchanged)" "image changed" same img.bin img.orig
mkimg f5000.bin 5000
sim --offset 0xF000 write f5000.bin
expect_rc 2 "write ending past the flash (exit)"
expect_error_line "write ending past the flash (message)" 'at offset 0xF000 it would end at 0x10388'
check "write ending past the flash (image unchanged)" "image changed" same img.bin img.orig
check "write ending past the flash (no backup)" "a backup was written" test "$(count_files backups)" -eq 0
sim -q --offset 0x10000 write f5000.bin
expect_rc 2 "write --offset past the end (exit)"
expect_error_line "write --offset past the end (message)" 'past the end'
expect_stdout_empty "write --offset past the end -q (stdout)"
sim -q verify big.bin
expect_rc 2 "verify file larger than the flash (exit)"
sim -q --offset 0x10000 read x.bin
expect_rc 2 "read --offset past the end (exit)"
expect_error_line "read --offset past the end (message)" '--offset 0x10000 is past the end of the 64 KiB flash: give a smaller one'
expect_stdout_empty "read --offset past the end -q (stdout)"
check "read --offset past the end (no file)" "x.bin was created" test ! -e x.bin
sim -q --offset 0x1000 --length 0xF001 read x.bin
expect_rc 2 "read range past the end (exit)"
expect_error_line "read range past the end (message)" 'end past the 64 KiB flash'
sim -q --length 0 read x.bin
expect_rc 2 "read --length 0 (exit)"
sim -q --offset 0x10 erase
expect_rc 2 "erase unaligned offset (exit)"
expect_error_line "erase unaligned offset (message)" 'whole 4 KiB sectors'
sim -q --offset 0x1000 --length 0x100 erase
expect_rc 2 "erase unaligned length (exit)"
expect_error_line "erase unaligned length (message)" 'whole 4 KiB sectors'
sim -q --offset 0x20000 erase
expect_rc 2 "erase --offset past the end (exit)"
sim -t spi -q --length 0x100 write f5000.bin
expect_rc 2 "write with --length (exit)"
expect_error_line "write with --length (message)" '--length does not apply to write'
sim -q --length 0x100 verify f5000.bin
expect_rc 2 "verify with --length (exit)"
check "refused operations left the image alone" "image changed" same img.bin img.orig
check "refused operations left no backup" "backups/ has files" test "$(count_files backups)" -eq 0

# A simulator image that cannot be a flash.
head -c 1000 /dev/zero >tiny.bin
expect_usage_error "sim image of a bad size" 'power of two' -- -p sim --sim-image tiny.bin detect

# ---- programmer not found: exit 3 ------------------------------------------

newcase noprog
expect_exit 3 "no CH341A (exit)" -- detect
expect_error_line "no CH341A (message names the CH341A)" 'CH341A'
expect_stderr_match "no CH341A (message points at the udev rule)" 'udev|README'
expect_stdout_empty "no CH341A (stdout)"
expect_exit 3 "no CH341A for read (exit)" -- -p ch341a read x.bin
check "no CH341A for read (no file)" "x.bin was created" test ! -e x.bin
check "no CH341A for read (no backups dir)" "backups/ was created" test ! -e backups
run --json detect
expect_rc 3 "no CH341A --json (exit)"
expect_json_object "no CH341A --json (one object)"
expect_json "no CH341A --json (ok)" .ok false
expect_json "no CH341A --json (exit field)" .exit 3
expect_json "no CH341A --json (error code)" .error.code BK_ENODEV

# ---- --json for errors ------------------------------------------------------

newcase jsonerr
mkimg img.bin 65536
sim --json --offset 0x10000 read x.bin
expect_rc 2 "json range error (exit)"
expect_json_object "json range error (one object)"
expect_json "json range error (ok)" .ok false
expect_json "json range error (exit field)" .exit 2
expect_json "json range error (error code)" .error.code BK_EINVAL
expect_json "json range error (message)" .error.message "--offset 0x10000 is past the end of the 64 KiB flash: give a smaller one"
expect_error_line "json range error (stderr line)" 'past the end'
run --json --bogus detect
expect_rc 2 "json usage error (exit)"
expect_json_object "json usage error (one object)"
expect_json "json usage error (error code)" .error.code BK_EINVAL
: >exists.bin
sim --json read exists.bin
expect_rc 2 "json existing output (exit)"
expect_json "json existing output (error code)" .error.code BK_EEXIST

finish
