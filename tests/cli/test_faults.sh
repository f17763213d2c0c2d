#!/bin/sh
# bkspi survives faults: every fault the simulator injects, through the
# command line. Unplugged mid-read/-write/-erase/-verify (exit 3, nothing
# half-written, a re-run resumes and verifies), one transient USB error or
# timeout (retried; writes re-plan and say "recovered"), bit flips on MISO
# (confirmed before erasing, exact --confirm reads, no false mismatches,
# refusal when reads never agree), a flash stuck busy, locked protection, a
# byte that will not program, Ctrl-C (exit 130, consistent chip, resumable),
# failed entries and bad input.
#
# Where a fault must land mid-job, the position is measured at test time:
# the same command runs once without the fault on a scratch copy and its
# --json "usb" counts ("packets", "in_bytes") give the phase boundaries.
# unplug-after and interrupt-after count OUT packets; usb-error-at and
# usb-timeout-at count IN transfers, which lie between in_bytes/31 (a
# 0xA8 packet returns at most 31 bytes) and the packet count.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

if [ -z "$json_tool" ]; then
	skip "faults" "no jq or python3 to parse the --json statistics"
	finish
fi

# Random images hold no Beken bootloader, which a Beken target refuses to
# write at 0 (test_beken.sh): `write`s of them go to a plain SPI flash. The
# scenarios with Beken images set plain_writes=0.
plain_writes=1
spi_if_write() {
	for _a; do
		if [ "$_a" = write ] && [ "$plain_writes" = 1 ]; then
			echo "-t spi"
			return
		fi
	done
}
# shellcheck disable=SC2046
sim() { run -p sim --sim-image img.bin $(spi_if_write "$@") "$@"; }

# jnum FILE .path: a number from a JSON file, 0 when absent or null.
jnum() {
	_v=$(json_get "$1" "$2")
	case $_v in
	'' | null) echo 0 ;;
	*) echo "$_v" ;;
	esac
}

# measure IMAGE ARGS...: runs bkspi -p sim --json ARGS on a scratch copy of
# IMAGE, without the fault wrapper (counts do not depend on it), in a
# scratch directory; file arguments must be absolute. Sets m_packets,
# m_in (IN bytes), m_erased, m_pages.
measure() {
	_img=$1
	shift
	rm -rf "$T/scratch"
	mkdir "$T/scratch" || exit 1
	cp "$_img" "$T/scratch/m.bin"
	(cd "$T/scratch" && "$BKSPI" -p sim --sim-image m.bin $(spi_if_write "$@") --json "$@" >m.json 2>m.err)
	m_packets=$(jnum "$T/scratch/m.json" .usb.packets)
	m_in=$(jnum "$T/scratch/m.json" .usb.in_bytes)
	m_erased=$(jnum "$T/scratch/m.json" .write.erased)
	m_pages=$(jnum "$T/scratch/m.json" .write.pages)
}

# expect_int NAME GOT OP WANT: an integer comparison (OP as for test).
expect_int() {
	case ${2:-} in
	'' | *[!0-9]*)
		fail "$1" "got '${2:-}', not a number"
		return
		;;
	esac
	if test "$2" "$3" "$4"; then
		pass
	else
		fail "$1" "got '$2', expected $3 $4"
	fi
}

# stop_addr: the address in "interrupted during PHASE at 0x..." of err.txt.
stop_addr() {
	sed -nE 's/.*interrupted during [a-z]+ at 0x([0-9A-Fa-f]+).*/\1/p' err.txt | head -n 1
}

# done_below NAME WANT: the image equals WANT below the address where the
# last run said it stopped (and that address is inside the flash).
done_below() {
	_a=$(stop_addr)
	if [ -z "$_a" ]; then
		fail "$1" "no 'interrupted during ... at 0x...' in: $(first_err)"
		return
	fi
	_n=$((0x$_a))
	extract img.bin 0 "$_n" >below.got
	extract "$2" 0 "$_n" >below.want
	if [ "$_n" -gt 0 ] && same below.got below.want; then
		pass
	else
		fail "$1" "the flash below 0x$_a (where it stopped) is not what was asked"
	fi
}

# ---- unplugged mid-read ---------------------------------------------------------

newcase unplug_read
mkimg img.bin 262144
cp img.bin old.bin
measure img.bin read "$T/scratch/x.bin"
total=$m_packets
for q in 1 2 3; do
	n=$((total * q / 4))
	sim -q --sim-config "unplug-after=$n" read out.bin
	expect_rc 3 "unplug at $q/4 of a read (exit)"
	expect_error_line "unplug at $q/4 of a read (says how far, and to re-run)" \
		'read stopped after [0-9]+ of 256 KiB.*disconnected.*run the same command again'
	check "unplug at $q/4 of a read (no file)" "out.bin was created" test ! -e out.bin
	check "unplug at $q/4 of a read (no .partial)" "a .partial file is left" no_partial
