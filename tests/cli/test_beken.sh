#!/bin/sh
# Beken awareness of the binary: `info` on real, cut, corrupted and synthetic
# images; the write refusals (app-only at 0, bootloader images off 0, rotated
# dumps, OTA/UF2 packages, another family's bootloader) and --force; keeping
# the device's RF/MAC sector and Tuya store; the summary after `read`.
#
# Expected values do not come from bkspi's output. For the real dumps in
# ../shared/dumps they come from its README (family, bootloader CRC and
# version, rotation, MAC, RF sector, partition table, RBL addresses) and
# from reading the bytes with Python while writing this test (CRC-16 block
# counts, which blocks a flipped byte lands in); for the synthetic image from
# src/emu/synth.c's layout, and its bootloader CRC-32 is computed here from
# gzip's trailer.
#
# The dumps hold device secrets: they are copied only into the temporary
# directory, compared with cmp -s, and never printed. Only MACs (listed in
# the README) and numbers appear in failure lines.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

MIB2=2097152

# ---- helpers ---------------------------------------------------------------

# flip FILE OFFSET: xor the byte at OFFSET with 0x55 (without printing it).
flip() {
	_b=$(od -An -tu1 -j $(($2)) -N1 "$1" | tr -d ' ')
	poke "$1" "$2" "\\$(printf '%03o' $((_b ^ 0x55)))"
}

# crc32 FILE LEN: zlib CRC-32 of the first LEN bytes as 0xXXXXXXXX, taken
# from gzip's trailer (CRC-32 little-endian, then the length).
crc32() {
	head -c "$2" "$1" | gzip -c | tail -c 8 | head -c 4 | od -An -tx1 |
		awk '{ printf "0x%s%s%s%s\n", $4, $3, $2, $1 }' | tr 'a-f' 'A-F'
}

# writable SRC DST: a private writable copy.
writable() {
	cp "$1" "$2" && chmod u+w "$2"
}

# put OLD OFFSET SRC LEN OUT: OLD with LEN bytes of SRC (from the same
# OFFSET) in place, into OUT.
put() {
	extract "$3" "$2" "$4" >put.part
	splice "$1" "$2" put.part "$5"
	rm -f put.part
}

# expect_json_in NAME .path VALUE...: the value at .path is one of VALUEs.
expect_json_in() {
	_n=$1 _p=$2
	shift 2
	if [ -z "$json_tool" ]; then
		skip "$_n" "no jq or python3 to parse JSON"
		return
	fi
	_got=$(json_get out.txt "$_p")
	for _v in "$@"; do
		if [ "$_got" = "$_v" ]; then
			pass
			return
		fi
	done
	fail "$_n" "$_p is '$_got', expected one of: $*"
}

# expect_unchanged NAME REF: the simulator image (img.bin) still equals REF.
expect_unchanged() {
	check "$1" "the simulator image changed" same img.bin "$2"
}

# expect_no_usb NAME: the last run (with --json) never opened the programmer.
expect_no_usb() {
	expect_json "$1" .usb null
}

# ---- synthetic images (no dumps needed) -----------------------------------------

# The default simulator image: a 2 MiB BK7231N-like image (src/emu/synth.c,
# seed 1): CRC-framed bootloader [0, 0x11000) with "BK7231" at 0x110 but no
# known fingerprint, 0x60000 bytes of framed app from 0x11000 (11565 whole
# blocks; the other 22283 app blocks erased), an RF sector at 0x1D0000 with
# MAC 02:b4:5e:00:00:01, 0xFF elsewhere.
newcase synth
run -p sim -q detect
synth=$XDG_STATE_HOME/bkspi/sim-flash.bin
check "synth: default image made" "no 2 MiB $synth" test "$(size_of "$synth" 2>/dev/null)" = "$MIB2"
synth_crc='0x[0-9A-F]{8}'
command -v gzip >/dev/null 2>&1 && synth_crc=$(crc32 "$synth" 256)
run info "$synth"
expect_rc 0 "info synth (exit)"
expect_stdout_match "info synth (image)" '^image +full flash dump, belongs at 0x000000$'
expect_stdout_match "info synth (family from the text marker)" '^family +BK7231N \("BK7231" at 0x110'
expect_stdout_match "info synth (bootloader CRC, unknown)" "^bootloader +CRC32 $synth_crc: unknown$"
expect_stdout_match "info synth (rotation)" '^rotation +none$'
expect_stdout_match "info synth (integrity)" \
	'^integrity +bootloader 2048 valid, 0 erased, 0 corrupt; application 11565 valid, 22283 erased, 0 corrupt blocks$'
expect_stdout_match "info synth (rf/mac)" '^rf +calibration sector at 0x1D0000, MAC 02:b4:5e:00:00:01$'
expect_stdout_match "info synth (no tuya)" '^tuya +no key-value store$'
expect_stdout_match "info synth (no openbeken)" '^openbeken +no config$'
expect_stdout_nomatch "info synth (no partition table)" '^partitions '
expect_stdout_nomatch "info synth (no rbl)" '^rbl '
run info --json "$synth"
expect_rc 0 "info synth --json (exit)"
expect_json_object "info synth --json (one object)"
expect_json "info synth --json (family)" .family BK7231N
if command -v gzip >/dev/null 2>&1; then
	expect_json "info synth --json (crc32)" .bootloader.crc32 "$synth_crc"
else
	skip "info synth --json (crc32)" "no gzip to compute CRC-32"
fi
expect_json "info synth --json (version)" .bootloader.version unknown
expect_json "info synth --json (mac)" .mac 02:b4:5e:00:00:01
expect_json "info synth --json (rf)" .rf_sector 0x1D0000
expect_json "info synth --json (kind)" .image.kind "full flash dump"
expect_json "info synth --json (app corrupt)" .integrity.application.corrupt 0
expect_json "info synth --json (tuya)" .tuya_store null

# `read` of it ends with the one-line summary.
run -p sim read whole.bin
expect_rc 0 "read synth (exit)"
expect_stdout_match "read synth (summary)" \
	'^beken +BK7231N, bootloader unknown, MAC 02:b4:5e:00:00:01, CRC-16 blocks intact$'
