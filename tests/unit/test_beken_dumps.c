/* src/beken on the six real dumps (see ../shared/dumps/README.md). Expected
 * values come from that README (family, bootloader CRC and version,
 * rotation, MAC, RF sector, partition table) and from reading the bytes
 * with Python while writing these tests (block counts, RBL fields). Only
 * numbers, names and the README's MACs may appear in failure output: the
 * dumps hold device secrets, so no dump bytes are compared with
 * assert_memory_equal except MACs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beken/beken.h"
#include "dumps.h"

#define MIB2 0x200000u

struct rbl_expect {
	uint32_t body_crc;
	uint32_t size_raw;
};

struct dump_expect {
	const char *file;
	enum bk_beken_family family;
	uint32_t boot_crc;
	const char *boot_version;
	uint32_t rotation;
	uint8_t mac[6];
	uint32_t rf;
	uint32_t ptable;
	uint32_t boot_valid, boot_erased;
	uint32_t app_valid, app_erased;
	struct rbl_expect rbl_boot, rbl_app;
};

static const struct dump_expect dumps[] = {
	{ "bk7231t-tuya-ds-101jl-4gang-switch.bin", BK_BEKEN_BK7231T,
	  0xBA54C1B8, "1.0.5", 0, { 0xA0, 0x92, 0x08, 0x75, 0x81, 0x04 },
	  0x1E0000, 0xEA14, 1772, 276, 29249, 4599,
	  { 0x878FF8A1, 0xDD10 }, { 0xD3B62B19, 0xE47B0 } },
	{ "bk7231n-moes-wk-us2-tc-outlet.bin", BK_BEKEN_BK7231N,
	  0xE14191BA, "1.0.1", 0, { 0x1C, 0x90, 0xFF, 0x5B, 0x22, 0x6B },
	  0x1D0000, 0xF7F0, 1876, 172, 29832, 4016,
	  { 0xA9792DA2, 0xEA1C }, { 0xDF1C2DF2, 0xE9090 } },
	{ "bk7231t-led-moon-18w-cct-rotated.bin", BK_BEKEN_BK7231T,
	  0xBA54C1B8, "1.0.5", 0x11000, { 0x50, 0x8A, 0x06, 0xAE, 0x1B, 0x4D },
	  0x1E0000, 0xEA14, 1772, 276, 32413, 1435,
	  { 0x878FF8A1, 0xDD10 }, { 0x8A063127, 0xFD330 } },
	{ "bk7231t-globe-37783-rgbct-bulb.bin", BK_BEKEN_BK7231T,
	  0x4B31E44D, "1.0.3", 0, { 0x68, 0x57, 0x2D, 0xB3, 0x24, 0x43 },
	  0x1E0000, 0xF1EA, 1831, 217, 24988, 8860,
	  { 0x7085BE2B, 0xE470 }, { 0xD210B5DB, 0xC3310 } },
	{ "bk7231n-kanlux-33643-gu10-bulb.bin", BK_BEKEN_BK7231N,
	  0xE14191BA, "1.0.1", 0, { 0xA0, 0x92, 0x08, 0x3E, 0x54, 0x88 },
	  0x1D0000, 0xF7F0, 1876, 172, 31091, 2757,
	  { 0xA9792DA2, 0xEA1C }, { 0x822C9E34, 0xF2DF0 } },
};

#define CONFIG_72K "bk7231t-tuya-config-pc44ha-72k.bin"
#define GLOBE "bk7231t-globe-37783-rgbct-bulb.bin"
#define LED_MOON "bk7231t-led-moon-18w-cct-rotated.bin"

/* Loads a dump, or skips the test when the dumps folder is absent. */
static unsigned char *need(const char *name, size_t *size)
{
	if (!dumps_present()) {
		printf("skip: %s not found\n", dumps_dir());
		skip();
	}
	unsigned char *img = dumps_load(name, size);
	if (!img)
		fail_msg("cannot read %s/%s", dumps_dir(), name);
	return img;
}

static void check_rbl(const struct bk_beken_rbl *r, uint32_t addr,
		      const char *name, const struct rbl_expect *e)
{
	assert_int_equal(r->addr, addr);
	assert_true(r->present);
	assert_true(r->header_ok);
	assert_true(r->body_ok);
	assert_string_equal(r->name, name);
	assert_string_equal(r->version, "1.00");
	assert_int_equal(r->algo, 0);
	assert_int_equal(r->body_crc, e->body_crc);
	assert_int_equal(r->size_raw, e->size_raw);
}

