#!/bin/sh
# The real libusb backend (-p ch341a), run against the emulated CH341A
# through the libusb stand-in tests/shim (build/libfakeusb.so, preloaded):
# data through the real transfer code, and the one-line messages for a
# programmer that is absent, in UART mode, denied, busy or held by a driver.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

so=$(cd "$(dirname "$BKSPI")" && pwd)/libfakeusb.so
if [ ! -f "$so" ]; then
	skip "libusb backend" "$so is missing (make test builds it)"
	finish
fi

# An ASan bkspi wants its runtime first in the library list; the preloaded
# stand-in comes before it, which is harmless here.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
export ASAN_OPTIONS

# usb MODE CONFIG ARGS...: bkspi -p ch341a on the stand-in with device MODE
# and emulator settings CONFIG, img.bin as the flash. The preload goes in
# the environment, where valgrind (BKSPI_WRAP) passes it on to bkspi.
# shellcheck disable=SC2086 # BKSPI_WRAP is a command line, split on purpose
usb() {
	_mode=$1 _cfg=$2
	shift 2
	env LD_PRELOAD="$so" BKSPI_FAKEUSB="image=$PWD/img.bin${_cfg:+,$_cfg}" BKSPI_FAKEUSB_DEVICE="$_mode" \
		BKSPI_FAKEUSB_STATS="$PWD/stats.txt" $BKSPI_WRAP "$BKSPI" -p ch341a "$@" >out.txt 2>err.txt
	rc=$?
}

# ---- data through libusb ------------------------------------------------------

newcase read
mkimg img.bin 524288
cp img.bin orig.bin
usb ok "" read out.bin
expect_rc 0 "libusb read (exit)"
check "libusb read (contents)" "out.bin differs from the flash" same out.bin orig.bin
expect_stdout_match "libusb read (Beken entry over libusb)" '^target +Beken chip in SPI mode'
expect_stderr_empty "libusb read (stderr)"
check "libusb read (flash untouched)" "the flash changed" same img.bin orig.bin
check "libusb read (stand-in statistics)" "no seconds= in stats.txt" grep -q '^seconds=[0-9]' stats.txt

# -v: what the USB pipeline moved, on the real backend too.
usb ok "" -v detect
expect_rc 0 "libusb detect -v (exit)"
expect_stderr_match "libusb detect -v (USB statistics)" '^usb: [0-9]+ streams, [0-9]+ transfers out \([0-9]+ bytes\), [0-9]+ in \([0-9]+ bytes\), [0-9]+ waits'
usb ok "" --json detect
check "libusb --json (usb.in_bytes)" "no usb.in_bytes" test "$(json_get out.txt .usb.in_bytes)" -gt 0

usb ok beken=0 -t spi -q read spi.bin
expect_rc 0 "libusb read -t spi (exit)"
check "libusb read -t spi (contents)" "spi.bin differs from the flash" same spi.bin orig.bin

newcase write
mkimg img.bin 524288
cp img.bin old.bin
mkimg new.bin 524288
# Random bytes are no bootloader: a Beken target refuses them at 0.
usb ok beken=0 -t spi write new.bin
expect_rc 0 "libusb write (exit)"
check "libusb write (flash = file)" "the flash differs from new.bin" same img.bin new.bin
expect_stdout_match "libusb write (verified)" '^verify +OK'
backup=$(backup_files)
check "libusb write (backup = old flash)" "backup '$backup' differs from the old flash" same "$backup" old.bin
usb ok beken=0 -t spi -q verify new.bin
expect_rc 0 "libusb verify (exit)"
# One flipped bit in the flash must be found.
poke img.bin 0x4567 '\125'
if same img.bin new.bin; then poke img.bin 0x4567 '\252'; fi
usb ok beken=0 -t spi -q verify new.bin
expect_rc 1 "libusb verify mismatch (exit)"
expect_error_line "libusb verify mismatch (message)" '0x004567'

