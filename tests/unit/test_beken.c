/* src/beken on images built in memory: no dump needed. Every expected value
 * comes from the format definitions (field notes, section 4), written here
 * a second time without the library's code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "beken/beken.h"

#define MIB2 0x200000u
#define BOOT_END 0x11000u
#define APP_END 0x129F70u
#define APP_BLOCKS ((APP_END - BOOT_END) / 34)
#define RF_T 0x1E0000u
#define RF_N 0x1D0000u
#define KEY_PAGE 0x1EE000u
#define ERASED_FIRST 2000u /* app blocks 2000..2009 are left erased */
#define ERASED_COUNT 10u

static const uint8_t test_mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t app_magic[8] = { 0x2F, 0x07, 0xB5, 0x94,
				      0x35, 0xFF, 0x2A, 0x9B };

static uint32_t rng_state = 1;

static uint8_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return (uint8_t)(rng_state >> 24);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Bit by bit from the definition, sharing nothing with the library's table. */
static uint16_t ref_crc16(const uint8_t *p, size_t n)
{
	uint16_t c = 0xFFFF;
	for (size_t i = 0; i < n; i++) {
		c ^= (uint16_t)(p[i] << 8);
		for (int b = 0; b < 8; b++)
			c = c & 0x8000 ? (uint16_t)(c << 1 ^ 0x8005)
				       : (uint16_t)(c << 1);
	}
	return c;
}

static void seal(uint8_t *blk)
{
	uint16_t c = ref_crc16(blk, 32);
	blk[32] = (uint8_t)(c >> 8);
	blk[33] = (uint8_t)c;
}

static void fill_framed(uint8_t *img, uint32_t start, uint32_t end)
{
	for (uint32_t a = start; a + 34 <= end; a += 34) {
		for (int i = 0; i < 32; i++)
			img[a + i] = rnd();
		seal(img + a);
	}
}

/* Data byte i of the framed region starting at start. */
static uint8_t *data_at(uint8_t *img, uint32_t start, uint32_t i)
{
	return img + start + i / 32 * 34 + i % 32;
}

static void put_framed(uint8_t *img, uint32_t start, uint32_t off,
		       const void *src, uint32_t n)
{
	const uint8_t *s = src;
	for (uint32_t i = 0; i < n; i++)
		*data_at(img, start, off + i) = s[i];
	for (uint32_t b = off / 32; b <= (off + n - 1) / 32; b++)
		seal(img + start + b * 34);
}

/* Sets p[n..n+4) so that crc32(p, n + 4) == target. CRC-32 is linear and
 * the top bytes of its table are all distinct, so walking back from the
 * target picks the four table indices. */
static void forge_crc32(uint8_t *p, size_t n, uint32_t target)
{
	const z_crc_t *t = get_crc_table();
	uint32_t want = target ^ 0xFFFFFFFFu, idx[4] = { 0 };
	for (int j = 3; j >= 0; j--) {
		for (uint32_t i = 0; i < 256; i++)
			if ((t[i] >> 24) == (want >> 24))
				idx[j] = i;
		want = (want ^ (uint32_t)t[idx[j]]) << 8;
	}
	uint32_t r = (uint32_t)crc32(0, p, (uInt)n) ^ 0xFFFFFFFFu;
	for (int j = 0; j < 4; j++) {
		p[n + j] = (uint8_t)(r ^ idx[j]);
		r = (r >> 8) ^ (uint32_t)t[(r ^ p[n + j]) & 0xFF];
	}
}

/* Block 7 holds bytes 238..269 of data; bytes 252..256 (253..257) are in
 * it, and its CRC lies past the fingerprint. */
static void put_fingerprint(uint8_t *img, enum bk_beken_family fam)
{
	if (fam == BK_BEKEN_BK7231N) {
		put_framed(img, 0, 0x110 / 34 * 32, "BK7231", 6);
		forge_crc32(img, 253, 0xE14191BA);
	} else {
		forge_crc32(img, 252, 0xBA54C1B8);
	}
	seal(img + 7 * 34);
}

/* An RBL header in the last three blocks of [start, end), with the CRCs
 * of its definition: body = data[0, raw) + (pkg - raw) bytes of value
 * (pkg - raw); header CRC over bytes 0..91. */
static void put_rbl(uint8_t *img, uint32_t start, uint32_t end,
		    const char *name, uint32_t raw, uint32_t pkg)
{
	uint8_t h[96] = { 0 };
	memcpy(h, "RBL", 4);
	put_le32(h + 8, 0x5ED0DA7C);
	memcpy(h + 12, name, strlen(name));
	memcpy(h + 28, "1.00", 4);
	memset(h + 52, '0', 23);
	uint32_t c = (uint32_t)crc32(0, NULL, 0);
	for (uint32_t i = 0; i < raw; i++)
		c = (uint32_t)crc32(c, data_at(img, start, i), 1);
	uint8_t pad = (uint8_t)(pkg - raw);
	for (uint32_t i = raw; i < pkg; i++)
		c = (uint32_t)crc32(c, &pad, 1);
	put_le32(h + 76, c);
	put_le32(h + 84, raw);
	put_le32(h + 88, pkg);
	put_le32(h + 92, (uint32_t)crc32(0, h, 92));
	put_framed(img, start, (end - start) / 34 * 32 - 96, h, 96);
}