static void full_dump(void **state)
{
	const struct dump_expect *e = *state;
	size_t n = 0;
	unsigned char *img = need(e->file, &n);
	assert_int_equal(n, MIB2);

	struct bk_beken_info in;
	struct bk_err err = { 0 };
	assert_int_equal(bk_beken_analyse(img, n, &in, &err), BK_OK);
	assert_int_equal(in.flash_size, MIB2);
	assert_int_equal(in.rotation, e->rotation);
	assert_int_equal(in.family, e->family);
	assert_string_equal(in.family_evidence, "bootloader fingerprint");
	assert_true(in.has_bootloader);
	assert_true(in.has_boot_crc);
	assert_int_equal(in.boot_crc, e->boot_crc);
	assert_non_null(in.boot);
	assert_string_equal(in.boot->version, e->boot_version);

	assert_int_equal(in.app_end, 0x129F70);
	assert_int_equal(in.boot_blocks.valid, e->boot_valid);
	assert_int_equal(in.boot_blocks.erased, e->boot_erased);
	assert_int_equal(in.boot_blocks.corrupt, 0);
	assert_int_equal(in.boot_blocks.first_corrupt, BK_BEKEN_NONE);
	assert_int_equal(in.app_blocks.valid, e->app_valid);
	assert_int_equal(in.app_blocks.erased, e->app_erased);
	assert_int_equal(in.app_blocks.corrupt, 0);
	assert_int_equal(in.app_blocks.first_corrupt, BK_BEKEN_NONE);

	assert_int_equal(in.ptable, e->ptable);
	check_rbl(&in.rbl_boot, 0x10F9A, "bootloader", &e->rbl_boot);
	check_rbl(&in.rbl_app, 0x129F0A, "app", &e->rbl_app);

	assert_int_equal(in.rf_addr, e->rf);
	assert_true(in.has_mac);
	assert_memory_equal(in.mac, e->mac, 6);
	uint32_t rf = 0;
	assert_int_equal(bk_beken_rf_addr(in.family, MIB2, &rf, &err), BK_OK);
	assert_int_equal(rf, e->rf);

	assert_int_equal(in.tuya_kvs, 0x1EE000);
	assert_false(in.tuya_kvs_only);
	assert_int_equal(in.obk_config, BK_BEKEN_NONE);

	struct bk_beken_class cls;
	assert_int_equal(bk_beken_classify(img, n, &cls, &err), BK_OK);
	assert_int_equal(cls.kind, BK_BEKEN_IMG_FULL);
	assert_int_equal(cls.flash_offset, 0);
	assert_int_equal(cls.rotation, e->rotation);
	assert_int_equal(cls.family, e->family);
	free(img);
}

static void config_only_72k(void **state)
{
	(void)state;
	size_t n = 0;
	unsigned char *img = need(CONFIG_72K, &n);
	assert_int_equal(n, 73728);

	struct bk_beken_info in;
	assert_int_equal(bk_beken_analyse(img, n, &in, NULL), BK_OK);
	assert_int_equal(in.flash_size, 0);
	assert_int_equal(in.rotation, 0);
	assert_int_equal(in.family, BK_BEKEN_FAMILY_UNKNOWN);
	assert_false(in.has_bootloader);
	assert_null(in.boot);
	assert_int_equal(in.boot_blocks.valid, 0);
	assert_int_equal(in.app_blocks.valid, 0);
	assert_false(in.rbl_boot.present);
	assert_false(in.rbl_app.present);
	assert_int_equal(in.ptable, BK_BEKEN_NONE);
	assert_int_equal(in.rf_addr, BK_BEKEN_NONE);
	assert_false(in.has_mac);
	assert_int_equal(in.tuya_kvs, 0x1EE000);
	assert_true(in.tuya_kvs_only);
	assert_int_equal(in.obk_config, BK_BEKEN_NONE);

	struct bk_beken_class cls;
	assert_int_equal(bk_beken_classify(img, n, &cls, NULL), BK_OK);
	assert_int_equal(cls.kind, BK_BEKEN_IMG_UNKNOWN);
	assert_int_equal(cls.flash_offset, BK_BEKEN_NONE);
	assert_int_equal(cls.family, BK_BEKEN_FAMILY_UNKNOWN);
	free(img);
}

/* README: the bootloader sits at file offset 0x1EF000; undone, the RF
 * sector is at 0x1E0000 with MAC 50:8a:06:ae:1b:4d. */
