#!/bin/sh
# detect, enter, reset and the Beken entry on the simulator: flash IDs and
# sizes (chip table, SFDP, ID capacity byte), both reply styles, entry
# retries, wiring faults (exit 4) and plain SPI flashes.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# ---- detect ----------------------------------------------------------------

newcase detect
run -p sim -q detect   # makes the default 2 MiB image
run -p sim detect
expect_rc 0 "detect default (exit)"
expect_stderr_empty "detect default (stderr)"
expect_stdout_match "detect default (flash ID 0B4015)" '^flash .*JEDEC ID 0B4015'
expect_stdout_match "detect default (part from the table)" '^flash .*XT25F16B'
expect_stdout_match "detect default (2048 KiB)" '^flash .*2048 KiB'
expect_stdout_match "detect default (status line)" '^status +SR1=0x[0-9A-F]{2} SR2=0x[0-9A-F]{2} +BP=[0-7] TB=[01] SEC=[01] CMP=[01] SRP=[01]$'
expect_stdout_match "detect default (protection line)" '^protected +all$'
expect_stdout_match "detect default (resets the chip)" '^reset '
run -p sim --json detect
expect_rc 0 "detect --json (exit)"
expect_json_object "detect --json (one object)"
expect_json "detect --json (jedec)" .flash.jedec 0B4015
expect_json "detect --json (size)" .flash.size 2097152
expect_json "detect --json (sr1)" .status.sr1 0x1C
expect_json "detect --json (target kind)" .target.kind beken
expect_json "detect --json (ok)" .ok true
expect_json "detect --json (exit)" .exit 0
run -p sim -v detect
expect_stderr_match "detect -v (USB statistics)" '^usb: [0-9]+ round trips'
run -p sim -q detect
expect_rc 0 "detect -q (exit)"
expect_stdout_empty "detect -q (stdout)"
expect_stderr_empty "detect -q (stderr)"

newcase ids
mkimg img.bin 4194304
sim --sim-config jedec=0xEF4016 detect
expect_rc 0 "detect W25Q32 (exit)"
expect_stdout_match "detect W25Q32 (named from the table)" '^flash +Winbond W25Q32, JEDEC ID EF4016'
expect_stdout_match "detect W25Q32 (4096 KiB)" '4096 KiB'
sim --sim-config jedec=0xEF4016,sfdp=0 detect
expect_rc 0 "detect W25Q32 without SFDP (exit)"
expect_stdout_match "detect W25Q32 without SFDP (size from the chip table)" '4096 KiB \(size from chip table\)'
sim --sim-config jedec=0x123456 detect
expect_rc 0 "detect unknown ID (exit)"
expect_stdout_match "detect unknown ID (size from SFDP)" 'JEDEC ID 123456.*4096 KiB \(size from SFDP\)'
sim --sim-config jedec=0x123416,sfdp=0 detect
expect_rc 0 "detect unknown ID, no SFDP (exit)"
expect_stdout_match "detect unknown ID, no SFDP (size from the capacity byte)" '4096 KiB \(size from ID capacity byte\)'
sim -q --sim-config jedec=0x123456,sfdp=0 detect
expect_rc 1 "detect unknown ID, no SFDP, bad capacity byte (exit)"
expect_error_line "detect unknown ID, no SFDP, bad capacity byte (message)" 'size cannot be told'
# A range on an unknown flash is checked against the size SFDP gave.
sim -q --sim-config jedec=0x123456 --offset 4M read x.bin
expect_rc 2 "read past an SFDP-sized flash (exit)"
sim -q --sim-config jedec=0x123456 --offset 0x3FF000 read x.bin
expect_rc 0 "read the last sector of an SFDP-sized flash (exit)"
extract img.bin 0x3FF000 4096 >want.bin
check "read the last sector of an SFDP-sized flash (bytes)" "x.bin differs" same x.bin want.bin

# ---- reply styles and entry retries ---------------------------------------------