static void put_rf(uint8_t *img, uint32_t addr)
{
	uint8_t *s = img + addr;
	memcpy(s, "TLV", 4);
	put_le32(s + 0x04, 0x62);
	put_le32(s + 0x08, 0x11111100);
	put_le32(s + 0x0C, 0x5A);
	put_le32(s + 0x10, 0x11111101);
	put_le32(s + 0x14, 4);
	put_le32(s + 0x18, 0x00BC614E);
	put_le32(s + 0x1C, 0x11111102);
	put_le32(s + 0x20, 6);
	memcpy(s + 0x24, test_mac, 6);
}

/* One 16-byte block repeated, after two blocks of header. */
static void put_key_page(uint8_t *p)
{
	uint8_t blk[16];
	for (int i = 0; i < 16; i++)
		blk[i] = rnd();
	for (int i = 0; i < 256; i++)
		memcpy(p + 16 * i, blk, 16);
	for (int i = 0; i < 32; i++)
		p[i] = rnd();
}

/* A 2 MiB image of the T or N layout, or with no fingerprint at all. */
static uint8_t *make_full(enum bk_beken_family fam)
{
	uint8_t *img = malloc(MIB2);
	assert_non_null(img);
	memset(img, 0xFF, MIB2);
	fill_framed(img, 0, BOOT_END);
	fill_framed(img, BOOT_END, APP_END);
	memset(img + BOOT_END + ERASED_FIRST * 34, 0xFF, ERASED_COUNT * 34);
	put_framed(img, BOOT_END, 0, app_magic, 8);
	put_framed(img, 0, 0xEA14 / 34 * 32 + 0xEA14 % 34, "01PE", 4);
	if (fam != BK_BEKEN_FAMILY_UNKNOWN)
		put_fingerprint(img, fam);
	put_rbl(img, 0, BOOT_END, "bootloader", 0xDD10, 0xDD20);
	put_rbl(img, BOOT_END, APP_END, "app", 0xE47B0, 0xE47C0);
	put_rf(img, fam == BK_BEKEN_BK7231N ? RF_N : RF_T);
	put_key_page(img + KEY_PAGE);
	return img;
}

/* File offset 0 holds flash 0x11000; the bootloader comes last. */
static uint8_t *rotate(const uint8_t *img)
{
	uint8_t *out = malloc(MIB2);
	assert_non_null(out);
	memcpy(out, img + BOOT_END, MIB2 - BOOT_END);
	memcpy(out + MIB2 - BOOT_END, img, BOOT_END);
	return out;
}

/* An exact-size copy, so ASan sees any read past the end. */
static uint8_t *prefix(const uint8_t *img, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	assert_non_null(p);
	memcpy(p, img, n);
	return p;
}

static void check_full_t(const struct bk_beken_info *in)
{
	assert_int_equal(in->family, BK_BEKEN_BK7231T);
	assert_string_equal(in->family_evidence, "bootloader fingerprint");
	assert_non_null(in->boot);
	assert_string_equal(in->boot->version, "1.0.5");
	assert_int_equal(in->boot_crc, 0xBA54C1B8);
	assert_true(in->has_bootloader);
	assert_int_equal(in->boot_blocks.valid, 2048);
	assert_int_equal(in->boot_blocks.erased, 0);
	assert_int_equal(in->boot_blocks.corrupt, 0);
	assert_int_equal(in->boot_blocks.first_corrupt, BK_BEKEN_NONE);
	assert_int_equal(in->app_end, APP_END);
	assert_int_equal(in->app_blocks.valid, APP_BLOCKS - ERASED_COUNT);
	assert_int_equal(in->app_blocks.erased, ERASED_COUNT);
	assert_int_equal(in->app_blocks.corrupt, 0);
	assert_int_equal(in->ptable, 0xEA14);
	assert_int_equal(in->rbl_boot.addr, 0x10F9A);
	assert_true(in->rbl_boot.present && in->rbl_boot.header_ok &&
		    in->rbl_boot.body_ok);
	assert_string_equal(in->rbl_boot.name, "bootloader");
	assert_string_equal(in->rbl_boot.version, "1.00");
	assert_int_equal(in->rbl_boot.size_raw, 0xDD10);
	assert_int_equal(in->rbl_app.addr, 0x129F0A);
	assert_true(in->rbl_app.present && in->rbl_app.header_ok &&
		    in->rbl_app.body_ok);
	assert_string_equal(in->rbl_app.name, "app");
	assert_int_equal(in->rf_addr, RF_T);
	assert_true(in->has_mac);
	assert_memory_equal(in->mac, test_mac, 6);
	assert_int_equal(in->tuya_kvs, KEY_PAGE);
	assert_false(in->tuya_kvs_only);
	assert_int_equal(in->obk_config, BK_BEKEN_NONE);
}

static void crc16_known_answers(void **state)
{
	(void)state;
	/* Check value of CRC-16/CMS in the CRC RevEng catalogue. */
	assert_int_equal(bk_beken_crc16((const uint8_t *)"123456789", 9), 0xAEE7);
	assert_int_equal(bk_beken_crc16(NULL, 0), 0xFFFF);
	uint8_t buf[300];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = rnd();
	for (size_t n = 0; n <= sizeof buf; n += 13)
		assert_int_equal(bk_beken_crc16(buf, n), ref_crc16(buf, n));
}

