#include "base/limits.h"
#include "core/confirm.h"

#include <stdlib.h>
#include <string.h>

#include "beken/beken.h"
#include "core/ops.h"

#define SECTOR BK_SECTOR

struct region {
	uint32_t start, end;
};

/* The CRC-framed regions buf actually holds, in flash addresses. */
static size_t framed_regions(const uint8_t *buf, uint32_t at, uint32_t len, struct region out[2])
{
	struct bk_beken_info in;
	size_t n = 0;
	if (at != 0 || bk_beken_analyse(buf, len, &in, NULL) || in.rotation)
		return 0;
	if (in.boot_blocks.valid && len >= BK_BEKEN_BOOT_END)
		out[n++] = (struct region){ 0, BK_BEKEN_BOOT_END };
	if (in.app_blocks.valid && in.app_end <= len)
		out[n++] = (struct region){ BK_BEKEN_APP_START, in.app_end };
	return n;
}

/* Valid, or erased: all 0xFF fails the CRC but is what erased flash holds. */
static int block_ok(const uint8_t *b)
{
	uint16_t crc = (uint16_t)(b[32] << 8 | b[33]);
	if (bk_beken_crc16(b, BK_BEKEN_BLOCK_DATA) == crc)
		return 1;
	for (size_t i = 0; i < BK_BEKEN_BLOCK; i++)
		if (b[i] != 0xFF)
			return 0;
	return 1;
}

/* True when every block touching the sector lies in a region and checks. */
static int vouched(const uint8_t *buf, uint32_t at, uint32_t s, const struct region *rg, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s < rg[i].start || s + SECTOR > rg[i].end)
			continue;
		uint32_t first = (s - rg[i].start) / BK_BEKEN_BLOCK;
		uint32_t last = (s + SECTOR - 1 - rg[i].start) / BK_BEKEN_BLOCK;
		if (rg[i].start + (last + 1) * BK_BEKEN_BLOCK > rg[i].end)
			return 0;
		for (uint32_t k = first; k <= last; k++)
			if (!block_ok(buf + rg[i].start - at + k * BK_BEKEN_BLOCK))
				return 0;
		return 1;
	}
	return 0;
}

#define PAGE BK_PAGE

/* Settles one page: reads it until two of its reads agree, which on a
 * marginal wire happens far sooner for a page than for a whole sector. */
static int settle_page(const struct bk_job *job, uint8_t *page, const uint8_t *second, uint32_t addr,
		       uint32_t len, int *fixed)
{
	uint8_t seen[BK_CONFIRM_READS][PAGE];
	memcpy(seen[0], page, len);
	memcpy(seen[1], second, len);
	for (int n = 2;; n++) {
		for (int i = 0; i < n - 1; i++) {
			if (memcmp(seen[i], seen[n - 1], len))
				continue;
			*fixed |= memcmp(page, seen[i], len) != 0;
			memcpy(page, seen[i], len);
			return 0;
		}
		if (n == BK_CONFIRM_READS)
			return bk_fail(job->err, BK_EUNSTABLE,
				       "%d reads of 0x%06X-0x%06X never agreed: the wire is marginal (shorten the wires, check GND and the 3.3 V supply)",
				       BK_CONFIRM_READS, addr, addr + len - 1);
		int r = bk_flash_read(job->flash, addr, seen[n], len);
		if (r)
			return r;
	}
}

int bk_settle(const struct bk_job *job, uint8_t *buf, uint32_t addr, uint32_t len, uint8_t *again, int *fixed)
{
	int r = bk_flash_read(job->flash, addr, again, len);
	for (uint32_t p = 0; p < len && !r; p += PAGE) {
		uint32_t n = len - p < PAGE ? len - p : PAGE;
		if (memcmp(buf + p, again + p, n))
			r = settle_page(job, buf + p, again + p, addr + p, n, fixed);
	}
	return r;
}

int bk_confirm_sectors(const struct bk_job *job, uint8_t *buf, uint32_t at, uint32_t len,
		       const uint8_t *which, struct bk_confirm *rep)
{
	struct region rg[2];
	size_t n = framed_regions(buf, at, len, rg);
	uint8_t *a = malloc(SECTOR);
	if (!a)
		return bk_fail(job->err, BK_ENOMEM, "out of memory");
	int r = 0;
	for (uint32_t i = 0; i < len / SECTOR && !r; i++) {
		if (which && !which[i])
			continue;
		uint32_t addr = at + i * SECTOR;
		rep->sectors++;
		if (vouched(buf, at, addr, rg, n)) {
			rep->by_crc++;
			continue;
		}
		if (job->hooks && job->hooks->cancelled && job->hooks->cancelled(job->hooks->user))
			r = bk_fail(job->err, BK_EINTR, "interrupted while confirming the backup at 0x%06X", addr);
		else
		{
			int fixed = 0;
			r = bk_settle(job, buf + (size_t)i * SECTOR, addr, SECTOR, a, &fixed);
			rep->corrected += fixed;
		}
		rep->by_reread += !r;
	}
	free(a);
	return r;
}