check "read synth (file = image)" "the read differs from the image" same whole.bin "$synth"
# Not from address 0, or not a Beken target: no summary.
run -p sim --offset 0x1000 --length 0x20000 read part.bin
expect_rc 0 "read synth at 0x1000 (exit)"
expect_stdout_nomatch "read synth at 0x1000 (no summary)" '^beken '
run -p sim -t spi --sim-image "$synth" read spi.bin
expect_rc 0 "read synth -t spi (exit)"
expect_stdout_nomatch "read synth -t spi (no summary)" '^beken '

# Empty and missing files.
newcase info_bad
: >empty.bin
expect_usage_error "info empty file" 'empty' -- info empty.bin
expect_usage_error "info missing file" 'cannot open' -- info missing.bin
run info --json empty.bin
expect_rc 2 "info --json empty file (exit)"
expect_json "info --json empty file (ok false)" .ok false

# OTA packages built here: refused at any offset, before any USB traffic.
newcase packages
writable "$synth" img.bin
cp img.bin ref.bin
mkimg rbl.bin 8192
poke rbl.bin 0 'RBL\000'
mkimg ug.bin 8192
poke ug.bin 0 '\125\252\125\252'
# A UF2 block: magics 0x0A324655 0x9E5D5157, flags 0x2000 (family present),
# family 0x675A40B0 (BK7231T) in word 7.
mkimg uf2.bin 512 zero
poke uf2.bin 0 '\125\106\062\012\127\121\135\236\000\040\000\000'
poke uf2.bin 28 '\260\100\132\147'
poke uf2.bin 508 '\060\157\261\012'
# refuse_pkg NAME FILE ERE OFFSET: refused without touching the programmer.
refuse_pkg() {
	sim --offset "$4" write "$2"
	expect_rc 2 "$1 at $4 (exit)"
	expect_error_line "$1 at $4 (message)" "$3.*over-the-air update package, not a flash image; .*--force writes it anyway"
	expect_stdout_empty "$1 at $4 (no USB: nothing printed)"
	expect_unchanged "$1 at $4 (image unchanged)" ref.bin
	check "$1 at $4 (no backup)" "backups/ has $(count_files backups) files" test "$(count_files backups)" -eq 0
}
refuse_pkg "write RBL" rbl.bin 'the file is OTA package \(RBL\)' 0
refuse_pkg "write RBL" rbl.bin 'the file is OTA package \(RBL\)' 0x11000
refuse_pkg "write UG" ug.bin 'the file is Tuya OTA package \(UG\)' 0
refuse_pkg "write UG" ug.bin 'the file is Tuya OTA package \(UG\)' 0x100000
refuse_pkg "write UF2" uf2.bin 'the file is UF2 package' 0
refuse_pkg "write UF2" uf2.bin 'the file is UF2 package' 0x11000
sim --json write rbl.bin
expect_rc 2 "write RBL --json (exit)"
expect_json "write RBL --json (code)" .error.code BK_EREFUSED
expect_no_usb "write RBL --json (no USB traffic)"
# force_pkg NAME FILE ERE: --force writes it, with a warning naming it.
force_pkg() {
	cp img.bin before.bin
	sim --force --no-backup --offset 0x100000 write "$2"
	expect_rc 0 "$1 --force (exit)"
	expect_stderr_match "$1 --force (warning)" "^bkspi: warning: --force overrides a refusal: $3"
	splice before.bin 0x100000 "$2" want.bin
	check "$1 --force (image = file spliced in)" "image differs" same img.bin want.bin
}
force_pkg "write RBL" rbl.bin 'the file is OTA package \(RBL\)'
force_pkg "write UG" ug.bin 'the file is Tuya OTA package \(UG\)'
force_pkg "write UF2" uf2.bin 'the file is UF2 package'
# A plain SPI target has no Beken rules.
writable ref.bin spi.bin
run -p sim -t spi --sim-image spi.bin --no-backup write rbl.bin
expect_rc 0 "write RBL -t spi (exit)"
expect_stderr_empty "write RBL -t spi (no warning)"
splice ref.bin 0 rbl.bin want.bin
check "write RBL -t spi (image)" "image differs" same spi.bin want.bin

# Nothing that is not a bootloader goes to 0, refused before any USB
# traffic; elsewhere such data is written as asked.
newcase not_a_bootloader
writable "$synth" img.bin
cp img.bin ref.bin
printf 'ssid=home\npassword=secret\n' >text.bin
mkimg random.bin 100000
mkimg ff.bin 8192 ff
# refuse_at0 NAME FILE ERE: exit 2, one line, no USB, image unchanged.
refuse_at0() {
	sim write "$2"
	expect_rc 2 "$1 at 0 (exit)"
	expect_error_line "$1 at 0 (message)" "the file is $3: it does not start with a Beken bootloader.*--force writes it anyway"
	expect_unchanged "$1 at 0 (image unchanged)" ref.bin
	check "$1 at 0 (no backup)" "backups/ has $(count_files backups) files" test "$(count_files backups)" -eq 0
	sim --json write "$2"
	expect_no_usb "$1 at 0 --json (no USB traffic)"
}
refuse_at0 "write a text file" text.bin 'text, not a flash image'
refuse_at0 "write random bytes" random.bin '100000 bytes of data that are no image bkspi recognises'
refuse_at0 "write 0xFF" ff.bin 'all 0xFF at its start, like erased flash'
sim -q --no-backup --offset 0x140000 write random.bin
expect_rc 0 "write random bytes at 0x140000 (exit)"
# A bootloader cut short, and a synthetic image whose app was zeroed in part.
head -c 4096 "$synth" >boot4k.bin
sim write boot4k.bin
expect_rc 2 "write 4 KiB of a bootloader (exit)"
expect_error_line "write 4 KiB of a bootloader (message)" 'only the first 0x1000 bytes of a bootloader'
writable "$synth" zapp.bin
mkimg z.bin 2048 zero
splice "$synth" 0x30000 z.bin zapp.bin
writable ref.bin img.bin
sim write zapp.bin
expect_rc 2 "write an image with a zeroed app (exit)"
# 0x30000 - 0x11000 = 0x1F000 = 34 * 3734 + 0x14: the block at 0x2FFEC.
expect_error_line "write an image with a zeroed app (names the first bad block)" \
	"the file's application is damaged: [0-9]+ of its CRC-16 blocks fail their check, the first at flash address 0x02FFEC; use an intact image"