static void blocks_count_and_first_corrupt(void **state)
{
	(void)state;
	uint8_t img[16 * 34];
	fill_framed(img, 0, 13 * 34);
	memset(img + 13 * 34, 0xFF, 3 * 34);
	img[5 * 34 + 17] ^= 0x08;
	struct bk_beken_blocks st;
	struct bk_err err = { 0 };
	assert_int_equal(bk_beken_check_blocks(img, sizeof img, 0, sizeof img,
					       &st, &err), BK_OK);
	assert_int_equal(st.valid, 12);
	assert_int_equal(st.erased, 3);
	assert_int_equal(st.corrupt, 1);
	assert_int_equal(st.first_corrupt, 5 * 34);
	/* A sub-range reports offsets in the same buffer. */
	assert_int_equal(bk_beken_check_blocks(img, sizeof img, 4 * 34, 7 * 34,
					       &st, &err), BK_OK);
	assert_int_equal(st.valid, 2);
	assert_int_equal(st.first_corrupt, 5 * 34);
	/* An erased block with one bit flipped is corrupt, not erased. */
	img[14 * 34] = 0xFE;
	assert_int_equal(bk_beken_check_blocks(img, sizeof img, 13 * 34,
					       sizeof img, &st, &err), BK_OK);
	assert_int_equal(st.erased, 2);
	assert_int_equal(st.corrupt, 1);
	assert_int_equal(st.first_corrupt, 14 * 34);
}

static void blocks_every_bit_flip_is_corrupt(void **state)
{
	(void)state;
	uint8_t blk[34];
	fill_framed(blk, 0, 34);
	struct bk_beken_blocks st;
	for (int bit = 0; bit < 34 * 8; bit++) {
		blk[bit / 8] ^= (uint8_t)(1 << bit % 8);
		assert_int_equal(bk_beken_check_blocks(blk, 34, 0, 34, &st, NULL),
				 BK_OK);
		assert_int_equal(st.corrupt, 1);
		blk[bit / 8] ^= (uint8_t)(1 << bit % 8);
	}
	assert_int_equal(bk_beken_check_blocks(blk, 34, 0, 34, &st, NULL), BK_OK);
	assert_int_equal(st.valid, 1);
}

static void blocks_bad_ranges(void **state)
{
	(void)state;
	uint8_t img[68] = { 0 };
	struct bk_beken_blocks st;
	struct bk_err err = { 0 };
	assert_int_equal(bk_beken_check_blocks(img, 68, 0, 67, &st, &err),
			 BK_EINVAL);
	assert_true(err.msg[0]);
	assert_int_equal(bk_beken_check_blocks(img, 68, 34, 102, &st, &err),
			 BK_EINVAL);
	assert_int_equal(bk_beken_check_blocks(img, 68, 34, 0, &st, &err),
			 BK_EINVAL);
	assert_int_equal(bk_beken_check_blocks(NULL, 68, 0, 34, &st, &err),
			 BK_EINVAL);
	assert_int_equal(bk_beken_check_blocks(img, 68, 34, 34, &st, &err), BK_OK);
	assert_int_equal(st.valid + st.erased + st.corrupt, 0);
}

static void fingerprint_t_and_n(void **state)
{
	(void)state;
	uint8_t img[34 * 10];
	fill_framed(img, 0, sizeof img);
	put_fingerprint(img, BK_BEKEN_BK7231T);
	assert_int_equal((uint32_t)crc32(0, img, 256), 0xBA54C1B8);
	const struct bk_beken_fingerprint *fp =
		bk_beken_fingerprint(img, sizeof img);
	assert_non_null(fp);
	assert_int_equal(fp->family, BK_BEKEN_BK7231T);
	assert_string_equal(fp->version, "1.0.5");
	assert_null(bk_beken_fingerprint(img, 256)); /* too short to tell */

	fill_framed(img, 0, sizeof img);
	put_fingerprint(img, BK_BEKEN_BK7231N);
	assert_int_equal((uint32_t)crc32(0, img, 257), 0xE14191BA);
	fp = bk_beken_fingerprint(img, sizeof img);
	assert_non_null(fp);
	assert_int_equal(fp->family, BK_BEKEN_BK7231N);
	assert_int_equal(fp->len, 257);
	assert_string_equal(fp->version, "1.0.1");

	img[3] ^= 1;
	assert_null(bk_beken_fingerprint(img, sizeof img));
	assert_null(bk_beken_fingerprint(NULL, 0));
}

static void analyse_full_t(void **state)
{
	(void)state;
	uint8_t *img = make_full(BK_BEKEN_BK7231T);
	struct bk_beken_info in;
	assert_int_equal(bk_beken_analyse(img, MIB2, &in, NULL), BK_OK);
	assert_int_equal(in.size, MIB2);
	assert_int_equal(in.flash_size, MIB2);
	assert_int_equal(in.rotation, 0);
	check_full_t(&in);

	struct bk_beken_class cls;
	assert_int_equal(bk_beken_classify(img, MIB2, &cls, NULL), BK_OK);
	assert_int_equal(cls.kind, BK_BEKEN_IMG_FULL);
	assert_int_equal(cls.flash_offset, 0);
	assert_int_equal(cls.rotation, 0);
	assert_int_equal(cls.family, BK_BEKEN_BK7231T);
	free(img);
}