static void led_moon_unrotated(void **state)
{
	(void)state;
	static const uint8_t mac_expect[6] = { 0x50, 0x8A, 0x06,
					       0xAE, 0x1B, 0x4D };
	size_t n = 0;
	unsigned char *img = need(LED_MOON, &n);
	assert_null(bk_beken_fingerprint(img, n));
	const struct bk_beken_fingerprint *fp =
		bk_beken_fingerprint(img + 0x1EF000, n - 0x1EF000);
	assert_non_null(fp);
	assert_int_equal(fp->crc, 0xBA54C1B8);
	assert_int_equal(bk_beken_detect_rotation(img, n), 0x11000);

	uint8_t *flat = malloc(n);
	assert_non_null(flat);
	assert_int_equal(bk_beken_unrotate(img, n, 0x11000, flat, n, NULL),
			 BK_OK);
	assert_int_equal(bk_beken_detect_rotation(flat, n), 0);
	fp = bk_beken_fingerprint(flat, n);
	assert_non_null(fp);
	assert_int_equal(fp->family, BK_BEKEN_BK7231T);
	assert_string_equal(fp->version, "1.0.5");
	uint8_t mac[6];
	assert_int_equal(bk_beken_mac(flat, n, 0x1E0000, mac, NULL), BK_OK);
	assert_memory_equal(mac, mac_expect, 6);

	struct bk_beken_info in;
	assert_int_equal(bk_beken_analyse(flat, n, &in, NULL), BK_OK);
	assert_int_equal(in.rotation, 0);
	assert_int_equal(in.rf_addr, 0x1E0000);
	assert_memory_equal(in.mac, mac_expect, 6);
	free(flat);
	free(img);
}

/* The MAC API on each unrotated dump, at the README's RF sector. */
static void mac_of_each_dump(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof dumps / sizeof dumps[0]; i++) {
		if (dumps[i].rotation)
			continue; /* led_moon_unrotated covers it */
		size_t n = 0;
		unsigned char *img = need(dumps[i].file, &n);
		uint8_t mac[6];
		assert_int_equal(bk_beken_mac(img, n, dumps[i].rf, mac, NULL),
				 BK_OK);
		assert_memory_equal(mac, dumps[i].mac, 6);
		const struct bk_beken_fingerprint *fp = bk_beken_fingerprint(img, n);
		assert_non_null(fp);
		assert_int_equal(fp->crc, dumps[i].boot_crc);
		free(img);
	}
}

/* Pieces of a real dump, cut as users' files would be. */
static void globe_slices_classify(void **state)
{
	(void)state;
	size_t n = 0;
	unsigned char *img = need(GLOBE, &n);
	struct bk_beken_class cls;

	uint8_t *p = malloc(0x129F70);
	assert_non_null(p);
	memcpy(p, img, 0x129F70);
	assert_int_equal(bk_beken_classify(p, 0x129F70, &cls, NULL), BK_OK);
	assert_int_equal(cls.kind, BK_BEKEN_IMG_QIO);
	assert_int_equal(cls.flash_offset, 0);
	assert_int_equal(cls.family, BK_BEKEN_BK7231T);
	free(p);

	/* The globe app starts 39 07 b5 94 ..., not 2f: still an app. */
	const size_t ua = 0x129F70 - 0x11000;
	p = malloc(ua);
	assert_non_null(p);
	memcpy(p, img + 0x11000, ua);
	assert_int_equal(bk_beken_classify(p, ua, &cls, NULL), BK_OK);
	assert_int_equal(cls.kind, BK_BEKEN_IMG_UA);
	assert_int_equal(cls.flash_offset, 0x11000);
	free(p);
	free(img);
}

/* One bit flipped in a copy: one corrupt block, at its flash address. */
static void flipped_bit_in_dumps(void **state)
{
	(void)state;
	size_t n = 0;
	unsigned char *img = need(GLOBE, &n);
	struct bk_beken_info in;
	img[0x11154 + 3] ^= 0x04; /* app block 10 */
	assert_int_equal(bk_beken_analyse(img, n, &in, NULL), BK_OK);
	assert_int_equal(in.app_blocks.corrupt, 1);
	assert_int_equal(in.app_blocks.first_corrupt, 0x11154);
	assert_int_equal(in.boot_blocks.corrupt, 0);
	free(img);

	/* Flash 0x11154 is file offset 0x154 in the rotated dump. */
	img = need(LED_MOON, &n);
	img[0x154 + 3] ^= 0x04;
	assert_int_equal(bk_beken_analyse(img, n, &in, NULL), BK_OK);
	assert_int_equal(in.rotation, 0x11000);
	assert_int_equal(in.app_blocks.corrupt, 1);
	assert_int_equal(in.app_blocks.first_corrupt, 0x11154);
	free(img);
}

/* One named test per full dump, the expectations as its state. */
#define FULL_DUMP(i, name) \
	{ "full_dump " name, full_dump, NULL, NULL, (void *)&dumps[i] }

int main(void)
{
	const struct CMUnitTest tests[] = {
		FULL_DUMP(0, "ds-101jl"),
		FULL_DUMP(1, "moes-wk-us2"),
		FULL_DUMP(2, "led-moon-rotated"),
		FULL_DUMP(3, "globe-37783"),
		FULL_DUMP(4, "kanlux-33643"),
		cmocka_unit_test(config_only_72k),
		cmocka_unit_test(led_moon_unrotated),
		cmocka_unit_test(mac_of_each_dump),
		cmocka_unit_test(globe_slices_classify),
		cmocka_unit_test(flipped_bit_in_dumps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
