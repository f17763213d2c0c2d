#!/bin/sh
# SIGTERM, SIGHUP and SIGQUIT stop a job like Ctrl-C: after the USB
# transfer in flight, the flash resumable, no temp file left, a message
# naming the signal and how far the job got, exit 128+signal.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# packets ARGS...: the USB packets "bkspi -p sim ARGS" sends on a scratch
# copy of img.bin (file arguments absolute).
packets() {
	rm -rf "$T/scratch"
	mkdir "$T/scratch" || exit 1
	cp img.bin "$T/scratch/m.bin"
	(cd "$T/scratch" && "$BKSPI" -p sim --sim-image m.bin --json "$@" >m.json 2>/dev/null)
	json_get "$T/scratch/m.json" .usb.packets
}

if [ -z "$json_tool" ]; then
	skip "signals" "no jq or python3 to count packets"
	finish
fi

for s in TERM:143 HUP:129 QUIT:131 INT:130; do
	sig=${s%:*} code=${s#*:}
	name="SIG$sig"
	[ "$sig" = INT ] && name='SIGINT \(Ctrl-C\)'

	newcase "read_$sig"
	mkimg img.bin 262144
	cp img.bin old.bin
	n=$(packets read "$T/scratch/x.bin")
	sim --sim-config "interrupt-after=$((n / 2)),interrupt-signal=$sig" read out.bin
	expect_rc "$code" "SIG$sig mid-read (exit $code)"
	expect_error_line "SIG$sig mid-read (names the signal, how far, how to resume)" \
		"stopped by $name: read stopped after [0-9]+ of 256 KiB.*run the same command again"
	check "SIG$sig mid-read (no file)" "out.bin was created" test ! -e out.bin
	check "SIG$sig mid-read (no .partial)" "a .partial file is left" no_partial

	newcase "write_$sig"
	mkimg img.bin 131072
	cp img.bin old.bin
	mkimg new.bin 131072
	# random bytes are no Beken image: this is a plain flash (-t spi)
	pre=$(packets -t spi --no-backup --no-verify --sim-config wp-locked=1 write "$PWD/new.bin")
	end=$(packets -t spi --no-backup --no-verify write "$PWD/new.bin")
	sim -t spi --no-verify --sim-config "interrupt-after=$((pre + (end - pre) / 2)),interrupt-signal=$sig" write new.bin
	expect_rc "$code" "SIG$sig mid-write (exit $code)"
	expect_error_line "SIG$sig mid-write (names the signal, resumable)" \
		"stopped by $name: .*interrupted during (erase|program) at 0x[0-9A-F]+.*run the same command again: it redoes only what still differs.*the backup is backups/"
	b=$(backup_files | head -n 1)
	check "SIG$sig mid-write (backup = flash before)" "backup differs" same "${b:-/dev/null}" old.bin
	check "SIG$sig mid-write (no .partial)" "a .partial file is left" no_partial
	sim -t spi -q write new.bin
	expect_rc 0 "SIG$sig mid-write, re-run (exit)"
	check "SIG$sig mid-write, re-run (flash as asked)" "flash differs" same img.bin new.bin
done

finish
