#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "spi/chips.h"
#include "emu/emu.h"
#include "spi/sfdp.h"

#define KIB(n) ((uint32_t)(n) * 1024u)
#define MIB(n) ((uint32_t)(n) * 1024u * 1024u)
#define E_ALL (BK_ERASE_4K | BK_ERASE_32K | BK_ERASE_64K)

/* Real SFDP contents, as DWORDs (little-endian on the wire), read from
 * parts by Project Cerberus' test suite. */
static const uint32_t w25q16jv_hdr[] = { 0x50444653, 0xff000105, 0x10010500, 0xff000080 };
static const uint32_t w25q16jv_bfpt[] = {
	0xfff920e5, 0x00ffffff, 0x6b08eb44, 0xbb423b08, 0xfffffffe, 0x0000ffff,
	0xeb40ffff, 0x520f200c, 0x0000d810, 0x00a60236, 0xb314ea82, 0x337663e9,
	0x757a757a, 0x5cd5a2f7, 0xff4df719, 0x80f830e9,
};
/* JESD216 rev 0: a 9-DWORD BFPT and a Macronix vendor table after it. */
static const uint32_t mx25l1606e_hdr[] = {
	0x50444653, 0xff010100, 0x09010000, 0xff000030, 0x040100c2, 0xff000060,
};
static const uint32_t mx25l1606e_bfpt[] = {
	0xff8120e5, 0x00ffffff, 0xff00ff00, 0xff003b08, 0xffffffee,
	0xff00ffff, 0xff00ffff, 0xd810200c, 0xff00ff00,
};
/* SST26VF064B: odd erase types (8 KiB, and D8 for 32K and 64K). */
static const uint32_t sst26vf064b_hdr[] = {
	0x50444653, 0xff020106, 0x10010600, 0xff000030,
	0x06010081, 0xff000100, 0x180100bf, 0x01000200,
};
static const uint32_t sst26vf064b_bfpt[] = {
	0xfff120fd, 0x03ffffff, 0x6b08eb44, 0xbb803b08, 0xfffffffe, 0xff00ffff,
	0x0b44ffff, 0xd80d200c, 0xd810d80f, 0x24489120, 0x811d6f80, 0x38770fed,
	0xb030b030, 0xfffffff7, 0xff5cc229, 0x80c030f0,
};
/* MX25L25645G: 32 MiB. */
static const uint32_t mx25l25645g_bfpt[] = {
	0xfffb20e5, 0x0fffffff, 0x6b08eb44, 0xbb043b08, 0xfffffffe, 0xff00ffff,
	0xeb44ffff, 0x520f200c, 0xff00d810, 0x00dd59d6, 0xdb039f82, 0x38670344,
	0xb030b030, 0x5cd5bdf7, 0xff299e4a, 0x85f950f0,
};

static size_t to_bytes(const uint32_t *d, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		out[4 * i + 0] = (uint8_t)d[i];
		out[4 * i + 1] = (uint8_t)(d[i] >> 8);
		out[4 * i + 2] = (uint8_t)(d[i] >> 16);
		out[4 * i + 3] = (uint8_t)(d[i] >> 24);
	}
	return 4 * n;
}

#define BYTES(arr, buf) to_bytes((arr), sizeof(arr) / sizeof(arr)[0], (buf))

static void set_dword(uint8_t *t, unsigned n, uint32_t v)
{
	uint32_t d[1] = { v };
	to_bytes(d, 1, t + 4 * (n - 1));
}

static int find(const uint8_t *h, size_t len, uint32_t *addr, uint32_t *blen, struct bk_err *e)
{
	bk_err_clear(e);
	return bk_sfdp_find_bfpt(h, len, addr, blen, e);
}

static int parse(const uint8_t *t, size_t len, struct bk_sfdp *s, struct bk_err *e)
{
	bk_err_clear(e);
	memset(s, 0xAA, sizeof *s);
	return bk_sfdp_parse_bfpt(t, len, s, e);
}

