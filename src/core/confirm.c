#include "base/limits.h"
#include "core/confirm.h"

#include <stdlib.h>
#include <string.h>

#include "beken/beken.h"
#include "core/ops.h"

#define SECTOR BK_SECTOR

/* The RBL header: the last 96 bytes (three blocks) of a framed region. */
#define RBL_BLOCKS 3u

/* A CRC-framed region as buf holds it. Blocks lie every 34 bytes from
 * origin; only blocks wholly inside [start, end) are looked at. All-0xFF
 * blocks count as erased only inside [ff_lo, ff_hi): the erased run
 * between the region's last data and its end (or its RBL header), where
 * erased is what the flash holds. Anywhere else 0xFF blocks are more
 * likely a MISO-high glitch over whole blocks. */
struct region {
	uint32_t origin, start, end;
	uint32_t ff_lo, ff_hi;
};

enum block_state { VALID, ERASED, CORRUPT };

static enum block_state state_at(const uint8_t *buf, uint32_t at, uint32_t a)
{
	const uint8_t *b = buf + (a - at);
	uint16_t crc = (uint16_t)(b[32] << 8 | b[33]);
	if (bk_beken_crc16(b, BK_BEKEN_BLOCK_DATA) == crc)
		return VALID;
	for (size_t i = 0; i < BK_BEKEN_BLOCK; i++)
		if (b[i] != 0xFF)
			return CORRUPT;
	return ERASED;
}

/* End of the last block in [lo, hi) (block addresses) that is not
 * erased, or lo when there is none; *valid counts valid blocks seen. */
static uint32_t last_data(const uint8_t *buf, uint32_t at, uint32_t lo, uint32_t hi, uint32_t *valid)
{
	uint32_t last = lo;
	for (uint32_t a = lo; a < hi; a += BK_BEKEN_BLOCK) {
		enum block_state st = state_at(buf, at, a);
		*valid += st == VALID;
		if (st != ERASED)
			last = a + BK_BEKEN_BLOCK;
	}
	return last;
}

/* The part of the framed region [origin, rend) that buf (the flash from
 * at, len bytes) holds; 0 when it holds none or no valid block of it. */
static size_t clip(const uint8_t *buf, uint32_t at, uint32_t len, uint32_t origin, uint32_t rend, struct region *out)
{
	uint32_t lo = at > origin ? at : origin, hi = at + len < rend ? at + len : rend;
	if (lo >= hi)
		return 0;
	/* Whole blocks only: the first at or after lo, those ending by hi. */
	uint32_t first = origin + (lo - origin + BK_BEKEN_BLOCK - 1) / BK_BEKEN_BLOCK * BK_BEKEN_BLOCK;
	uint32_t stop = origin + (hi - origin) / BK_BEKEN_BLOCK * BK_BEKEN_BLOCK;
	if (first >= stop)
		return 0;
	*out = (struct region){ origin, first, stop, stop, stop };
	uint32_t valid = 0;
	if (hi < rend || (rend - origin) % BK_BEKEN_BLOCK) {
		/* The region goes on past buf: where its erased run starts is not
		 * known, so no 0xFF block is vouched for. */
		last_data(buf, at, first, stop, &valid);
		return valid > 0;
	}
	uint32_t rbl = stop - first >= RBL_BLOCKS * BK_BEKEN_BLOCK ? stop - RBL_BLOCKS * BK_BEKEN_BLOCK : first;
	int rbl_data = last_data(buf, at, rbl, stop, &valid) > rbl;
	if (rbl_data) {
		out->ff_hi = rbl;
		out->ff_lo = last_data(buf, at, first, rbl, &valid);
	} else {
		out->ff_lo = last_data(buf, at, first, stop, &valid);
	}
	return valid > 0;
}

/* The CRC-framed regions buf (the flash from at, len bytes) holds, in
 * flash addresses: the bootloader and the application of the Beken
 * layout, whatever part of them the range covers. */
static size_t framed_regions(const uint8_t *buf, uint32_t at, uint32_t len, struct region out[2])
{
	uint32_t app_end = BK_BEKEN_APP_END_2M;
	if (at == 0) {
		/* From 0 the image says where its application ends (layouts differ). */
		struct bk_beken_info in;
		if (bk_beken_analyse(buf, len, &in, NULL) || in.rotation)
			return 0;
		app_end = in.app_end;
	}
	size_t n = clip(buf, at, len, 0, BK_BEKEN_BOOT_END, &out[0]);
	n += clip(buf, at, len, BK_BEKEN_APP_START, app_end, &out[n]);
	return n;
}

/* True when every block touching the sector lies in a region and checks,
 * or is erased where the region is erased. */
static int vouched(const uint8_t *buf, uint32_t at, uint32_t s, const struct region *rg, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct region *g = &rg[i];
		if (s + SECTOR <= g->origin || s >= g->end)
			continue;
		uint32_t first = g->origin + (s > g->origin ? (s - g->origin) / BK_BEKEN_BLOCK * BK_BEKEN_BLOCK : 0);
		uint32_t last = g->origin + (s + SECTOR - 1 - g->origin) / BK_BEKEN_BLOCK * BK_BEKEN_BLOCK;
		if (s < g->origin || first < g->start || last + BK_BEKEN_BLOCK > g->end)
			return 0;
		for (uint32_t a = first; a <= last; a += BK_BEKEN_BLOCK) {
			enum block_state st = state_at(buf, at, a);
			if (st == CORRUPT || (st == ERASED && (a < g->ff_lo || a >= g->ff_hi)))
				return 0;
		}
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