done
sim --json --sim-config "unplug-after=$((total / 2))" read out.bin
expect_rc 3 "unplug mid-read --json (exit)"
expect_json_object "unplug mid-read --json (one object)"
expect_json "unplug mid-read --json (error code)" .error.code BK_EGONE
expect_json "unplug mid-read --json (exit field)" .exit 3
check "unplug mid-read --json (no file)" "out.bin was created" test ! -e out.bin
sim -q --sim-config "unplug-after=$((total / 2))" verify old.bin
expect_rc 3 "unplug mid-verify (exit)"
expect_error_line "unplug mid-verify (says to re-run)" 'disconnected.*run the same command again'
expect_stderr_match "unplug mid-verify (says how far it got)" 'verif.*[0-9]+ of [0-9]+ KiB|[0-9]+ of [0-9]+ KiB.*verif'
sim -q read out.bin
expect_rc 0 "re-run of the unplugged read (exit)"
check "re-run of the unplugged read (file = flash)" "out.bin differs from the flash" same out.bin img.bin
check "unplugged reads changed nothing" "image changed" same img.bin old.bin

# ---- unplugged mid-write, then the same command again ----------------------------

newcase unplug_write
mkimg img.bin 262144
cp img.bin old.bin
mkimg new.bin 262144
# Phase boundaries: a locked flash stops at the unprotect, right before the
# first erase; --no-verify ends with the last page program.
measure old.bin --sim-config wp-locked=1 write "$PWD/new.bin"
pre=$m_packets
measure old.bin --no-verify write "$PWD/new.bin"
programmed=$m_packets
measure old.bin write "$PWD/new.bin"
total=$m_packets full_erased=$m_erased
expect_int "write phases measured" "$pre" -lt "$programmed"

# In the backup read: nothing erased, no backup saved.
sim -q --sim-config "unplug-after=$((pre / 3))" write new.bin
expect_rc 3 "unplug during the backup (exit)"
expect_error_line "unplug during the backup (message)" 'backup stopped after [0-9]+ of 256 KiB.*run the same command again'
check "unplug during the backup (image unchanged)" "image changed" same img.bin old.bin
check "unplug during the backup (no backup file)" "backups/ has files" test "$(count_files backups)" -eq 0
check "unplug during the backup (no .partial)" "a .partial file is left" no_partial

# Half-way through erasing and programming.
sim -q --sim-config "unplug-after=$((pre + (programmed - pre) / 2))" write new.bin
expect_rc 3 "unplug mid-write (exit)"
expect_error_line "unplug mid-write (says how far it got)" \
	'(erase|program) stopped after [0-9]+ of [0-9]+ KiB were erased or programmed'
expect_stderr_match "unplug mid-write (says a re-run resumes)" \
	'run the same command again: it redoes only what still differs, then verifies'
expect_stderr_match "unplug mid-write (names the backup)" 'the backup is backups/[^ ]+\.bin'
check "unplug mid-write (one backup)" "backups/ has $(count_files backups) files" test "$(count_files backups)" -eq 1
check "unplug mid-write (backup = flash before)" "backup differs" same "$(backup_files | head -n 1)" old.bin
check "unplug mid-write (no .partial)" "a .partial file is left" no_partial
check "unplug mid-write (the flash was half written)" "image is the old or the new one" \
	sh -c '! cmp -s img.bin old.bin && ! cmp -s img.bin new.bin'
sim --json write new.bin
expect_rc 0 "re-run after the unplug (exit)"
check "re-run after the unplug (image = file)" "image differs from new.bin" same img.bin new.bin
expect_int "re-run after the unplug (erases less than the first run)" "$(jnum out.txt .write.erased)" -lt "$full_erased"
expect_int "re-run after the unplug (skips what is done)" "$(jnum out.txt .write.skipped)" -gt 0
expect_json "re-run after the unplug (verified)" .write.verified 262144

# During the verify: everything is written; the re-run only verifies.
cp old.bin img.bin
rm -rf backups
sim -q --sim-config "unplug-after=$((programmed + (total - programmed) / 2))" write new.bin
expect_rc 3 "unplug during the write's verify (exit)"
expect_error_line "unplug during the write's verify (says to re-run)" 'disconnected.*run the same command again'
expect_stderr_match "unplug during the write's verify (says it was verifying)" 'verif'
expect_stderr_match "unplug during the write's verify (says how far it got)" '[0-9]+ of [0-9]+ KiB'
check "unplug during the write's verify (written anyway)" "image differs" same img.bin new.bin
sim --json write new.bin
expect_rc 0 "re-run after the verify unplug (exit)"
expect_json "re-run after the verify unplug (nothing erased)" .write.erased 0
expect_json "re-run after the verify unplug (nothing programmed)" .write.pages 0

