#include "base/limits.h"
#include "spi/sfdp.h"

#include <inttypes.h>
#include <string.h>

#include "spi/chips.h"

#define SFDP_SIGNATURE 0x50444653u /* "SFDP" read as a little-endian DWORD */
#define HDR_LEN 8u                 /* the SFDP header, and each parameter header */
#define BFPT_MIN_DWORDS 9u         /* JESD216 rev 0; later revisions only add */
#define SFDP_SPACE (1u << 24)      /* 5A takes a 24-bit address */
#define MIN_SIZE (64u << 10)
#define MAX_SIZE BK_MAX_FLASH

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* DWORDs are numbered from 1 in JESD216; keeping that makes the code
 * checkable against the standard's tables. */
static uint32_t dword(const uint8_t *t, unsigned n)
{
	return le32(t + 4u * (n - 1u));
}

static int is_bfpt(const uint8_t *ph)
{
	return ph[0] == 0x00 && ph[7] == 0xFF;
}

int bk_sfdp_find_bfpt(const uint8_t *hdr, size_t len, uint32_t *bfpt_addr,
		      uint32_t *bfpt_len, struct bk_err *err)
{
	if (!hdr || !bfpt_addr || !bfpt_len)
		return bk_fail(err, BK_EINVAL, "SFDP: missing argument");
	if (len < 2 * HDR_LEN)
		return bk_fail(err, BK_EINVAL, "SFDP header: %zu bytes, need at least %u",
			       len, 2 * HDR_LEN);
	if (le32(hdr) != SFDP_SIGNATURE)
		return bk_fail(err, BK_EINVAL,
			       "SFDP header: signature %02X %02X %02X %02X is not \"SFDP\"",
			       (unsigned)hdr[0], (unsigned)hdr[1], (unsigned)hdr[2],
			       (unsigned)hdr[3]);
	if (hdr[5] != 1)
		return bk_fail(err, BK_EINVAL, "SFDP header: major revision %u, only 1 exists",
			       (unsigned)hdr[5]);

	unsigned nph = hdr[6] + 1u;
	size_t fit = (len - HDR_LEN) / HDR_LEN;
	if (fit > nph)
		fit = nph;

	/* JESD216 makes the first parameter header the BFPT's. */
	const uint8_t *best = hdr + HDR_LEN;
	if (!is_bfpt(best))
		return bk_fail(err, BK_EINVAL,
			       "SFDP: first parameter header has ID %02X%02X, not the BFPT (FF00)",
			       (unsigned)best[7], (unsigned)best[0]);
	if (best[2] != 1)
		return bk_fail(err, BK_EINVAL, "SFDP: BFPT major revision %u, only 1 exists",
			       (unsigned)best[2]);
	/* A part may list a newer BFPT revision after the mandatory one. */
	for (size_t i = 1; i < fit; i++) {
		const uint8_t *ph = hdr + HDR_LEN * (i + 1);
		if (is_bfpt(ph) && ph[2] == 1 && ph[1] > best[1] && ph[3] >= BFPT_MIN_DWORDS)
			best = ph;
	}
	if (best[3] < BFPT_MIN_DWORDS)
		return bk_fail(err, BK_EINVAL, "SFDP: BFPT is %u DWORDs, too short (need %u)",
			       (unsigned)best[3], BFPT_MIN_DWORDS);

	uint32_t addr = (uint32_t)best[4] | (uint32_t)best[5] << 8 | (uint32_t)best[6] << 16;
	uint32_t bytes = 4u * best[3];
	if (addr < HDR_LEN * (nph + 1u))
		return bk_fail(err, BK_EINVAL,
			       "SFDP: BFPT pointer 0x%06" PRIX32 " points into the headers", addr);
	if (addr + bytes > SFDP_SPACE)
		return bk_fail(err, BK_EINVAL,
			       "SFDP: BFPT at 0x%06" PRIX32 " runs past the 24-bit SFDP space", addr);
	*bfpt_addr = addr;
	*bfpt_len = bytes;
	return 0;
}