expect_unchanged "write an image with a zeroed app (image unchanged)" ref.bin
sim --force --no-backup write zapp.bin
expect_rc 0 "write an image with a zeroed app --force (exit)"
expect_stderr_match "write an image with a zeroed app --force (warning)" '^bkspi: warning: --force overrides a refusal: the file.s application is damaged'
check "write an image with a zeroed app --force (written)" "image differs" same img.bin zapp.bin

# Erasing the synthetic chip's bootloader or RF sector needs --force.
newcase synth_erase
writable "$synth" img.bin
sim --no-backup erase
expect_rc 2 "erase the synthetic chip (exit)"
expect_error_line "erase the synthetic chip (message)" \
	'destroys the whole chip: the bootloader \(0x000000-0x010FFF\) and the RF calibration and MAC 02:b4:5e:00:00:01 \(0x1D0000\)'
expect_unchanged "erase the synthetic chip (image unchanged)" "$synth"

# ---- real dumps ------------------------------------------------------------------

if [ ! -d "$DUMPS" ]; then
	echo "skip: ../shared/dumps not found"
	skipped=$((skipped + 1))
	finish
fi

T4=$DUMPS/bk7231t-tuya-ds-101jl-4gang-switch.bin
TG=$DUMPS/bk7231t-globe-37783-rgbct-bulb.bin
TM=$DUMPS/bk7231t-led-moon-18w-cct-rotated.bin
TC=$DUMPS/bk7231t-tuya-config-pc44ha-72k.bin
NM=$DUMPS/bk7231n-moes-wk-us2-tc-outlet.bin
NK=$DUMPS/bk7231n-kanlux-33643-gu10-bulb.bin
for f in "$T4" "$TG" "$TM" "$TC" "$NM" "$NK"; do
	if [ ! -r "$f" ]; then
		fail "dumps" "$(basename "$f") missing from $DUMPS"
		finish
	fi
done
MAC_T4=a0:92:08:75:81:04
MAC_TG=68:57:2d:b3:24:43
MAC_TM=50:8a:06:ae:1b:4d
MAC_NM=1c:90:ff:5b:22:6b
MAC_NK=a0:92:08:3e:54:88

# ---- info on each dump -------------------------------------------------------------

# info_full FILE FAMILY CRC VERSION ROTATION MAC RF PTABLE BOOT_VALID BOOT_ERASED APP_VALID APP_ERASED
info_full() {
	_f=$1 _fam=$2 _crc=$3 _ver=$4 _rot=$5 _mac=$6 _rf=$7 _pt=$8
	_n=info:$(basename "$_f" .bin)
	run info "$_f"
	expect_rc 0 "$_n (exit)"
	expect_stdout_match "$_n (image)" '^image +full flash dump, belongs at 0x000000$'
	expect_stdout_match "$_n (family)" "^family +$_fam \\(bootloader fingerprint\\)$"
	expect_stdout_match "$_n (bootloader)" "^bootloader +CRC32 $_crc: $_fam $_ver$"
	if [ "$_rot" = 0x000000 ]; then
		expect_stdout_match "$_n (rotation)" '^rotation +none$'
	else
		expect_stdout_match "$_n (rotation)" '^rotation +rotated by 0x11000: the file starts with the application$'
	fi
	expect_stdout_match "$_n (integrity)" \
		"^integrity +bootloader $9 valid, ${10} erased, 0 corrupt; application ${11} valid, ${12} erased, 0 corrupt blocks$"
	expect_stdout_match "$_n (partition table)" "^partitions +table \"01PE\" at $_pt$"
	expect_stdout_match "$_n (rbl bootloader)" '^rbl +"bootloader" 1\.00 at 0x010F9A \(header CRC ok, body CRC ok\)$'
	expect_stdout_match "$_n (rbl app)" '^rbl +"app" 1\.00 at 0x129F0A \(header CRC ok, body CRC ok\)$'
	expect_stdout_match "$_n (rf/mac)" "^rf +calibration sector at $_rf, MAC $_mac$"
	expect_stdout_match "$_n (tuya)" '^tuya +key-value store at 0x1EE000[ :]'
	expect_stdout_match "$_n (openbeken)" '^openbeken +no config$'

	run info --json "$_f"
	expect_rc 0 "$_n --json (exit)"
	expect_json_object "$_n --json (one object)"
	expect_json "$_n --json (size)" .size "$MIB2"
	expect_json "$_n --json (kind)" .image.kind "full flash dump"
	expect_json "$_n --json (belongs at)" .image.belongs_at 0x000000
	expect_json "$_n --json (family)" .family "$_fam"
	expect_json "$_n --json (family evidence)" .family_evidence "bootloader fingerprint"
	expect_json "$_n --json (crc32)" .bootloader.crc32 "$_crc"
	expect_json "$_n --json (version)" .bootloader.version "$_ver"
	expect_json "$_n --json (rotation)" .rotation "$_rot"
	expect_json "$_n --json (boot valid)" .integrity.bootloader.valid "$9"
	expect_json "$_n --json (boot erased)" .integrity.bootloader.erased "${10}"
	expect_json "$_n --json (boot corrupt)" .integrity.bootloader.corrupt 0
	expect_json "$_n --json (boot first corrupt)" .integrity.bootloader.first_corrupt null
	expect_json "$_n --json (app valid)" .integrity.application.valid "${11}"
	expect_json "$_n --json (app erased)" .integrity.application.erased "${12}"
	expect_json "$_n --json (app corrupt)" .integrity.application.corrupt 0
	expect_json "$_n --json (partition table)" .partition_table "$_pt"
	expect_json "$_n --json (rbl bootloader)" .rbl.bootloader.addr 0x010F9A
	expect_json "$_n --json (rbl bootloader name)" .rbl.bootloader.name bootloader
	expect_json "$_n --json (rbl app)" .rbl.application.addr 0x129F0A
	expect_json "$_n --json (rbl app body ok)" .rbl.application.body_ok true
	expect_json "$_n --json (rf)" .rf_sector "$_rf"
	expect_json "$_n --json (mac)" .mac "$_mac"
	expect_json "$_n --json (tuya)" .tuya_store 0x1EE000
	expect_json "$_n --json (openbeken)" .openbeken_config null
}