static void test_w25q16jv(void **state)
{
	(void)state;
	uint8_t h[64], t[64];
	size_t hl = BYTES(w25q16jv_hdr, h), tl = BYTES(w25q16jv_bfpt, t);
	struct bk_err e;
	uint32_t addr = 0, blen = 0;
	struct bk_sfdp s;

	assert_int_equal(find(h, hl, &addr, &blen, &e), 0);
	assert_int_equal(addr, 0x80);
	assert_int_equal(blen, 64);
	assert_int_equal(parse(t, tl, &s, &e), 0);
	assert_int_equal(s.size, MIB(2));
	assert_int_equal(s.page_size, 256);
	assert_int_equal(s.erase, E_ALL);
	assert_int_equal(s.erase_op[0], 0x20);
	assert_int_equal(s.erase_op[1], 0x52);
	assert_int_equal(s.erase_op[2], 0xD8);
}

static void test_mx25l1606e_rev0(void **state)
{
	(void)state;
	uint8_t h[64], t[64];
	size_t hl = BYTES(mx25l1606e_hdr, h), tl = BYTES(mx25l1606e_bfpt, t);
	struct bk_err e;
	uint32_t addr = 0, blen = 0;
	struct bk_sfdp s;

	assert_int_equal(find(h, hl, &addr, &blen, &e), 0);
	assert_int_equal(addr, 0x30);
	assert_int_equal(blen, 36);
	assert_int_equal(parse(t, tl, &s, &e), 0);
	assert_int_equal(s.size, MIB(2));
	assert_int_equal(s.page_size, 256); /* no DWORD 11 in rev 0 */
	assert_int_equal(s.erase, BK_ERASE_4K | BK_ERASE_64K);
	assert_int_equal(s.erase_op[0], 0x20);
	assert_int_equal(s.erase_op[1], 0);
	assert_int_equal(s.erase_op[2], 0xD8);
}

static void test_sst26_erase_types(void **state)
{
	(void)state;
	uint8_t h[64], t[64];
	size_t hl = BYTES(sst26vf064b_hdr, h), tl = BYTES(sst26vf064b_bfpt, t);
	struct bk_err e;
	uint32_t addr = 0, blen = 0;
	struct bk_sfdp s;

	assert_int_equal(find(h, hl, &addr, &blen, &e), 0);
	assert_int_equal(addr, 0x30);
	assert_int_equal(blen, 64);
	assert_int_equal(parse(t, tl, &s, &e), 0);
	assert_int_equal(s.size, MIB(8));
	assert_int_equal(s.erase, E_ALL); /* the 8 KiB type is dropped */
	assert_int_equal(s.erase_op[0], 0x20);
	assert_int_equal(s.erase_op[1], 0xD8);
	assert_int_equal(s.erase_op[2], 0xD8);
	assert_int_equal(s.page_size, 256);
}

static void test_rejects_over_16mib(void **state)
{
	(void)state;
	uint8_t t[64];
	size_t tl = BYTES(mx25l25645g_bfpt, t);
	struct bk_err e;
	struct bk_sfdp s;

	assert_int_equal(parse(t, tl, &s, &e), BK_EINVAL);
	assert_int_equal(e.code, BK_EINVAL);
	assert_non_null(strstr(e.msg, "24-bit"));
	assert_non_null(strstr(e.msg, "256 Mbit"));
}