# ---- unplugged mid-erase ------------------------------------------------------------

newcase unplug_erase
mkimg img.bin 262144
cp img.bin old.bin
measure old.bin --sim-config wp-locked=1 erase
pre=$m_packets
measure old.bin --no-verify erase
erased_at=$m_packets full_erased=$m_erased
sim -q --sim-config "unplug-after=$((pre + (erased_at - pre) / 2))" erase
expect_rc 3 "unplug mid-erase (exit)"
expect_error_line "unplug mid-erase (says how far, and to re-run)" \
	'erase stopped after [0-9]+ of 256 KiB.*run the same command again: it redoes only what still differs'
check "unplug mid-erase (backup = flash before)" "backup differs" same "$(backup_files | head -n 1)" old.bin
check "unplug mid-erase (no .partial)" "a .partial file is left" no_partial
sim --json erase
expect_rc 0 "re-run after the erase unplug (exit)"
check "re-run after the erase unplug (all 0xFF)" "image is not blank" all_ff img.bin
expect_int "re-run after the erase unplug (erases less)" "$(jnum out.txt .write.erased)" -lt "$full_erased"
# Without a backup nothing is read first, so a re-run erases it all again:
# the hint must not promise otherwise.
cp old.bin img.bin
measure old.bin --no-backup --sim-config wp-locked=1 erase
pre=$m_packets
measure old.bin --no-backup --no-verify erase
sim -q --no-backup --sim-config "unplug-after=$((pre + (m_packets - pre) / 2))" erase
expect_rc 3 "unplug mid-erase --no-backup (exit)"
expect_error_line "unplug mid-erase --no-backup (message)" 'erase stopped after [0-9]+ of 256 KiB.*run the same command again$'
sim --json --no-backup erase
expect_rc 0 "re-run after the erase --no-backup unplug (exit)"
check "re-run after the erase --no-backup unplug (all 0xFF)" "image is not blank" all_ff img.bin
expect_int "re-run after the erase --no-backup unplug (erases all again)" \
	"$(jnum out.txt .write.erased)" -eq "$m_erased"

# ---- one transient USB error or timeout --------------------------------------------------

newcase usb_read
mkimg img.bin 65536
cp img.bin old.bin
# The entry: at least (its IN bytes)/31 IN transfers come first.
measure old.bin detect
beken_in=$m_in
measure old.bin -t spi detect
entry_in=$(((beken_in - m_in) / 31))
expect_int "entry IN transfers measured" "$entry_in" -ge 2
for kind in error timeout; do
	for n in 1 "$entry_in"; do
		rm -f out.bin
		sim -q --sim-config "usb-$kind-at=$n" read out.bin
		expect_rc 0 "usb-$kind-at=$n, in the entry: read (exit)"
		if [ "$rc" -eq 0 ]; then
			check "usb-$kind-at=$n, in the entry: read (file = flash)" "out.bin differs from the flash" \
				same out.bin old.bin
		fi
	done
done
# The first transfers of the read's stream: between the INs before a read
# of 31 bytes (at least its IN bytes, less the read's 35, over 31) and its
# packets (at least every IN it took).
measure old.bin --length 31 read "$T/scratch/x.bin"
lo=$(((m_in - 35) / 31)) hi=$m_packets
measure old.bin read "$T/scratch/x.bin"
total=$m_packets
expect_int "read start measured" "$lo" -lt "$hi"
# Thirty runs of one code path: without the valgrind wrapper, which the
# runs around this one already give its memory checks.
bad=""
n=$lo
while [ "$n" -le "$hi" ]; do
	rm -f out.bin
	"$BKSPI" -p sim --sim-image img.bin -q --sim-config "usb-error-at=$n" read out.bin >out.txt 2>err.txt
	rc=$?
	# (a fault in the entry is checked above)
	if grep -q 'entering Beken SPI mode' err.txt; then
		:
	elif [ "$rc" -ne 0 ] || ! same out.bin old.bin; then
		bad="$bad $n(exit $rc$([ "$rc" -eq 0 ] && echo ', file differs'))"
	fi
	n=$((n + 1))
done
if [ -z "$bad" ]; then
	pass
else
	fail "usb-error-at=N for every N from $lo to $hi (probe and start of the read)" "wrong at N =$bad"
fi
for kind in error timeout; do
	for q in 1 2 3; do
		n=$((total * q / 4))
		rm -f out.bin
		sim -q --json --sim-config "usb-$kind-at=$n" read out.bin
		expect_rc 0 "usb-$kind-at=$n ($q/4 of a read): (exit)"
		check "usb-$kind-at=$n ($q/4 of a read): file = flash" "out.bin differs from the flash" same out.bin old.bin
		expect_int "usb-$kind-at=$n ($q/4 of a read): the fault fired (more IN bytes)" \
			"$(jnum out.txt .usb.in_bytes)" -gt "$(jnum "$T/scratch/m.json" .usb.in_bytes)"
	done
