#!/bin/sh
# -p ch347 code paths on the emulated CH347 (-p sim347): detect's
# programmer line, every command with both Beken reply styles, the slow
# entry and its fallback, --cen and --spi-clock (checks, notes, the CEN
# line actually wired), and the "lower --spi-clock" hint when a clock too
# fast for the wires makes reads disagree.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

s347() { run -p sim347 --sim-image img.bin "$@"; }
holds_file() { extract img.bin 0x100000 65536 >got.bin && cmp -s got.bin new.bin; }
erased() { extract img.bin 0x1F0000 65536 >e.bin && all_ff e.bin; }

# ---- detect ------------------------------------------------------------------

newcase detect
mkimg img.bin 2097152
s347 detect
expect_rc 0 "detect (exit)"
expect_stdout_match "detect (variant, mode)" '^programmer +CH347T \(USB 1a86:55db, mode 1: UART \+ SPI/I2C/GPIO\)'
expect_stdout_match "detect (default clock, entry clock)" '^programmer .*SPI 15 MHz \(Beken entry at 1\.875 MHz\)'
expect_stdout_match "detect (CEN line)" '^programmer .*CEN on CS1$'
expect_stdout_match "detect (flash)" '^flash .*JEDEC ID 0B4015'
s347 --sim-config programmer=ch347f --spi-clock 30M --cen gpio7 --sim-config programmer=ch347f,cen=gpio7 detect
expect_rc 0 "detect CH347F, 30 MHz, CEN on GPIO7 (exit)"
expect_stdout_match "detect CH347F (variant)" '^programmer +CH347F \(USB 1a86:55de'
expect_stdout_match "detect CH347F (clock)" 'SPI 30 MHz'
expect_stdout_match "detect CH347F (CEN line)" 'CEN on GPIO7$'
s347 --json --spi-clock 7.5M detect
expect_json "detect --json (programmer detail)" .programmer_detail \
	"CH347T (USB 1a86:55db, mode 1: UART + SPI/I2C/GPIO), SPI 7.5 MHz (Beken entry at 1.875 MHz), CEN on CS1"
s347 --spi-clock 468.75k detect
expect_stdout_match "detect at the slowest clock (entry never faster)" 'SPI 0\.46875 MHz \(Beken entry at 0\.46875 MHz\)'
# The CH341A path says nothing new.
run -p sim --sim-image img.bin detect
expect_stdout_nomatch "CH341A detect (no programmer line)" '^programmer'

# ---- every command, both reply styles ---------------------------------------

for style in echo flush; do
	newcase "jobs-$style"
	mkimg img.bin 2097152
	mkimg new.bin 65536
	cp img.bin start.bin
	s347 --sim-config style=$style read out.bin
	expect_rc 0 "$style: read (exit)"
	check "$style: read (bytes)" "the read differs from the flash" same out.bin start.bin
	s347 --sim-config style=$style --offset 0x100000 write new.bin
	expect_rc 0 "$style: write (exit)"
	check "$style: write (flash)" "the flash does not hold the file" holds_file
	s347 --sim-config style=$style --offset 0x100000 verify new.bin
	expect_rc 0 "$style: verify (exit)"
	s347 --sim-config style=$style --offset 0x1F0000 --length 64K --no-backup erase
	expect_rc 0 "$style: erase (exit)"
	check "$style: erase (blank)" "the range is not blank" erased
	s347 --sim-config style=$style enter
	expect_rc 0 "$style: enter (exit)"
	s347 --sim-config style=$style reset
	expect_rc 0 "$style: reset (exit)"
	s347 --sim-config style=$style doctor
	expect_rc 0 "$style: doctor (exit)"
done

# ---- the slow entry and its fallback ----------------------------------------

newcase entry
mkimg img.bin 2097152
s347 --sim-config entry-max-hz=2000000 detect
expect_stdout_match "entry at 1.875 MHz (first attempt)" '^target .*attempt 1,'
s347 --sim-config entry-max-hz=1000000 detect
expect_rc 0 "entry falls back to 468.75 kHz (exit)"
expect_stdout_match "entry falls back to 468.75 kHz (attempt 5)" '^target .*attempt 5,'
s347 --sim-config entry-max-hz=400000 detect
expect_rc 4 "entry faster than the chip takes, at every clock (exit 4)"

