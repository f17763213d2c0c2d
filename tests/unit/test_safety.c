/* bk_safety_check (src/core/safety.c): what a Beken chip may be given.
 *
 * Synthetic files are built here from the format definitions (field notes
 * sections 4-5): CRC-16 framed blocks, the app magic, "RBL\0", 55 AA 55 AA,
 * the UF2 magic. The family checks need real bootloaders (the synthetic
 * image's is no known fingerprint), so they use ../shared/dumps and skip with
 * one line when that folder is absent. The dumps hold device secrets: only
 * the library's verdicts, kinds and messages are compared, never dump bytes.
 *
 * Every refusal is checked twice: without force (BK_EREFUSED, a one-line
 * message naming what the file is and what to do, ending with the --force
 * hint) and with force (success, and `overridden` naming the same thing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beken/beken.h"
#include "beken/policy.h"
#include "dumps.h"
#include "emu/emu.h"

#define MIB2 0x200000u
#define BOOT_END 0x11000u
#define APP_END 0x129F70u
#define UA_LEN (APP_END - BOOT_END)
#define BOOT_READ 4096u /* what the writer reads of the chip when it has no backup */

#define T_4GANG "bk7231t-tuya-ds-101jl-4gang-switch.bin"
#define T_GLOBE "bk7231t-globe-37783-rgbct-bulb.bin"
#define T_MOON "bk7231t-led-moon-18w-cct-rotated.bin"
#define N_MOES "bk7231n-moes-wk-us2-tc-outlet.bin"
#define N_KANLUX "bk7231n-kanlux-33643-gu10-bulb.bin"

static const uint8_t app_magic[8] = { 0x2F, 0x07, 0xB5, 0x94, 0x35, 0xFF, 0x2A, 0x9B };

/* ---- building files ---------------------------------------------------- */

static uint32_t rng = 0x2545F491u;

static uint8_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return (uint8_t)(rng >> 24);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void seal(uint8_t *blk)
{
	uint16_t c = bk_beken_crc16(blk, BK_BEKEN_BLOCK_DATA);
	blk[32] = (uint8_t)(c >> 8);
	blk[33] = (uint8_t)c;
}

/* Random CRC-framed blocks over [start, end) of buf (whole blocks only). */
static void fill_framed(uint8_t *buf, uint32_t start, uint32_t end)
{
	for (uint32_t a = start; a + BK_BEKEN_BLOCK <= end; a += BK_BEKEN_BLOCK) {
		for (uint32_t i = 0; i < BK_BEKEN_BLOCK_DATA; i++)
			buf[a + i] = rnd();
		seal(buf + a);
	}
}

/* An app as a UA file: framed blocks, the first starting with the magic. */
static uint8_t *make_ua(size_t len)
{
	uint8_t *p = malloc(len);
	assert_non_null(p);
	memset(p, 0xFF, len);
	fill_framed(p, 0, (uint32_t)len);
	memcpy(p, app_magic, sizeof app_magic);
	seal(p);
	return p;
}

/* Bootloader at 0 (framed, not starting like the app), app at 0x11000: a
 * full image when len is 2 MiB, "QIO" when it ends at the app's end. The
 * bootloader matches no fingerprint, so the family stays unknown. */
static uint8_t *make_boot_app(size_t len)
{
	uint8_t *p = malloc(len);
	assert_non_null(p);
	memset(p, 0xFF, len);
	fill_framed(p, 0, BOOT_END);
	p[1] = 0x00; /* never the app's second byte (0x07) */
	seal(p);
	if (len <= BOOT_END)
		return p; /* a bootloader alone */
	uint32_t app_end = len < APP_END ? (uint32_t)len : APP_END;
	fill_framed(p, BOOT_END, app_end);
	memcpy(p + BOOT_END, app_magic, sizeof app_magic);
	seal(p + BOOT_END);
	return p;
}

/* The full image as some readers save it: the app first, the bootloader in
 * the last 0x11000 bytes. */
