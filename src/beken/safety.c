#include "beken/policy.h"

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

/* Where this device keeps its RF sector: from the analysis when the whole
 * flash was read, else from the layouts of the chip's family (both when
 * the bootloader is unknown), looked up in what was read. */
static uint32_t device_rf(const uint8_t *old, uint32_t at, uint32_t old_len, enum bk_beken_family chip,
			  uint32_t flash_size, uint8_t mac[6], uint32_t *tuya)
{
	*tuya = BK_BEKEN_NONE;
	if (at == 0) {
		struct bk_beken_info dev;
		if (bk_beken_analyse(old, old_len, &dev, NULL) || dev.rotation || !dev.has_mac)
			return BK_BEKEN_NONE;
		memcpy(mac, dev.mac, 6);
		*tuya = dev.tuya_kvs;
		return dev.rf_addr;
	}
	static const enum bk_beken_family guesses[] = { BK_BEKEN_BK7231T, BK_BEKEN_BK7231N };
	for (size_t i = 0; i < sizeof guesses / sizeof guesses[0]; i++) {
		uint32_t rf;
		struct bk_err quiet;
		if (bk_beken_rf_addr(chip ? chip : guesses[i], flash_size, &rf, &quiet) || rf < at ||
		    rf - at >= old_len)
			continue;
		if (bk_beken_mac(old + (rf - at), old_len - (rf - at), 0, mac, &quiet) == 0)
			return rf;
	}
	return BK_BEKEN_NONE;
}

/* A device range is kept when the new data covers it and the device's
 * own bytes for it were read. */
static void keep(uint32_t lo, uint32_t hi, uint32_t at, uint32_t old_len, uint32_t addr, uint32_t len,
		 struct bk_beken_kept *k)
{
	if (addr == BK_BEKEN_NONE || addr < lo || addr + len > hi || addr < at || addr + len > at + old_len)
		return;
	*k = (struct bk_beken_kept){ 1, addr, len };
}

int bk_beken_write_rules(const struct bk_beken_rules *rules, const uint8_t *data, uint32_t len, uint32_t addr,
			 const uint8_t *old, uint32_t at, uint32_t old_len, const uint8_t *head, size_t head_len,
			 uint32_t flash_size, struct bk_beken_outcome *out, struct bk_err *err)
{
	memset(out, 0, sizeof *out);
	int r = bk_safety_check(data, len, addr, head, head_len, rules->force, &out->safety, err);
	if (r)
		return r;
	uint32_t tuya, rf = device_rf(old, at, old_len, out->safety.chip, flash_size, out->mac_before, &tuya);
	if (rf == BK_BEKEN_NONE)
		return 0;
	out->has_mac_before = 1;
	struct bk_err quiet;
	int rf_in_data = rf >= addr && rf - addr < len;
	if (rf_in_data)
		out->has_file_mac = bk_beken_mac(data + (rf - addr), len - (rf - addr), 0, out->file_mac, &quiet) == 0;
	if (rules->keep_rf)
		keep(addr, addr + len, at, old_len, rf, BK_BEKEN_SECTOR, &out->rf);
	if (rules->keep_tuya && tuya != BK_BEKEN_NONE && tuya >= at && tuya - at < old_len)
		keep(addr, addr + len, at, old_len, tuya, old_len - (tuya - at), &out->tuya);
	/* After the write the RF sector holds the file's bytes only where the
	 * file covers it and it was not kept. */
	if (rf_in_data && !out->rf.kept) {
		memcpy(out->mac_after, out->file_mac, 6);
		out->has_mac_after = out->has_file_mac;
	} else {
		memcpy(out->mac_after, out->mac_before, 6);
		out->has_mac_after = 1;
	}
	return 0;
}
