#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "spi/protect.h"

#define KIB(n) ((uint32_t)(n) * 1024u)
#define MIB(n) ((uint32_t)(n) * 1024u * 1024u)
#define ALL 0xFFFFFFFFu /* marker: the whole chip */

static uint8_t sr1_of(unsigned sec, unsigned tb, unsigned bp)
{
	return (uint8_t)(sec << 6 | tb << 5 | bp << 2);
}

struct row {
	uint8_t sec, tb, bp, cmp;
	uint32_t start, len;
};

static void check_rows(uint32_t size, const struct row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct bk_prot p;
		uint8_t sr2 = rows[i].cmp ? 0x40 : 0x00;
		bk_prot_decode(sr1_of(rows[i].sec, rows[i].tb, rows[i].bp), sr2, 1, size, &p);
		uint32_t start = rows[i].len == ALL ? 0 : rows[i].start;
		uint32_t len = rows[i].len == ALL ? size : rows[i].len;
		if (p.start != start || p.len != len)
			print_error("size %u row %zu: got 0x%06X+0x%X, want 0x%06X+0x%X\n",
				    (unsigned)size, i, (unsigned)p.start, (unsigned)p.len,
				    (unsigned)start, (unsigned)len);
		assert_int_equal(p.start, start);
		assert_int_equal(p.len, len);
	}
}

/* W25Q16JV "Status Register Memory Protection" tables (CMP=0 and CMP=1). */
static const struct row w25q16[] = {
	{ 0, 0, 0, 0, 0, 0 },
	{ 0, 0, 1, 0, 0x1F0000, KIB(64) },
	{ 0, 0, 2, 0, 0x1E0000, KIB(128) },
	{ 0, 0, 3, 0, 0x1C0000, KIB(256) },
	{ 0, 0, 4, 0, 0x180000, KIB(512) },
	{ 0, 0, 5, 0, 0x100000, MIB(1) },
	{ 0, 0, 6, 0, 0, ALL },
	{ 0, 0, 7, 0, 0, ALL },
	{ 0, 1, 1, 0, 0x000000, KIB(64) },
	{ 0, 1, 2, 0, 0x000000, KIB(128) },
	{ 0, 1, 5, 0, 0x000000, MIB(1) },
	{ 0, 1, 6, 0, 0, ALL },
	{ 1, 0, 0, 0, 0, 0 },
	{ 1, 0, 1, 0, 0x1FF000, KIB(4) },
	{ 1, 0, 2, 0, 0x1FE000, KIB(8) },
	{ 1, 0, 3, 0, 0x1FC000, KIB(16) },
	{ 1, 0, 4, 0, 0x1F8000, KIB(32) },
	{ 1, 0, 5, 0, 0x1F8000, KIB(32) },
	{ 1, 0, 6, 0, 0, ALL },
	{ 1, 0, 7, 0, 0, ALL },
	{ 1, 1, 1, 0, 0x000000, KIB(4) },
	{ 1, 1, 4, 0, 0x000000, KIB(32) },
	{ 1, 1, 7, 0, 0, ALL },
	/* CMP=1 */
	{ 0, 0, 0, 1, 0, ALL },
	{ 0, 0, 1, 1, 0x000000, 0x1F0000 },     /* lower 31/32 */
	{ 0, 0, 5, 1, 0x000000, MIB(1) },       /* lower 1/2 */
	{ 0, 1, 1, 1, 0x010000, 0x1F0000 },     /* upper 31/32 */
	{ 0, 1, 4, 1, 0x080000, 0x180000 },     /* upper 3/4 */
	{ 0, 0, 6, 1, 0, 0 },
	{ 0, 0, 7, 1, 0, 0 },
	{ 1, 0, 1, 1, 0x000000, 0x1FF000 },     /* L - 511/512 */
	{ 1, 0, 4, 1, 0x000000, 0x1F8000 },     /* L - 63/64 */
	{ 1, 1, 1, 1, 0x001000, 0x1FF000 },     /* U - 511/512 */
	{ 1, 1, 5, 1, 0x008000, 0x1F8000 },
	{ 1, 1, 7, 1, 0, 0 },
};

