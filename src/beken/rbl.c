/* RBL headers (RT-Thread OTA): the layout is described in beken.h and was
 * read off the dumps, then matched against bk7231tools' RBL parser
 * (struct "<4sII16s24s24sIIIII", header CRC over all but the last word). */
#include "beken/internal.h"

#include <string.h>
#include <zlib.h>

static void copy_text(char *dst, const uint8_t *src, size_t n)
{
	size_t i = 0;
	for (; i < n && src[i]; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7F ? (char)src[i] : '?';
	dst[i] = '\0';
}

static int parse_header(const uint8_t *h, struct bk_beken_rbl *r)
{
	memset(r, 0, sizeof *r);
	if (memcmp(h, "RBL", 4) != 0)
		return 0;
	r->present = 1;
	r->algo = bk_beken_le32(h + 4);
	r->timestamp = bk_beken_le32(h + 8);
	copy_text(r->name, h + 12, 16);
	copy_text(r->version, h + 28, 24);
	copy_text(r->sn, h + 52, 24);
	r->body_crc = bk_beken_le32(h + 76);
	r->hash = bk_beken_le32(h + 80);
	r->size_raw = bk_beken_le32(h + 84);
	r->size_package = bk_beken_le32(h + 88);
	r->header_crc = bk_beken_le32(h + 92);
	r->header_ok = (uint32_t)crc32(0, h, 92) == r->header_crc;
	return 1;
}

/* The body CRC covers size_package bytes. With algo 0 (plain) the bytes past
 * size_raw are padding whose every byte is the padding length, whatever is
 * stored there (true of all five dumps; bk7231tools rebuilds it the same
 * way). Returns 0 when the sizes do not fit the cap bytes available. */
static int body_span(const struct bk_beken_rbl *r, uint32_t cap,
		     uint32_t *len, uint32_t *pad)
{
	if (r->size_package > cap)
		return 0;
	if (r->algo) {
		*len = r->size_package;
		*pad = 0;
		return 1;
	}
	if (r->size_raw > r->size_package || r->size_package - r->size_raw > 255)
		return 0;
	*len = r->size_raw;
	*pad = r->size_package - r->size_raw;
	return 1;
}

static uint32_t add_padding(uint32_t crc, uint32_t pad)
{
	uint8_t b[255];
	memset(b, (int)pad, pad);
	return (uint32_t)crc32(crc, b, pad);
}

int bk_beken_rbl_parse(const uint8_t *p, size_t n, struct bk_beken_rbl *rbl,
		       struct bk_err *err)
{
	if (!p || !rbl)
		return bk_fail(err, BK_EINVAL, "RBL: no buffer");
	memset(rbl, 0, sizeof *rbl);
	if (n < BK_BEKEN_RBL_SIZE)
		return bk_fail(err, BK_EINVAL,
			       "RBL header needs 96 bytes, got %zu", n);
	if (!parse_header(p, rbl))
		return bk_fail(err, BK_EINVAL, "no \"RBL\" header at offset 0");
	size_t rest = n - BK_BEKEN_RBL_SIZE;
	uint32_t cap = rest > UINT32_MAX ? UINT32_MAX : (uint32_t)rest;
	uint32_t len, pad;
	if (body_span(rbl, cap, &len, &pad)) {
		uint32_t crc = (uint32_t)crc32(0, p + BK_BEKEN_RBL_SIZE, len);
		rbl->body_ok = add_padding(crc, pad) == rbl->body_crc;
	}
	return BK_OK;
}

/* CRC-32 of len data bytes of the framed partition starting at start. */
static int framed_crc(const struct bk_beken_view *v, uint32_t start,
		      uint32_t len, uint32_t *crc)
{
	uint32_t c = (uint32_t)crc32(0, NULL, 0);
	for (uint32_t o = 0; o < len; o += BK_BEKEN_BLOCK_DATA) {
		uint32_t take = len - o < BK_BEKEN_BLOCK_DATA ? len - o
							   : BK_BEKEN_BLOCK_DATA;
		uint32_t addr = start + o / BK_BEKEN_BLOCK_DATA * BK_BEKEN_BLOCK;
		const uint8_t *d = bk_beken_view_at(v, addr, take);
		if (!d)
			return 0;
		c = (uint32_t)crc32(c, d, take);
	}
	*crc = c;
	return 1;
}

void bk_beken_rbl_in_flash(const struct bk_beken_view *v, uint32_t start,
			   uint32_t end, struct bk_beken_rbl *rbl)
{
	const uint32_t hdr_blocks = BK_BEKEN_RBL_SIZE / BK_BEKEN_BLOCK_DATA;
	memset(rbl, 0, sizeof *rbl);
	if (end < start || (end - start) % BK_BEKEN_BLOCK ||
	    (end - start) / BK_BEKEN_BLOCK < hdr_blocks)
		return;
	uint32_t hdr = end - hdr_blocks * BK_BEKEN_BLOCK;
	rbl->addr = hdr;
	uint8_t h[BK_BEKEN_RBL_SIZE];
	for (uint32_t i = 0; i < hdr_blocks; i++) {
		const uint8_t *d = bk_beken_view_at(v, hdr + i * BK_BEKEN_BLOCK,
						    BK_BEKEN_BLOCK_DATA);
		if (!d)
			return;
		memcpy(h + i * BK_BEKEN_BLOCK_DATA, d, BK_BEKEN_BLOCK_DATA);
	}
	int found = parse_header(h, rbl);
	rbl->addr = hdr; /* parse_header cleared it */
	if (!found)
		return;
	uint32_t cap = (hdr - start) / BK_BEKEN_BLOCK * BK_BEKEN_BLOCK_DATA;
	uint32_t len, pad, crc;
	if (body_span(rbl, cap, &len, &pad) && framed_crc(v, start, len, &crc))
		rbl->body_ok = add_padding(crc, pad) == rbl->body_crc;
}