newcase info_dumps
info_full "$T4" BK7231T 0xBA54C1B8 1.0.5 0x000000 $MAC_T4 0x1E0000 0x00EA14 1772 276 29249 4599
info_full "$NM" BK7231N 0xE14191BA 1.0.1 0x000000 $MAC_NM 0x1D0000 0x00F7F0 1876 172 29832 4016
info_full "$TM" BK7231T 0xBA54C1B8 1.0.5 0x011000 $MAC_TM 0x1E0000 0x00EA14 1772 276 32413 1435
info_full "$TG" BK7231T 0x4B31E44D 1.0.3 0x000000 $MAC_TG 0x1E0000 0x00F1EA 1831 217 24988 8860
info_full "$NK" BK7231N 0xE14191BA 1.0.1 0x000000 $MAC_NK 0x1D0000 0x00F7F0 1876 172 31091 2757
# The README's CRCs, computed again here over the first 256 (T) / 257 (N) bytes.
if command -v gzip >/dev/null 2>&1; then
	check "info: 4-gang CRC-32 of 256 bytes" "$(crc32 "$T4" 256)" test "$(crc32 "$T4" 256)" = 0xBA54C1B8
	check "info: globe CRC-32 of 256 bytes" "$(crc32 "$TG" 256)" test "$(crc32 "$TG" 256)" = 0x4B31E44D
	check "info: moes CRC-32 of 257 bytes" "$(crc32 "$NM" 257)" test "$(crc32 "$NM" 257)" = 0xE14191BA
fi

# The bare 72 KiB Tuya store: no bootloader, no CRC-framed data, no RF sector.
run info "$TC"
expect_rc 0 "info:72k (exit)"
expect_stdout_match "info:72k (image)" '^image +unknown, not for SPI writing$'
expect_stdout_match "info:72k (family)" '^family +unknown '
expect_stdout_match "info:72k (bare store)" '^contents +a bare Tuya key-value store, which belongs at 0x1EE000$'
expect_stdout_nomatch "info:72k (no MAC)" 'MAC'
run info --json "$TC"
expect_rc 0 "info:72k --json (exit)"
expect_json_object "info:72k --json (one object)"
expect_json "info:72k --json (size)" .size 73728
expect_json "info:72k --json (kind)" .image.kind unknown
expect_json "info:72k --json (belongs at)" .image.belongs_at null
expect_json "info:72k --json (family)" .family unknown
expect_json "info:72k --json (tuya)" .tuya_store 0x1EE000
expect_json "info:72k --json (rf)" .rf_sector null
expect_json "info:72k --json (mac)" .mac null
expect_json "info:72k --json (partition table)" .partition_table null
expect_json "info:72k --json (rbl)" .rbl.bootloader null
expect_json "info:72k --json (openbeken)" .openbeken_config null
# The file holds flash 0x1EE000.., not a bootloader: the text report says
# so, and the JSON must not report a bootloader CRC or corrupt bootloader
# blocks at 0x000000 for it.
expect_json_in "info:72k --json (no bootloader blocks called corrupt)" .integrity.bootloader.corrupt 0 null
expect_json "info:72k --json (no bootloader CRC)" .bootloader.crc32 null

# ---- info on cut dumps -------------------------------------------------------------

# info_cut NAME FILE LEN CRC VERSION_RE BOOT_VALID BOOT_ERASED APP_VALID APP_ERASED KIND_RE
info_cut() {
	head -c $(($3)) "$2" >cut.bin
	_n="info:cut $1 $3"
	run info cut.bin
	expect_rc 0 "$_n (exit)"
	expect_stdout_match "$_n (bootloader)" "^bootloader +CRC32 $4: $5$"
	expect_stdout_match "$_n (integrity)" \
		"^integrity +bootloader $6 valid, $7 erased, 0 corrupt; application $8 valid, $9 erased, 0 corrupt blocks$"
	expect_stdout_match "$_n (image)" "^image +${10}$"
	expect_stdout_match "$_n (no rf)" '^rf +no calibration sector$'
	expect_stdout_match "$_n (no tuya)" '^tuya +no key-value store$'
	run info --json cut.bin
	expect_rc 0 "$_n --json (exit)"
	expect_json_object "$_n --json (one object)"
	expect_json "$_n --json (size)" .size $(($3))
	expect_json "$_n --json (mac)" .mac null
}
newcase info_cut
unknown='unknown, not for SPI writing'
qio='bootloader \+ app \(QIO\), belongs at 0x000000'
# 256 bytes: the T CRC is complete, the N one (257 bytes) is not.
info_cut 4gang "$T4" 0x100 0xBA54C1B8 '.*' 7 0 0 0 "$unknown"
info_cut 4gang "$T4" 0x1000 0xBA54C1B8 'BK7231T 1\.0\.5' 120 0 0 0 "$unknown"
info_cut 4gang "$T4" 0x11000 0xBA54C1B8 'BK7231T 1\.0\.5' 1772 276 0 0 "$unknown"
info_cut 4gang "$T4" 0x12A000 0xBA54C1B8 'BK7231T 1\.0\.5' 1772 276 29249 4599 "$qio"
info_cut 4gang "$T4" 0x100000 0xBA54C1B8 'BK7231T 1\.0\.5' 1772 276 28792 0 "$qio"
info_cut moes "$NM" 0x100 0x4063D299 unknown 7 0 0 0 "$unknown"
info_cut moes "$NM" 0x1000 0xE14191BA 'BK7231N 1\.0\.1' 120 0 0 0 "$unknown"
info_cut moes "$NM" 0x11000 0xE14191BA 'BK7231N 1\.0\.1' 1876 172 0 0 "$unknown"
info_cut moes "$NM" 0x12A000 0xE14191BA 'BK7231N 1\.0\.1' 1876 172 29832 4016 "$qio"
info_cut moes "$NM" 0x100000 0xE14191BA 'BK7231N 1\.0\.1' 1876 172 28792 0 "$qio"
# The bootloader's own RBL header and the partition table once they are in.
head -c $((0x11000)) "$T4" >cut.bin
run info --json cut.bin
expect_json "info:cut 0x11000 (partition table)" .partition_table 0x00EA14
expect_json "info:cut 0x11000 (rbl bootloader)" .rbl.bootloader.body_ok true
expect_json "info:cut 0x11000 (no rbl app)" .rbl.application null
head -c $((0x12A000)) "$NM" >cut.bin
run info --json cut.bin
expect_json "info:cut 0x12A000 (rbl app)" .rbl.application.body_ok true
expect_json "info:cut 0x12A000 (family)" .family BK7231N

