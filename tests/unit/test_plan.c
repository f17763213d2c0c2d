/* The planner, pure: which blocks it erases and which pages it programs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/plan.h"
#include "spi/chips.h"

#define ALL (BK_ERASE_4K | BK_ERASE_32K | BK_ERASE_64K)
#define SPAN (256u * 1024)

struct images {
	uint8_t old[SPAN], want[SPAN];
};

static struct images *fresh(uint8_t fill)
{
	struct images *im = malloc(sizeof *im);
	memset(im->old, fill, SPAN);
	memcpy(im->want, im->old, SPAN);
	return im;
}

/* Makes sector s need an erase (a 0 bit must become 1). */
static void dirty(struct images *im, unsigned s)
{
	im->old[s * 4096 + 7] = 0x00;
	im->want[s * 4096 + 7] = 0x5A;
}

static void identical_needs_nothing(void **state)
{
	(void)state;
	struct images *im = fresh(0x33);
	struct bk_plan p;
	assert_int_equal(bk_plan_build(im->old, im->want, 0, SPAN, ALL, &p, NULL), 0);
	assert_int_equal(p.n_erase, 0);
	assert_int_equal(p.n_program, 0);
	assert_int_equal(p.same, SPAN / 4096);
	bk_plan_free(&p);
	free(im);
}

static void aligned_64k_run_is_one_erase(void **state)
{
	(void)state;
	struct images *im = fresh(0x33);
	for (unsigned s = 16; s < 32; s++)
		dirty(im, s);
	struct bk_plan p;
	assert_int_equal(bk_plan_build(im->old, im->want, 0, SPAN, ALL, &p, NULL), 0);
	assert_int_equal(p.n_erase, 1);
	assert_int_equal(p.erase[0].addr, 0x10000);
	assert_int_equal(p.erase[0].len, 0x10000);
	assert_int_equal(p.erased, 16);
	/* after erase, every page holding non-0xFF data is programmed */
	assert_int_equal(p.pages, 16 * 16);
	bk_plan_free(&p);
	free(im);
}

/* Sectors 15..32: 4K at 15, 64K at 16, 4K at 32. */
static void unaligned_run_uses_largest_blocks(void **state)
{
	(void)state;
	struct images *im = fresh(0x33);
	for (unsigned s = 15; s <= 32; s++)
		dirty(im, s);
	struct bk_plan p;
	assert_int_equal(bk_plan_build(im->old, im->want, 0, SPAN, ALL, &p, NULL), 0);
	assert_int_equal(p.n_erase, 3);
	assert_int_equal(p.erase[0].addr, 15 * 4096);
	assert_int_equal(p.erase[0].len, 4096);
	assert_int_equal(p.erase[1].len, 65536);
	assert_int_equal(p.erase[2].addr, 32 * 4096);
	assert_int_equal(p.erase[2].len, 4096);
	bk_plan_free(&p);
	free(im);
}

static void without_64k_uses_32k(void **state)
{
	(void)state;
	struct images *im = fresh(0x33);
	for (unsigned s = 16; s < 32; s++)
		dirty(im, s);
	struct bk_plan p;
	assert_int_equal(bk_plan_build(im->old, im->want, 0, SPAN, BK_ERASE_4K | BK_ERASE_32K, &p, NULL), 0);
	assert_int_equal(p.n_erase, 2);
	assert_int_equal(p.erase[0].len, 32768);
	bk_plan_free(&p);
	free(im);
}

/* A 64K block with one unchanged sector is not erased whole. */
static void never_erases_what_is_right(void **state)
{
	(void)state;
	struct images *im = fresh(0x33);
	for (unsigned s = 16; s < 32; s++)
		if (s != 20)
			dirty(im, s);
	struct bk_plan p;
	assert_int_equal(bk_plan_build(im->old, im->want, 0, SPAN, ALL, &p, NULL), 0);
	assert_int_equal(p.erased, 15);
	for (size_t i = 0; i < p.n_erase; i++)
		assert_false(p.erase[i].addr <= 20 * 4096 && 20 * 4096 < p.erase[i].addr + p.erase[i].len);
	bk_plan_free(&p);
	free(im);
}

static void clearing_bits_programs_in_place(void **state)
{
	(void)state;
	struct images *im = fresh(0xFF);
	im->want[0x2100] = 0x12;
	im->want[0x2101] = 0x34;
	im->want[0x2300] = 0x00;
	struct bk_plan p;
	assert_int_equal(bk_plan_build(im->old, im->want, 0, SPAN, ALL, &p, NULL), 0);
	assert_int_equal(p.n_erase, 0);
	assert_int_equal(p.program_only, 1);
	assert_int_equal(p.pages, 2);
	assert_int_equal(p.n_program, 2); /* pages 0x2100 and 0x2300 are not adjacent */
	assert_int_equal(p.program[0].addr, 0x2100);
	assert_int_equal(p.program[0].len, 256);
	assert_int_equal(p.program[1].addr, 0x2300);
	bk_plan_free(&p);
	free(im);
}