static void analyse_full_n(void **state)
{
	(void)state;
	uint8_t *img = make_full(BK_BEKEN_BK7231N);
	struct bk_beken_info in;
	assert_int_equal(bk_beken_analyse(img, MIB2, &in, NULL), BK_OK);
	assert_int_equal(in.family, BK_BEKEN_BK7231N);
	assert_int_equal(in.boot_crc, 0xE14191BA);
	assert_int_equal(in.rf_addr, RF_N);
	assert_true(in.has_mac);
	assert_memory_equal(in.mac, test_mac, 6);
	uint32_t addr = 0;
	assert_int_equal(bk_beken_rf_addr(in.family, MIB2, &addr, NULL), BK_OK);
	assert_int_equal(addr, RF_N);
	free(img);
}

static void analyse_rotated_and_unrotate(void **state)
{
	(void)state;
	uint8_t *img = make_full(BK_BEKEN_BK7231T);
	uint8_t *rot = rotate(img);
	assert_int_equal(bk_beken_detect_rotation(rot, MIB2), 0x11000);
	assert_int_equal(bk_beken_detect_rotation(img, MIB2), 0);
	struct bk_beken_info in;
	assert_int_equal(bk_beken_analyse(rot, MIB2, &in, NULL), BK_OK);
	assert_int_equal(in.rotation, 0x11000);
	check_full_t(&in);

	struct bk_beken_class cls;
	assert_int_equal(bk_beken_classify(rot, MIB2, &cls, NULL), BK_OK);
	assert_int_equal(cls.kind, BK_BEKEN_IMG_FULL);
	assert_int_equal(cls.rotation, 0x11000);
	assert_int_equal(cls.family, BK_BEKEN_BK7231T);

	uint8_t *back = malloc(MIB2);
	assert_non_null(back);
	assert_int_equal(bk_beken_unrotate(rot, MIB2, 0x11000, back, MIB2, NULL),
			 BK_OK);
	assert_memory_equal(back, img, MIB2);
	free(back);
	free(rot);
	free(img);
}

/* Without a fingerprint the bootloader is still recognised by its CRC
 * blocks, so a rotated dump is found, and the RF sector names the family. */
static void analyse_unknown_bootloader(void **state)
{
	(void)state;
	uint8_t *img = make_full(BK_BEKEN_FAMILY_UNKNOWN);
	struct bk_beken_info in;
	assert_int_equal(bk_beken_analyse(img, MIB2, &in, NULL), BK_OK);
	assert_null(in.boot);
	assert_true(in.has_bootloader);
	assert_int_equal(in.family, BK_BEKEN_BK7231T);
	assert_non_null(strstr(in.family_evidence, "0x1E0000"));

	uint8_t *rot = rotate(img);
	assert_int_equal(bk_beken_detect_rotation(rot, MIB2), 0x11000);
	free(rot);

	/* RF sector moved to N's place. */
	memset(img + RF_T, 0xFF, 0x1000);
	put_rf(img, RF_N);
	assert_int_equal(bk_beken_analyse(img, MIB2, &in, NULL), BK_OK);
	assert_int_equal(in.family, BK_BEKEN_BK7231N);
	assert_int_equal(in.rf_addr, RF_N);

	/* No RF sector, but N's text marker in the bootloader. */
	memset(img + RF_N, 0xFF, 0x1000);
	put_framed(img, 0, 0x110 / 34 * 32, "BK7231", 6);
	assert_int_equal(bk_beken_analyse(img, MIB2, &in, NULL), BK_OK);
	assert_int_equal(in.family, BK_BEKEN_BK7231N);
	assert_non_null(strstr(in.family_evidence, "0x110"));
	assert_false(in.has_mac);
	free(img);
}

static void analyse_one_flipped_bit(void **state)
{
	(void)state;
	uint8_t *img = make_full(BK_BEKEN_BK7231T);
	const uint32_t blk = BOOT_END + 1000 * 34; /* 0x194D0 */
	img[blk + 7] ^= 0x10;
	struct bk_beken_info in;
	assert_int_equal(bk_beken_analyse(img, MIB2, &in, NULL), BK_OK);
	assert_int_equal(in.app_blocks.corrupt, 1);
	assert_int_equal(in.app_blocks.first_corrupt, 0x194D0);
	assert_int_equal(in.boot_blocks.corrupt, 0);
	assert_false(in.rbl_app.body_ok); /* the body CRC covers that byte */
	assert_true(in.rbl_boot.body_ok);

	/* Reported as a flash address in a rotated dump too. */
	uint8_t *rot = rotate(img);
	assert_int_equal(bk_beken_analyse(rot, MIB2, &in, NULL), BK_OK);
	assert_int_equal(in.rotation, 0x11000);
	assert_int_equal(in.app_blocks.first_corrupt, 0x194D0);
	free(rot);

	img[blk + 7] ^= 0x10;
	img[100] ^= 0x01; /* block 2 of the bootloader: 0x44 */
	assert_int_equal(bk_beken_analyse(img, MIB2, &in, NULL), BK_OK);
	assert_int_equal(in.boot_blocks.corrupt, 1);
	assert_int_equal(in.boot_blocks.first_corrupt, 0x44);
	free(img);
}