# The app alone, [0x11000, 0x129F70) of a dump: it belongs at 0x11000 and
# its blocks are the application's, its RBL header at flash 0x129F0A.
extract "$T4" 0x11000 0x118F70 >ua.bin
run info ua.bin
expect_rc 0 "info:ua (exit)"
expect_stdout_match "info:ua (image)" '^image +app only \(UA\), belongs at 0x011000$'
run info --json ua.bin
expect_json "info:ua --json (belongs at)" .image.belongs_at 0x011000
expect_json "info:ua --json (no bootloader CRC for an app)" .bootloader.crc32 null
expect_json "info:ua --json (app blocks counted as the app's)" .integrity.application.valid 29249
expect_json "info:ua --json (the app's RBL header at 0x129F0A)" .rbl.application.addr 0x129F0A
expect_json "info:ua --json (no corrupt blocks)" .integrity.application.corrupt 0
run info ua.bin
expect_stdout_nomatch "info:ua (no bootloader CRC for an app)" '^bootloader +CRC32'
# File offset 0x6F000 is flash 0x80000: app block 0x7FFF8.
flip ua.bin 0x6F000
run info --json ua.bin
expect_rc 0 "info:ua corrupt (exit)"
expect_json "info:ua corrupt --json (count)" .integrity.application.corrupt 1
expect_json "info:ua corrupt --json (flash address)" .integrity.application.first_corrupt 0x07FFF8

# ---- info on corrupted dumps --------------------------------------------------------

# Byte 0x80000 lies in app block 0x7FFF8, 0x3000 in bootloader block 0x2FF2,
# 0x100000 in app block 0xFFFF0 (valid blocks in every dump used).
newcase info_corrupt
writable "$TG" c.bin
flip c.bin 0x80000
run info c.bin
expect_rc 0 "info:corrupt app (exit)"
expect_stdout_match "info:corrupt app (integrity)" \
	'^integrity +bootloader 1831 valid, 217 erased, 0 corrupt; application 24987 valid, 8860 erased, 1 corrupt \(first at 0x07FFF8\) blocks$'
expect_stdout_match "info:corrupt app (rbl app body bad)" '^rbl +"app" .*body CRC bad'
expect_stdout_match "info:corrupt app (still T 1.0.3)" '^bootloader +CRC32 0x4B31E44D: BK7231T 1\.0\.3$'
run info --json c.bin
expect_json "info:corrupt app --json (corrupt)" .integrity.application.corrupt 1
expect_json "info:corrupt app --json (first)" .integrity.application.first_corrupt 0x07FFF8
expect_json "info:corrupt app --json (boot corrupt)" .integrity.bootloader.corrupt 0
expect_json "info:corrupt app --json (rbl app body)" .rbl.application.body_ok false
expect_json "info:corrupt app --json (mac)" .mac $MAC_TG
flip c.bin 0x3000
run info --json c.bin
expect_rc 0 "info:corrupt both (exit)"
expect_json "info:corrupt both --json (boot corrupt)" .integrity.bootloader.corrupt 1
expect_json "info:corrupt both --json (boot first)" .integrity.bootloader.first_corrupt 0x002FF2
expect_json "info:corrupt both --json (app corrupt)" .integrity.application.corrupt 1
expect_json "info:corrupt both --json (rbl boot body)" .rbl.bootloader.body_ok false
expect_json "info:corrupt both --json (version)" .bootloader.version 1.0.3
run info c.bin
expect_stdout_match "info:corrupt both (text)" \
	'^integrity +bootloader 1830 valid, 217 erased, 1 corrupt \(first at 0x002FF2\); application 24987 valid, 8860 erased, 1 corrupt \(first at 0x07FFF8\) blocks$'

# The rotated dump: flash 0x80000 is file 0x6F000, flash 0x3000 is file
# 0x1F2000; info reports flash addresses.
writable "$TM" m.bin
flip m.bin 0x6F000
flip m.bin 0x1F2000
run info --json m.bin
expect_rc 0 "info:corrupt rotated (exit)"
expect_json "info:corrupt rotated --json (rotation)" .rotation 0x011000
expect_json "info:corrupt rotated --json (app first)" .integrity.application.first_corrupt 0x07FFF8
expect_json "info:corrupt rotated --json (boot first)" .integrity.bootloader.first_corrupt 0x002FF2
expect_json "info:corrupt rotated --json (app corrupt)" .integrity.application.corrupt 1
expect_json "info:corrupt rotated --json (mac)" .mac $MAC_TM

# N, deep in the app.
writable "$NM" n.bin
flip n.bin 0x100000
run info --json n.bin
expect_json "info:corrupt N --json (first)" .integrity.application.first_corrupt 0x0FFFF0
expect_json "info:corrupt N --json (count)" .integrity.application.corrupt 1
expect_json "info:corrupt N --json (family)" .family BK7231N