/* Densities in both encodings, on the W25Q16JV table. */
static void test_density_encodings(void **state)
{
	(void)state;
	static const struct {
		uint32_t d2;
		uint32_t size; /* 0 = must be rejected */
	} cases[] = {
		{ 0x00ffffff, MIB(2) },     /* 16 Mbit - 1 */
		{ 0x0007ffff, KIB(64) },    /* smallest accepted */
		{ 0x07ffffff, MIB(16) },    /* largest accepted */
		{ 0x08000000, 0 },          /* one bit more than 16 MiB */
		{ 0x0fffffff, 0 },          /* 32 MiB */
		{ 0x7fffffff, 0 },
		{ 0x80000000 | 24, MIB(2) }, /* 2^24 bits */
		{ 0x80000000 | 19, KIB(64) },
		{ 0x80000000 | 27, MIB(16) },
		{ 0x80000000 | 28, 0 },
		{ 0x80000000 | 63, 0 },
		{ 0x80000000 | 64, 0 },      /* would be an undefined shift */
		{ 0xffffffff, 0 },
		{ 0x00000000, 0 },           /* 1 bit */
		{ 0x80000000, 0 },           /* 2^0 bits */
		{ 0x000007ff, 0 },           /* 256 bytes */
		{ 0x0003ffff, 0 },           /* 32 KiB */
		{ 0x00fffffe, 0 },           /* not whole bytes */
		{ 0x00fffff7, 0 },           /* whole bytes, not whole sectors */
	};
	uint8_t t[64];
	size_t tl = BYTES(w25q16jv_bfpt, t);
	struct bk_err e;
	struct bk_sfdp s;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		set_dword(t, 2, cases[i].d2);
		int r = parse(t, tl, &s, &e);
		if (cases[i].size) {
			assert_int_equal(r, 0);
			assert_int_equal(s.size, cases[i].size);
		} else {
			assert_int_equal(r, BK_EINVAL);
			assert_true(e.msg[0] != '\0');
		}
	}
	set_dword(t, 2, 0x0fffffff);
	parse(t, tl, &s, &e);
	assert_non_null(strstr(e.msg, "16 MiB"));
	set_dword(t, 2, 0x80000000 | 40);
	parse(t, tl, &s, &e);
	assert_non_null(strstr(e.msg, "24-bit"));
}

static void test_bfpt_rejections(void **state)
{
	(void)state;
	uint8_t t[64], orig[64];
	size_t tl = BYTES(w25q16jv_bfpt, orig);
	struct bk_err e;
	struct bk_sfdp s;

	/* too short: 35 bytes, 8 DWORDs */
	memcpy(t, orig, tl);
	assert_int_equal(parse(t, 35, &s, &e), BK_EINVAL);
	assert_non_null(strstr(e.msg, "short"));
	assert_int_equal(parse(t, 32, &s, &e), BK_EINVAL);
	assert_int_equal(parse(t, 0, &s, &e), BK_EINVAL);
	assert_int_equal(parse(t, 36, &s, &e), 0);

	/* 4-byte-only addressing (DWORD 1 bits 18:17 = 10) */
	set_dword(t, 1, (0xfff920e5 & ~(3u << 17)) | (2u << 17));
	assert_int_equal(parse(t, tl, &s, &e), BK_EINVAL);
	assert_non_null(strstr(e.msg, "24-bit"));
	/* 3- or 4-byte (01) is fine */
	set_dword(t, 1, (0xfff920e5 & ~(3u << 17)) | (1u << 17));
	assert_int_equal(parse(t, tl, &s, &e), 0);

	/* no usable erase type at all */
	memcpy(t, orig, tl);
	set_dword(t, 1, 0xfff9ffe7); /* 4 KiB erase: not supported */
	set_dword(t, 8, 0);
	set_dword(t, 9, 0);
	assert_int_equal(parse(t, tl, &s, &e), BK_EINVAL);
	assert_non_null(strstr(e.msg, "erase"));
	/* a size byte with an FF/00 opcode does not count */
	set_dword(t, 8, 0xff0c000f);
	assert_int_equal(parse(t, tl, &s, &e), BK_EINVAL);
	/* only DWORD 1's 4 KiB opcode */
	set_dword(t, 8, 0);
	set_dword(t, 1, 0xfff920e5);
	assert_int_equal(parse(t, tl, &s, &e), 0);
	assert_int_equal(s.erase, BK_ERASE_4K);
	assert_int_equal(s.erase_op[0], 0x20);
	/* DWORD 1 says 4K is unsupported and the table has none */
	set_dword(t, 1, 0xfff9ffe7);
	assert_int_equal(parse(t, tl, &s, &e), BK_EINVAL);

	assert_int_equal(bk_sfdp_parse_bfpt(NULL, 64, &s, &e), BK_EINVAL);
	assert_int_equal(bk_sfdp_parse_bfpt(orig, 64, NULL, &e), BK_EINVAL);
	assert_int_equal(bk_sfdp_parse_bfpt(NULL, 0, NULL, NULL), BK_EINVAL);
}