/* W25Q32JV: BP=110 is upper/lower 1/2 here, only 111 is "all". */
static const struct row w25q32[] = {
	{ 0, 0, 1, 0, 0x3F0000, KIB(64) },
	{ 0, 0, 2, 0, 0x3E0000, KIB(128) },
	{ 0, 0, 3, 0, 0x3C0000, KIB(256) },
	{ 0, 0, 4, 0, 0x380000, KIB(512) },
	{ 0, 0, 5, 0, 0x300000, MIB(1) },
	{ 0, 0, 6, 0, 0x200000, MIB(2) },
	{ 0, 0, 7, 0, 0, ALL },
	{ 0, 1, 1, 0, 0x000000, KIB(64) },
	{ 0, 1, 6, 0, 0x000000, MIB(2) },
	{ 1, 0, 1, 0, 0x3FF000, KIB(4) },
	{ 1, 0, 4, 0, 0x3F8000, KIB(32) },
	{ 1, 1, 3, 0, 0x000000, KIB(16) },
	{ 0, 0, 1, 1, 0x000000, 0x3F0000 },
	{ 0, 0, 6, 1, 0x000000, MIB(2) },
	{ 0, 1, 6, 1, 0x200000, MIB(2) },
	{ 1, 0, 1, 1, 0x000000, 0x3FF000 },
};

/* W25Q64JV and W25Q128JV: the unit grows to 1/64 of the chip. */
static const struct row w25q64[] = {
	{ 0, 0, 1, 0, 0x7E0000, KIB(128) },
	{ 0, 0, 2, 0, 0x7C0000, KIB(256) },
	{ 0, 0, 5, 0, 0x600000, MIB(2) },
	{ 0, 0, 6, 0, 0x400000, MIB(4) },
	{ 0, 0, 7, 0, 0, ALL },
	{ 0, 1, 1, 0, 0x000000, KIB(128) },
	{ 1, 0, 1, 0, 0x7FF000, KIB(4) },
	{ 0, 0, 1, 1, 0x000000, 0x7E0000 },
};

static const struct row w25q128[] = {
	{ 0, 0, 1, 0, 0xFC0000, KIB(256) },
	{ 0, 0, 4, 0, 0xE00000, MIB(2) },
	{ 0, 0, 6, 0, 0x800000, MIB(8) },
	{ 0, 0, 7, 0, 0, ALL },
	{ 0, 1, 3, 0, 0x000000, MIB(1) },
	{ 1, 0, 4, 0, 0xFF8000, KIB(32) },
};

/* W25Q80 (1 MiB, 16 blocks): BP=100 is the upper half, 101 on is all. */
static const struct row w25q80[] = {
	{ 0, 0, 1, 0, 0x0F0000, KIB(64) },
	{ 0, 0, 4, 0, 0x080000, KIB(512) },
	{ 0, 0, 5, 0, 0, ALL },
	{ 0, 1, 3, 0, 0x000000, KIB(256) },
};

static void test_w25q16(void **state)
{
	(void)state;
	check_rows(MIB(2), w25q16, sizeof w25q16 / sizeof w25q16[0]);
}

static void test_w25q32(void **state)
{
	(void)state;
	check_rows(MIB(4), w25q32, sizeof w25q32 / sizeof w25q32[0]);
}

static void test_large_and_small(void **state)
{
	(void)state;
	check_rows(MIB(8), w25q64, sizeof w25q64 / sizeof w25q64[0]);
	check_rows(MIB(16), w25q128, sizeof w25q128 / sizeof w25q128[0]);
	check_rows(MIB(1), w25q80, sizeof w25q80 / sizeof w25q80[0]);
}