static uint8_t *rotate(const uint8_t *flat, size_t n)
{
	uint8_t *p = malloc(n);
	assert_non_null(p);
	memcpy(p, flat + BOOT_END, n - BOOT_END);
	memcpy(p + (n - BOOT_END), flat, BOOT_END);
	return p;
}

static uint8_t *make_rbl(size_t len)
{
	uint8_t *p = malloc(len);
	assert_non_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = rnd();
	memcpy(p, "RBL\0", 4);
	memcpy(p + 12, "app\0", 4);
	memcpy(p + 28, "1.00\0", 5);
	return p;
}

static uint8_t *make_ug(size_t len)
{
	uint8_t *p = malloc(len);
	assert_non_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = rnd();
	memcpy(p, "\x55\xAA\x55\xAA", 4);
	return p;
}

/* UF2 blocks of 512 bytes: magics, flags with "family id present", the
 * BK7231T family id (0x675A40B0) in word 7, final magic. */
static uint8_t *make_uf2(size_t len)
{
	uint8_t *p = calloc(1, len);
	assert_non_null(p);
	for (size_t b = 0; b + 512 <= len; b += 512) {
		put_le32(p + b, 0x0A324655u);
		put_le32(p + b + 4, 0x9E5D5157u);
		put_le32(p + b + 8, 0x2000u);
		put_le32(p + b + 12, (uint32_t)(b / 512 * 256));
		put_le32(p + b + 16, 256);
		put_le32(p + b + 20, (uint32_t)(b / 512));
		put_le32(p + b + 24, (uint32_t)(len / 512));
		put_le32(p + b + 28, 0x675A40B0u);
		put_le32(p + b + 508, 0x0AB16F30u);
	}
	return p;
}

/* ---- checking verdicts ---------------------------------------------------- */

/* Up to four substrings; NULL ends the list early. */
struct subs {
	const char *s[4];
};

static void has_all(const char *text, const struct subs *want, const char *where)
{
	for (int i = 0; i < 4 && want->s[i]; i++)
		if (!strstr(text, want->s[i]))
			fail_msg("%s \"%s\" lacks \"%s\"", where, text, want->s[i]);
}

/* The file is accepted as is: success, nothing overridden. */
static void expect_ok(const uint8_t *f, size_t n, uint32_t off, const uint8_t *boot, size_t boot_len,
		      struct bk_safety *s)
{
	struct bk_err err = { 0 };
	int r = bk_safety_check(f, n, off, boot, boot_len, 0, s, &err);
	if (r)
		fail_msg("refused (%d): %s", r, err.msg);
	assert_string_equal(s->overridden, "");
	/* force changes nothing about an acceptable file */
	r = bk_safety_check(f, n, off, boot, boot_len, 1, s, &err);
	assert_int_equal(r, 0);
	assert_string_equal(s->overridden, "");
}

/* Refused without force: BK_EREFUSED, one line with every `what` and
 * `instead` substring and the --force hint. With force: 0, and overridden
 * names the same thing (every `what` substring) but no instructions. */
static void expect_refused(const uint8_t *f, size_t n, uint32_t off, const uint8_t *boot, size_t boot_len,
			   const struct subs *what, const struct subs *instead, struct bk_safety *s)
{
	struct bk_err err = { 0 };
	int r = bk_safety_check(f, n, off, boot, boot_len, 0, s, &err);
	assert_int_equal(r, BK_EREFUSED);
	assert_int_equal(err.code, BK_EREFUSED);
	assert_null(strchr(err.msg, '\n'));
	has_all(err.msg, what, "message");
	has_all(err.msg, instead, "message");
	if (!strstr(err.msg, "--force"))
		fail_msg("message \"%s\" does not mention --force", err.msg);
	assert_string_equal(s->overridden, "");

	struct bk_err err2 = { 0 };
	r = bk_safety_check(f, n, off, boot, boot_len, 1, s, &err2);
	if (r)
		fail_msg("with force still failed (%d): %s", r, err2.msg);
	assert_true(s->overridden[0] != '\0');
	has_all(s->overridden, what, "overridden");
}