done
sim -q --sim-config "usb-timeout-at=$((total / 2))" verify old.bin
expect_rc 0 "usb-timeout-at in the verify command (exit)"
check "USB faults changed nothing" "image changed" same img.bin old.bin

newcase usb_write
mkimg img.bin 131072
cp img.bin old.bin
mkimg new.bin 131072
measure old.bin --sim-config wp-locked=1 write "$PWD/new.bin"
pre_packets=$m_packets
measure old.bin --no-verify write "$PWD/new.bin"
prog_packets=$m_packets prog_in=$m_in
measure old.bin write "$PWD/new.bin"
all_in=$m_in
# IN transfers: at most pre_packets before the first erase, at least
# prog_in/31 by the last program, at most prog_packets by then, at least
# all_in/31 in all.
expect_int "program phase measured" "$pre_packets" -lt "$((prog_in / 31))"
expect_int "verify phase measured" "$prog_packets" -lt "$((all_in / 31))"
for kind in error timeout; do
	for q in 1 2 3; do
		n=$((pre_packets + (prog_in / 31 - pre_packets) * q / 4))
		cp old.bin img.bin
		sim --json --no-backup --sim-config "usb-$kind-at=$n" write new.bin
		expect_rc 0 "usb-$kind-at=$n ($q/4 into programming): write (exit)"
		check "usb-$kind-at=$n ($q/4 into programming): image = file" "image differs" same img.bin new.bin
		expect_int "usb-$kind-at=$n ($q/4 into programming): read back and re-planned (recovered)" \
			"$(jnum out.txt .write.recovered)" -gt 0
		expect_json "usb-$kind-at=$n ($q/4 into programming): verified" .write.verified 131072
	done
	n=$((prog_packets + (all_in / 31 - prog_packets) / 2))
	cp old.bin img.bin
	sim --json --no-backup --sim-config "usb-$kind-at=$n" write new.bin
	expect_rc 0 "usb-$kind-at=$n (in the verify): write (exit)"
	check "usb-$kind-at=$n (in the verify): image = file" "image differs" same img.bin new.bin
	expect_json "usb-$kind-at=$n (in the verify): no false mismatch" .write.verified 131072
	expect_int "usb-$kind-at=$n (in the verify): nothing redone" "$(jnum out.txt .write.recovered)" -eq 0
done

# Around the unprotect (status reads, the status write, its polls): a
# locked flash runs all of it and stops, so its IN transfers end between
# its in_bytes/31 and its packets. Unwrapped, as the read sweep above.
newcase usb_unprotect
mkimg img.bin 65536
cp img.bin old.bin
mkimg new.bin 8192
measure old.bin --no-backup --sim-config wp-locked=1 write "$PWD/new.bin"
lo=$((m_in / 31)) hi=$m_packets
for kind in error timeout; do
	bad=""
	n=$lo
	while [ "$n" -le "$hi" ]; do
		cp old.bin img.bin
		"$BKSPI" -p sim --sim-image img.bin -t spi -q --no-backup --sim-config "usb-$kind-at=$n" write new.bin >out.txt 2>err.txt
		rc=$?
		extract img.bin 0 8192 >head.bin
		if [ "$rc" -ne 0 ] || ! same head.bin new.bin; then
			bad="$bad $n(exit $rc: $(cut -c 8-60 err.txt))"
		fi
		n=$((n + 1))
	done
	if [ -z "$bad" ]; then
		pass
	else
		fail "usb-$kind-at=N for every N from $lo to $hi (the unprotect): write" "wrong at N =$bad"
	fi
done

# ---- bit flips on MISO ----------------------------------------------------------------

newcase flips
mkimg img.bin 131072
cp img.bin old.bin
for ppm in 100 200 300; do
	seed=$((ppm * 79))
	rm -f out.bin
	sim --json --confirm --sim-config "flip-ppm=$ppm,seed=$seed" read out.bin
	expect_rc 0 "read --confirm, flip-ppm=$ppm seed $seed (exit)"
	check "read --confirm, flip-ppm=$ppm seed $seed (file = flash)" "out.bin differs from the flash" \
		same out.bin old.bin
	expect_int "read --confirm, flip-ppm=$ppm seed $seed (misreads corrected)" \
		"$(jnum out.txt .confirmed.corrected)" -gt 0
