/* What a file handed to the writer is, and where it belongs. */
#include "beken/internal.h"

#include <string.h>

#define UF2_MAGIC0 0x0A324655u /* "UF2\n" */
#define UF2_MAGIC1 0x9E5D5157u
#define UF2_FLAG_FAMILY 0x2000u /* word 7 holds a family id */
#define UF2_FAMILY_AT 28u
/* Bootloader + app images (OpenBeken *_QIO_*.bin) are about 1.1-1.3 MiB. */
#define QIO_MIN 0x100000u
#define QIO_MAX 0x150000u
/* Anything larger cannot follow the bootloader on a 2 MiB chip. */
#define UA_MAX (0x200000u - BK_BEKEN_APP_START)

static const struct {
	const char *name;
	uint32_t flash_offset;
} kinds[] = {
	[BK_BEKEN_IMG_UNKNOWN] = { "unknown", BK_BEKEN_NONE },
	[BK_BEKEN_IMG_FULL] = { "full flash dump", 0 },
	[BK_BEKEN_IMG_QIO] = { "bootloader + app (QIO)", 0 },
	[BK_BEKEN_IMG_UA] = { "app only (UA)", BK_BEKEN_APP_START },
	[BK_BEKEN_IMG_RBL] = { "OTA package (RBL)", BK_BEKEN_NONE },
	[BK_BEKEN_IMG_UG] = { "Tuya OTA package (UG)", BK_BEKEN_NONE },
	[BK_BEKEN_IMG_UF2] = { "UF2 package", BK_BEKEN_NONE },
};

static enum bk_beken_kind detect(const uint8_t *img, size_t size,
				 struct bk_beken_class *cls)
{
	if (size >= 8 && bk_beken_le32(img) == UF2_MAGIC0 &&
	    bk_beken_le32(img + 4) == UF2_MAGIC1) {
		if (size >= UF2_FAMILY_AT + 4 &&
		    bk_beken_le32(img + 8) & UF2_FLAG_FAMILY)
			cls->family =
				bk_beken_uf2_family(bk_beken_le32(img + UF2_FAMILY_AT));
		return BK_BEKEN_IMG_UF2;
	}
	if (size >= 4 && memcmp(img, "\x55\xAA\x55\xAA", 4) == 0)
		return BK_BEKEN_IMG_UG;
	if (size >= 4 && memcmp(img, "RBL", 4) == 0)
		return BK_BEKEN_IMG_RBL;

	struct bk_beken_view v = { img, size, bk_beken_detect_rotation(img, size) };
	/* A rotated dump starts like the app: look for the bootloader first. */
	if (v.rot || bk_beken_view_boot_score(&v) > 0) {
		const struct bk_beken_fingerprint *fp;
		const char *why;
		cls->family = bk_beken_view_boot_family(&v, &fp, &why);
		if (bk_beken_chip_sized(size)) {
			cls->rotation = v.rot;
			return BK_BEKEN_IMG_FULL;
		}
		if (size >= QIO_MIN && size <= QIO_MAX)
			return BK_BEKEN_IMG_QIO;
		return BK_BEKEN_IMG_UNKNOWN;
	}
	/* starts_framed first: it checks there are enough bytes. */
	if (size <= UA_MAX && bk_beken_starts_framed(img, size) &&
	    bk_beken_is_app_start(img))
		return BK_BEKEN_IMG_UA;
	return BK_BEKEN_IMG_UNKNOWN;
}

int bk_beken_classify(const uint8_t *img, size_t size,
		      struct bk_beken_class *cls, struct bk_err *err)
{
	if (!cls)
		return bk_fail(err, BK_EINVAL, "classify: no result struct");
	memset(cls, 0, sizeof *cls);
	int rc = BK_OK;
	if (!img || !size)
		rc = bk_fail(err, BK_EINVAL, "empty image");
	else
		cls->kind = detect(img, size, cls);
	cls->name = kinds[cls->kind].name;
	cls->flash_offset = kinds[cls->kind].flash_offset;
	return rc;
}