static void test_fields(void **state)
{
	(void)state;
	struct bk_prot p;

	/* Beken's SDK "protect all" for XT25F16B/GD25Q16: 0x1F into bits 2-6 */
	bk_prot_decode(0x7C, 0x00, 1, MIB(2), &p);
	assert_int_equal(p.bp, 7);
	assert_int_equal(p.tb, 1);
	assert_int_equal(p.sec, 1);
	assert_int_equal(p.cmp, 0);
	assert_int_equal(p.srp, 0);
	assert_int_equal(p.len, MIB(2));

	bk_prot_decode(0xE7, 0x42, 1, MIB(2), &p); /* SRP SEC TB BP0 WEL WIP; CMP QE */
	assert_int_equal(p.bp, 1);
	assert_int_equal(p.tb, 1);
	assert_int_equal(p.sec, 1);
	assert_int_equal(p.cmp, 1);
	assert_int_equal(p.srp, 1);
	assert_int_equal(p.start, 0x001000);
	assert_int_equal(p.len, 0x1FF000);

	/* no SR2: CMP is not read even if the byte has bit 6 set */
	bk_prot_decode(0x04, 0x40, 0, MIB(2), &p);
	assert_int_equal(p.cmp, 0);
	assert_int_equal(p.start, 0x1F0000);
	assert_int_equal(p.len, KIB(64));
	bk_prot_decode(0x00, 0xFF, 0, MIB(2), &p);
	assert_int_equal(p.len, 0);

	bk_prot_decode(0x04, 0, 1, MIB(2), NULL); /* must not crash */
}

static void describe(uint8_t sr1, uint8_t sr2, uint32_t size, const char *want)
{
	struct bk_prot p;
	char buf[64];
	memset(buf, 'x', sizeof buf);
	bk_prot_decode(sr1, sr2, 1, size, &p);
	bk_prot_describe(&p, size, buf, sizeof buf);
	assert_string_equal(buf, want);
}

static void test_describe(void **state)
{
	(void)state;
	describe(0x00, 0x00, MIB(2), "none");
	describe(0x1C, 0x00, MIB(2), "all");
	describe(0x00, 0x40, MIB(2), "all");
	describe(0x1C, 0x40, MIB(2), "none");
	describe(0x04, 0x00, MIB(2), "0x1F0000-0x1FFFFF (upper 64 KiB)");
	describe(0x24, 0x00, MIB(2), "0x000000-0x00FFFF (lower 64 KiB)");
	describe(0x14, 0x00, MIB(2), "0x100000-0x1FFFFF (upper 1 MiB)");
	describe(0x18, 0x00, MIB(4), "0x200000-0x3FFFFF (upper 2 MiB)");
	describe(0x44, 0x00, MIB(2), "0x1FF000-0x1FFFFF (upper 4 KiB)");
	describe(0x44, 0x40, MIB(2), "0x000000-0x1FEFFF (lower 2044 KiB)");
	describe(0x04, 0x40, MIB(4), "0x000000-0x3EFFFF (lower 4032 KiB)");
	describe(0x04, 0x00, MIB(16), "0xFC0000-0xFFFFFF (upper 256 KiB)");

	char buf[64];
	struct bk_prot mid = { .start = 0x1000, .len = 0x2000 };
	bk_prot_describe(&mid, MIB(2), buf, sizeof buf);
	assert_string_equal(buf, "0x001000-0x002FFF (8 KiB)");
	struct bk_prot odd = { .start = 0, .len = 100 };
	bk_prot_describe(&odd, MIB(2), buf, sizeof buf);
	assert_string_equal(buf, "0x000000-0x000063 (lower 100 bytes)");
	bk_prot_describe(NULL, MIB(2), buf, sizeof buf);
	assert_string_equal(buf, "none");

	/* truncation still terminates */
	struct bk_prot up = { .start = 0x1F0000, .len = KIB(64) };
	memset(buf, 'x', sizeof buf);
	bk_prot_describe(&up, MIB(2), buf, 5);
	assert_string_equal(buf, "0x1F");
	assert_int_equal(buf[5], 'x');
	bk_prot_describe(&up, MIB(2), buf, 1);
	assert_string_equal(buf, "");
	bk_prot_describe(&up, MIB(2), NULL, 10);
	bk_prot_describe(&up, MIB(2), buf, 0);
}