done
# verify under flips: no false mismatch; a real one is found exactly.
sim -q --sim-config flip-ppm=300,seed=5 verify old.bin
expect_rc 0 "verify under flip-ppm=300 (no false mismatch)"
cp old.bin diff.bin
poke diff.bin 0x1234 '\125'
cmp -s diff.bin old.bin || poke diff.bin 0x1234 '\252'
sim -q --json --sim-config flip-ppm=300,seed=5 verify diff.bin
expect_rc 1 "verify under flips, one real difference (exit)"
expect_json "verify under flips, one real difference (bytes)" .mismatch.bytes 1
expect_json "verify under flips, one real difference (address)" .mismatch.first 0x001234
# Reads that never agree: exit 1 before anything is erased.
mkimg new.bin 131072
sim --sim-config flip-ppm=5000,seed=3 write new.bin
expect_rc 1 "write under flip-ppm=5000 (exit)"
expect_error_line "write under flip-ppm=5000 (says the wire is marginal, nothing erased)" \
	'nothing was erased.*never agreed.*marginal'
check "write under flip-ppm=5000 (image unchanged)" "image changed" same img.bin old.bin
check "write under flip-ppm=5000 (no backup trusted)" "backups/ has files" test "$(count_files backups)" -eq 0
sim -q --sim-config flip-ppm=5000,seed=4 erase
expect_rc 1 "erase under flip-ppm=5000 (exit)"
check "erase under flip-ppm=5000 (image unchanged)" "image changed" same img.bin old.bin
# A write under flips: confirmed before erasing, exact after.
sim --json --sim-config flip-ppm=200,seed=9 write new.bin
expect_rc 0 "write under flip-ppm=200 (exit)"
check "write under flip-ppm=200 (image = file)" "image differs" same img.bin new.bin
expect_int "write under flip-ppm=200 (confirmed by a second read)" "$(jnum out.txt .write.confirmed.by_reread)" -gt 0
expect_int "write under flip-ppm=200 (misreads corrected)" "$(jnum out.txt .write.confirmed.corrected)" -gt 0
b=$(json_get out.txt .write.backup)
check "write under flip-ppm=200 (backup = flash before)" "the backup differs from the flash before" same "$b" old.bin
# By default only the sectors a write changes are confirmed (the rest stays
# on the chip); with --confirm every byte of the backup is, also what a
# small write leaves alone.
cp old.bin img.bin
rm -rf backups
mkimg small.bin 4096
sim --json --confirm --sim-config flip-ppm=200,seed=11 --offset 0x10000 write small.bin
expect_rc 0 "small write under flip-ppm=200 (exit)"
b=$(json_get out.txt .write.backup)
check "small write under flip-ppm=200 (backup = flash before, every byte)" \
	"the backup differs from the flash before the write outside the written sector ($(cmp old.bin "$b" 2>&1 | head -n 1))" \
	same "$b" old.bin

# A Beken layout: sectors are vouched by their own CRC-16 blocks.
newcase flips_beken
plain_writes=0
run -p sim -q detect
cp "$XDG_STATE_HOME/bkspi/sim-flash.bin" img.bin
cp img.bin old.bin
cp img.bin new.bin
# One byte in each sector 0x140000-0x15FFFF (past the application, whose
# blocks must stay intact to be written), one in the free area.
s=0
while [ "$s" -lt 32 ]; do
	poke new.bin $((0x140000 + s * 4096 + 100)) '\125'
	s=$((s + 1))
done
poke new.bin 0x1F0000 '\125'
sim --json --confirm --sim-config flip-ppm=200,seed=7 write new.bin
expect_rc 0 "Beken write under flip-ppm=200 (exit)"
check "Beken write under flip-ppm=200 (image = file)" "image differs" same img.bin new.bin
expect_int "Beken write under flip-ppm=200 (confirmed by CRC)" "$(jnum out.txt .write.confirmed.by_crc)" -gt 0
expect_int "Beken write under flip-ppm=200 (confirmed by a second read)" "$(jnum out.txt .write.confirmed.by_reread)" -gt 0
expect_int "Beken write under flip-ppm=200 (misreads corrected)" "$(jnum out.txt .write.confirmed.corrected)" -gt 0
check "Beken write under flip-ppm=200 (backup = flash before)" "the backup differs" \
	same "$(json_get out.txt .write.backup)" old.bin

newcase flips_dump
dump_old=$DUMPS/bk7231n-kanlux-33643-gu10-bulb.bin
dump_new=$DUMPS/bk7231n-moes-wk-us2-tc-outlet.bin
if [ ! -d "$DUMPS" ] || [ ! -r "$dump_old" ] || [ ! -r "$dump_new" ]; then
	echo "skip: ../shared/dumps not found"
	skipped=$((skipped + 1))