# Inside the fingerprinted bytes: the bootloader is no longer known, the
# family comes from other evidence (T: the RF sector; N: its text marker).
writable "$T4" f.bin
flip f.bin 0x10
run info --json f.bin
expect_rc 0 "info:corrupt fingerprint T (exit)"
expect_json "info:corrupt fingerprint T (version)" .bootloader.version unknown
expect_json "info:corrupt fingerprint T (family)" .family BK7231T
expect_json "info:corrupt fingerprint T (first)" .integrity.bootloader.first_corrupt 0x000000
expect_json "info:corrupt fingerprint T (mac)" .mac $MAC_T4
writable "$NK" g.bin
flip g.bin 0x10
run info --json g.bin
expect_json "info:corrupt fingerprint N (version)" .bootloader.version unknown
expect_json "info:corrupt fingerprint N (family)" .family BK7231N
expect_json "info:corrupt fingerprint N (first)" .integrity.bootloader.first_corrupt 0x000000

# ---- read summary on dump-backed simulators ----------------------------------------

newcase read_summary
writable "$T4" img.bin
sim read r.bin
expect_rc 0 "read 4-gang (exit)"
expect_stdout_match "read 4-gang (summary)" "^beken +BK7231T, bootloader 1\\.0\\.5, MAC $MAC_T4, CRC-16 blocks intact$"
check "read 4-gang (file = dump)" "the read differs from the dump" same r.bin "$T4"
writable "$NM" img.bin
sim --json read r2.bin
expect_rc 0 "read moes --json (exit)"
expect_json "read moes --json (family)" .beken.family BK7231N
expect_json "read moes --json (bootloader)" .beken.bootloader 1.0.1
expect_json "read moes --json (mac)" .beken.mac $MAC_NM
expect_json "read moes --json (corrupt)" .beken.corrupt_blocks 0
writable "$TG" img.bin
flip img.bin 0x80000
sim read r3.bin
expect_rc 0 "read corrupted globe (exit)"
expect_stdout_match "read corrupted globe (summary)" \
	"^beken +BK7231T, bootloader 1\\.0\\.3, MAC $MAC_TG, CRC-16 blocks CORRUPT"

# ---- write refusals on a dump-backed simulator ---------------------------------------

newcase refuse
writable "$T4" img.bin
extract "$T4" 0x11000 0x118F70 >ua.bin
head -c $((0x129F70)) "$T4" >qio.bin

# refuse NAME ERE ARGS...: exit 2 before any USB traffic, image unchanged.
refuse() {
	_rn=$1 _re=$2
	shift 2
	sim "$@"
	expect_rc 2 "$_rn (exit)"
	expect_error_line "$_rn (message)" "$_re"
	expect_stdout_empty "$_rn (nothing before the refusal)"
	expect_unchanged "$_rn (image unchanged)" "$T4"
	check "$_rn (no backup)" "backups/ has $(count_files backups) files" test "$(count_files backups)" -eq 0
	sim --json "$@"
	expect_no_usb "$_rn --json (no USB traffic)"
	expect_json "$_rn --json (code)" .error.code BK_EREFUSED
}
refuse "write UA at 0" \
	'the file is app only \(UA\), which belongs at 0x011000; at 0x000000 it would overwrite the bootloader.*; write it with --offset 0x11000 \(--force writes it anyway\)$' \
	write ua.bin
refuse "write QIO at 0x11000" \
	'the file is bootloader \+ app \(QIO\), which starts with the bootloader and belongs at 0x000000, not 0x011000; write it without --offset' \
	--offset 0x11000 write qio.bin
refuse "write full dump at 0x11000" 'the file is full flash dump, .*belongs at 0x000000, not 0x011000' \
	--offset 0x11000 write "$T4"
refuse "write rotated dump" 'the file is a full dump rotated by 0x11000 .*; rotate it back' write "$TM"

# The same files where they belong are fine (the slices of the device's own
# dump change nothing).
sim -q --no-backup --offset 0x11000 write ua.bin
expect_rc 0 "write UA at 0x11000 (exit)"
expect_stderr_empty "write UA at 0x11000 (no warning)"
expect_unchanged "write UA at 0x11000 (image)" "$T4"
sim -q --no-backup write qio.bin
expect_rc 0 "write QIO at 0 (exit)"
expect_unchanged "write QIO at 0 (image)" "$T4"

# --force writes them, with one warning line naming what it overrides.
# forced NAME ERE ARGS...
forced() {
	_fn=$1 _fre=$2
	shift 2
	sim --force --no-backup "$@"
	expect_rc 0 "$_fn --force (exit)"
	expect_stderr_match "$_fn --force (warning)" "^bkspi: warning: --force overrides a refusal: $_fre"
	check "$_fn --force (one stderr line)" "stderr has $(wc -l <err.txt) lines" test "$(wc -l <err.txt)" -eq 1
}
forced "write UA at 0" 'the file is app only \(UA\), which belongs at 0x011000' write ua.bin
splice "$T4" 0 ua.bin want.bin
check "write UA at 0 --force (image)" "image is not the dump with the app at 0" same img.bin want.bin
writable "$T4" img.bin
forced "write QIO at 0x11000" 'the file is bootloader \+ app \(QIO\).*not 0x011000' --offset 0x11000 write qio.bin
splice "$T4" 0x11000 qio.bin want.bin
check "write QIO at 0x11000 --force (image)" "image is not the dump with the file at 0x11000" same img.bin want.bin
# The rotated dump goes in as it is, but this device's RF sector stays.
writable "$T4" img.bin
forced "write rotated dump" 'the file is a full dump rotated by 0x11000' write "$TM"
put "$TM" 0x1E0000 "$T4" 4096 want.bin
check "write rotated dump --force (image = file, RF kept)" "image differs" same img.bin want.bin

# Another family's bootloader: refused once the chip's has been read, before
# any erase.
newcase refuse_family
writable "$T4" img.bin
sim write "$NM"
expect_rc 2 "write N over T (exit)"
expect_error_line "write N over T (message)" \
	"nothing was erased.*the file's bootloader is for BK7231N but the chip runs a BK7231T bootloader.*use an image built for this chip \\(--force writes it anyway\\)"
