/* The Beken entry against the emulated chip: both reply styles, retries,
 * and the diagnosis each wiring fault gets. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
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

/* A broken wire defeats the slow run too; the diagnosis names the same
 * wire, and says the slow run was tried only where it was. */
static void slow_run_keeps_the_diagnosis(void **state)
{
	(void)state;
	static const char *const faults[][2] = {
		{ "wire=miso-open", "MISO read 0xFF every time" },
		{ "wire=cs-open", "MISO read 0xFF every time" },
		{ "wire=miso-short", "MISO stayed 0x00" },
		{ "wire=cen-open", "MISO stayed 0x00" },
		{ "wire=mosi-open", "MISO stayed 0x00" },
	};
	const char *tried = rig_driver()->slow_run ? "the last 4 with the run bit-banged slowly" : NULL;
	for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
		char config[64];
		snprintf(config, sizeof config, "%s,entry-max-hz=50000", faults[i][0]);
		struct rig r;
		assert_int_equal(rig_up(&r, config, BK_TARGET_BEKEN), BK_ENOCHIP);
		assert_int_equal(r.entry.attempts, BK_ENTRY_ATTEMPTS);
		if (!strstr(r.err.msg, faults[i][1]))
			fail_msg("%s: \"%s\" does not say %s", config, r.err.msg, faults[i][1]);
		if (tried ? !strstr(r.err.msg, tried) : strstr(r.err.msg, "bit-banged") != NULL)
			fail_msg("%s: \"%s\" is wrong about the slow run", config, r.err.msg);
		rig_close(&r);
	}
}

/* A chip that misses the run at the stream clock: the programmer's slow
 * run gets it in; without one (the CH347, whose slowest clock the later
 * attempts already use) the entry gives up as before. */
static void slow_only_chip_enters_with_slow_run(void **state)
{
	(void)state;
	struct rig r;
	int has_slow_run = rig_driver()->slow_run != NULL;
	int rc = rig_up(&r, "entry-max-hz=50000", BK_TARGET_BEKEN);
	if (!has_slow_run) {
		assert_int_equal(rc, BK_ENOCHIP);
		assert_null(strstr(r.err.msg, "bit-banged"));
		rig_close(&r);
		return;
	}
	assert_int_equal(rc, 0);
	assert_true(r.entry.slow_run);
	assert_true(r.entry.attempts > 1 && r.entry.attempts <= BK_ENTRY_ATTEMPTS);
	assert_true(r.entry.echo);
	assert_int_equal(bk_flash_info(r.flash)->jedec, 0x0B4015);
	rig_close(&r);

	/* The long-flush style enters the same way. */
	assert_int_equal(rig_up(&r, "entry-max-hz=50000,style=flush", BK_TARGET_BEKEN), 0);
	assert_true(r.entry.slow_run);
	assert_true(r.entry.long_flush);
	rig_close(&r);
}

/* The emulated chip judges the bit-banged clock by its edges in virtual
 * time: a chip slower than the slow run refuses it too. */
static void slow_run_is_clocked_in_tens_of_khz(void **state)
{
	(void)state;
	if (!rig_driver()->slow_run)
		skip();
	struct rig r;
	assert_int_equal(rig_up(&r, "entry-max-hz=10000", BK_TARGET_BEKEN), BK_ENOCHIP);
	rig_close(&r);
	assert_int_equal(rig_up(&r, "entry-max-hz=40000", BK_TARGET_BEKEN), 0);
	assert_true(r.entry.slow_run);
	rig_close(&r);
}

/* A healthy chip enters on the first, fast attempt: no slow run, and the
 * entry takes the CEN pulse and one stream, not the fallback's time. */
static void healthy_chip_takes_the_fast_path(void **state)
{
	(void)state;
	struct rig r;
	assert_int_equal(rig_open(&r, NULL), 0);
	uint64_t t0 = bk_prog_now_us(r.prog);
	assert_int_equal(bk_target_enter(r.prog, BK_TARGET_BEKEN, &r.entry), 0);
	uint64_t took = bk_prog_now_us(r.prog) - t0;
	assert_int_equal(r.entry.attempts, 1);
	assert_false(r.entry.slow_run);
	if (took > 130000)
		fail_msg("a first-time entry took %llu us", (unsigned long long)took);
	rig_close(&r);
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

/* A transient fault in the very first transfers, while the programmer is
 * set up, is retried like any later one: nothing has reached the chip. */
static void setup_survives_a_lost_transfer(void **state)
{
	(void)state;
	for (int n = 1; n <= 2; n++) {
		char config[48];
		snprintf(config, sizeof config, "usb-out-error-at=%d", n);
		struct rig r;
		int rc = rig_up(&r, config, BK_TARGET_BEKEN);
		if (rc)
			fail_msg("OUT transfer %d lost while setting up: %s", n, r.err.msg);
		rig_close(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(setup_survives_a_lost_transfer),
		cmocka_unit_test(echo_style_enters_first_time),
		cmocka_unit_test(flush_style_needs_long_flush),
		cmocka_unit_test(retries_with_fresh_cen_pulse),
		cmocka_unit_test(gives_up_after_bounded_attempts),
		cmocka_unit_test(reads_keep_cen_high),
		cmocka_unit_test(diagnoses_wiring),
		cmocka_unit_test(slow_only_chip_enters_with_slow_run),
		cmocka_unit_test(slow_run_is_clocked_in_tens_of_khz),
		cmocka_unit_test(healthy_chip_takes_the_fast_path),
		cmocka_unit_test(slow_run_keeps_the_diagnosis),
		cmocka_unit_test(plain_spi_needs_no_entry),
		cmocka_unit_test(beken_without_entry_has_no_flash),
		cmocka_unit_test(reset_reboots_out_of_spi_mode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