/* Loads a dump, or skips the test when the dumps folder is absent. */
static uint8_t *need(const char *name, size_t *size)
{
	if (!dumps_present()) {
		printf("skip: %s not found\n", dumps_dir());
		skip();
	}
	uint8_t *img = dumps_load(name, size);
	if (!img)
		fail_msg("cannot read %s/%s", dumps_dir(), name);
	return img;
}

/* ---- synthetic files ---------------------------------------------------- */

static void ua_belongs_at_0x11000(void **state)
{
	(void)state;
	struct bk_safety s;
	uint8_t *ua = make_ua(UA_LEN);
	expect_ok(ua, UA_LEN, 0x11000, NULL, 0, &s);
	assert_int_equal(s.file.kind, BK_BEKEN_IMG_UA);
	assert_int_equal(s.file.flash_offset, 0x11000);
	assert_int_equal(s.chip, BK_BEKEN_FAMILY_UNKNOWN);

	expect_refused(ua, UA_LEN, 0, NULL, 0,
		       &(struct subs){ { "app only (UA)", "belongs at 0x011000", "at 0x000000",
					 "overwrite the bootloader" } },
		       &(struct subs){ { "--offset 0x11000" } }, &s);
	assert_int_equal(s.file.kind, BK_BEKEN_IMG_UA);

	/* Past its place it would not hit the bootloader, but still the wrong place. */
	expect_refused(ua, UA_LEN, 0x12000, NULL, 0,
		       &(struct subs){ { "app only (UA)", "belongs at 0x011000", "at 0x012000",
					 "wrong place" } },
		       &(struct subs){ { "--offset 0x11000" } }, &s);
	/* Just below it, it would. */
	expect_refused(ua, UA_LEN, 0x10000, NULL, 0,
		       &(struct subs){ { "app only (UA)", "at 0x010000", "bootloader" } },
		       &(struct subs){ { "--offset 0x11000" } }, &s);
	free(ua);

	/* A short app (a few KiB) is still an app, but one cut short: its
	 * last block still checks where the application goes on. */
	ua = make_ua(0x2000);
	expect_refused(ua, 0x2000, 0, NULL, 0, &(struct subs){ { "app only (UA)" } },
		       &(struct subs){ { "--offset 0x11000" } }, &s);
	expect_refused(ua, 0x2000, 0x11000, NULL, 0,
		       &(struct subs){ { "ends at flash address 0x013000", "inside the application", "cut short" } },
		       &(struct subs){ { "whole image" } }, &s);
	free(ua);

	/* Damaged blocks inside the app: refused, naming the first (a flash address). */
	ua = make_ua(UA_LEN);
	memset(ua + 0x5000, 0, 0x800);
	expect_refused(ua, UA_LEN, 0x11000, NULL, 0,
		       &(struct subs){ { "application is damaged", "first at flash address 0x015FF4" } },
		       &(struct subs){ { "intact image" } }, &s);
	free(ua);
}

static void full_belongs_at_0(void **state)
{
	(void)state;
	struct bk_safety s;
	uint8_t *full = make_boot_app(MIB2);
	expect_ok(full, MIB2, 0, NULL, 0, &s);
	assert_int_equal(s.file.kind, BK_BEKEN_IMG_FULL);
	assert_int_equal(s.file.flash_offset, 0);
	assert_int_equal(s.file.rotation, 0);
	assert_int_equal(s.file.family, BK_BEKEN_FAMILY_UNKNOWN);

	expect_refused(full, MIB2, 0x11000, NULL, 0,
		       &(struct subs){ { "full flash dump", "belongs at 0x000000", "not 0x011000" } },
		       &(struct subs){ { "without --offset" } }, &s);
	expect_refused(full, MIB2, 0x1000, NULL, 0,
		       &(struct subs){ { "full flash dump", "not 0x001000" } },
		       &(struct subs){ { "without --offset" } }, &s);
	/* An unknown bootloader on the chip side cannot be compared: accepted. */
	expect_ok(full, MIB2, 0, full, BOOT_READ, &s);
	assert_int_equal(s.chip, BK_BEKEN_FAMILY_UNKNOWN);
	free(full);
}