static const struct {
	uint8_t log2;
	uint8_t mask;
	uint8_t slot;
} erase_kinds[] = {
	{ 12, BK_ERASE_4K, 0 },
	{ 15, BK_ERASE_32K, 1 },
	{ 16, BK_ERASE_64K, 2 },
};

/* Sizes other than 4/32/64 KiB (8 KiB, 256 KiB, ...) are real but not ones
 * the programmer issues, so they are dropped rather than rejected. */
static void add_erase(struct bk_sfdp *s, unsigned log2, unsigned op)
{
	if (op == 0x00 || op == 0xFF)
		return;
	for (size_t i = 0; i < sizeof erase_kinds / sizeof erase_kinds[0]; i++) {
		if (erase_kinds[i].log2 != log2 || (s->erase & erase_kinds[i].mask))
			continue;
		s->erase |= erase_kinds[i].mask;
		s->erase_op[erase_kinds[i].slot] = (uint8_t)op;
	}
}

static int parse_density(uint32_t d2, uint32_t *size, struct bk_err *err)
{
	uint64_t bits;

	if (d2 & 0x80000000u) {
		uint32_t n = d2 & 0x7FFFFFFFu;
		if (n > 63)
			return bk_fail(err, BK_EINVAL,
				       "BFPT: density 2^%" PRIu32 " bits is above 16 MiB; "
				       "only 24-bit addressing is supported", n);
		bits = (uint64_t)1 << n;
	} else {
		bits = (uint64_t)d2 + 1;
	}
	if (bits > (uint64_t)MAX_SIZE * 8)
		return bk_fail(err, BK_EINVAL,
			       "BFPT: density %" PRIu64 " Mbit is above 16 MiB; "
			       "only 24-bit addressing is supported", bits >> 20);
	/* Every erase unit is at least 4 KiB, so a real size is whole sectors. */
	if (bits % (8u * 4096u) || bits / 8 < MIN_SIZE)
		return bk_fail(err, BK_EINVAL,
			       "BFPT: density %" PRIu64 " bits is not a plausible flash size", bits);
	*size = (uint32_t)(bits / 8);
	return 0;
}

int bk_sfdp_parse_bfpt(const uint8_t *bfpt, size_t len, struct bk_sfdp *out,
		       struct bk_err *err)
{
	if (!bfpt || !out)
		return bk_fail(err, BK_EINVAL, "BFPT: missing argument");
	size_t ndw = len / 4;
	if (ndw < BFPT_MIN_DWORDS)
		return bk_fail(err, BK_EINVAL, "BFPT: %zu bytes, too short (need %u)",
			       len, 4 * BFPT_MIN_DWORDS);

	uint32_t d1 = dword(bfpt, 1);
	if (((d1 >> 17) & 3u) == 2u)
		return bk_fail(err, BK_EINVAL, "BFPT: flash takes 4-byte addresses only; "
			       "only 24-bit addressing is supported");

	struct bk_sfdp s = { .page_size = 256 };
	int r = parse_density(dword(bfpt, 2), &s.size, err);
	if (r)
		return r;

	/* Erase types 1-4: DWORD 8 holds 1 and 2, DWORD 9 holds 3 and 4, each
	 * as a size exponent byte then an opcode byte. They take precedence
	 * over DWORD 1, which only knows about 4 KiB. */
	for (unsigned t = 0; t < 4; t++) {
		uint32_t d = dword(bfpt, 8 + t / 2);
		unsigned shift = 16u * (t % 2);
		add_erase(&s, (d >> shift) & 0xFFu, (d >> (shift + 8)) & 0xFFu);
	}
	if ((d1 & 3u) == 1u)
		add_erase(&s, 12, (d1 >> 8) & 0xFFu);
	if (!s.erase)
		return bk_fail(err, BK_EINVAL, "BFPT: no 4, 32 or 64 KiB erase type");

	/* Some parts claim a 16-DWORD table and leave DWORD 11 unprogrammed
	 * (all ones, "32 KiB pages"); outside 16 .. 4096 bytes keep 256. */
	if (ndw >= 11) {
		unsigned n = (dword(bfpt, 11) >> 4) & 0xFu;
		if (n >= 4 && n <= 12)
			s.page_size = 1u << n;
	}
	*out = s;
	return 0;
}
