/* Rotation: finding the bootloader, and reading flash addresses through it. */
#include "beken/internal.h"

#include <stdint.h>
#include <string.h>

/* Enough for the fingerprint and for bk_beken_starts_framed. */
#define BOOT_PROBE_LEN 257u
/* BK7231N bootloaders carry "BK7231" in plain text here (a block start). */
#define N_MARKER_ADDR 0x110u

const uint8_t *bk_beken_view_at(const struct bk_beken_view *v, uint32_t addr,
				size_t len)
{
	if (v->rot && addr < v->rot) {
		if (len > v->rot - addr)
			return NULL;
		return v->p + (v->n - v->rot) + addr;
	}
	if (addr > v->n || len > v->n - addr)
		return NULL;
	return v->p + (addr - v->rot);
}

int bk_beken_view_boot_score(const struct bk_beken_view *v)
{
	const uint8_t *p = bk_beken_view_at(v, 0, BOOT_PROBE_LEN);
	if (!p)
		return 0;
	if (bk_beken_fingerprint(p, BOOT_PROBE_LEN))
		return 2;
	/* The app is CRC-framed too: valid blocks alone do not make a
	 * bootloader when they start like the app. */
	return !bk_beken_is_app_start(p) &&
	       bk_beken_starts_framed(p, BOOT_PROBE_LEN);
}

enum bk_beken_family
bk_beken_view_boot_family(const struct bk_beken_view *v,
			  const struct bk_beken_fingerprint **fp,
			  const char **evidence)
{
	const uint8_t *p = bk_beken_view_at(v, 0, BOOT_PROBE_LEN);
	*fp = p ? bk_beken_fingerprint(p, BOOT_PROBE_LEN) : NULL;
	if (*fp) {
		*evidence = "bootloader fingerprint";
		return (*fp)->family;
	}
	p = bk_beken_view_at(v, N_MARKER_ADDR, BK_BEKEN_BLOCK);
	if (p && memcmp(p, "BK7231", 6) == 0 &&
	    bk_beken_block_state(p) == BK_BEKEN_VALID &&
	    bk_beken_view_boot_score(v) > 0) {
		*evidence = "\"BK7231\" at 0x110 in the bootloader (BK7231N)";
		return BK_BEKEN_BK7231N;
	}
	*evidence = "no bootloader fingerprint";
	return BK_BEKEN_FAMILY_UNKNOWN;
}

uint32_t bk_beken_detect_rotation(const uint8_t *img, size_t size)
{
	if (!img || !bk_beken_chip_sized(size))
		return 0;
	struct bk_beken_view plain = { img, size, 0 };
	struct bk_beken_view rotated = { img, size, BK_BEKEN_ROTATION };
	/* Ties stay unrotated: only clearer bootloader evidence at the end of
	 * the file than at its start means the dump was rotated. */
	if (bk_beken_view_boot_score(&rotated) > bk_beken_view_boot_score(&plain))
		return BK_BEKEN_ROTATION;
	return 0;
}

int bk_beken_unrotate(const uint8_t *img, size_t size, uint32_t rotation,
		      uint8_t *out, size_t out_size, struct bk_err *err)
{
	if (!img || !out)
		return bk_fail(err, BK_EINVAL, "unrotate: no buffer");
	if (rotation && rotation >= size)
		return bk_fail(err, BK_EINVAL,
			       "rotation 0x%X does not fit a %zu-byte image",
			       rotation, size);
	if (out_size < size)
		return bk_fail(err, BK_EINVAL,
			       "unrotate: output holds %zu of %zu bytes",
			       out_size, size);
	uintptr_t a = (uintptr_t)img, b = (uintptr_t)out;
	if (size && a < b + size && b < a + size)
		return bk_fail(err, BK_EINVAL, "unrotate: buffers overlap");
	memcpy(out, img + (size - rotation), rotation);
	memcpy(out + rotation, img, size - rotation);
	return BK_OK;
}

/* Block counts read through a view, so a rotated dump is checked in flash
 * order. */
void bk_beken_view_blocks(const struct bk_beken_view *v, uint32_t start,
			  uint32_t end, struct bk_beken_blocks *st)
{
	memset(st, 0, sizeof *st);
	st->first_corrupt = BK_BEKEN_NONE;
	for (uint32_t a = start; a <= end && end - a >= BK_BEKEN_BLOCK;
	     a += BK_BEKEN_BLOCK) {
		const uint8_t *blk = bk_beken_view_at(v, a, BK_BEKEN_BLOCK);
		if (!blk)
			return;
		switch (bk_beken_block_state(blk)) {
		case BK_BEKEN_VALID:
			st->valid++;
			break;
		case BK_BEKEN_ERASED:
			st->erased++;
			break;
		case BK_BEKEN_CORRUPT:
			if (!st->corrupt++)
				st->first_corrupt = a;
			break;
		}
	}
}

int bk_beken_check_blocks(const uint8_t *img, size_t size, uint32_t start,
			  uint32_t end, struct bk_beken_blocks *st,
			  struct bk_err *err)
{
	if (!img || !st)
		return bk_fail(err, BK_EINVAL, "check blocks: no buffer");
	if (start > end || end > size)
		return bk_fail(err, BK_EINVAL,
			       "block range 0x%X-0x%X outside the %zu-byte image",
			       start, end, size);
	if ((end - start) % BK_BEKEN_BLOCK)
		return bk_fail(err, BK_EINVAL,
			       "block range 0x%X-0x%X is not whole 34-byte blocks",
			       start, end);
	struct bk_beken_view v = { img, size, 0 };
	bk_beken_view_blocks(&v, start, end, st);
	return BK_OK;
}