static void test_cleared(void **state)
{
	(void)state;
	uint8_t a, b;

	bk_prot_cleared(0xFC, 0xFF, &a, &b);
	assert_int_equal(a, 0x80); /* SRP stays */
	assert_int_equal(b, 0xBF); /* QE, LB, SRP1, SUS stay; CMP goes */
	bk_prot_cleared(0x1C, 0x02, &a, &b);
	assert_int_equal(a, 0x00);
	assert_int_equal(b, 0x02); /* QE must survive or quad boot breaks */
	bk_prot_cleared(0x03, 0x40, &a, &b);
	assert_int_equal(a, 0x03);
	assert_int_equal(b, 0x00);
	bk_prot_cleared(0x7C, 0x00, &a, NULL);
	assert_int_equal(a, 0x00);
	bk_prot_cleared(0x00, 0x41, NULL, &b);
	assert_int_equal(b, 0x01);

	/* for every status pair: nothing stays protected, and only the
	 * protection bits moved */
	static const uint32_t sizes[] = { KIB(512), MIB(1), MIB(2), MIB(4), MIB(8), MIB(16) };
	for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
		for (unsigned s1 = 0; s1 < 256; s1++) {
			for (unsigned s2 = 0; s2 < 256; s2++) {
				struct bk_prot p;
				bk_prot_cleared((uint8_t)s1, (uint8_t)s2, &a, &b);
				assert_int_equal(a & 0x83, s1 & 0x83);
				assert_int_equal(b & 0xBF, s2 & 0xBF);
				bk_prot_decode(a, b, 1, sizes[z], &p);
				assert_int_equal(p.len, 0);
			}
		}
	}
}

static void test_covers(void **state)
{
	(void)state;
	struct bk_prot up, none, all;

	bk_prot_decode(0x04, 0x00, 1, MIB(2), &up); /* 0x1F0000-0x1FFFFF */
	bk_prot_decode(0x00, 0x00, 1, MIB(2), &none);
	bk_prot_decode(0x1C, 0x00, 1, MIB(2), &all);

	assert_false(bk_prot_covers(&up, 0x1EFFFF, 1));
	assert_true(bk_prot_covers(&up, 0x1F0000, 1));
	assert_true(bk_prot_covers(&up, 0x1EFFFF, 2));
	assert_true(bk_prot_covers(&up, 0x1FFFFF, 1));
	assert_false(bk_prot_covers(&up, 0x000000, 0x1F0000));
	assert_true(bk_prot_covers(&up, 0x000000, 0x1F0001));
	assert_true(bk_prot_covers(&up, 0x000000, MIB(2)));
	assert_false(bk_prot_covers(&up, 0x1F0000, 0));
	assert_false(bk_prot_covers(&up, 0x200000, 0x1000)); /* past the chip */
	assert_false(bk_prot_covers(&up, 0xFFFFFFFFu, 0xFFFFFFFFu));
	assert_false(bk_prot_covers(&none, 0, MIB(2)));
	assert_true(bk_prot_covers(&all, 0, 1));
	assert_true(bk_prot_covers(&all, 0x1FFFFF, 0xFFFFFFFFu));
	assert_false(bk_prot_covers(NULL, 0, MIB(2)));

	struct bk_prot low;
	bk_prot_decode(0x64, 0x00, 1, MIB(2), &low); /* SEC TB BP=1: 0x0000-0x0FFF */
	assert_true(bk_prot_covers(&low, 0x0FFF, 1));
	assert_false(bk_prot_covers(&low, 0x1000, 0x10000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_w25q16),
		cmocka_unit_test(test_w25q32),
		cmocka_unit_test(test_large_and_small),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_cleared),
		cmocka_unit_test(test_covers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
