/* Everything known about Beken parts, as data. Sources are given per table;
 * "seen" means confirmed on a real dump in /work/shared/dumps. */
#include "beken/internal.h"

#include <string.h>
#include <zlib.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const family_names[] = {
	[BK_BEKEN_FAMILY_UNKNOWN] = "unknown",
	[BK_BEKEN_BK7231T] = "BK7231T",
	[BK_BEKEN_BK7231U] = "BK7231U",
	[BK_BEKEN_BK7231N] = "BK7231N",
	[BK_BEKEN_BK7252] = "BK7252",
	[BK_BEKEN_BK7238] = "BK7238",
};

const char *bk_beken_family_name(enum bk_beken_family family)
{
	if ((size_t)family >= COUNT(family_names))
		return family_names[BK_BEKEN_FAMILY_UNKNOWN];
	return family_names[family];
}

/* Field notes section 4 (published tables). Seen: T 1.0.3, 1.0.5, N 1.0.1. */
static const struct bk_beken_fingerprint fingerprints[] = {
	{ 0xC1ECA871, 256, BK_BEKEN_BK7231T, "1.0.1" },
	{ 0x4B31E44D, 256, BK_BEKEN_BK7231T, "1.0.3" },
	{ 0xBA54C1B8, 256, BK_BEKEN_BK7231T, "1.0.5" },
	{ 0xE5CBC953, 256, BK_BEKEN_BK7231T, "1.0.6" },
	{ 0x2739019F, 256, BK_BEKEN_BK7231U, "1.0.6" },
	{ 0x39F9B50C, 256, BK_BEKEN_BK7252, "0.1.3" },
	{ 0x6BEB0924, 256, BK_BEKEN_BK7238, "1.0.14" },
	{ 0xE14191BA, 257, BK_BEKEN_BK7231N, "1.0.1" },
};

const struct bk_beken_fingerprint *bk_beken_fingerprint(const uint8_t *img,
							size_t size)
{
	if (!img || size < 257)
		return NULL;
	uint32_t crc256 = (uint32_t)crc32(0, img, 256);
	/* The 257-byte CRC continues the 256-byte one by a single byte. */
	uint32_t crc257 = (uint32_t)crc32(crc256, img + 256, 1);
	for (size_t i = 0; i < COUNT(fingerprints); i++) {
		uint32_t crc = fingerprints[i].len == 256 ? crc256 : crc257;
		if (crc == fingerprints[i].crc)
			return &fingerprints[i];
	}
	return NULL;
}

/* app_end is where the CRC-framed app (and its RBL header, the last three
 * blocks) ends: the logical app size in blocks of 32, times 34, after
 * 0x11000. T/U/N 2 MiB: field notes section 4, seen on T and N; LibreTiny's
 * bkrbl_size_app 0x108700 gives the same for U. BK7252: LibreTiny
 * boards/_base/beken-7252.json (RF 0x3FE000, bkrbl_size_app 0x1A0000).
 * BK7238: RF from LibreTiny's Tuya T1 layout (beken-7238-tuya.json); no
 * app size is published, so the 2 MiB T/N end is assumed. None of these
 * three rows is confirmed by a dump. The T row comes before U so an RF
 * sector at 0x1E0000 alone names T; its evidence says U is as likely. */
const struct bk_beken_layout bk_beken_layouts[] = {
	{ BK_BEKEN_BK7231T, 0x200000, 0x1E0000, BK_BEKEN_APP_END_2M,
	  "RF sector at 0x1E0000 (BK7231T or U layout)" },
	{ BK_BEKEN_BK7231U, 0x200000, 0x1E0000, BK_BEKEN_APP_END_2M,
	  "RF sector at 0x1E0000 (BK7231T or U layout)" },
	{ BK_BEKEN_BK7231N, 0x200000, 0x1D0000, BK_BEKEN_APP_END_2M,
	  "RF sector at 0x1D0000 (BK7231N layout)" },
	{ BK_BEKEN_BK7238, 0x200000, 0x1E3000, BK_BEKEN_APP_END_2M,
	  "RF sector at 0x1E3000 (Tuya BK7238 layout)" },
	{ BK_BEKEN_BK7252, 0x400000, 0x3FE000, 0x1CB000,
	  "RF sector at 0x3FE000 (BK7252 4 MiB layout)" },
};
const size_t bk_beken_n_layouts = COUNT(bk_beken_layouts);

const struct bk_beken_layout *bk_beken_layout(enum bk_beken_family family,
					      uint32_t flash_size)
{
	for (size_t i = 0; i < COUNT(bk_beken_layouts); i++)
		if (bk_beken_layouts[i].family == family &&
		    (!flash_size || bk_beken_layouts[i].flash_size == flash_size))
			return &bk_beken_layouts[i];
	return NULL;
}

int bk_beken_rf_addr(enum bk_beken_family family, uint32_t flash_size,
		     uint32_t *addr, struct bk_err *err)
{
	const struct bk_beken_layout *l = bk_beken_layout(family, flash_size);
	if (!l || !flash_size)
		return bk_fail(err, BK_EINVAL,
			       "no known RF sector for %s with %u KiB flash",
			       bk_beken_family_name(family), flash_size / 1024);
	*addr = l->rf_addr;
	return BK_OK;
}

/* "01PE" addresses by bootloader version (field notes; seen: 0xEA14 T 1.0.5,
 * 0xF1EA T 1.0.3, 0xF7F0 N 1.0.1). */
const uint32_t bk_beken_ptable_addrs[] = { 0xEA14, 0xEA36, 0xF1EA, 0xF7F0 };
const size_t bk_beken_n_ptable_addrs = COUNT(bk_beken_ptable_addrs);

/* UF2 family ids (Microsoft uf2families.json; LibreTiny uses the U id for T). */
static const struct {
	uint32_t id;
	enum bk_beken_family family;
} uf2_families[] = {
	{ 0x675A40B0, BK_BEKEN_BK7231T },
	{ 0x7B3EF230, BK_BEKEN_BK7231N },
	{ 0x6A82CC42, BK_BEKEN_BK7252 },
};

enum bk_beken_family bk_beken_uf2_family(uint32_t id)
{
	for (size_t i = 0; i < COUNT(uf2_families); i++)
		if (uf2_families[i].id == id)
			return uf2_families[i].family;
	return BK_BEKEN_FAMILY_UNKNOWN;
}

/* An encrypted app starts 2f 07 b5 94 35 ff 2a 9b (field notes). Byte 0 is
 * the low byte of the reset branch and differs between builds: the globe
 * dump's app starts 39 07 b5 94 ..., so it is not compared. */
int bk_beken_is_app_start(const uint8_t *p)
{
	static const uint8_t tail[7] = { 0x07, 0xB5, 0x94, 0x35, 0xFF, 0x2A, 0x9B };
	return memcmp(p + 1, tail, sizeof tail) == 0;
}

int bk_beken_chip_sized(size_t n)
{
	return n == 0x200000 || n == 0x400000;
}