expect_unchanged "write N over T (image unchanged)" "$T4"
expect_stdout_nomatch "write N over T (no erase)" '^(sectors|pages|wrote|verify) '
sim --no-backup --json write "$NM"
expect_rc 2 "write N over T --no-backup (exit)"
expect_json "write N over T --no-backup (code)" .error.code BK_EREFUSED
expect_unchanged "write N over T --no-backup (image unchanged)" "$T4"
head -c $((0x129F70)) "$NM" >nqio.bin
sim --no-backup write nqio.bin
expect_rc 2 "write N QIO over T (exit)"
expect_error_line "write N QIO over T (message)" 'bootloader is for BK7231N but the chip runs a BK7231T'
expect_unchanged "write N QIO over T (image unchanged)" "$T4"
writable "$NM" img.bin
sim --no-backup write "$TG"
expect_rc 2 "write T over N (exit)"
expect_error_line "write T over N (message)" 'bootloader is for BK7231T but the chip runs a BK7231N bootloader'
expect_unchanged "write T over N (image unchanged)" "$NM"
# Forced: written, this device's RF sector (N: 0x1D0000) kept.
sim --force write "$TG"
expect_rc 0 "write T over N --force (exit)"
expect_stderr_match "write T over N --force (warning)" \
	"^bkspi: warning: --force overrides a refusal: the file's bootloader is for BK7231T but the chip runs a BK7231N"
put "$TG" 0x1D0000 "$NM" 4096 want.bin
check "write T over N --force (image = file, RF kept)" "image differs" same img.bin want.bin
expect_stdout_match "write T over N --force (mac)" "^mac +before $MAC_NM, after $MAC_NM$"

# What a careless user writes at 0 (issue 10, item 9), and damaged dumps
# (item 10): refused before anything is erased.
newcase careless
writable "$NM" img.bin
head -c $((0x11000)) "$T4" >tboot.bin
sim write tboot.bin
expect_rc 2 "T bootloader alone onto N (exit)"
expect_error_line "T bootloader alone onto N (message)" \
	"nothing was erased.*bootloader is for BK7231T but the chip runs a BK7231N bootloader"
expect_unchanged "T bootloader alone onto N (image unchanged)" "$NM"
writable "$T4" img.bin
head -c 1400000 "$NM" >ncut.bin
sim write ncut.bin
expect_rc 2 "1,400,000 bytes of N onto T (exit)"
expect_error_line "1,400,000 bytes of N onto T (message)" "bootloader is for BK7231N but the chip runs a BK7231T bootloader"
expect_unchanged "1,400,000 bytes of N onto T (image unchanged)" "$T4"
sim write "$TC"
expect_rc 2 "Tuya store at 0 (exit)"
expect_error_line "Tuya store at 0 (message)" \
	"bare Tuya key-value store .*belongs at 0x1EE000: it does not start with a Beken bootloader.*write it with --offset 0x1EE000"
expect_stdout_empty "Tuya store at 0 (refused before USB)"
expect_unchanged "Tuya store at 0 (image unchanged)" "$T4"
writable "$T4" zeroed.bin
mkimg z.bin 4096 zero
splice "$T4" 0x80000 z.bin zeroed.bin
sim write zeroed.bin
expect_rc 2 "dump with 4 KiB zeroed in the app (exit)"
expect_error_line "dump with 4 KiB zeroed in the app (message)" "application is damaged: .*first at flash address 0x07FFF8"
expect_unchanged "dump with 4 KiB zeroed in the app (image unchanged)" "$T4"
head -c $((0x100000)) "$T4" >cut.bin
sim write cut.bin
expect_rc 2 "dump cut in its app (exit)"
expect_error_line "dump cut in its app (message)" "ends at flash address 0x100000, inside the application \\(which runs to 0x129F70\\): it was cut short"
expect_unchanged "dump cut in its app (image unchanged)" "$T4"

# The plan comes before the first erase; erase of what is the device's own
# needs --force; verify skips what write keeps (issue 10, items 11, 12, 16).
newcase plan_erase_verify
writable "$T4" img.bin
sim --json --sim-config stuck-wip=1 write "$TG"
expect_rc 1 "plan before a failing erase (exit)"
expect_json "plan before a failing erase (image kind)" .plan.image.kind "full flash dump"
expect_json "plan before a failing erase (family)" .plan.image.family BK7231T
expect_json "plan before a failing erase (belongs at)" .plan.image.belongs_at 0x000000
expect_json "plan before a failing erase (keeps RF)" .plan.keeps_rf.addr 0x1E0000
expect_json_in "plan before a failing erase (sectors to erase)" .plan.erase 266
writable "$T4" img.bin
sim write "$TG"
expect_rc 0 "plan (exit)"
# The plan lines come before the backup, confirm and erase report lines.
plan_line=$(grep -n '^plan ' out.txt | cut -d: -f1)
sectors_line=$(grep -n '^sectors ' out.txt | cut -d: -f1)
check "plan (printed before the work is reported)" "plan at line '${plan_line:-}', sectors at '${sectors_line:-}'" \
	test "${plan_line:-99}" -lt "${sectors_line:-0}"
expect_stdout_match "plan (image line)" '^image +full flash dump for BK7231T, belongs at 0x000000; chip bootloader: BK7231T$'
expect_stdout_match "plan (keeps line)" "^keeps +this device's RF calibration and MAC \\(0x1E0000-0x1E0FFF\\)$"
expect_stdout_match "plan (counts)" '^plan +512 sectors: [0-9]+ to erase in [0-9]+ operations, [0-9]+ to program without erase, [0-9]+ pages to program, [0-9]+ unchanged$'
# verify after the write: the kept RF sector is skipped and said so.
sim verify "$TG"
expect_rc 0 "verify after a write that kept RF (exit)"
expect_stdout_match "verify after a write that kept RF (says it skipped)" "^skipped +this device's RF calibration and MAC \\(0x1E0000-0x1E0FFF\\), which write keeps$"
sim --keep-rf no verify "$TG"
expect_rc 1 "verify --keep-rf no (exit)"
expect_error_line "verify --keep-rf no (explains)" "differs only in this device's RF calibration sector \\(0x1E0000-0x1E0FFF\\), which write keeps"
sim --json --keep-rf no verify "$TG"
expect_json "verify --keep-rf no --json (only rf)" .mismatch.only_rf true
# Erase: the whole chip, the bootloader, the RF sector need --force.
newcase erase_own
writable "$T4" img.bin
sim erase
expect_rc 2 "erase whole chip (exit)"
expect_error_line "erase whole chip (says what goes)" \
	"nothing was erased: erasing 0x000000-0x1FFFFF destroys the whole chip: the bootloader \\(0x000000-0x010FFF\\), the RF calibration and MAC $MAC_T4 \\(0x1E0000\\).*--force"