newcase styles
mkimg img.bin 65536
sim --sim-config style=echo detect
expect_rc 0 "style echo (exit)"
expect_stdout_match "style echo (reported)" '^target .*0xD2 echo'
sim --sim-config style=flush detect
expect_rc 0 "style flush (exit)"
expect_stdout_match "style flush (reported)" '^target .*no echo'
sim -q --sim-config style=flush read out.bin
expect_rc 0 "style flush read (exit)"
check "style flush read (bytes)" "out.bin differs" same out.bin img.bin
sim -q --json --sim-config style=flush detect
expect_json "style flush --json (reply)" .target.reply "no echo, long flush"

sim --sim-config entry-fails=3 detect
expect_rc 0 "entry fails 3 times (exit)"
expect_stdout_match "entry fails 3 times (attempt 4)" '^target .*attempt 4'
sim --sim-config entry-fails=100 detect
expect_rc 4 "entry never works (exit)"
expect_error_line "entry never works (message)" 'did not enter SPI mode after [0-9]+ attempts'
n=$(sed -nE 's/.*after ([0-9]+) attempts.*/\1/p' err.txt)
check "entry never works (bounded attempts)" "gave up after '${n:-?}' attempts" \
	between "${n:-0}" 2 20
expect_stdout_empty "entry never works (stdout)"

# A chip that only recognises a slow 0xD2 run: the bit-banged run gets it in
# and detect says so; a healthy chip keeps the fast path.
sim --sim-config entry-max-hz=50000 detect
expect_rc 0 "slow-run-only chip (exit)"
expect_stdout_match "slow-run-only chip (slow run reported)" '^target .*Beken chip in SPI mode \(attempt [0-9]+, .*slow run\)$'
sim -q --json --sim-config entry-max-hz=50000 detect
expect_json "slow-run-only chip --json (run)" .target.run slow
sim -q --json detect
expect_json "healthy chip --json (stream run)" .target.run stream
expect_json "healthy chip --json (attempt 1)" .target.attempts 1
sim --sim-config entry-max-hz=50000,wire=miso-open detect
expect_rc 4 "slow-run-only chip, MISO open (exit)"
expect_error_line "slow-run-only chip, MISO open (wire named, slow run said)" \
	'did not enter SPI mode after [0-9]+ attempts \(the last [0-9]+ with the run bit-banged slowly\): MISO read 0xFF.*P23'

# ---- wiring faults: exit 4 and the likely wire ------------------------------------

newcase wires
mkimg img.bin 65536
cp img.bin old.bin
mkimg small.bin 4096
# wire_fault NAME ERE: --sim-config wire=NAME fails with exit 4 and a message
# that names the wire; nothing on stdout, the flash untouched. (Not at 0:
# random bytes there are no bootloader, refused before the entry.)
wire_fault() {
	sim --sim-config "wire=$1" --offset 0x8000 write small.bin
	expect_rc 4 "wire $1 (exit)"
	expect_error_line "wire $1 (message names $3)" "$2"
	expect_stdout_empty "wire $1 (stdout)"
	check "wire $1 (no backup)" "backups/ was made" test "$(count_files backups)" -eq 0
}
wire_fault miso-open 'P23' 'P23/SO'
wire_fault miso-short 'P23' 'P23/SO'
wire_fault cen-open 'CEN' 'CEN'
wire_fault mosi-open 'P22' 'P22/SI'
wire_fault cs-open 'P21' 'P21/CSN'
check "wiring faults left the image alone" "image changed" same img.bin old.bin
sim -q --json --sim-config wire=miso-open detect
expect_json "wire fault --json (exit)" .exit 4
expect_json "wire fault --json (error code)" .error.code BK_ENOCHIP
# A plain SPI flash with no answer names the wiring too.
sim -t spi --sim-config wire=miso-open detect
expect_rc 4 "spi wire miso-open (exit)"
expect_error_line "spi wire miso-open (message)" 'wiring'

