/* Beken dump analysis: bk_beken_analyse, rotation detection and undoing,
 * the MAC from the RF sector, and the smaller parsers they are built from
 * (CRC blocks, bootloader fingerprint, RBL headers), on the input as a file
 * and on the flash image it describes (see image.h). */
#include <string.h>

#include "beken/beken.h"
#include "fuzz.h"
#include "image.h"

static uint32_t le24(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

static void check_text(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	FUZZ_CHECK(n < cap);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(s[i] >= 0x20 && s[i] < 0x7F);
}

static void check_rbl(const struct bk_beken_rbl *r)
{
	check_text(r->name, sizeof r->name);
	check_text(r->version, sizeof r->version);
	check_text(r->sn, sizeof r->sn);
	FUZZ_CHECK(r->present || (!r->header_ok && !r->body_ok));
}

static void check_blocks(const struct bk_beken_blocks *b, size_t size)
{
	FUZZ_CHECK((uint64_t)(b->valid + b->erased + b->corrupt) * BK_BEKEN_BLOCK <= size);
	FUZZ_CHECK((b->corrupt == 0) == (b->first_corrupt == BK_BEKEN_NONE));
}

static void analyse(const uint8_t *img, size_t size)
{
	struct bk_beken_info info;
	struct bk_err err = { 0 };
	int r = bk_beken_analyse(img, size, &info, &err);
	FUZZ_CHECK_MSG(err);
	FUZZ_CHECK(r == BK_OK);
	FUZZ_CHECK(info.size == size);
	FUZZ_CHECK(info.family_evidence != NULL);
	FUZZ_CHECK(bk_beken_family_name(info.family) != NULL);
	FUZZ_CHECK(info.rotation == bk_beken_detect_rotation(img, size));
	FUZZ_CHECK(info.flash_size == 0 || info.flash_size == size);
	check_blocks(&info.boot_blocks, size);
	check_blocks(&info.app_blocks, size);
	check_rbl(&info.rbl_boot);
	check_rbl(&info.rbl_app);
	FUZZ_CHECK(!info.has_mac || info.rf_addr != BK_BEKEN_NONE);
	FUZZ_CHECK(info.rf_addr == BK_BEKEN_NONE || info.rf_addr < size);
	FUZZ_CHECK(info.ptable == BK_BEKEN_NONE || info.ptable < size);
	FUZZ_CHECK(info.obk_config == BK_BEKEN_NONE || info.obk_config < size);

	/* Undo the rotation; the analysis said where the RF sector is, so the
	 * unrotated image must give the same MAC through bk_beken_mac. */
	uint8_t *flat = malloc(size);
	if (!flat)
		return;
	r = bk_beken_unrotate(img, size, info.rotation, flat, size, &err);
	FUZZ_CHECK_MSG(err);
	FUZZ_CHECK(r == BK_OK);
	if (info.rotation == 0)
		FUZZ_CHECK(memcmp(flat, img, size) == 0);
	if (info.rf_addr != BK_BEKEN_NONE) {
		uint8_t mac[6];
		r = bk_beken_mac(flat, size, info.rf_addr, mac, &err);
		FUZZ_CHECK_MSG(err);
		FUZZ_CHECK((r == BK_OK) == !!info.has_mac);
		if (r == BK_OK)
			FUZZ_CHECK(memcmp(mac, info.mac, 6) == 0);
	}
	if (info.has_boot_crc) {
		const struct bk_beken_fingerprint *fp = bk_beken_fingerprint(flat, size);
		FUZZ_CHECK(fp == info.boot);
	}
	free(flat);
}

/* The pieces, on whatever the input holds. A flash-sized image skips what
 * analyse() already ran over it (block CRCs, unrotating): the CRC-16 of a
 * megabyte of blocks is most of an execution's time. */
static void parts(const uint8_t *img, size_t size, const uint8_t *ctl, size_t ctl_size)
{
	struct bk_err err = { 0 };
	int big = size > 0x10000;

	uint32_t rot = bk_beken_detect_rotation(img, size);
	FUZZ_CHECK(rot == 0 || rot == BK_BEKEN_ROTATION);
	uint32_t rots[] = { rot, BK_BEKEN_ROTATION, ctl_size >= 3 ? le24(ctl) : 1 };
	uint8_t *out = big ? NULL : malloc(size + 1);
	for (size_t i = 0; out && i < sizeof rots / sizeof rots[0]; i++) {
		int r = bk_beken_unrotate(img, size, rots[i], out, size, &err);
		FUZZ_CHECK_MSG(err);
		FUZZ_CHECK(r == BK_OK || r == BK_EINVAL);
		if (r == BK_OK && rots[i] < size)
			FUZZ_CHECK(memcmp(out + rots[i], img, size - rots[i]) == 0);
		(void)bk_beken_unrotate(img, size, rots[i], out, size - 1, &err);
		(void)bk_beken_unrotate(img, size, rots[i], out, size + 1, &err);
	}
	free(out);

	/* The RF sector of every known layout, and wherever ctl points. */
	static const enum bk_beken_family families[] = {
		BK_BEKEN_FAMILY_UNKNOWN, BK_BEKEN_BK7231T, BK_BEKEN_BK7231U,
		BK_BEKEN_BK7231N, BK_BEKEN_BK7252, BK_BEKEN_BK7238,
	};
	static const uint32_t sizes[] = { 0, 0x100000, 0x200000, 0x400000 };
	uint8_t mac[6];
	for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
		for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
			uint32_t rf = BK_BEKEN_NONE;
			if (bk_beken_rf_addr(families[f], sizes[s], &rf, &err) == BK_OK)
				(void)bk_beken_mac(img, size, rf, mac, &err);
		}
	(void)bk_beken_mac(img, size, 0, mac, &err);
	(void)bk_beken_mac(img, size, (uint32_t)size, mac, &err);
	if (ctl_size >= 6)
		(void)bk_beken_mac(img, size, le24(ctl + 3), mac, &err);
	FUZZ_CHECK_MSG(err);

	struct bk_beken_blocks st;
	if (!big) {
		(void)bk_beken_check_blocks(img, size, 0, BK_BEKEN_BOOT_END, &st, &err);
		(void)bk_beken_check_blocks(img, size, BK_BEKEN_APP_START, BK_BEKEN_APP_END_2M,
					    &st, &err);
		uint32_t whole = (uint32_t)(size / BK_BEKEN_BLOCK * BK_BEKEN_BLOCK);
		if (bk_beken_check_blocks(img, size, 0, whole, &st, &err) == BK_OK)
			check_blocks(&st, size);
	}
	if (ctl_size >= 12) {
		uint32_t a = le24(ctl + 6), b = le24(ctl + 9);
		if (big && b > a && b - a > 0x1000)
			b = a + 0x1000;
		if (bk_beken_check_blocks(img, size, a, b, &st, &err) == BK_OK)
			check_blocks(&st, size);
	}
	FUZZ_CHECK_MSG(err);

	const struct bk_beken_fingerprint *fp = bk_beken_fingerprint(img, size);
	if (fp) {
		FUZZ_CHECK(fp->len == 256 || fp->len == 257);
		FUZZ_CHECK(fp->version && bk_beken_family_name(fp->family));
	}

	struct bk_beken_rbl rbl;
	if (bk_beken_rbl_parse(img, size, &rbl, &err) == BK_OK)
		check_rbl(&rbl);
	FUZZ_CHECK_MSG(err);
}

/* libFuzzer and replay.c both hand over a buffer of exactly size bytes, and
 * fuzz_image's are exact too, so ASan sees any read past the end. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size) {
		struct bk_beken_info info;
		FUZZ_CHECK(bk_beken_analyse(data, 0, &info, NULL) == BK_EINVAL);
		return 0;
	}
	analyse(data, size);
	parts(data, size, data, size);

	size_t n;
	uint8_t *img = fuzz_image(data, size, &n);
	if (img) {
		analyse(img, n);
		parts(img, n, data, size);
		free(img);
	}
	return 0;
}