static void test_page_size(void **state)
{
	(void)state;
	uint8_t t[64];
	size_t tl = BYTES(w25q16jv_bfpt, t);
	struct bk_err e;
	struct bk_sfdp s;

	set_dword(t, 11, 0xb314ea62); /* N = 6 */
	assert_int_equal(parse(t, tl, &s, &e), 0);
	assert_int_equal(s.page_size, 64);
	set_dword(t, 11, 0xffffffff); /* unprogrammed */
	assert_int_equal(parse(t, tl, &s, &e), 0);
	assert_int_equal(s.page_size, 256);
	set_dword(t, 11, 0xb314ea02); /* N = 0 */
	assert_int_equal(parse(t, tl, &s, &e), 0);
	assert_int_equal(s.page_size, 256);
	/* 10 DWORDs: DWORD 11 is not there */
	set_dword(t, 11, 0xb314ea62);
	assert_int_equal(parse(t, 40, &s, &e), 0);
	assert_int_equal(s.page_size, 256);
	assert_int_equal(parse(t, 44, &s, &e), 0);
	assert_int_equal(s.page_size, 64);
}

static void test_header_rejections(void **state)
{
	(void)state;
	uint8_t h[64], orig[64];
	size_t hl = BYTES(w25q16jv_hdr, orig);
	struct bk_err e;
	uint32_t addr = 0x1234, blen = 0x5678;

	memcpy(h, orig, hl);
	assert_int_equal(find(h, 15, &addr, &blen, &e), BK_EINVAL);
	assert_int_equal(find(h, 0, &addr, &blen, &e), BK_EINVAL);
	assert_int_equal(addr, 0x1234); /* untouched on failure */
	assert_int_equal(blen, 0x5678);

	h[0] = 'S', h[1] = 'F', h[2] = 'D', h[3] = 'Q';
	assert_int_equal(find(h, hl, &addr, &blen, &e), BK_EINVAL);
	assert_non_null(strstr(e.msg, "signature"));
	memset(h, 0xFF, sizeof h); /* no flash / no SFDP */
	assert_int_equal(find(h, hl, &addr, &blen, &e), BK_EINVAL);

	memcpy(h, orig, hl);
	h[5] = 2; /* SFDP major revision */
	assert_int_equal(find(h, hl, &addr, &blen, &e), BK_EINVAL);

	memcpy(h, orig, hl);
	h[8] = 0xC2; /* first header is a vendor table */
	assert_int_equal(find(h, hl, &addr, &blen, &e), BK_EINVAL);
	assert_non_null(strstr(e.msg, "BFPT"));

	memcpy(h, orig, hl);
	h[15] = 0x01; /* ID MSB */
	assert_int_equal(find(h, hl, &addr, &blen, &e), BK_EINVAL);

	memcpy(h, orig, hl);
	h[10] = 2; /* BFPT major revision */
	assert_int_equal(find(h, hl, &addr, &blen, &e), BK_EINVAL);

	memcpy(h, orig, hl);
	h[11] = 8; /* 8 DWORDs */
	assert_int_equal(find(h, hl, &addr, &blen, &e), BK_EINVAL);
	assert_non_null(strstr(e.msg, "short"));

	memcpy(h, orig, hl);
	h[12] = 0x08; /* pointer at the parameter header itself */
	assert_int_equal(find(h, hl, &addr, &blen, &e), BK_EINVAL);

	memcpy(h, orig, hl);
	h[12] = 0xF0, h[13] = 0xFF, h[14] = 0xFF; /* 0xFFFFF0 + 64 */
	assert_int_equal(find(h, hl, &addr, &blen, &e), BK_EINVAL);
	h[12] = 0xC0; /* 0xFFFFC0 + 64 ends exactly at 16 MiB */
	assert_int_equal(find(h, hl, &addr, &blen, &e), 0);
	assert_int_equal(addr, 0xFFFFC0);

	assert_int_equal(bk_sfdp_find_bfpt(NULL, 16, &addr, &blen, &e), BK_EINVAL);
	assert_int_equal(bk_sfdp_find_bfpt(orig, 16, NULL, &blen, &e), BK_EINVAL);
	assert_int_equal(bk_sfdp_find_bfpt(orig, 16, &addr, NULL, NULL), BK_EINVAL);
}

