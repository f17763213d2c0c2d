#!/bin/sh
# bkspi doctor: a line per check in the order a person debugs, the first
# failure named with its fix and its exit code; on the simulator for the
# target side, through the libusb stand-in for the USB side.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# line NAME VERDICT CHECK: stdout has "VERDICT CHECK ..." as a line.
line() {
	check "$1" "no '$2 $3' line (stdout: $(head -c 300 out.txt))" grep -Eq "^$2 +$3 " out.txt
}

newcase healthy
mkimg img.bin 65536
sim doctor
expect_rc 0 "healthy (exit)"
for c in libusb programmer permission interface entry flash protection wire; do
	line "healthy ($c)" OK "$c"
done
check "healthy (chip released)" "the chip was left in SPI mode" test "$(cat img.bin.chip)" = running
sim --json doctor
expect_json "--json (ok)" .ok true
check "--json (eight checks)" "not 8 checks" test "$(grep -c '"check":' out.txt)" -eq 8
check "--json (wire passed)" "no passed wire check" sh -c "grep -A1 '\"check\":\"wire\"' out.txt | grep -q '\"result\":\"OK\"'"

newcase entry
mkimg img.bin 65536
sim --sim-config wire=miso-open doctor
expect_rc 4 "MISO open (exit)"
line "MISO open (entry fails)" FAIL entry
check "MISO open (names the wire)" "entry line does not name P23" grep -q 'FAIL.*P23' out.txt
check "MISO open (stops there)" "checks after the failure ran" sh -c '! grep -Eq " (flash|wire) " out.txt'
expect_error_line "MISO open (one error line)" 'the entry check failed'

newcase wire
mkimg img.bin 65536
sim --sim-config flip-ppm=3000,seed=7 doctor
expect_rc 1 "marginal wire (exit)"
line "marginal wire (wire fails)" FAIL wire
check "marginal wire (fix)" "no advice" grep -q 'shorten the wires' out.txt

newcase locked
mkimg img.bin 65536
sim --sim-config wp-locked=1 doctor
expect_rc 0 "SRP set (exit)"
line "SRP set (protection warns)" WARN protection
check "SRP set (WP# advice)" "no WP# advice" grep -q 'WP#' out.txt

# ---- the USB side, through the stand-in ------------------------------------------
so=$(cd "$(dirname "$BKSPI")" && pwd)/libfakeusb.so
if [ ! -f "$so" ]; then
	skip "doctor over libusb" "$so is missing (make test builds it)"
	finish
fi
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
export ASAN_OPTIONS
# shellcheck disable=SC2086 # BKSPI_WRAP is a command line, split on purpose
usb() {
	env LD_PRELOAD="$so" BKSPI_FAKEUSB="image=$PWD/img.bin" BKSPI_FAKEUSB_DEVICE="$1" \
		$BKSPI_WRAP "$BKSPI" -p ch341a doctor >out.txt 2>err.txt
	rc=$?
}

newcase usb
mkimg img.bin 65536
usb ok
expect_rc 0 "USB ok (exit)"
line "USB ok (interface)" OK interface
line "USB ok (wire)" OK wire
# usb_fail MODE CHECK ERE: the device in MODE fails CHECK with exit 3.
usb_fail() {
	usb "$1"
	expect_rc 3 "$1 (exit)"
	line "$1 ($2 fails)" FAIL "$2"
	check "$1 (fix)" "the $2 line does not match /$3/" grep -Eq "$3" out.txt
}
usb_fail none programmer 'plugged in'
usb_fail uart programmer 'jumper'
usb_fail denied permission 'udev rule'
usb_fail busy interface 'another program'
usb_fail driver-stuck interface 'could not be detached'
usb driver
expect_rc 0 "a driver that lets go (exit)"
check "a driver that lets go (noted)" "no note" grep -q 'detached the kernel driver' err.txt

finish
