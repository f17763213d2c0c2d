#!/bin/sh
# The whole job on the simulated CH341A: detect, backup read, write of a
# different image, verify, erase. Everything happens in a temporary folder.
set -eu
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export XDG_STATE_HOME="$work/state"

run() {
	printf '\n$ bkspi %s\n' "$*"
	"$bin" -p sim "$@"
}

echo "bkspi demo: a simulated CH341A wired to a BK7231N board (flash image in $XDG_STATE_HOME/bkspi)"
run detect
run read --label demo
backup=$(ls backups/*_demo_*.bin)

# A "new firmware": the backup with 256 KiB of the data area (past the
# application, whose CRC-16 blocks must stay intact) replaced.
cp "$backup" new-firmware.bin
dd if=/dev/urandom of=new-firmware.bin bs=4096 seek=320 count=64 conv=notrunc 2>/dev/null
run write new-firmware.bin
run verify new-firmware.bin
# The whole chip would take the bootloader and the RF calibration with it
# (refused without --force): erase the data area only.
run -v --offset 0x140000 --length 256K erase
printf '\n$ ls backups\n'
ls -l backups