static void adjacent_pages_form_one_run(void **state)
{
	(void)state;
	struct images *im = fresh(0xFF);
	memset(im->want + 0x3000, 0xA5, 0x400);
	struct bk_plan p;
	assert_int_equal(bk_plan_build(im->old, im->want, 0, SPAN, ALL, &p, NULL), 0);
	assert_int_equal(p.n_program, 1);
	assert_int_equal(p.program[0].addr, 0x3000);
	assert_int_equal(p.program[0].len, 0x400);
	bk_plan_free(&p);
	free(im);
}

/* After an erase, all-0xFF pages of the new data need no program. */
static void erased_sector_skips_blank_pages(void **state)
{
	(void)state;
	struct images *im = fresh(0x00);
	memset(im->want + 0x5000, 0xFF, 4096);
	im->want[0x5800] = 0x01;
	struct bk_plan p;
	assert_int_equal(bk_plan_build(im->old, im->want, 0, SPAN, ALL, &p, NULL), 0);
	assert_int_equal(p.erased, 1);
	assert_int_equal(p.pages, 1);
	assert_int_equal(p.program[0].addr, 0x5800);
	bk_plan_free(&p);
	free(im);
}

static void erase_plan_skips_blank_sectors(void **state)
{
	(void)state;
	struct images *im = fresh(0xFF);
	im->old[0x9000] = 0;
	struct bk_plan p;
	assert_int_equal(bk_plan_build(im->old, NULL, 0, SPAN, ALL, &p, NULL), 0);
	assert_int_equal(p.n_erase, 1);
	assert_int_equal(p.erase[0].addr, 0x9000);
	assert_int_equal(p.n_program, 0);
	bk_plan_free(&p);
	free(im);
}

static void unknown_old_erases_everything(void **state)
{
	(void)state;
	struct bk_plan p;
	assert_int_equal(bk_plan_build(NULL, NULL, 0x10000, 0x30000, ALL, &p, NULL), 0);
	assert_int_equal(p.n_erase, 3);
	assert_int_equal(p.erased, 48);
	bk_plan_free(&p);
}

static void base_offset_aligns_blocks_to_flash(void **state)
{
	(void)state;
	/* Span starts at 0x8000: the first 64K-aligned block is at 0x10000. */
	struct bk_plan p;
	assert_int_equal(bk_plan_build(NULL, NULL, 0x8000, 0x18000, ALL, &p, NULL), 0);
	assert_int_equal(p.n_erase, 2);
	assert_int_equal(p.erase[0].addr, 0x8000);
	assert_int_equal(p.erase[0].len, 0x8000);
	assert_int_equal(p.erase[1].addr, 0x10000);
	assert_int_equal(p.erase[1].len, 0x10000);
	bk_plan_free(&p);
}

static void rejects_unaligned_span(void **state)
{
	(void)state;
	struct bk_plan p;
	struct bk_err err = { 0 };
	assert_int_equal(bk_plan_build(NULL, NULL, 0x100, 0x1000, ALL, &p, &err), BK_EINVAL);
	assert_int_equal(bk_plan_build(NULL, NULL, 0, 0x1000, BK_ERASE_64K, &p, &err), BK_EINVAL);
}

static void span_rounds_out_to_sectors(void **state)
{
	(void)state;
	uint32_t base, span;
	bk_plan_span(0x1234, 5000, &base, &span);
	assert_int_equal(base, 0x1000);
	assert_int_equal(span, 0x2000);
	bk_plan_span(0x1000, 0x1000, &base, &span);
	assert_int_equal(base, 0x1000);
	assert_int_equal(span, 0x1000);
	bk_plan_span(0xFFF000, 0x1000, &base, &span);
	assert_int_equal(base + span, 0x1000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(identical_needs_nothing),
		cmocka_unit_test(aligned_64k_run_is_one_erase),
		cmocka_unit_test(unaligned_run_uses_largest_blocks),
		cmocka_unit_test(without_64k_uses_32k),
		cmocka_unit_test(never_erases_what_is_right),
		cmocka_unit_test(clearing_bits_programs_in_place),
		cmocka_unit_test(adjacent_pages_form_one_run),
		cmocka_unit_test(erased_sector_skips_blank_pages),
		cmocka_unit_test(erase_plan_skips_blank_sectors),
		cmocka_unit_test(unknown_old_erases_everything),
		cmocka_unit_test(base_offset_aligns_blocks_to_flash),
		cmocka_unit_test(rejects_unaligned_span),
		cmocka_unit_test(span_rounds_out_to_sectors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