/* A second, newer BFPT header wins; a header the buffer does not reach is
 * not read. */
static void test_newer_bfpt(void **state)
{
	(void)state;
	static const uint32_t hdr[] = {
		0x50444653, 0xff010106,
		0x09010000, 0xff000080, /* BFPT 1.0, 9 DWORDs at 0x80 */
		0x10010600, 0xff0000c0, /* BFPT 1.6, 16 DWORDs at 0xC0 */
	};
	uint8_t h[64];
	size_t hl = BYTES(hdr, h);
	struct bk_err e;
	uint32_t addr = 0, blen = 0;

	assert_int_equal(find(h, hl, &addr, &blen, &e), 0);
	assert_int_equal(addr, 0xC0);
	assert_int_equal(blen, 64);
	assert_int_equal(find(h, 16, &addr, &blen, &e), 0);
	assert_int_equal(addr, 0x80);
	assert_int_equal(blen, 36);
	assert_int_equal(find(h, hl - 1, &addr, &blen, &e), 0);
	assert_int_equal(addr, 0x80);

	/* an older revision listed second does not replace the first */
	h[17] = 0; /* minor 0 */
	h[9] = 6;
	assert_int_equal(find(h, hl, &addr, &blen, &e), 0);
	assert_int_equal(addr, 0x80);
}

static void test_round_trip(void **state)
{
	(void)state;
	static const uint32_t sizes[] = { KIB(64), KIB(512), MIB(1), MIB(2), MIB(4), MIB(8), MIB(16) };
	uint8_t img[128];
	struct bk_err e;
	struct bk_sfdp s;

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		for (uint8_t erase = 1; erase <= E_ALL; erase++) {
			memset(img, 0xFF, sizeof img);
			size_t n = bk_emu_sfdp_build(img, sizeof img, sizes[i], erase);
			assert_true(n >= 16 + 64 && n <= sizeof img);
			uint32_t addr = 0, blen = 0;
			assert_int_equal(find(img, n, &addr, &blen, &e), 0);
			assert_true(addr + blen <= n);
			assert_int_equal(blen, 64);
			assert_int_equal(parse(img + addr, blen, &s, &e), 0);
			assert_int_equal(s.size, sizes[i]);
			assert_int_equal(s.page_size, 256);
			assert_int_equal(s.erase, erase);
			assert_int_equal(s.erase_op[0], (erase & BK_ERASE_4K) ? 0x20 : 0);
			assert_int_equal(s.erase_op[1], (erase & BK_ERASE_32K) ? 0x52 : 0);
			assert_int_equal(s.erase_op[2], (erase & BK_ERASE_64K) ? 0xD8 : 0);
		}
	}
}