expect_unchanged "erase whole chip (image unchanged)" "$T4"
check "erase whole chip (no backup kept)" "backups/ has files" test "$(count_files backups)" -eq 0
sim --no-backup --offset 0x8000 --length 4K erase
expect_rc 2 "erase in the bootloader (exit)"
expect_error_line "erase in the bootloader (message)" 'destroys the bootloader .*the chip would not boot again'
sim --offset 0x1E0000 --length 4K erase
expect_rc 2 "erase the RF sector (exit)"
expect_error_line "erase the RF sector (message)" "destroys the RF calibration and MAC $MAC_T4 \\(0x1E0000\\)"
expect_unchanged "erase the RF sector (image unchanged)" "$T4"
sim --force --offset 0x1E0000 --length 4K erase
expect_rc 0 "erase the RF sector --force (exit)"
expect_stdout_match "erase the RF sector --force (says what goes)" "^destroys +the RF calibration and MAC $MAC_T4"
expect_stderr_match "erase the RF sector --force (warning)" '^bkspi: warning: --force overrides a refusal: erasing 0x1E0000-0x1E0FFF'
check "erase the RF sector --force (backup still taken)" "backups/ has $(count_files backups) files" test "$(count_files backups)" -eq 1
writable "$T4" img.bin
sim -q --no-backup --offset 0x140000 --length 64K erase
expect_rc 0 "erase a data range (exit)"

# ---- keeping this device's RF sector and Tuya store ------------------------------------

# T over T: the globe's dump over the 4-gang switch.
newcase keep_t
writable "$T4" img.bin
sim write "$TG"
expect_rc 0 "keep T (exit)"
expect_stderr_empty "keep T (no warning)"
put "$TG" 0x1E0000 "$T4" 4096 want.bin
check "keep T (RF sector 0x1E0000 is the device's, the rest the file's)" "image differs" same img.bin want.bin
expect_stdout_match "keep T (kept line)" \
	"^kept +this device's RF calibration and MAC \\(0x1E0000-0x1E0FFF\\), not the file's$"
expect_stdout_match "keep T (mac line)" "^mac +before $MAC_T4, after $MAC_T4$"
expect_stdout_nomatch "keep T (tuya not kept by default)" 'Tuya'
run info --json img.bin
expect_json "keep T (info: MAC of the device)" .mac $MAC_T4
expect_json "keep T (info: bootloader of the file)" .bootloader.version 1.0.3
sim --keep-rf no write "$TG"
expect_rc 0 "keep T --keep-rf no (exit)"
check "keep T --keep-rf no (image = file)" "image differs from the file" same img.bin "$TG"
expect_stdout_match "keep T --keep-rf no (mac line)" "^mac +before $MAC_T4, after $MAC_TG$"
expect_stdout_match "keep T --keep-rf no (says it replaced)" "^mac +the file's MAC $MAC_TG replaced"
expect_stdout_nomatch "keep T --keep-rf no (no kept line)" '^kept '

# --keep-tuya-config yes: the store 0x1EE000..0x1FFFFF too.
writable "$T4" img.bin
sim --keep-tuya-config yes write "$TG"
expect_rc 0 "keep tuya (exit)"
put "$TG" 0x1E0000 "$T4" 4096 tmp.bin
put tmp.bin 0x1EE000 "$T4" 0x12000 want.bin
check "keep tuya (RF and store are the device's, the rest the file's)" "image differs" same img.bin want.bin
expect_stdout_match "keep tuya (kept line)" \
	"^kept +this device's Tuya key-value store \\(0x1EE000-0x1FFFFF\\), not the file's$"
expect_stdout_match "keep tuya (mac line)" "^mac +before $MAC_T4, after $MAC_T4$"

# A write from 0x100000 covers the RF sector too, with or without a backup.
writable "$T4" img.bin
extract "$TG" 0x100000 0x100000 >tail.bin
sim --offset 0x100000 write tail.bin
expect_rc 0 "keep at offset (exit)"
splice "$T4" 0x100000 tail.bin tmp.bin
put tmp.bin 0x1E0000 "$T4" 4096 want.bin
check "keep at offset (RF kept)" "image differs" same img.bin want.bin
writable "$T4" img.bin
sim --no-backup --offset 0x100000 write tail.bin
expect_rc 0 "keep at offset --no-backup (exit)"
check "keep at offset --no-backup (RF kept)" "the RF sector is the file's, not the device's" same img.bin want.bin

# N over N: the Kanlux bulb over the Moes outlet, RF at 0x1D0000.
newcase keep_n
writable "$NM" img.bin
sim --json write "$NK"
expect_rc 0 "keep N (exit)"
put "$NK" 0x1D0000 "$NM" 4096 want.bin
check "keep N (RF sector 0x1D0000 is the device's, the rest the file's)" "image differs" same img.bin want.bin
expect_json "keep N --json (kept rf)" .write.kept_rf.addr 0x1D0000
expect_json "keep N --json (kept rf length)" .write.kept_rf.length 4096
expect_json "keep N --json (mac before)" .write.mac_before $MAC_NM
expect_json "keep N --json (mac after)" .write.mac_after $MAC_NM
expect_json "keep N --json (no tuya kept)" .write.kept_tuya null
sim --keep-rf no write "$NK"
expect_rc 0 "keep N --keep-rf no (exit)"
check "keep N --keep-rf no (image = file)" "image differs from the file" same img.bin "$NK"
expect_stdout_match "keep N --keep-rf no (mac line)" "^mac +before $MAC_NM, after $MAC_NK$"

finish
