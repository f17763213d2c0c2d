/* The Beken entry against the emulated chip: both reply styles, retries,
 * and the diagnosis each wiring fault gets. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "rig.h"

static void echo_style_enters_first_time(void **state)
{
	(void)state;
	struct rig r;
	assert_int_equal(rig_up(&r, "style=echo", BK_TARGET_BEKEN), 0);
	assert_int_equal(r.entry.attempts, 1);
	assert_true(r.entry.echo);
	assert_false(r.entry.long_flush);
	assert_int_equal(bk_flash_info(r.flash)->jedec, 0x0B4015);
	rig_close(&r);
}

static void flush_style_needs_long_flush(void **state)
{
	(void)state;
	struct rig r;
	assert_int_equal(rig_up(&r, "style=flush", BK_TARGET_BEKEN), 0);
	assert_int_equal(r.entry.attempts, 1);
	assert_false(r.entry.echo);
	assert_true(r.entry.long_flush);
	rig_close(&r);
}

static void retries_with_fresh_cen_pulse(void **state)
{
	(void)state;
	struct rig r;
	assert_int_equal(rig_up(&r, "entry-fails=3", BK_TARGET_BEKEN), 0);
	assert_int_equal(r.entry.attempts, 4);
	struct bk_emu_stats st;
	bk_emu_stats(r.emu, &st);
	assert_int_equal(st.cen_pulses, 4);
	rig_close(&r);
}

static void gives_up_after_bounded_attempts(void **state)
{
	(void)state;
	struct rig r;
	assert_int_equal(rig_up(&r, "entry-fails=1000", BK_TARGET_BEKEN), BK_ENOCHIP);
	assert_int_equal(r.entry.attempts, BK_ENTRY_ATTEMPTS);
	assert_non_null(strstr(r.err.msg, "attempts"));
	rig_close(&r);
}

/* Every UIO byte carries CEN: a read after entry must not reset the chip. */
static void reads_keep_cen_high(void **state)
{
	(void)state;
	struct rig r;
	static uint8_t buf[200000];
	assert_int_equal(rig_up(&r, NULL, BK_TARGET_BEKEN), 0);
	assert_int_equal(bk_flash_read(r.flash, 0, buf, sizeof buf), 0);
	struct bk_emu_stats st;
	bk_emu_stats(r.emu, &st);
	assert_int_equal(st.cen_pulses, r.entry.attempts);
	rig_close(&r);
}

static void wire_fault(const char *config, const char *hint)
{
	struct rig r;
	assert_int_equal(rig_up(&r, config, BK_TARGET_BEKEN), BK_ENOCHIP);
	if (!strstr(r.err.msg, hint))
		fail_msg("%s: message \"%s\" does not name %s", config, r.err.msg, hint);
	rig_close(&r);
}

static void diagnoses_wiring(void **state)
{
	(void)state;
	wire_fault("wire=miso-open", "P23");
	wire_fault("wire=cs-open", "P21");
	wire_fault("wire=miso-short", "CEN");
	wire_fault("wire=cen-open", "CEN");
	wire_fault("wire=mosi-open", "P22");
}

static void plain_spi_needs_no_entry(void **state)
{
	(void)state;
	struct rig r;
	assert_int_equal(rig_up(&r, "beken=0", BK_TARGET_SPI), 0);
	assert_int_equal(r.entry.attempts, 0);
	struct bk_emu_stats st;
	bk_emu_stats(r.emu, &st);
	assert_int_equal(st.cen_pulses, 0);
	rig_close(&r);
}

/* Without the entry a Beken chip keeps its flash to itself. */
static void beken_without_entry_has_no_flash(void **state)
{
	(void)state;
	struct rig r;
	assert_int_equal(rig_up(&r, NULL, BK_TARGET_SPI), BK_ENOCHIP);
	assert_non_null(strstr(r.err.msg, "JEDEC"));
	rig_close(&r);
}

static void reset_reboots_out_of_spi_mode(void **state)
{
	(void)state;
	struct rig r;
	assert_int_equal(rig_up(&r, NULL, BK_TARGET_BEKEN), 0);
	assert_int_equal(bk_emu_chip_state(r.emu), BK_EMU_CHIP_SPI);
	assert_int_equal(bk_target_reset(r.prog), 0);
	assert_int_equal(bk_emu_chip_state(r.emu), BK_EMU_CHIP_RUNNING);
	bk_flash_free(r.flash);
	r.flash = NULL;
	assert_int_equal(bk_flash_probe(r.prog, &r.flash), BK_ENOCHIP);
	rig_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(echo_style_enters_first_time),
		cmocka_unit_test(flush_style_needs_long_flush),
		cmocka_unit_test(retries_with_fresh_cen_pulse),
		cmocka_unit_test(gives_up_after_bounded_attempts),
		cmocka_unit_test(reads_keep_cen_high),
		cmocka_unit_test(diagnoses_wiring),
		cmocka_unit_test(plain_spi_needs_no_entry),
		cmocka_unit_test(beken_without_entry_has_no_flash),
		cmocka_unit_test(reset_reboots_out_of_spi_mode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