static void analyse_truncated(void **state)
{
	(void)state;
	uint8_t *img = make_full(BK_BEKEN_BK7231T);
	static const size_t lens[] = {
		1, 33, 34, 135, 136, 255, 256, 257, 0x132, 0xEA17, 0x10FFF,
		0x11000, 0x11001, 0x11088, 0x129F6F, 0x129F70, 0x1E0029,
		0x1E002A, 0x1E0FFF, 0x1E1000, 0x1EEFFF, 0x1EF000, MIB2 - 1,
	};
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		size_t n = lens[i];
		uint8_t *p = prefix(img, n);
		struct bk_beken_info in;
		assert_int_equal(bk_beken_analyse(p, n, &in, NULL), BK_OK);
		assert_int_equal(in.rotation, 0);
		assert_int_equal(in.flash_size, 0);
		size_t boot = n < BOOT_END ? n : BOOT_END;
		assert_int_equal(in.boot_blocks.valid, boot / 34);
		size_t app = n < BOOT_END ? 0 : (n < APP_END ? n : APP_END) - BOOT_END;
		assert_int_equal(in.app_blocks.valid + in.app_blocks.erased,
				 app / 34);
		assert_int_equal(in.boot_blocks.corrupt + in.app_blocks.corrupt, 0);
		assert_int_equal(in.family, n >= 257 ? BK_BEKEN_BK7231T
						     : BK_BEKEN_FAMILY_UNKNOWN);
		/* The header needs its data bytes, not the last block's CRC. */
		assert_int_equal(in.rbl_boot.present, n >= BOOT_END - 2);
		assert_int_equal(in.rbl_app.body_ok, n >= APP_END - 2);
		if (in.has_mac)
			assert_true(n >= RF_T + 0x2A);
		assert_int_equal(in.tuya_kvs != BK_BEKEN_NONE, n >= KEY_PAGE + 0x1000);

		struct bk_beken_class cls;
		assert_int_equal(bk_beken_classify(p, n, &cls, NULL), BK_OK);
		assert_non_null(cls.name);
		free(p);
	}
	struct bk_beken_info in;
	struct bk_err err = { 0 };
	assert_int_equal(bk_beken_analyse(img, 0, &in, &err), BK_EINVAL);
	assert_true(err.msg[0]);
	assert_int_equal(bk_beken_analyse(NULL, 5, &in, NULL), BK_EINVAL);
	assert_int_equal(bk_beken_analyse(img, 5, NULL, NULL), BK_EINVAL);
	free(img);
}

static void analyse_erased_and_garbage(void **state)
{
	(void)state;
	uint8_t *img = malloc(MIB2);
	assert_non_null(img);
	memset(img, 0xFF, MIB2);
	struct bk_beken_info in;
	assert_int_equal(bk_beken_analyse(img, MIB2, &in, NULL), BK_OK);
	assert_int_equal(in.family, BK_BEKEN_FAMILY_UNKNOWN);
	assert_false(in.has_bootloader);
	assert_int_equal(in.rotation, 0);
	assert_int_equal(in.boot_blocks.erased, 2048);
	assert_int_equal(in.app_blocks.erased, APP_BLOCKS);
	assert_int_equal(in.tuya_kvs, BK_BEKEN_NONE);
	assert_int_equal(in.rf_addr, BK_BEKEN_NONE);
	memset(img, 0x00, MIB2);
	assert_int_equal(bk_beken_analyse(img, MIB2, &in, NULL), BK_OK);
	assert_int_equal(in.tuya_kvs, BK_BEKEN_NONE);
	assert_int_equal(in.boot_blocks.corrupt, 2048);
	free(img);

	/* Random bytes of random lengths, with magics planted where the
	 * parsers look, so they get past their first check. */
	rng_state = 12345;
	for (int round = 0; round < 300; round++) {
		size_t n = (size_t)rnd() << 8 | rnd();
		if (round % 50 == 0)
			n = MIB2;
		uint8_t *p = malloc(n ? n : 1);
		assert_non_null(p);
		for (size_t i = 0; i < n; i++)
			p[i] = rnd();
		if (n >= 4 && round % 3 == 0)
			memcpy(p, round % 2 ? "RBL" : "\x55\xAA\x55\xAA", 4);
		if (n >= 8 && round % 5 == 0)
			memcpy(p, "\x55\x46\x32\x0A\x57\x51\x5D\x9E", 8);
		struct bk_beken_info in2;
		struct bk_beken_class cls;
		struct bk_beken_rbl rbl;
		int rc = bk_beken_analyse(p, n, &in2, NULL);
		assert_int_equal(rc, n ? BK_OK : BK_EINVAL);
		assert_non_null(in2.family_evidence);
		bk_beken_classify(p, n, &cls, NULL);
		assert_non_null(cls.name);
		bk_beken_rbl_parse(p, n, &rbl, NULL);
		uint8_t mac[6];
		bk_beken_mac(p, n, (uint32_t)(n / 2), mac, NULL);
		free(p);
	}
}