static void qio_belongs_at_0(void **state)
{
	(void)state;
	struct bk_safety s;
	uint8_t *qio = make_boot_app(APP_END);
	expect_ok(qio, APP_END, 0, NULL, 0, &s);
	assert_int_equal(s.file.kind, BK_BEKEN_IMG_QIO);
	assert_int_equal(s.file.flash_offset, 0);

	expect_refused(qio, APP_END, 0x11000, NULL, 0,
		       &(struct subs){ { "bootloader + app (QIO)", "starts with the bootloader",
					 "belongs at 0x000000", "not 0x011000" } },
		       &(struct subs){ { "without --offset" } }, &s);
	expect_refused(qio, APP_END, 0x80000, NULL, 0,
		       &(struct subs){ { "bootloader + app (QIO)", "not 0x080000" } },
		       &(struct subs){ { "without --offset" } }, &s);
	free(qio);
}

static void rotated_full_refused(void **state)
{
	(void)state;
	struct bk_safety s;
	uint8_t *flat = make_boot_app(MIB2);
	uint8_t *rot = rotate(flat, MIB2);
	expect_refused(rot, MIB2, 0, NULL, 0,
		       &(struct subs){ { "full dump", "rotated by 0x11000", "application first" } },
		       &(struct subs){ { "rotate it back", "bootloader comes first" } }, &s);
	assert_int_equal(s.file.kind, BK_BEKEN_IMG_FULL);
	assert_int_equal(s.file.rotation, 0x11000);
	/* The unrotated image is fine. */
	expect_ok(flat, MIB2, 0, NULL, 0, &s);
	free(rot);
	free(flat);
}

/* OTA packages are refused wherever they go. */
static void ota_packages_refused(void **state)
{
	(void)state;
	struct bk_safety s;
	static const uint32_t offsets[] = { 0, 0x11000, 0x100000 };
	const size_t n = 0x4000;
	uint8_t *rbl = make_rbl(n), *ug = make_ug(n), *uf2 = make_uf2(n);
	for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
		expect_refused(rbl, n, offsets[i], NULL, 0,
			       &(struct subs){ { "OTA package (RBL)", "over-the-air update package",
						 "not a flash image" } },
			       &(struct subs){ { "full or bootloader+app image" } }, &s);
		assert_int_equal(s.file.kind, BK_BEKEN_IMG_RBL);
		assert_int_equal(s.file.flash_offset, BK_BEKEN_NONE);

		expect_refused(ug, n, offsets[i], NULL, 0,
			       &(struct subs){ { "Tuya OTA package (UG)", "over-the-air update package" } },
			       &(struct subs){ { "full or bootloader+app image" } }, &s);
		assert_int_equal(s.file.kind, BK_BEKEN_IMG_UG);

		expect_refused(uf2, n, offsets[i], NULL, 0,
			       &(struct subs){ { "UF2 package", "over-the-air update package" } },
			       &(struct subs){ { "full or bootloader+app image" } }, &s);
		assert_int_equal(s.file.kind, BK_BEKEN_IMG_UF2);
		assert_int_equal(s.file.family, BK_BEKEN_BK7231T);
	}
	/* Just the four magic bytes are enough. */
	expect_refused(rbl, 4, 0, NULL, 0, &(struct subs){ { "OTA package (RBL)" } },
		       &(struct subs){ { 0 } }, &s);
	expect_refused(ug, 4, 0, NULL, 0, &(struct subs){ { "Tuya OTA package (UG)" } },
		       &(struct subs){ { 0 } }, &s);
	free(rbl);
	free(ug);
	free(uf2);
}

