/* Confirming what was read by the Beken CRC-16 blocks (src/core/confirm.c):
 * which sectors the blocks may vouch for, and which must be read again. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "beken/beken.h"
#include "rig.h"

#define SECTOR 0x1000u
#define APP 0x11000u

static uint8_t *up(struct rig *r, size_t *size)
{
	if (rig_up(r, NULL, BK_TARGET_BEKEN))
		fail_msg("rig: %s", r->err.msg);
	uint8_t *mem = rig_mem(r, size);
	assert_int_equal(bk_emu_synth(mem, *size, 1), 0);
	return mem;
}

/* A MISO-high glitch that covers whole blocks inside the application
 * reads as 0xFF blocks: erased-looking, but not where the application is
 * erased. The sector must be read again, not "confirmed by CRC-16". */
static void ff_blocks_inside_the_app_are_read_again(void **state)
{
	(void)state;
	struct rig r;
	size_t size;
	uint8_t *mem = up(&r, &size);
	uint8_t *buf = malloc(size);
	assert_non_null(buf);
	memcpy(buf, mem, size);
	/* Every block touching sector 0x30000 (the synthetic app runs to 0x71000). */
	uint32_t s = 0x30000, first = APP + (s - APP) / BK_BEKEN_BLOCK * BK_BEKEN_BLOCK;
	uint32_t end = APP + ((s + SECTOR - 1 - APP) / BK_BEKEN_BLOCK + 1) * BK_BEKEN_BLOCK;
	memset(buf + first, 0xFF, end - first);
	uint8_t *which = calloc(size / SECTOR, 1);
	assert_non_null(which);
	which[s / SECTOR] = 1;
	struct bk_confirm rep = { 0 };
	assert_int_equal(bk_confirm_sectors(&r.job, buf, 0, (uint32_t)size, which, &rep), 0);
	assert_int_equal(rep.by_crc, 0);
	assert_int_equal(rep.by_reread, 1);
	assert_int_equal(rep.corrected, 1);
	assert_memory_equal(buf + s, mem + s, SECTOR);

	/* In the erased tail of the application (after its last framed block)
	 * 0xFF blocks are what the flash holds: vouched for. */
	memset(which, 0, size / SECTOR);
	which[0x100000 / SECTOR] = 1;
	memset(&rep, 0, sizeof rep);
	assert_int_equal(bk_confirm_sectors(&r.job, buf, 0, (uint32_t)size, which, &rep), 0);
	assert_int_equal(rep.by_crc, 1);
	free(which);
	free(buf);
	rig_close(&r);
}

/* A range that starts at the application (an app-only write at 0x11000,
 * read --offset 0x11000) is vouched for by its blocks too. */
static void app_range_confirmed_by_crc(void **state)
{
	(void)state;
	struct rig r;
	size_t size;
	uint8_t *mem = up(&r, &size);
	const uint32_t len = 0x40000;
	uint8_t *buf = malloc(len);
	assert_non_null(buf);
	memcpy(buf, mem + APP, len);
	struct bk_confirm rep = { 0 };
	assert_int_equal(bk_confirm_sectors(&r.job, buf, APP, len, NULL, &rep), 0);
	assert_int_equal(rep.sectors, len / SECTOR);
	/* Only the last sector reaches past whole blocks of the range. */
	assert_int_equal(rep.by_crc, len / SECTOR - 1);
	assert_int_equal(rep.corrected, 0);
	free(buf);

	/* The write itself, without a backup: its sectors are read once. */
	uint8_t *img = malloc(size);
	assert_non_null(img);
	assert_int_equal(bk_emu_synth(img, size, 2), 0);
	struct bk_write w = { .addr = APP, .len = 0x60000, .data = img + APP, .verify = 1 };
	struct bk_write_report wr;
	assert_int_equal(bk_op_write(&r.job, &w, &wr), 0);
	assert_memory_equal(mem + APP, img + APP, 0x60000);
	assert_true(wr.confirm.sectors > 0);
	if (wr.confirm.by_crc < wr.confirm.sectors - 2)
		fail_msg("app-only write: %u of %u sectors confirmed by CRC-16, the rest by a second read",
			 wr.confirm.by_crc, wr.confirm.sectors);
	free(img);
	rig_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ff_blocks_inside_the_app_are_read_again),
		cmocka_unit_test(app_range_confirmed_by_crc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