static void mac_and_rf_addr(void **state)
{
	(void)state;
	uint8_t sector[0x30];
	memset(sector, 0xFF, sizeof sector);
	uint8_t *img = calloc(1, RF_T + 0x1000);
	assert_non_null(img);
	put_rf(img, RF_T);
	uint8_t mac[6];
	struct bk_err err = { 0 };
	assert_int_equal(bk_beken_mac(img, RF_T + 0x1000, RF_T, mac, &err), BK_OK);
	assert_memory_equal(mac, test_mac, 6);
	/* The MAC's last byte is at 0x29: one byte short fails. */
	assert_int_equal(bk_beken_mac(img, RF_T + 0x29, RF_T, mac, &err),
			 BK_EINVAL);
	assert_int_equal(bk_beken_mac(img, RF_T + 0x2A, RF_T, mac, &err), BK_OK);
	assert_int_equal(bk_beken_mac(img, RF_T + 0x1000, RF_N, mac, &err),
			 BK_EINVAL);
	assert_int_equal(bk_beken_mac(img, 100, RF_T, mac, &err), BK_EINVAL);
	img[RF_T + 0x1C] = 0x03; /* another tag */
	assert_int_equal(bk_beken_mac(img, RF_T + 0x1000, RF_T, mac, &err),
			 BK_EINVAL);
	assert_non_null(strstr(err.msg, "0x1E0000"));
	free(img);

	uint32_t addr = 0;
	assert_int_equal(bk_beken_rf_addr(BK_BEKEN_BK7231T, MIB2, &addr, NULL),
			 BK_OK);
	assert_int_equal(addr, RF_T);
	assert_int_equal(bk_beken_rf_addr(BK_BEKEN_BK7231U, MIB2, &addr, NULL),
			 BK_OK);
	assert_int_equal(addr, RF_T);
	assert_int_equal(bk_beken_rf_addr(BK_BEKEN_BK7231N, MIB2, &addr, NULL),
			 BK_OK);
	assert_int_equal(addr, RF_N);
	assert_int_equal(bk_beken_rf_addr(BK_BEKEN_BK7231T, 0x400000, &addr, &err),
			 BK_EINVAL);
	assert_int_equal(bk_beken_rf_addr(BK_BEKEN_FAMILY_UNKNOWN, MIB2, &addr,
					  &err), BK_EINVAL);
	assert_string_equal(bk_beken_family_name(BK_BEKEN_BK7231N), "BK7231N");
	assert_string_equal(bk_beken_family_name((enum bk_beken_family)99),
			    "unknown");
}

static void rbl_file(void **state)
{
	(void)state;
	enum { BODY = 1000, PKG = 1008 };
	uint8_t f[96 + PKG];
	memset(f, 0, sizeof f);
	for (int i = 0; i < PKG; i++)
		f[96 + i] = rnd();
	memcpy(f, "RBL", 4);
	memcpy(f + 12, "app\x01", 4);
	memcpy(f + 28, "2.5.0", 5);
	uint8_t pad[8];
	memset(pad, 8, sizeof pad);
	uint32_t c = (uint32_t)crc32(0, f + 96, BODY);
	put_le32(f + 76, (uint32_t)crc32(c, pad, sizeof pad));
	put_le32(f + 84, BODY);
	put_le32(f + 88, PKG);
	put_le32(f + 92, (uint32_t)crc32(0, f, 92));

	struct bk_beken_rbl rbl;
	struct bk_err err = { 0 };
	assert_int_equal(bk_beken_rbl_parse(f, sizeof f, &rbl, &err), BK_OK);
	assert_true(rbl.present && rbl.header_ok && rbl.body_ok);
	assert_string_equal(rbl.name, "app?");
	assert_string_equal(rbl.version, "2.5.0");
	assert_int_equal(rbl.size_package, PKG);
	/* Body cut short: header fine, body unchecked. */
	assert_int_equal(bk_beken_rbl_parse(f, sizeof f - 1, &rbl, &err), BK_OK);
	assert_true(rbl.header_ok);
	assert_false(rbl.body_ok);
	f[50] ^= 1;
	assert_int_equal(bk_beken_rbl_parse(f, sizeof f, &rbl, &err), BK_OK);
	assert_false(rbl.header_ok);
	assert_int_equal(bk_beken_rbl_parse(f, 95, &rbl, &err), BK_EINVAL);
	f[0] = 'X';
	assert_int_equal(bk_beken_rbl_parse(f, sizeof f, &rbl, &err), BK_EINVAL);
	assert_false(rbl.present);

	struct bk_beken_class cls;
	f[0] = 'R';
	assert_int_equal(bk_beken_classify(f, sizeof f, &cls, NULL), BK_OK);
	assert_int_equal(cls.kind, BK_BEKEN_IMG_RBL);
	assert_int_equal(cls.flash_offset, BK_BEKEN_NONE);
}