/* At 0 the file replaces the bootloader: anything that is not one is
 * refused, before the chip is even known, saying what it looks like.
 * Elsewhere data bkspi knows nothing about is written as asked. */
static void unknown_data_at_0_refused(void **state)
{
	(void)state;
	struct bk_safety s;
	const size_t n = 0x10000;
	uint8_t *p = malloc(n);
	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = rnd();
	p[1] = 0x00;
	const struct subs no_boot = { { "does not start with a Beken bootloader", "brick" } };
	expect_refused(p, n, 0, NULL, 0, &no_boot, &(struct subs){ { "bootloader+app", "--offset" } }, &s);
	assert_int_equal(s.file.kind, BK_BEKEN_IMG_UNKNOWN);
	expect_ok(p, n, 0x11000, NULL, 0, &s);
	memset(p, 'a', n);
	memcpy(p, "# a text file\n", 14);
	expect_refused(p, n, 0, NULL, 0, &(struct subs){ { "text, not a flash image" } }, &(struct subs){ { 0 } }, &s);
	memset(p, 0xFF, n);
	expect_refused(p, n, 0, NULL, 0, &(struct subs){ { "all 0xFF", "erased" } },
		       &(struct subs){ { "bkspi erase" } }, &s);
	expect_ok(p, n, 0x1D0000, NULL, 0, &s);

	struct bk_err err = { 0 };
	int r = bk_safety_check(p, 0, 0, NULL, 0, 0, &s, &err);
	assert_int_equal(r, BK_EINVAL); /* empty: bad input, not a refusal */
	free(p);

	/* Part of a bootloader is not a bootloader. */
	uint8_t *boot = make_boot_app(BOOT_END);
	expect_refused(boot, 0x1000, 0, NULL, 0, &(struct subs){ { "only the first 0x1000 bytes of a bootloader" } },
		       &(struct subs){ { "whole" } }, &s);
	/* The whole of one (no app after it) is. */
	expect_ok(boot, BOOT_END, 0, NULL, 0, &s);
	free(boot);
}

/* CRC-16 blocks that fail, or an application cut short, in an image
 * that goes to 0: refused, naming the first bad flash address. */
static void damaged_images_refused(void **state)
{
	(void)state;
	struct bk_safety s;
	uint8_t *full = make_boot_app(MIB2);
	/* Some KiB zeroed inside the app: the first block touched starts at
	 * 0x11000 + 34 * 1807 = 0x1FFFE. */
	memset(full + 0x20000, 0, 0x1000);
	expect_refused(full, MIB2, 0, NULL, 0,
		       &(struct subs){ { "application is damaged", "the first at flash address 0x01FFFE" } },
		       &(struct subs){ { "intact image", "bkspi info" } }, &s);
	free(full);
	/* XORed inside the bootloader. */
	full = make_boot_app(MIB2);
	for (size_t i = 0x3000; i < 0x3400; i++)
		full[i] ^= 0x5A;
	expect_refused(full, MIB2, 0, NULL, 0,
		       &(struct subs){ { "bootloader is damaged", "first at flash address 0x002FF2" } },
		       &(struct subs){ { "intact image" } }, &s);
	free(full);
	/* Cut in the middle of the app (QIO-sized, so it classifies as one). */
	full = make_boot_app(APP_END);
	expect_refused(full, 0x110000, 0, NULL, 0,
		       &(struct subs){ { "ends at flash address 0x110000", "inside the application", "0x129F70",
					 "cut short" } },
		       &(struct subs){ { "whole image" } }, &s);
	/* Ending where the app ends, or past it, is whole. */
	expect_ok(full, APP_END, 0, NULL, 0, &s);
	free(full);
}

