/* The handle API (include/bkspi.h) on the simulator: each handle owns its
 * error, a failing call returns its own failure whatever error object the
 * layers below were given, requests stay the caller's, and the chip really
 * enters and leaves SPI mode. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rig.h"

#define SIZE (2u << 20)

/* The layers below record into the programmer's error object; an
 * operation run with another one (as a second front end would) must still
 * fail with the USB error, not return 0 with "success". */
static void unplug_fails_the_call_whatever_error_object(void **state)
{
	(void)state;
	struct rig r;
	assert_int_equal(rig_up(&r, NULL, BK_TARGET_BEKEN), 0);
	struct bk_err other = { 0 };
	struct bk_job job = { .flash = r.flash, .err = &other };
	struct bk_emu_stats st;
	bk_emu_stats(r.emu, &st);
	char kv[64];
	/* Inside the 64 KiB read: 31 bytes a packet on the CH341A, 507 on the CH347. */
	snprintf(kv, sizeof kv, "unplug-after=%llu",
		 (unsigned long long)st.packets + (strcmp(rig_programmer(), "ch347") ? 200 : 40));
	assert_int_equal(bk_emu_set(r.emu, kv, &r.err), 0);
	uint8_t *buf = malloc(64 * 1024);
	int rc = bk_op_read(&job, "read", 0, buf, 64 * 1024);
	free(buf);
	assert_int_equal(rc, BK_EGONE);
	assert_int_equal(other.code, BK_EGONE);
	assert_non_null(strstr(other.msg, "read stopped after"));
	assert_null(strstr(other.msg, "success"));
	rig_close(&r);
}

/* Two handles, one unplugged mid-read: that call fails with the USB error
 * and its message; the other handle's state is untouched. */
static void two_handles_keep_their_own_errors(void **state)
{
	(void)state;
	struct bk_emu_sim s1, s2;
	bkspi *h1 = rig_handle(NULL, BKSPI_TARGET_BEKEN, &s1);
	bkspi *h2 = rig_handle("unplug-after=3000", BKSPI_TARGET_BEKEN, &s2);
	uint8_t *buf = malloc(SIZE);
	struct bkspi_read_req req = { .addr = 0, .len = SIZE };
	struct bkspi_read_report rep;
	assert_int_equal(bkspi_read(h1, &req, buf, &rep), 0);
	int rc = bkspi_read(h2, &req, buf, &rep);
	assert_int_equal(rc, BKSPI_EGONE);
	assert_int_equal(bkspi_errcode(h2), BKSPI_EGONE);
	assert_non_null(strstr(bkspi_errmsg(h2), "disconnected"));
	assert_non_null(strstr(bkspi_errmsg(h2), "read stopped after"));
	assert_string_equal(bkspi_errmsg(h1), "");
	assert_int_equal(bkspi_errcode(h1), 0);
	free(buf);
	bkspi_close(h1);
	bkspi_close(h2);
}

/* A write through the handle: the flash gets the data, the caller's
 * buffer and request come back unchanged, the device's RF sector is kept. */
static void write_leaves_the_request_alone(void **state)
{
	(void)state;
	struct bk_emu_sim sim;
	bkspi *h = rig_handle(NULL, BKSPI_TARGET_BEKEN, &sim);
	assert_int_equal(bkspi_connect(h), 0);
	size_t size;
	uint8_t *mem = bk_emu_flash(sim.emu, &size);
	assert_int_equal(bk_emu_synth(mem, size, 1), 0);
	uint8_t *img = malloc(size), *copy = malloc(size);
	assert_int_equal(bk_emu_synth(img, size, 2), 0);
	memcpy(copy, img, size);
	struct bkspi_write_req req = { .addr = 0, .data = img, .len = (uint32_t)size, .keep_rf = 1 };
	struct bkspi_write_req req_copy = req;
	struct bkspi_write_report rep;
	assert_int_equal(bkspi_write(h, &req, &rep), 0);
	assert_memory_equal(img, copy, size);
	assert_memory_equal(&req, &req_copy, sizeof req);
	assert_true(rep.beken && rep.kept_rf.kept);
	/* all of the file but the kept sector */
	assert_memory_equal(mem, img, rep.kept_rf.addr);
	assert_memory_equal(mem + rep.kept_rf.addr + rep.kept_rf.len, img + rep.kept_rf.addr + rep.kept_rf.len,
			    size - rep.kept_rf.addr - rep.kept_rf.len);
	assert_int_equal(rep.verified, size);
	free(img);
	free(copy);
	bkspi_close(h);
}

/* With a work buffer the write uses it instead of a copy of its own, and
 * the flash ends the same: the file's bytes, the device's RF sector. */
static void write_in_the_callers_work_buffer(void **state)
{
	(void)state;
	struct bk_emu_sim sim;
	bkspi *h = rig_handle(NULL, BKSPI_TARGET_BEKEN, &sim);
	assert_int_equal(bkspi_connect(h), 0);
	size_t size;
	uint8_t *mem = bk_emu_flash(sim.emu, &size);
	assert_int_equal(bk_emu_synth(mem, size, 1), 0);
	uint8_t *img = malloc(size), *want = malloc(size);
	assert_int_equal(bk_emu_synth(img, size, 2), 0);
	memcpy(want, img, size);
	struct bkspi_write_req req = { .addr = 0, .data = img, .len = (uint32_t)size, .keep_rf = 1, .work = img };
	struct bkspi_write_report rep;
	assert_int_equal(bkspi_write(h, &req, &rep), 0);
	assert_true(rep.kept_rf.kept);
	memcpy(want + rep.kept_rf.addr, mem + rep.kept_rf.addr, rep.kept_rf.len);
	assert_memory_equal(mem, want, size);
	assert_int_equal(rep.verified, size);
	free(img);
	free(want);
	bkspi_close(h);
}

/* detect leaves the chip in SPI mode; reset lets it boot. */
static void detect_holds_and_reset_releases(void **state)
{
	(void)state;
	struct bk_emu_sim sim;
	bkspi *h = rig_handle(NULL, BKSPI_TARGET_BEKEN, &sim);
	struct bkspi_detect_report d;
	assert_int_equal(bkspi_detect(h, &d), 0);
	assert_int_equal(bk_emu_chip_state(sim.emu), BK_EMU_CHIP_SPI);
	assert_true(d.entry.beken && d.entry.attempts >= 1);
	assert_int_equal(d.flash.size, SIZE);
	assert_string_equal(d.status.protected_desc, "all");
	assert_int_equal(bkspi_reset(h), 0);
	assert_int_equal(bk_emu_chip_state(sim.emu), BK_EMU_CHIP_RUNNING);
	bkspi_close(h);
}

/* A programmer name no driver has is one line naming it. */
static void unknown_programmer_is_named(void **state)
{
	(void)state;
	struct bkspi_config cfg = { .programmer = "nope" };
	bkspi *h = bkspi_new(&cfg);
	assert_int_equal(bkspi_connect(h), BKSPI_EINVAL);
	assert_non_null(strstr(bkspi_errmsg(h), "'nope'"));
	bkspi_close(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unplug_fails_the_call_whatever_error_object),
		cmocka_unit_test(two_handles_keep_their_own_errors),
		cmocka_unit_test(write_leaves_the_request_alone),
		cmocka_unit_test(write_in_the_callers_work_buffer),
		cmocka_unit_test(detect_holds_and_reset_releases),
		cmocka_unit_test(unknown_programmer_is_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