static void test_build_edges(void **state)
{
	(void)state;
	uint8_t img[128];
	struct bk_err e;
	struct bk_sfdp s;
	uint32_t addr, blen;

	assert_int_equal(bk_emu_sfdp_build(img, 79, MIB(2), E_ALL), 0);
	assert_int_equal(bk_emu_sfdp_build(NULL, 128, MIB(2), E_ALL), 0);
	assert_int_equal(bk_emu_sfdp_build(img, sizeof img, 0, E_ALL), 0);
	assert_int_equal(bk_emu_sfdp_build(img, sizeof img, 0xFFFFFFFFu, E_ALL), 0);

	/* the builder describes what it is given; the parser refuses it */
	size_t n = bk_emu_sfdp_build(img, sizeof img, MIB(32), E_ALL);
	assert_true(n > 0);
	assert_int_equal(find(img, n, &addr, &blen, &e), 0);
	assert_int_equal(parse(img + addr, blen, &s, &e), BK_EINVAL);
	assert_non_null(strstr(e.msg, "24-bit"));
	n = bk_emu_sfdp_build(img, sizeof img, 0x80000000u, E_ALL); /* 2^N encoding */
	assert_true(n > 0);
	assert_int_equal(parse(img + 16, 64, &s, &e), BK_EINVAL);

	/* no erase types: valid layout, but nothing the programmer can use */
	n = bk_emu_sfdp_build(img, sizeof img, MIB(2), 0);
	assert_true(n > 0);
	assert_int_equal(parse(img + 16, 64, &s, &e), BK_EINVAL);
}

/* Every prefix of a valid image, each in a buffer of exactly that size so
 * ASan sees any read past the end. */
static void test_truncations(void **state)
{
	(void)state;
	uint8_t img[128];
	size_t n = bk_emu_sfdp_build(img, sizeof img, MIB(4), E_ALL);
	struct bk_err e;
	struct bk_sfdp s;
	uint32_t addr, blen;

	for (size_t len = 0; len <= n; len++) {
		uint8_t *p = malloc(len ? len : 1);
		assert_non_null(p);
		memcpy(p, img, len);
		int r = find(p, len, &addr, &blen, &e);
		assert_int_equal(r, len >= 16 ? 0 : BK_EINVAL);
		if (len >= 16)
			memmove(p, img + 16, len - 16);
		r = parse(p, len >= 16 ? len - 16 : 0, &s, &e);
		assert_int_equal(r, len >= 16 + 36 ? 0 : BK_EINVAL);
		free(p);
	}
}

/* Random and mutated inputs: no crash, no out-of-bounds read, and a success
 * always yields values inside the documented ranges. */
static void test_garbage(void **state)
{
	(void)state;
	uint64_t x = 0x9E3779B97F4A7C15ull;
	uint8_t img[128];
	size_t n = bk_emu_sfdp_build(img, sizeof img, MIB(2), E_ALL);
	struct bk_err e;
	struct bk_sfdp s;
	uint32_t addr, blen;

	for (int i = 0; i < 20000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		size_t len = (size_t)(x % (n + 1));
		uint8_t *p = malloc(len ? len : 1);
		assert_non_null(p);
		memcpy(p, img, len);
		for (int k = 0; k < 4 && len; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			p[x % len] = (uint8_t)(x >> 32);
		}
		if (find(p, len, &addr, &blen, &e) == 0) {
			assert_true(blen >= 36 && blen <= 1020);
			assert_true(addr + blen <= (1u << 24));
		}
		for (size_t off = 0; off <= 16 && off <= len; off += 16) {
			if (parse(p + off, len - off, &s, &e) == 0) {
				assert_true(s.size >= KIB(64) && s.size <= MIB(16));
				assert_true(s.erase != 0 && (s.erase & ~E_ALL) == 0);
				assert_true(s.page_size >= 16 && s.page_size <= 4096);
			} else {
				assert_int_equal(e.code, BK_EINVAL);
			}
		}
		free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_w25q16jv),
		cmocka_unit_test(test_mx25l1606e_rev0),
		cmocka_unit_test(test_sst26_erase_types),
		cmocka_unit_test(test_rejects_over_16mib),
		cmocka_unit_test(test_density_encodings),
		cmocka_unit_test(test_bfpt_rejections),
		cmocka_unit_test(test_page_size),
		cmocka_unit_test(test_header_rejections),
		cmocka_unit_test(test_newer_bfpt),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_build_edges),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