newcase erase
mkimg img.bin 524288
cp img.bin orig.bin
usb ok "" -q --no-backup --offset 64K --length 8K erase
expect_rc 0 "libusb erase (exit)"
extract img.bin 0x10000 8192 >blank.bin
check "libusb erase (range blank)" "0x10000-0x11FFF is not all 0xFF" all_ff blank.bin
extract img.bin 0x12000 0x6E000 >rest.bin
extract orig.bin 0x12000 0x6E000 >want.bin
check "libusb erase (rest unchanged)" "bytes past the range changed" same rest.bin want.bin

# ---- USB faults through libusb -------------------------------------------------

newcase faults
mkimg img.bin 524288
cp img.bin orig.bin
# A reply that never comes: the transfer times out, the read recovers.
usb ok usb-timeout-at=50 -q read t.bin
expect_rc 0 "libusb lost reply (exit)"
check "libusb lost reply (contents)" "t.bin differs from the flash" same t.bin orig.bin
usb ok usb-error-at=50 -q read e.bin
expect_rc 0 "libusb transfer error (exit)"
check "libusb transfer error (contents)" "e.bin differs from the flash" same e.bin orig.bin
usb ok unplug-after=300 -q read u.bin
expect_rc 3 "libusb unplugged (exit)"
expect_error_line "libusb unplugged (message)" 'disconnected|gone'
check "libusb unplugged (no file)" "u.bin was created" test ! -e u.bin

# ---- a programmer that cannot be used: exit 3, one line, flash untouched ---------

# no_programmer MODE ERE: detect and write fail with one line matching ERE.
no_programmer() {
	usb "$1" "" detect
	expect_rc 3 "device $1 (exit)"
	expect_error_line "device $1 (message)" "$2"
	expect_stdout_empty "device $1 (stdout)"
	usb "$1" "" --offset 0x8000 write new.bin
	expect_rc 3 "device $1 write (exit)"
	check "device $1 write (flash untouched)" "the flash changed" same img.bin orig.bin
	check "device $1 write (no backup)" "backups/ was created" test ! -e backups
}

newcase devices
mkimg img.bin 65536
cp img.bin orig.bin
mkimg new.bin 65536
no_programmer none 'no CH341A found \(USB 1a86:5512\).*plugged in'
no_programmer uart 'UART mode \(USB 1a86:5523\).*jumper'
no_programmer denied 'found \(bus [0-9]+ device [0-9]+\) but access is denied.*udev rule'
no_programmer busy 'in use by another program'
no_programmer driver-stuck 'kernel driver holds the CH341A and could not be detached'

usb none "" --json detect
expect_rc 3 "device none --json (exit)"
expect_json "device none --json (error code)" .error.code BK_ENODEV
expect_json "device none --json (exit field)" .exit 3

# A bound driver that lets go: bkspi detaches it and goes on.
usb driver "" read drv.bin
expect_rc 0 "device driver (exit)"
check "device driver (contents)" "drv.bin differs from the flash" same drv.bin orig.bin
expect_stderr_match "device driver (says it detached)" 'detach'

# ---- the stand-in also serves flashrom (make bench relies on it) ------------------

newcase flashrom
flashrom=$(command -v flashrom 2>/dev/null || { [ -x /usr/sbin/flashrom ] && echo /usr/sbin/flashrom; })
if [ -z "$flashrom" ]; then
	skip "flashrom through the stand-in" "flashrom is not installed"
else
	mkimg img.bin 2097152
	cp img.bin orig.bin
	env LD_PRELOAD="$so" BKSPI_FAKEUSB="image=$PWD/img.bin,beken=0,jedec=0xEF4015" \
		BKSPI_FAKEUSB_STATS="$PWD/stats.txt" "$flashrom" -p ch341a_spi -r fr.bin >out.txt 2>&1
	rc=$?
	expect_rc 0 "flashrom read through the stand-in (exit)"
	check "flashrom read through the stand-in (contents)" "fr.bin differs from the flash" same fr.bin orig.bin
	check "flashrom read through the stand-in (statistics)" "no seconds= in stats.txt" \
		grep -q '^seconds=[0-9]' stats.txt
fi

finish