/* bk_emu_synth's image names itself BK7231N ("BK7231" at 0x110). */
static void synthetic_image(void **state)
{
	(void)state;
	struct bk_safety s;
	uint8_t *img = malloc(MIB2);
	assert_non_null(img);
	assert_int_equal(bk_emu_synth(img, MIB2, 7), 0);
	expect_ok(img, MIB2, 0, img, BOOT_READ, &s);
	assert_int_equal(s.file.kind, BK_BEKEN_IMG_FULL);
	assert_int_equal(s.file.family, BK_BEKEN_BK7231N);
	/* No fingerprint, but it names itself BK7231 at 0x110 as N bootloaders do. */
	assert_int_equal(s.chip, BK_BEKEN_BK7231N);
	expect_refused(img, MIB2, 0x11000, NULL, 0, &(struct subs){ { "full flash dump", "not 0x011000" } },
		       &(struct subs){ { "without --offset" } }, &s);
	free(img);
}

/* ---- real dumps -------------------------------------------------------- */

static void family_t_file_on_n_chip(void **state)
{
	(void)state;
	size_t nt = 0, nn = 0;
	uint8_t *t = need(T_4GANG, &nt), *n = need(N_MOES, &nn);
	struct bk_safety s;
	const struct subs what = { { "bootloader is for BK7231T", "runs a BK7231N bootloader",
				     "wrong-family bootloader" } };
	const struct subs instead = { { "use an image built for this chip" } };
	/* The chip's first 4 KiB, as read without a backup, and the whole flash. */
	expect_refused(t, nt, 0, n, BOOT_READ, &what, &instead, &s);
	assert_int_equal(s.file.family, BK_BEKEN_BK7231T);
	assert_int_equal(s.chip, BK_BEKEN_BK7231N);
	expect_refused(t, nt, 0, n, nn, &what, &instead, &s);
	/* A bootloader + app slice of the same dump: the same refusal. */
	expect_refused(t, APP_END, 0, n, BOOT_READ, &what, &instead, &s);
	assert_int_equal(s.file.kind, BK_BEKEN_IMG_QIO);
	free(t);
	free(n);
}

/* A chip whose N bootloader is not in the fingerprint table but carries the
 * "BK7231" text at 0x110 (field notes 4: every N does, no T does), like the
 * simulator's synthetic image: `bkspi info` calls that flash BK7231N, so
 * a T bootloader must not be written over it either. */
static void family_t_file_on_marked_n_chip(void **state)
{
	(void)state;
	size_t nt = 0;
	uint8_t *t = need(T_4GANG, &nt);
	uint8_t *chip = malloc(MIB2);
	assert_non_null(chip);
	assert_int_equal(bk_emu_synth(chip, MIB2, 5), 0);
	struct bk_beken_info in;
	assert_int_equal(bk_beken_analyse(chip, MIB2, &in, NULL), BK_OK);
	assert_int_equal(in.family, BK_BEKEN_BK7231N); /* what info reports */
	assert_null(in.boot);

	struct bk_safety s;
	struct bk_err err = { 0 };
	int r = bk_safety_check(t, nt, 0, chip, BOOT_READ, 0, &s, &err);
	free(t);
	free(chip);
	if (r != BK_EREFUSED)
		fail_msg("BK7231T file over a chip whose bootloader info calls BK7231N (\"BK7231\" at 0x110, "
			 "no fingerprint): returned %d, chip family %s; expected BK_EREFUSED",
			 r, bk_beken_family_name(s.chip));
	assert_int_equal(s.chip, BK_BEKEN_BK7231N);
}

