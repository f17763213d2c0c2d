/* The SPI NOR layer against the emulated flash: probing, reads, erases,
 * batched programs, protection, and the flash model's own rules. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "rig.h"
#include "spi/chips.h"

/* The rig holds the error sink its layers point at: it must not move. */
static void up(struct rig *r, const char *config)
{
	int rc = rig_up(r, config, BK_TARGET_SPI);
	if (rc)
		fail_msg("%s: %s", config ? config : "(default)", r->err.msg);
}

static void probe_known_chip_from_table(void **state)
{
	(void)state;
	struct rig r;
	up(&r, "beken=0,size=4194304,jedec=0xEF4016");
	const struct bk_flash_info *in = bk_flash_info(r.flash);
	assert_string_equal(in->vendor, "Winbond");
	assert_non_null(strstr(in->part, "W25Q32"));
	assert_int_equal(in->nor.size, 4u << 20);
	assert_int_equal(in->id[0], 0xFF);
	assert_int_equal(in->id[1], 0xEF);
	rig_close(&r);
}

static void probe_unknown_chip_uses_sfdp(void **state)
{
	(void)state;
	struct rig r;
	up(&r, "beken=0,size=1048576,jedec=0x123456");
	const struct bk_flash_info *in = bk_flash_info(r.flash);
	assert_string_equal(in->nor.size_from, "SFDP");
	/* SFDP wins over the capacity byte, which would say 4 MiB. */
	assert_int_equal(in->nor.size, 1u << 20);
	assert_true(in->nor.erase & BK_ERASE_64K);
	rig_close(&r);
}

static void probe_unknown_chip_without_sfdp(void **state)
{
	(void)state;
	struct rig r;
	up(&r, "beken=0,size=524288,jedec=0x9D4013,sfdp=0");
	assert_string_equal(bk_flash_info(r.flash)->nor.size_from, "ID capacity byte");
	assert_int_equal(bk_flash_info(r.flash)->nor.size, 512u << 10);
	rig_close(&r);
}

static void probe_refuses_huge_chip(void **state)
{
	(void)state;
	struct rig r;
	assert_int_equal(rig_up(&r, "beken=0,size=65536,jedec=0xEF4019,sfdp=0", BK_TARGET_SPI), BK_EFLASH);
	assert_non_null(strstr(r.err.msg, "4-byte addressing"));
	rig_close(&r);
}

static void read_exact_bytes_across_frames(void **state)
{
	(void)state;
	struct rig r;
	up(&r, "beken=0");
	size_t size;
	uint8_t *mem = rig_mem(&r, &size);
	rig_fill(mem, size, 7);
	uint32_t addr = 0x0FFF3, len = 200001;
	uint8_t *buf = malloc(len);
	assert_int_equal(bk_flash_read(r.flash, addr, buf, len), 0);
	assert_memory_equal(buf, mem + addr, len);
	free(buf);
	rig_close(&r);
}

/* The honest-model floor: no read can beat 32 byte times per 31 bytes. */
static void read_costs_at_least_wire_time(void **state)
{
	(void)state;
	struct rig r;
	up(&r, "beken=0");
	uint32_t len = 1u << 20;
	uint8_t *buf = malloc(len);
	uint64_t t0 = rig_ns(&r);
	assert_int_equal(bk_flash_read(r.flash, 0, buf, len), 0);
	/* 32 byte times at 1.5 MHz and the CH341A's 69 us per 31-byte packet */
	uint64_t ns = rig_ns(&r) - t0, floor_ns = (uint64_t)len * 32 / 31 * 16000 / 3 + (uint64_t)len / 31 * 69000;
	assert_true(ns >= floor_ns);
	assert_true(ns < floor_ns * 11 / 10); /* and the pipeline keeps within 10% of it */
	free(buf);
	rig_close(&r);
}

static void program_and_erase(void **state)
{
	(void)state;
	struct rig r;
	up(&r, "beken=0,protect=0");
	size_t size;
	uint8_t *mem = rig_mem(&r, &size);
	uint8_t data[8192];
	rig_fill(data, sizeof data, 3);
	assert_int_equal(bk_flash_program(r.flash, 0x20000, data, sizeof data), 0);
	assert_memory_equal(mem + 0x20000, data, sizeof data);
	assert_int_equal(bk_flash_erase(r.flash, 0x21000, 4096), 0);
	assert_memory_equal(mem + 0x20000, data, 4096);
	for (size_t i = 0; i < 4096; i++)
		assert_int_equal(mem[0x21000 + i], 0xFF);
	assert_int_equal(bk_flash_erase(r.flash, 0x20000, 65536), 0);
	assert_int_equal(mem[0x20000], 0xFF);
	rig_close(&r);
}

/* A short last page is padded with 0xFF, which leaves the flash alone. */
static void program_partial_page(void **state)
{
	(void)state;
	struct rig r;
	up(&r, "beken=0,protect=0");
	size_t size;
	uint8_t *mem = rig_mem(&r, &size);
	uint8_t data[300];
	rig_fill(data, sizeof data, 9);
	assert_int_equal(bk_flash_program(r.flash, 0x1000, data, sizeof data), 0);
	assert_memory_equal(mem + 0x1000, data, sizeof data);
	assert_int_equal(mem[0x1000 + 300], 0xFF);
	rig_close(&r);
}

