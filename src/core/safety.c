#include "core/safety.h"

#include <stdio.h>
#include <string.h>

static int refuse(struct bk_safety *s, int force, struct bk_err *err, const char *what, const char *instead)
{
	if (force) {
		snprintf(s->overridden, sizeof s->overridden, "%s", what);
		return 0;
	}
	return bk_fail(err, BK_EREFUSED, "%s; %s (--force writes it anyway)", what, instead);
}

int bk_safety_check(const uint8_t *file, size_t len, uint32_t offset, const uint8_t *boot,
		    size_t boot_len, int force, struct bk_safety *s, struct bk_err *err)
{
	memset(s, 0, sizeof *s);
	int r = bk_beken_classify(file, len, &s->file, err);
	if (r)
		return r;
	/* The same evidence info uses: the fingerprint, else the BK7231N name
	 * in its bootloader. */
	struct bk_beken_info chip;
	s->chip = boot && bk_beken_analyse(boot, boot_len, &chip, NULL) == 0 ? chip.family : BK_BEKEN_FAMILY_UNKNOWN;

	char what[256];
	const struct bk_beken_class *c = &s->file;
	switch (c->kind) {
	case BK_BEKEN_IMG_RBL:
	case BK_BEKEN_IMG_UG:
	case BK_BEKEN_IMG_UF2:
		snprintf(what, sizeof what, "the file is %s, an over-the-air update package, not a flash image", c->name);
		return refuse(s, force, err, what,
			      "write the matching full or bootloader+app image (e.g. OpenBeken's *_QIO_*.bin) instead");
	case BK_BEKEN_IMG_UA:
		if (offset == c->flash_offset)
			break;
		snprintf(what, sizeof what,
			 "the file is %s, which belongs at 0x%06X; at 0x%06X it would overwrite %s and brick the device",
			 c->name, c->flash_offset, offset, offset < c->flash_offset ? "the bootloader" : "the wrong place");
		return refuse(s, force, err, what, "write it with --offset 0x11000");
	case BK_BEKEN_IMG_FULL:
	case BK_BEKEN_IMG_QIO:
		if (c->rotation) {
			snprintf(what, sizeof what,
				 "the file is a full dump rotated by 0x%X (application first, as some readers save it)",
				 c->rotation);
			return refuse(s, force, err, what, "rotate it back so the bootloader comes first (bkspi info shows the layout)");
		}
		if (offset != c->flash_offset) {
			snprintf(what, sizeof what, "the file is %s, which starts with the bootloader and belongs at 0x%06X, not 0x%06X",
				 c->name, c->flash_offset, offset);
			return refuse(s, force, err, what, "write it without --offset");
		}
		if (c->family && s->chip && c->family != s->chip) {
			snprintf(what, sizeof what, "the file's bootloader is for %s but the chip runs a %s bootloader; a wrong-family bootloader bricks it",
				 bk_beken_family_name(c->family), bk_beken_family_name(s->chip));
			return refuse(s, force, err, what, "use an image built for this chip");
		}
		break;
	default:
		break;
	}
	return 0;
}