# The wrong -t: a plain flash on -t beken answers at once; a Beken chip on
# -t spi holds MISO low. Each message names the other target.
newcase wrong_target
mkimg img.bin 65536
sim --sim-config beken=0 detect
expect_rc 4 "plain flash on -t beken (exit)"
expect_error_line "plain flash on -t beken (says use -t spi)" 'this looks like a plain SPI flash: use -t spi$'
expect_stderr_nomatch "plain flash on -t beken (no 'in SPI mode' claim)" 'it is in SPI mode'
sim -t spi --sim-config beken=1 detect
expect_rc 4 "Beken chip on -t spi (exit)"
expect_error_line "Beken chip on -t spi (hints -t beken)" 'if this is a BK72xx board, use -t beken'
sim -t spi --sim-config wire=miso-open detect
expect_stderr_nomatch "open MISO on -t spi (no -t beken hint)" '-t beken'

# ---- plain SPI, enter, reset ----------------------------------------------------

newcase spi
mkimg img.bin 65536
sim -t spi detect
expect_rc 0 "-t spi detect (exit)"
expect_stdout_match "-t spi detect (plain SPI)" '^target +plain SPI flash'
expect_stdout_nomatch "-t spi detect (no CEN pulse)" '^reset '
mkimg new.bin 4096
sim -t spi --no-backup write new.bin
expect_rc 0 "-t spi write (exit)"
extract img.bin 0 4096 >head.bin
check "-t spi write (image)" "image differs" same head.bin new.bin
sim -t spi verify new.bin
expect_rc 0 "-t spi verify (exit)"

newcase enter_reset
mkimg img.bin 65536
sim enter
expect_rc 0 "enter (exit)"
expect_stdout_match "enter (stays in SPI mode)" '^entered '
expect_stdout_nomatch "enter (no reset)" '^reset '
sim reset
expect_rc 0 "reset (exit)"
expect_stdout_match "reset (pulses CEN)" '^reset +CEN pulsed'
expect_stderr_empty "reset (stderr)"
sim -q --no-reset detect
expect_rc 0 "detect --no-reset (exit)"
sim --no-reset detect
expect_stdout_nomatch "detect --no-reset (no reset)" '^reset '
sim -t spi enter
expect_rc 0 "enter -t spi (exit)"
sim -q --json reset
expect_json "reset --json (ok)" .ok true

# The emulated chip keeps its mode across runs (img.bin.chip), as a powered
# chip does: what each command leaves behind is checked on the chip itself.
newcase chip_state
# blank, so the worn byte below must be programmed from 1 to 0
mkimg img.bin 65536 ff
chip_is() { # NAME MODE
	check "$1" "the chip is $(cat img.bin.chip 2>/dev/null), expected $2" test "$(cat img.bin.chip 2>/dev/null)" = "$2"
}
sim enter
chip_is "enter leaves the chip in SPI mode" spi
sim reset
chip_is "reset lets it boot" running
sim --no-reset detect
chip_is "--no-reset leaves it in SPI mode" spi
sim detect
chip_is "detect releases it" running
sim --no-reset read out.bin
chip_is "read --no-reset leaves it in SPI mode" spi
sim --sim-config wire=miso-open detect
expect_rc 4 "entry failure (exit)"
chip_is "a failed run releases it too" running
mkimg bad.bin 4096 zero
sim --sim-config bad-byte=0x8010 --offset 0x8000 --no-backup write bad.bin
expect_rc 1 "verify failure (exit)"
chip_is "a failed write releases it" running

# A programmer lost before the flash is known: the line says what to check.
newcase lost_early
mkimg img.bin 65536
sim --sim-config unplug-after=3 detect
expect_rc 3 "unplugged during the entry (exit)"
expect_error_line "unplugged during the entry (what to do)" 'disconnected.*check the cable and try another USB port.*bkspi doctor'

finish