static void unprotect_clears_bp_and_cmp_keeps_qe(void **state)
{
	(void)state;
	struct rig r;
	up(&r, "beken=0,protect=0x1C,protect-sr2=0x42");
	uint8_t sr1, sr2;
	assert_int_equal(bk_flash_status(r.flash, &sr1, &sr2), 0);
	/* the emulator only lets firmware set the protection bits */
	assert_int_equal(sr1 & 0x7C, 0x1C);
	struct bk_unprotect u;
	assert_int_equal(bk_flash_unprotect(r.flash, &u), 0);
	assert_true(u.changed);
	assert_int_equal(u.sr1_before & 0x1C, 0x1C);
	assert_int_equal(u.sr1_after & 0x7C, 0);
	assert_int_equal(u.sr2_after & 0x40, 0);
	rig_close(&r);
}

static void protected_flash_ignores_program(void **state)
{
	(void)state;
	struct rig r;
	up(&r, "beken=0,protect=0x1C");
	size_t size;
	uint8_t *mem = rig_mem(&r, &size);
	uint8_t data[256] = { 0 };
	assert_int_equal(bk_flash_program(r.flash, 0, data, sizeof data), 0);
	assert_int_equal(mem[0], 0xFF);
	rig_close(&r);
}

static void locked_status_names_wp(void **state)
{
	(void)state;
	struct rig r;
	up(&r, "beken=0,protect=0x1C,wp-locked=1");
	struct bk_unprotect u;
	assert_int_equal(bk_flash_unprotect(r.flash, &u), BK_EPROTECT);
	assert_non_null(strstr(r.err.msg, "WP#"));
	assert_non_null(strstr(r.err.msg, "SRP=1"));
	rig_close(&r);
}

static void stuck_wip_times_out_with_address(void **state)
{
	(void)state;
	struct rig r;
	up(&r, "beken=0,protect=0,stuck-wip=1");
	uint64_t t0 = rig_ns(&r);
	assert_int_equal(bk_flash_erase(r.flash, 0x30000, 4096), BK_EFLASH);
	assert_non_null(strstr(r.err.msg, "0x030000"));
	assert_non_null(strstr(r.err.msg, "busy"));
	/* the 4 KiB timeout, not the chip-erase one */
	assert_true(rig_ns(&r) - t0 < 3000000000ull);
	rig_close(&r);
}

/* The flash model wraps page program data at the page end, as chips do. */
static void model_wraps_within_page(void **state)
{
	(void)state;
	struct rig r;
	up(&r, "beken=0,protect=0");
	size_t size;
	uint8_t *mem = rig_mem(&r, &size);
	uint8_t wren = 0x06, pp[4 + 8] = { 0x02, 0x00, 0x10, 0xFC, 1, 2, 3, 4, 5, 6, 7, 8 };
	struct bk_spi_frame f[2] = { { .tx = &wren, .tx_len = 1, .len = 1 }, { .tx = pp, .tx_len = 12, .len = 12 } };
	assert_int_equal(bk_prog_frames(r.prog, f, 2), 0);
	bk_prog_sleep_us(r.prog, 1000);
	assert_int_equal(mem[0x10FC], 1);
	assert_int_equal(mem[0x10FF], 4);
	assert_int_equal(mem[0x1000], 5); /* wrapped to the page start */
	assert_int_equal(mem[0x1003], 8);
	assert_int_equal(mem[0x1100], 0xFF);
	rig_close(&r);
}

/* Without a write enable nothing happens. */
static void model_needs_wren(void **state)
{
	(void)state;
	struct rig r;
	up(&r, "beken=0,protect=0");
	size_t size;
	uint8_t *mem = rig_mem(&r, &size);
	uint8_t erase[4] = { 0x20, 0, 0, 0 };
	mem[0] = 0;
	struct bk_spi_frame f = { .tx = erase, .tx_len = 4, .len = 4 };
	assert_int_equal(bk_prog_frames(r.prog, &f, 1), 0);
	bk_prog_sleep_us(r.prog, 100000);
	assert_int_equal(mem[0], 0);
	rig_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(probe_known_chip_from_table),
		cmocka_unit_test(probe_unknown_chip_uses_sfdp),
		cmocka_unit_test(probe_unknown_chip_without_sfdp),
		cmocka_unit_test(probe_refuses_huge_chip),
		cmocka_unit_test(read_exact_bytes_across_frames),
		cmocka_unit_test(read_costs_at_least_wire_time),
		cmocka_unit_test(program_and_erase),
		cmocka_unit_test(program_partial_page),
		cmocka_unit_test(unprotect_clears_bp_and_cmp_keeps_qe),
		cmocka_unit_test(protected_flash_ignores_program),
		cmocka_unit_test(locked_status_names_wp),
		cmocka_unit_test(stuck_wip_times_out_with_address),
		cmocka_unit_test(model_wraps_within_page),
		cmocka_unit_test(model_needs_wren),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