static void family_n_file_on_t_chip(void **state)
{
	(void)state;
	size_t nt = 0, nn = 0;
	uint8_t *t = need(T_GLOBE, &nt), *n = need(N_KANLUX, &nn);
	struct bk_safety s;
	const struct subs what = { { "bootloader is for BK7231N", "runs a BK7231T bootloader" } };
	const struct subs instead = { { "use an image built for this chip" } };
	expect_refused(n, nn, 0, t, BOOT_READ, &what, &instead, &s);
	assert_int_equal(s.file.family, BK_BEKEN_BK7231N);
	assert_int_equal(s.chip, BK_BEKEN_BK7231T);
	expect_refused(n, APP_END, 0, t, nt, &what, &instead, &s);

	/* The synthetic image's bootloader is N by its text marker. */
	uint8_t *synth = malloc(MIB2);
	assert_non_null(synth);
	assert_int_equal(bk_emu_synth(synth, MIB2, 3), 0);
	expect_refused(synth, MIB2, 0, t, BOOT_READ, &what, &instead, &s);
	expect_ok(synth, MIB2, 0, n, BOOT_READ, &s);
	free(synth);
	free(t);
	free(n);
}

static void family_same_accepted(void **state)
{
	(void)state;
	size_t n1 = 0, n2 = 0, n3 = 0, n4 = 0;
	uint8_t *t1 = need(T_4GANG, &n1), *t2 = need(T_GLOBE, &n2);
	uint8_t *m = need(N_MOES, &n3), *k = need(N_KANLUX, &n4);
	struct bk_safety s;
	/* T 1.0.3 over T 1.0.5 and back: same family, other version. */
	expect_ok(t2, n2, 0, t1, BOOT_READ, &s);
	assert_int_equal(s.chip, BK_BEKEN_BK7231T);
	assert_int_equal(s.file.family, BK_BEKEN_BK7231T);
	expect_ok(t1, n1, 0, t2, n2, &s);
	expect_ok(k, n4, 0, m, BOOT_READ, &s);
	assert_int_equal(s.chip, BK_BEKEN_BK7231N);
	expect_ok(m, n3, 0, k, n4, &s);
	/* A chip whose bootloader is not readable here (too short): unknown. */
	expect_ok(m, n3, 0, t1, 256, &s);
	assert_int_equal(s.chip, BK_BEKEN_FAMILY_UNKNOWN);
	free(t1);
	free(t2);
	free(m);
	free(k);
}

static void rotated_dump_refused(void **state)
{
	(void)state;
	size_t n = 0, nt = 0;
	uint8_t *moon = need(T_MOON, &n), *t = need(T_4GANG, &nt);
	struct bk_safety s;
	const struct subs what = { { "full dump", "rotated by 0x11000" } };
	const struct subs instead = { { "rotate it back" } };
	expect_refused(moon, n, 0, NULL, 0, &what, &instead, &s);
	assert_int_equal(s.file.kind, BK_BEKEN_IMG_FULL);
	assert_int_equal(s.file.rotation, 0x11000);
	assert_int_equal(s.file.family, BK_BEKEN_BK7231T);
	/* A T chip does not make it acceptable. */
	expect_refused(moon, n, 0, t, BOOT_READ, &what, &instead, &s);
	free(moon);
	free(t);
}

/* Slices of real dumps, cut as OpenBeken publishes them. */
static void dump_slices(void **state)
{
	(void)state;
	static const char *const files[] = { T_4GANG, T_GLOBE, N_MOES, N_KANLUX };
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		size_t n = 0;
		uint8_t *d = need(files[i], &n);
		struct bk_safety s;
		/* [0, 0x129F70): bootloader + app, on the same chip. */
		expect_ok(d, APP_END, 0, d, BOOT_READ, &s);
		assert_int_equal(s.file.kind, BK_BEKEN_IMG_QIO);
		expect_refused(d, APP_END, 0x11000, d, BOOT_READ,
			       &(struct subs){ { "bootloader + app (QIO)", "belongs at 0x000000", "not 0x011000" } },
			       &(struct subs){ { "without --offset" } }, &s);
		/* [0x11000, 0x129F70): the app alone. */
		expect_ok(d + BOOT_END, UA_LEN, 0x11000, d, BOOT_READ, &s);
		assert_int_equal(s.file.kind, BK_BEKEN_IMG_UA);
		expect_refused(d + BOOT_END, UA_LEN, 0, d, BOOT_READ,
			       &(struct subs){ { "app only (UA)", "belongs at 0x011000", "bootloader" } },
			       &(struct subs){ { "--offset 0x11000" } }, &s);
		/* The whole dump at 0 on its own chip. */
		expect_ok(d, n, 0, d, n, &s);
		free(d);
	}
}