static void classify_each_kind(void **state)
{
	(void)state;
	uint8_t *img = make_full(BK_BEKEN_BK7231T);
	struct bk_beken_class cls;
	struct bk_err err = { 0 };

	/* Bootloader + app, as an OpenBeken QIO file. */
	uint8_t *p = prefix(img, APP_END);
	assert_int_equal(bk_beken_classify(p, APP_END, &cls, NULL), BK_OK);
	assert_int_equal(cls.kind, BK_BEKEN_IMG_QIO);
	assert_int_equal(cls.flash_offset, 0);
	assert_int_equal(cls.family, BK_BEKEN_BK7231T);
	free(p);

	/* App only. */
	p = prefix(img + BOOT_END, APP_END - BOOT_END);
	assert_int_equal(bk_beken_classify(p, APP_END - BOOT_END, &cls, NULL),
			 BK_OK);
	assert_int_equal(cls.kind, BK_BEKEN_IMG_UA);
	assert_int_equal(cls.flash_offset, 0x11000);
	assert_int_equal(cls.family, BK_BEKEN_FAMILY_UNKNOWN);
	free(p);

	/* Bootloader alone: neither chip-sized nor QIO-sized. */
	p = prefix(img, BOOT_END);
	assert_int_equal(bk_beken_classify(p, BOOT_END, &cls, NULL), BK_OK);
	assert_int_equal(cls.kind, BK_BEKEN_IMG_UNKNOWN);
	assert_int_equal(cls.flash_offset, BK_BEKEN_NONE);
	free(p);

	/* Chip-sized but app first with no bootloader anywhere: must not pass
	 * for an app image, whose place would be 0x11000. */
	memset(img, 0xFF, BOOT_END);
	uint8_t *rot = rotate(img);
	assert_int_equal(bk_beken_classify(rot, MIB2, &cls, NULL), BK_OK);
	assert_int_equal(cls.kind, BK_BEKEN_IMG_UNKNOWN);
	free(rot);
	free(img);

	uint8_t ug[64] = { 0x55, 0xAA, 0x55, 0xAA };
	assert_int_equal(bk_beken_classify(ug, sizeof ug, &cls, NULL), BK_OK);
	assert_int_equal(cls.kind, BK_BEKEN_IMG_UG);
	assert_int_equal(cls.flash_offset, BK_BEKEN_NONE);

	uint8_t uf2[512] = { 0 };
	put_le32(uf2, 0x0A324655);
	put_le32(uf2 + 4, 0x9E5D5157);
	put_le32(uf2 + 8, 0x2000);
	put_le32(uf2 + 28, 0x7B3EF230);
	put_le32(uf2 + 508, 0x0AB16F30);
	assert_int_equal(bk_beken_classify(uf2, sizeof uf2, &cls, NULL), BK_OK);
	assert_int_equal(cls.kind, BK_BEKEN_IMG_UF2);
	assert_int_equal(cls.family, BK_BEKEN_BK7231N);
	assert_int_equal(cls.flash_offset, BK_BEKEN_NONE);
	put_le32(uf2 + 28, 0x675A40B0);
	assert_int_equal(bk_beken_classify(uf2, sizeof uf2, &cls, NULL), BK_OK);
	assert_int_equal(cls.family, BK_BEKEN_BK7231T);
	put_le32(uf2 + 8, 0); /* word 7 is then the file size, not a family */
	assert_int_equal(bk_beken_classify(uf2, sizeof uf2, &cls, NULL), BK_OK);
	assert_int_equal(cls.kind, BK_BEKEN_IMG_UF2);
	assert_int_equal(cls.family, BK_BEKEN_FAMILY_UNKNOWN);
	assert_int_equal(bk_beken_classify(uf2, 8, &cls, NULL), BK_OK);
	assert_int_equal(cls.kind, BK_BEKEN_IMG_UF2);

	for (size_t n = 1; n <= 8; n++) {
		uint8_t *tiny = prefix(uf2, n);
		assert_int_equal(bk_beken_classify(tiny, n, &cls, NULL), BK_OK);
		assert_int_equal(cls.kind, n == 8 ? BK_BEKEN_IMG_UF2
						 : BK_BEKEN_IMG_UNKNOWN);
		free(tiny);
	}
	assert_int_equal(bk_beken_classify(uf2, 0, &cls, &err), BK_EINVAL);
	assert_int_equal(cls.kind, BK_BEKEN_IMG_UNKNOWN);
	assert_non_null(cls.name);
	assert_int_equal(bk_beken_classify(uf2, 8, NULL, &err), BK_EINVAL);
}

static void tuya_store_alone(void **state)
{
	(void)state;
	const size_t n = 0x12000;
	uint8_t *p = malloc(n);
	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = rnd();
	put_key_page(p);
	struct bk_beken_info in;
	assert_int_equal(bk_beken_analyse(p, n, &in, NULL), BK_OK);
	assert_int_equal(in.tuya_kvs, KEY_PAGE);
	assert_true(in.tuya_kvs_only);
	assert_int_equal(in.family, BK_BEKEN_FAMILY_UNKNOWN);
	assert_false(in.has_mac);
	assert_false(in.has_bootloader);

	/* Half the page repeated is no longer a majority. */
	for (size_t i = 0x800; i < 0x1000; i++)
		p[i] = rnd();
	assert_int_equal(bk_beken_analyse(p, n, &in, NULL), BK_OK);
	assert_int_equal(in.tuya_kvs, BK_BEKEN_NONE);
	/* One repeated byte is blank flash, not ciphertext. */
	memset(p, 0x5A, 0x1000);
	assert_int_equal(bk_beken_analyse(p, n, &in, NULL), BK_OK);
	assert_int_equal(in.tuya_kvs, BK_BEKEN_NONE);
	free(p);
}