# ---- --cen -------------------------------------------------------------------

newcase cen
mkimg img.bin 2097152
s347 --cen gpio4 --sim-config cen=gpio4 detect
expect_rc 0 "--cen gpio4 (exit)"
expect_stderr_match "--cen gpio4 (LED warning)" '^bkspi: note: --cen gpio4: .*LED'
s347 --cen gpio6 --sim-config cen=gpio6 detect
expect_rc 0 "--cen gpio6 (exit)"
expect_stderr_match "--cen gpio6 (rail warning)" '^bkspi: note: --cen gpio6: .*1\.8/3\.3 V rail'
s347 --cen gpio7 detect
expect_rc 4 "--cen gpio7 on a board wired to CS1 (exit 4)"
expect_stderr_match "--cen on the wrong line (names the CEN line)" 'the --cen line \(CS1 by default\) -> CEN'
s347 --cen cs1 detect
expect_stderr_empty "--cen cs1 (no warning)"

# ---- option checks -------------------------------------------------------------

newcase options
expect_usage_error "--cen gpio8" "--cen 'gpio8': use cs1 or gpio0 to gpio7" -- -p ch347 --cen gpio8 detect
expect_usage_error "--cen d2" "--cen 'd2'" -- -p sim347 --cen d2 detect
expect_usage_error "--cen on the CH341A" "--cen applies to -p ch347 \(or sim347\) only" -- -p ch341a --cen cs1 detect
expect_usage_error "--spi-clock on sim" "--spi-clock applies to -p ch347 \(or sim347\) only" -- -p sim --spi-clock 15M detect
expect_usage_error "--spi-clock 61M" "--spi-clock '61M' is not a clock from 468\.75k to 60M" -- -p ch347 --spi-clock 61M detect
expect_usage_error "--spi-clock 100k" "--spi-clock '100k'" -- -p ch347 --spi-clock 100k detect
expect_usage_error "--spi-clock fast" "--spi-clock 'fast'" -- -p ch347 --spi-clock fast detect
expect_usage_error "--spi-clock 1.5" "--spi-clock '1\.5'" -- -p ch347 --spi-clock 1.5 detect
expect_usage_error "-p ch348" "unknown programmer 'ch348': use ch341a, ch347, sim or sim347" -- -p ch348 detect
newcase clock-note
mkimg img.bin 2097152
s347 --spi-clock 20MHz detect
expect_rc 0 "--spi-clock 20MHz (exit)"
expect_stderr_match "--spi-clock 20MHz (rounded down, said)" 'no 20000000 Hz clock: using 15 MHz'
expect_stdout_match "--spi-clock 20MHz (detect shows 15)" 'SPI 15 MHz'

# ---- a clock too fast for the wires -------------------------------------------

newcase too-fast
mkimg img.bin 2097152
cp img.bin start.bin
s347 --spi-clock 60M --sim-config wire-max-hz=30000000 verify start.bin
expect_rc 1 "verify at 60 MHz on 30 MHz wires (exit)"
expect_error_line "verify at 60 MHz on 30 MHz wires (hint)" 'at 60 MHz the wiring may be too long for the CH347: run again with a lower --spi-clock \(e\.g\. --spi-clock 30M\)'
s347 --spi-clock 60M --sim-config wire-max-hz=30000000 --confirm read out.bin
expect_rc 1 "read --confirm at 60 MHz on 30 MHz wires (exit)"
expect_stderr_match "read --confirm (hint)" 'lower --spi-clock'
s347 --spi-clock 30M --sim-config wire-max-hz=30000000 --confirm read out2.bin
expect_rc 0 "read --confirm at 30 MHz (exit)"
check "read --confirm at 30 MHz (bytes)" "the read differs" same out2.bin start.bin
# The CH341A's failures do not mention a clock it does not have.
run -p sim --sim-image img.bin --sim-config flip-ppm=20000 verify start.bin
expect_stderr_nomatch "CH341A verify failure (no clock hint)" 'spi-clock'

finish