/* The images a careless user writes at 0, from real dumps. */
static void dump_pieces_at_0(void **state)
{
	(void)state;
	size_t nt = 0, nn = 0, nc = 0;
	uint8_t *t = need(T_4GANG, &nt), *n = need(N_MOES, &nn), *cfg = need("bk7231t-tuya-config-pc44ha-72k.bin", &nc);
	struct bk_safety s;
	/* A T bootloader alone onto an N chip: whatever its size, the family counts. */
	expect_refused(t, BOOT_END, 0, n, BOOT_READ,
		       &(struct subs){ { "bootloader is for BK7231T", "runs a BK7231N bootloader" } },
		       &(struct subs){ { "built for this chip" } }, &s);
	/* 1,400,000 bytes of an N dump (more than a QIO image) onto a T chip. */
	expect_refused(n, 1400000, 0, t, BOOT_READ,
		       &(struct subs){ { "bootloader is for BK7231N", "runs a BK7231T bootloader" } },
		       &(struct subs){ { "built for this chip" } }, &s);
	/* On its own chip family that cut is fine: the app ends before it. */
	expect_ok(n, 1400000, 0, n, BOOT_READ, &s);
	/* The Tuya store: no bootloader, refused before the chip is known. */
	expect_refused(cfg, nc, 0, NULL, 0,
		       &(struct subs){ { "bare Tuya key-value store", "belongs at 0x1EE000",
					 "does not start with a Beken bootloader" } },
		       &(struct subs){ { "--offset 0x1EE000" } }, &s);
	expect_ok(cfg, nc, 0x1EE000, NULL, 0, &s);

	/* 4 KiB zeroed inside the app, then 4 KiB XORed: the first bad block. */
	uint8_t *d = malloc(nt);
	assert_non_null(d);
	memcpy(d, t, nt);
	memset(d + 0x80000, 0, 0x1000);
	expect_refused(d, nt, 0, t, BOOT_READ, &(struct subs){ { "application is damaged", "0x07FFF8" } },
		       &(struct subs){ { "intact image" } }, &s);
	memcpy(d, t, nt);
	for (size_t i = 0x100000; i < 0x101000; i++)
		d[i] ^= 0xA5;
	expect_refused(d, nt, 0, t, BOOT_READ, &(struct subs){ { "application is damaged", "0x0FFFF0" } },
		       &(struct subs){ { "intact image" } }, &s);
	/* A dump truncated inside its application. */
	expect_refused(t, 0x100000, 0, t, BOOT_READ,
		       &(struct subs){ { "ends at flash address 0x100000", "inside the application", "cut short" } },
		       &(struct subs){ { "whole image" } }, &s);
	free(d);
	free(t);
	free(n);
	free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ua_belongs_at_0x11000),
		cmocka_unit_test(full_belongs_at_0),
		cmocka_unit_test(qio_belongs_at_0),
		cmocka_unit_test(rotated_full_refused),
		cmocka_unit_test(ota_packages_refused),
		cmocka_unit_test(unknown_data_at_0_refused),
		cmocka_unit_test(damaged_images_refused),
		cmocka_unit_test(synthetic_image),
		cmocka_unit_test(family_t_file_on_n_chip),
		cmocka_unit_test(family_t_file_on_marked_n_chip),
		cmocka_unit_test(family_n_file_on_t_chip),
		cmocka_unit_test(family_same_accepted),
		cmocka_unit_test(rotated_dump_refused),
		cmocka_unit_test(dump_slices),
		cmocka_unit_test(dump_pieces_at_0),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