/* Tiny_CRC8 as OpenBeken and BK7231GUIFlashTool publish it: reflected
 * poly 0x8C, init 0, with plain char registers. */
static uint8_t ref_crc8_unsigned(const uint8_t *p, size_t n)
{
	uint8_t crc = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t x = p[i];
		for (int b = 8; b; b--) {
			uint8_t sum = (crc ^ x) & 1;
			crc >>= 1;
			if (sum)
				crc ^= 0x8C;
			x >>= 1;
		}
	}
	return crc;
}

static uint8_t ref_crc8_signed(const uint8_t *p, size_t n)
{
	int8_t crc = 0;
	for (size_t i = 0; i < n; i++) {
		int8_t x = (int8_t)p[i];
		for (int b = 8; b; b--) {
			int8_t sum = (int8_t)((crc ^ x) & 1);
			crc = (int8_t)(crc >> 1); /* arithmetic, as in C# sbyte */
			if (sum)
				crc = (int8_t)(crc ^ (int8_t)0x8C);
			x = (int8_t)(x >> 1);
		}
	}
	return (uint8_t)crc;
}

static void obk_config(void **state)
{
	(void)state;
	uint8_t *img = make_full(BK_BEKEN_BK7231T);
	uint8_t *cfg = img + RF_T + 0x1000;
	for (int i = 0; i < 3584; i++)
		cfg[i] = rnd();
	memcpy(cfg, "CFG", 3);
	put_le32(cfg + 4, 4);
	cfg[3] = ref_crc8_unsigned(cfg + 4, 3584 - 4);
	struct bk_beken_info in;
	assert_int_equal(bk_beken_analyse(img, MIB2, &in, NULL), BK_OK);
	assert_int_equal(in.obk_config, RF_T + 0x1000);
	assert_int_equal(in.obk_version, 4);

	/* Version 3 configs are 2016 bytes; the signed-char CRC counts too. */
	put_le32(cfg + 4, 3);
	cfg[3] = ref_crc8_signed(cfg + 4, 2016 - 4);
	assert_int_not_equal(cfg[3], ref_crc8_unsigned(cfg + 4, 2016 - 4));
	assert_int_equal(bk_beken_analyse(img, MIB2, &in, NULL), BK_OK);
	assert_int_equal(in.obk_config, RF_T + 0x1000);
	assert_int_equal(in.obk_version, 3);

	cfg[100] ^= 1;
	assert_int_equal(bk_beken_analyse(img, MIB2, &in, NULL), BK_OK);
	assert_int_equal(in.obk_config, BK_BEKEN_NONE);
	cfg[100] ^= 1;
	put_le32(cfg + 4, 0);
	assert_int_equal(bk_beken_analyse(img, MIB2, &in, NULL), BK_OK);
	assert_int_equal(in.obk_config, BK_BEKEN_NONE);
	free(img);
}

static void unrotate_errors(void **state)
{
	(void)state;
	uint8_t a[16], b[16];
	struct bk_err err = { 0 };
	for (int i = 0; i < 16; i++)
		a[i] = (uint8_t)i;
	assert_int_equal(bk_beken_unrotate(a, 16, 4, b, 16, &err), BK_OK);
	assert_int_equal(b[0], 12);
	assert_int_equal(b[4], 0);
	assert_int_equal(bk_beken_unrotate(a, 16, 0, b, 16, &err), BK_OK);
	assert_memory_equal(a, b, 16);
	assert_int_equal(bk_beken_unrotate(a, 16, 16, b, 16, &err), BK_EINVAL);
	assert_int_equal(bk_beken_unrotate(a, 16, 4, b, 15, &err), BK_EINVAL);
	assert_int_equal(bk_beken_unrotate(a, 16, 4, a + 8, 8, &err), BK_EINVAL);
	assert_int_equal(bk_beken_unrotate(a, 8, 4, a + 4, 8, &err), BK_EINVAL);
	assert_int_equal(bk_beken_unrotate(NULL, 16, 4, b, 16, &err), BK_EINVAL);
	assert_int_equal(bk_beken_detect_rotation(NULL, 0), 0);
	assert_int_equal(bk_beken_detect_rotation(a, 16), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crc16_known_answers),
		cmocka_unit_test(blocks_count_and_first_corrupt),
		cmocka_unit_test(blocks_every_bit_flip_is_corrupt),
		cmocka_unit_test(blocks_bad_ranges),
		cmocka_unit_test(fingerprint_t_and_n),
		cmocka_unit_test(analyse_full_t),
		cmocka_unit_test(analyse_full_n),
		cmocka_unit_test(analyse_rotated_and_unrotate),
		cmocka_unit_test(analyse_unknown_bootloader),
		cmocka_unit_test(analyse_one_flipped_bit),
		cmocka_unit_test(analyse_truncated),
		cmocka_unit_test(analyse_erased_and_garbage),
		cmocka_unit_test(mac_and_rf_addr),
		cmocka_unit_test(rbl_file),
		cmocka_unit_test(classify_each_kind),
		cmocka_unit_test(tuya_store_alone),
		cmocka_unit_test(obk_config),
		cmocka_unit_test(unrotate_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