else
	# Copies only, compared with cmp -s; never printed.
	cp "$dump_old" img.bin
	chmod u+w img.bin
	sim --json --keep-rf no --sim-config flip-ppm=200,seed=3 write "$dump_new"
	expect_rc 0 "real dump write under flip-ppm=200 (exit)"
	check "real dump write under flip-ppm=200 (image = dump)" "image differs from the dump" same img.bin "$dump_new"
	expect_int "real dump write under flip-ppm=200 (confirmed by CRC)" "$(jnum out.txt .write.confirmed.by_crc)" -gt 0
	expect_int "real dump write under flip-ppm=200 (confirmed by a second read)" \
		"$(jnum out.txt .write.confirmed.by_reread)" -gt 0
	expect_int "real dump write under flip-ppm=200 (misreads corrected)" \
		"$(jnum out.txt .write.confirmed.corrected)" -gt 0
	check "real dump write under flip-ppm=200 (backup = the old dump)" "the backup differs" \
		same "$(json_get out.txt .write.backup)" "$dump_old"
	rm -f img.bin backups/*
fi
plain_writes=1

# ---- the flash stuck busy, locked, or with a bad byte -------------------------------------

newcase stuck
# A page program: 20 ms. A 64 KiB erase: seconds. Same fault, same exit.
mkimg img.bin 131072 ff
mkimg page.bin 256
sim --json --no-backup --offset 0x10000 --sim-config stuck-wip=1 write page.bin
expect_rc 1 "stuck page program (exit)"
expect_error_line "stuck page program (names 'busy' and the address)" 'busy.*page program at 0x010000'
pp=$(json_get out.txt .seconds)
mkimg img.bin 131072
sim --json --no-backup --offset 0x10000 --length 64K --sim-config stuck-wip=1 erase
expect_rc 1 "stuck 64K erase (exit)"
expect_error_line "stuck 64K erase (names 'busy' and the address)" 'busy.*erase at 0x010000'
e64=$(json_get out.txt .seconds)
sim --json --no-backup --offset 0x10000 --length 4K --sim-config stuck-wip=1 erase
e4=$(json_get out.txt .seconds)
if awk -v p="$pp" -v a="$e4" -v b="$e64" 'BEGIN { exit !(p > 0 && p < 1 && a > p + 0.5 && b > a + 1 && b < 30) }'; then
	pass
else
	fail "stuck timeout scales with the operation" "page program ${pp} s, 4K erase ${e4} s, 64K erase ${e64} s"
fi

newcase locked
mkimg img.bin 65536
cp img.bin old.bin
mkimg new.bin 65536
sim --sim-config wp-locked=1 write new.bin
expect_rc 1 "locked protection (exit)"
expect_error_line "locked protection (names the BP/CMP/SRP bits)" 'BP=[0-7] .*CMP=[01] SRP=1'
expect_stderr_match "locked protection (names WP#)" 'WP# pin must be pulled high'
check "locked protection (image unchanged)" "image changed" same img.bin old.bin

newcase bad_byte
mkimg img.bin 65536 ff
mkimg new.bin 8192 zero
sim --no-backup --sim-config bad-byte=0x1ABC write new.bin
expect_rc 1 "bad byte (exit)"
expect_error_line "bad byte (verify names the address)" 'verify failed: 1 byte differs between 0x001ABC and 0x001ABC'
sim -q --json verify new.bin
expect_rc 1 "bad byte, verify command (exit)"
expect_json "bad byte, verify command (address)" .mismatch.first 0x001ABC
expect_json "bad byte, verify command (bytes)" .mismatch.bytes 1

# ---- Ctrl-C ---------------------------------------------------------------------------

newcase ctrlc_read
mkimg img.bin 262144
cp img.bin old.bin
measure old.bin read "$T/scratch/x.bin"
sim --sim-config "interrupt-after=$((m_packets / 2))" read out.bin
expect_rc 130 "Ctrl-C mid-read (exit)"
expect_error_line "Ctrl-C mid-read (what was done, how to resume)" \
	'read stopped after [0-9]+ of 256 KiB: interrupted.*run the same command again'
check "Ctrl-C mid-read (no file)" "out.bin was created" test ! -e out.bin
check "Ctrl-C mid-read (no .partial)" "a .partial file is left" no_partial
sim -q --sim-config "interrupt-after=$((m_packets / 2))" verify old.bin
expect_rc 130 "Ctrl-C mid-verify (exit)"
expect_error_line "Ctrl-C mid-verify (message)" 'interrupted during verify at 0x[0-9A-F]+.*run the same command again'
check "Ctrl-C in read and verify changed nothing" "image changed" same img.bin old.bin

# ctrlc_write NAME IMAGE FILE CMD: Ctrl-C half-way between the unprotect and
# the last program or erase of "CMD [FILE]" on IMAGE, then the checks and
# the re-run. WANT is what the flash must hold in the end.
ctrlc_write() {
	_name=$1 _cmd=$4
	cp "$2" img.bin
	rm -rf backups
	if [ "$_cmd" = erase ]; then
		mkimg want.bin "$(size_of "$2")" ff
		measure "$2" --sim-config wp-locked=1 erase
		_pre=$m_packets
		measure "$2" --no-verify erase
	else
		cp "$3" want.bin
		measure "$2" --sim-config wp-locked=1 write "$PWD/$3"
		_pre=$m_packets
		measure "$2" --no-verify write "$PWD/$3"
	fi
	_end=$m_packets _erased=$m_erased _pages=$m_pages
	if [ "$_cmd" = erase ]; then
		sim --sim-config "interrupt-after=$((_pre + (_end - _pre) / 2))" erase
	else
		sim --sim-config "interrupt-after=$((_pre + (_end - _pre) / 2))" write "$3"
	fi
	expect_rc 130 "$_name (exit)"
	expect_error_line "$_name (what was done, how to resume)" \
		'stopped after [0-9]+ of [0-9]+ KiB.*interrupted during (erase|program) at 0x[0-9A-F]+.*run the same command again: it redoes only what still differs'
	expect_stderr_match "$_name (names the backup)" 'the backup is backups/'
	check "$_name (backup = flash before)" "backup differs" same "$(backup_files | head -n 1)" "$2"
	check "$_name (no .partial)" "a .partial file is left" no_partial
	done_below "$_name (everything before the stop is done)" want.bin
	if [ "$_cmd" = erase ]; then
		sim --json erase
	else
		sim --json write "$3"
	fi
	expect_rc 0 "$_name, re-run (exit)"
	check "$_name, re-run (image as asked)" "image differs" same img.bin want.bin
	expect_json "$_name, re-run (verified)" .write.verified "$(size_of "$2")"
	if [ "$_erased" -gt 0 ]; then
		expect_int "$_name, re-run (erases less)" "$(jnum out.txt .write.erased)" -lt "$_erased"
	else
		expect_int "$_name, re-run (programs less)" "$(jnum out.txt .write.pages)" -lt "$_pages"
	fi
}

newcase ctrlc_write
mkimg blank.bin 131072 ff
mkimg data.bin 131072
mkimg other.bin 131072
# every other 4 KiB sector blank: one 4K erase after another
cp data.bin holes.bin
s=0
mkimg ff4k.bin 4096 ff
while [ "$s" -lt 32 ]; do
	splice holes.bin $((s * 4096)) ff4k.bin tmp.bin
	mv tmp.bin holes.bin
	s=$((s + 2))
done
mkimg allff.bin 131072 ff
ctrlc_write "Ctrl-C in the program phase (program-only write)" blank.bin data.bin write
ctrlc_write "Ctrl-C in the erase phase (erase-only write)" holes.bin allff.bin write
ctrlc_write "Ctrl-C in a mixed write" data.bin other.bin write
ctrlc_write "Ctrl-C in the erase command" holes.bin - erase

# In the write's verify: everything written; the re-run changes nothing.
cp data.bin img.bin
rm -rf backups
measure data.bin --no-verify write "$PWD/other.bin"
v0=$m_packets
measure data.bin write "$PWD/other.bin"
# (a quarter in: Ctrl-C is seen between 64 KiB chunks, and the last one ends the job)
sim --sim-config "interrupt-after=$((v0 + (m_packets - v0) / 4))" write other.bin
expect_rc 130 "Ctrl-C in the write's verify (exit)"
expect_error_line "Ctrl-C in the write's verify (message)" 'interrupted during verify at 0x[0-9A-F]+; run the same command again'
check "Ctrl-C in the write's verify (written)" "image differs" same img.bin other.bin
sim --json write other.bin
expect_rc 0 "Ctrl-C in the write's verify, re-run (exit)"
expect_json "Ctrl-C in the write's verify, re-run (nothing erased)" .write.erased 0

# Before anything is erased: the backup read, and confirming it.
cp data.bin img.bin
rm -rf backups
measure data.bin --sim-config wp-locked=1 write "$PWD/other.bin"
for q in 1 6; do
	sim --sim-config "interrupt-after=$((m_packets * q / 8))" write other.bin
	expect_rc 130 "Ctrl-C before erasing, $q/8 (exit)"
	expect_error_line "Ctrl-C before erasing, $q/8 (message)" 'interrupted (during backup|while confirming).*run the same command again'
	check "Ctrl-C before erasing, $q/8 (image unchanged)" "image changed" same img.bin data.bin
	check "Ctrl-C before erasing, $q/8 (no backup saved)" "backups/ has files" test "$(count_files backups)" -eq 0
	check "Ctrl-C before erasing, $q/8 (no .partial)" "a .partial file is left" no_partial
done

# ---- entry failures -------------------------------------------------------------------

newcase entry
mkimg img.bin 65536
cp img.bin old.bin
sim -q --json --sim-config entry-fails=7 read out.bin
expect_rc 0 "entry fails 7 times: the 8th attempt works (exit)"
expect_json "entry fails 7 times (attempts)" .target.attempts 8
check "entry fails 7 times (file = flash)" "out.bin differs" same out.bin old.bin
for extra in "" ",style=flush"; do
	rm -f out.bin
	sim --json --sim-config "entry-fails=100$extra" read out.bin
	expect_rc 4 "entry never works$extra (exit)"
	expect_json "entry never works$extra (error code)" .error.code BK_ENOCHIP
	if awk -v s="$(json_get out.txt .seconds)" 'BEGIN { exit !(s > 0 && s < 5) }'; then
		pass
	else
		fail "entry never works$extra (gives up within seconds)" "took $(json_get out.txt .seconds) s"
	fi
	expect_stderr_match "entry never works$extra (names the wire to check)" 'check D2 -> CEN'
	check "entry never works$extra (no file)" "out.bin was created" test ! -e out.bin
done
sim -q --sim-config entry-fails=8 detect
expect_rc 4 "entry fails 8 times: given up (exit)"
sim -q --sim-config wire=cen-open erase
expect_rc 4 "wire=cen-open erase (exit)"
check "wire faults changed nothing" "image changed" same img.bin old.bin

# ---- bad input (what tests/cli/test_args.sh does not cover) --------------------------------

newcase bad_input
mkimg img.bin 65536
cp img.bin old.bin
mkimg f.bin 4096
: >empty.bin
mkdir adir
expect_usage_error "verify empty file" 'empty.bin is empty' -- -p sim --sim-image img.bin verify empty.bin
expect_usage_error "write a device file" '/dev/zero is not a regular file' -- -p sim --sim-image img.bin write /dev/zero
expect_usage_error "verify a device file" '/dev/null is not a regular file' -- -p sim --sim-image img.bin verify /dev/null
expect_usage_error "info on a directory" 'adir is not a regular file' -- info adir
expect_usage_error "info on an empty file" 'empty.bin is empty' -- info empty.bin
cp f.bin locked.bin
chmod 000 locked.bin
if cat locked.bin >/dev/null 2>&1; then
	skip "write an unreadable file" "running as root: chmod 000 does not stop reads here"
else
	expect_usage_error "write an unreadable file" 'cannot open locked.bin: Permission denied' -- \
		-p sim --sim-image img.bin write locked.bin
fi
chmod 644 locked.bin
expect_usage_error "read into a missing directory" 'cannot write nodir/x.bin' -- -p sim --sim-image img.bin read nodir/x.bin
expect_usage_error "--keep-rf bad value" "--keep-rf takes yes or no, not 'maybe'" -- -p sim --sim-image img.bin --keep-rf maybe write f.bin
expect_usage_error "--keep-tuya-config bad value" "takes yes or no" -- -p sim --sim-image img.bin --keep-tuya-config 1 write f.bin
expect_usage_error "-p without a value" 'option -p needs a value' -- -p
expect_usage_error "--length without a value" 'option --length needs a value' -- -p sim --length
expect_usage_error "erase with a FILE" "unexpected argument 'f.bin' after erase" -- -p sim --sim-image img.bin erase f.bin
expect_usage_error "detect with a FILE" "unexpected argument 'f.bin' after detect" -- -p sim --sim-image img.bin detect f.bin
for kv in flip-ppm=-1 flip-ppm=1000001 unplug-after=abc usb-error-at=0x usb-timeout-at=1.5 interrupt-after=-3 \
	bad-byte=0x2000000 entry-fails=1001 seed= wire=bogus stuck-wip=2 size=1000; do
	expect_usage_error "--sim-config $kv" 'simulator: ' -- -p sim --sim-image img.bin --sim-config "$kv" erase
done
expect_usage_error "--sim-image missing" 'simulator image nosuch.bin' -- -p sim --sim-image nosuch.bin detect
expect_usage_error "--sim-image a directory" 'simulator image adir' -- -p sim --sim-image adir detect
# Ranges found bad after the probe: exit 2, one line, nothing touched.
for args in "--offset 0xF000 --length 0x2000 erase" "--offset 0x8000 --length 16M erase" \
	"--offset 16M erase" "--offset 0x1000 --length 0x1800 erase" "--length 0 erase" \
	"--offset 0x8000 --length 16M read x.bin" "--offset 0xF001 verify f.bin" "--offset 0x10000 verify f.bin"; do
	# shellcheck disable=SC2086 # the words are separate arguments
	sim -q $args
	expect_rc 2 "bad range: $args (exit)"
	expect_error_line "bad range: $args (one line)"
done
check "bad ranges made no file" "x.bin was created" test ! -e x.bin
check "bad input left the flash untouched" "image changed" same img.bin old.bin
check "bad input made no backup" "backups/ has files" test "$(count_files backups)" -eq 0

finish
