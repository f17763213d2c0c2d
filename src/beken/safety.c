#include "beken/policy.h"

#include "beken/internal.h"

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

/* What bytes that are no bootloader look like, for the refusal, and what
 * to do with them instead. */
static void describe_data(const uint8_t *p, size_t n, char *what, size_t cap, const char **instead)
{
	struct bk_beken_info in;
	*instead = "write a full dump or a bootloader+app (*_QIO_*) image for this chip, or give the --offset "
		   "where the file belongs";
	if (bk_beken_analyse(p, n, &in, NULL) == 0 && in.tuya_kvs_only) {
		snprintf(what, cap, "a bare Tuya key-value store (the device's encrypted configuration), which belongs at 0x%06X",
			 in.tuya_kvs);
		*instead = "write it with --offset 0x1EE000";
		return;
	}
	size_t ff = 0, zero = 0, text = 0, probe = n < 4096 ? n : 4096;
	for (size_t i = 0; i < probe; i++) {
		ff += p[i] == 0xFF;
		zero += p[i] == 0x00;
		text += (p[i] >= 0x20 && p[i] < 0x7F) || p[i] == '\n' || p[i] == '\r' || p[i] == '\t';
	}
	if (ff == probe)
		snprintf(what, cap, "all 0xFF at its start, like erased flash");
	else if (zero == probe)
		snprintf(what, cap, "all zeros at its start");
	else if (text == probe)
		snprintf(what, cap, "text, not a flash image");
	else
		snprintf(what, cap, "%zu bytes of data that are no image bkspi recognises", n);
	if (ff == probe)
		*instead = "use `bkspi erase` to erase, or write a full dump or a bootloader+app (*_QIO_*) image for this chip";
}

/* At 0 the file replaces the chip's bootloader: its first 0x11000 bytes
 * must be a whole bootloader of the chip's own family. */
static int bootloader_check(const uint8_t *file, size_t len, struct bk_safety *s, int force, struct bk_err *err)
{
	char looks[160], what[sizeof looks + 160];
	struct bk_beken_view v = { file, len, 0 };
	if (bk_beken_view_boot_score(&v) == 0) {
		const char *instead;
		describe_data(file, len, looks, sizeof looks, &instead);
		snprintf(what, sizeof what,
			 "the file is %s: it does not start with a Beken bootloader, and at 0x000000 it would replace the chip's and brick it",
			 looks);
		return refuse(s, force, err, what, instead);
	}
	if (len < BK_BEKEN_BOOT_END) {
		snprintf(what, sizeof what,
			 "the file holds only the first 0x%zX bytes of a bootloader (0x%X long): at 0x000000 it would leave the chip a broken one",
			 len, BK_BEKEN_BOOT_END);
		return refuse(s, force, err, what, "write the whole bootloader+app (*_QIO_*) image or a full dump");
	}
	const struct bk_beken_fingerprint *fp;
	const char *why;
	enum bk_beken_family family = bk_beken_view_boot_family(&v, &fp, &why);
	if (!s->chip || family == s->chip)
		return 0;
	if (family)
		snprintf(what, sizeof what,
			 "the file's bootloader is for %s but the chip runs a %s bootloader; a wrong-family bootloader bricks it",
			 bk_beken_family_name(family), bk_beken_family_name(s->chip));
	else
		snprintf(what, sizeof what,
			 "the file's bootloader is none bkspi knows (no fingerprint, no family marker), so nothing says it suits the chip's %s bootloader",
			 bk_beken_family_name(s->chip));
	return refuse(s, force, err, what, "use an image built for this chip");
}

/* The CRC-16 blocks of the bootloader and application the file carries
 * must all check, and the application must not be cut short. */
static int integrity_check(const uint8_t *file, size_t len, uint32_t offset, struct bk_safety *s, int force,
			   struct bk_err *err)
{
	const struct bk_beken_layout *l = bk_beken_layout(s->chip, 0);
	uint32_t app_end = l ? l->app_end : BK_BEKEN_APP_END_2M, base;
	struct bk_beken_blocks boot = { 0 }, app;
	/* Flash addresses from here on: the file lies at [base, base + len). */
	struct bk_beken_view v;
	if (s->file.kind == BK_BEKEN_IMG_UA) {
		base = BK_BEKEN_APP_START;
		v = (struct bk_beken_view){ file, len, 0 };
		bk_beken_view_blocks(&v, 0, app_end - base, &app);
		if (app.corrupt)
			app.first_corrupt += base;
	} else {
		struct bk_beken_info in;
		if (offset != 0 || bk_beken_analyse(file, len, &in, NULL) || in.rotation || !in.has_bootloader)
			return 0;
		base = 0;
		app_end = in.app_end;
		v = (struct bk_beken_view){ file, len, 0 };
		boot = in.boot_blocks;
		app = in.app_blocks;
	}
	char what[256];
	const struct bk_beken_blocks *bad = boot.corrupt ? &boot : app.corrupt ? &app : NULL;
	if (bad) {
		snprintf(what, sizeof what,
			 "the file's %s is damaged: %u of its CRC-16 blocks fail their check, the first at flash address 0x%06X",
			 bad == &boot ? "bootloader" : "application", bad->corrupt, bad->first_corrupt);
		return refuse(s, force, err, what, "use an intact image (bkspi info FILE shows its integrity)");
	}
	/* A cut application ends with a block that still checks; a whole one
	 * ends at the region's end or in erased blocks. */
	uint64_t end = (uint64_t)base + len;
	if (!app.valid || end >= app_end || end < BK_BEKEN_APP_START + BK_BEKEN_BLOCK)
		return 0;
	uint32_t last = BK_BEKEN_APP_START + ((uint32_t)end - BK_BEKEN_APP_START) / BK_BEKEN_BLOCK * BK_BEKEN_BLOCK -
			BK_BEKEN_BLOCK;
	const uint8_t *blk = bk_beken_view_at(&v, last - base, BK_BEKEN_BLOCK);
	if (!blk || bk_beken_block_state(blk) != BK_BEKEN_VALID)
		return 0;
	snprintf(what, sizeof what,
		 "the file ends at flash address 0x%06X, inside the application (which runs to 0x%06X): it was cut short",
		 (uint32_t)end, app_end);
	return refuse(s, force, err, what, "use the whole image (bkspi info FILE shows its integrity)");
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
			return integrity_check(file, len, offset, s, force, err);
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
		break;
	default:
		break;
	}
	if (offset != 0)
		return 0;
	r = bootloader_check(file, len, s, force, err);
	if (r || s->overridden[0])
		return r;
	return integrity_check(file, len, offset, s, force, err);
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
