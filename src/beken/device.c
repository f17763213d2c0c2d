/* The Beken policy for erases and verifies: what of the device's own a
 * range holds (bootloader, RF calibration and MAC, Tuya store), read from
 * the few sectors that say so. Pure: sectors in, verdict out. */
#include "beken/policy.h"

#include <stdio.h>
#include <string.h>

#include "beken/internal.h"

#define TUYA_KEY_PAGE 0x1EE000u
#define TUYA_FLASH 0x200000u

static int in_range(uint32_t a, uint32_t addr, uint32_t len)
{
	return a >= addr && a - addr < len;
}

static void add(uint32_t *out, size_t *n, uint32_t a)
{
	for (size_t i = 0; i < *n; i++)
		if (out[i] == a)
			return;
	if (*n < BK_BEKEN_MAX_PROBES)
		out[(*n)++] = a;
}

size_t bk_beken_probes(uint32_t addr, uint32_t len, uint32_t flash_size, uint32_t out[BK_BEKEN_MAX_PROBES])
{
	size_t n = 0;
	add(out, &n, 0);
	for (size_t i = 0; i < bk_beken_n_layouts; i++)
		if (bk_beken_layouts[i].flash_size == flash_size && in_range(bk_beken_layouts[i].rf_addr, addr, len))
			add(out, &n, bk_beken_layouts[i].rf_addr);
	if (flash_size == TUYA_FLASH && in_range(TUYA_KEY_PAGE, addr, len))
		add(out, &n, TUYA_KEY_PAGE);
	return n;
}

static const uint8_t *sector_at(const struct bk_beken_device *dev, uint32_t a)
{
	for (size_t i = 0; i < dev->n; i++)
		if (dev->addr[i] == a)
			return dev->sector[i];
	return NULL;
}

/* The chip's family from its bootloader's first sector. */
static enum bk_beken_family chip_family(const struct bk_beken_device *dev, int *has_bootloader)
{
	const uint8_t *head = sector_at(dev, 0);
	struct bk_beken_info in;
	*has_bootloader = 0;
	if (!head || bk_beken_analyse(head, BK_BEKEN_SECTOR, &in, NULL))
		return BK_BEKEN_FAMILY_UNKNOWN;
	*has_bootloader = in.has_bootloader;
	return in.family;
}

/* The device's RF sector among the probed ones: its family's layout
 * first, then any layout's. */
static uint32_t device_rf(const struct bk_beken_device *dev, uint32_t flash_size, uint8_t mac[6])
{
	int boot;
	enum bk_beken_family fam = chip_family(dev, &boot);
	for (int any = 0; any < 2; any++)
		for (size_t i = 0; i < bk_beken_n_layouts; i++) {
			const struct bk_beken_layout *l = &bk_beken_layouts[i];
			if (l->flash_size != flash_size || (!any && l->family != fam))
				continue;
			const uint8_t *p = sector_at(dev, l->rf_addr);
			if (p && !bk_beken_mac_at(p, BK_BEKEN_SECTOR, mac))
				return l->rf_addr;
		}
	return BK_BEKEN_NONE;
}

int bk_beken_erase_rules(int force, uint32_t addr, uint32_t len, uint32_t flash_size,
			 const struct bk_beken_device *dev, struct bk_beken_erase *out, struct bk_err *err)
{
	memset(out, 0, sizeof *out);
	out->whole_chip = addr == 0 && len == flash_size;
	int has_boot;
	chip_family(dev, &has_boot);
	out->bootloader = has_boot && addr < BK_BEKEN_BOOT_END;
	out->rf_addr = device_rf(dev, flash_size, out->mac);
	out->rf = out->rf_addr != BK_BEKEN_NONE;
	const uint8_t *kvs = in_range(TUYA_KEY_PAGE, addr, len) ? sector_at(dev, TUYA_KEY_PAGE) : NULL;
	int tuya = kvs && bk_beken_is_tuya_key_page(kvs);

	char parts[3][80];
	size_t n = 0;
	if (out->bootloader)
		snprintf(parts[n++], sizeof parts[0], "the bootloader (0x000000-0x%06X)", BK_BEKEN_BOOT_END - 1);
	if (out->rf)
		snprintf(parts[n++], sizeof parts[0],
			 "the RF calibration and MAC %02x:%02x:%02x:%02x:%02x:%02x (0x%06X)", out->mac[0], out->mac[1],
			 out->mac[2], out->mac[3], out->mac[4], out->mac[5], out->rf_addr);
	if (tuya)
		snprintf(parts[n++], sizeof parts[0], "the Tuya configuration store (0x%06X)", TUYA_KEY_PAGE);
	if (!n)
		return 0;
	snprintf(out->destroys, sizeof out->destroys, "%s%s%s%s%s%s", out->whole_chip ? "the whole chip: " : "", parts[0],
		 n > 1 ? (n > 2 ? ", " : " and ") : "", n > 1 ? parts[1] : "", n > 2 ? " and " : "", n > 2 ? parts[2] : "");
	if (!out->bootloader && !out->rf)
		return 0;
	char what[440];
	snprintf(what, sizeof what, "erasing 0x%06X-0x%06X destroys %s: %s", addr, addr + len - 1, out->destroys,
		 out->bootloader && out->rf ? "the chip would not boot again, and its Wi-Fi calibration and MAC are lost"
		 : out->bootloader        ? "the chip would not boot again"
					  : "the device would lose its Wi-Fi calibration and MAC");
	if (force) {
		snprintf(out->overridden, sizeof out->overridden, "%s", what);
		return 0;
	}
	return bk_fail(err, BK_EREFUSED, "%s; erase a range that leaves them alone (--force erases them anyway, after the backup)",
		       what);
}

void bk_beken_verify_keeps(const struct bk_beken_rules *rules, uint32_t addr, uint32_t len, uint32_t flash_size,
			   const struct bk_beken_device *dev, struct bk_beken_kept *rf, struct bk_beken_kept *tuya,
			   uint32_t *rf_sector)
{
	memset(rf, 0, sizeof *rf);
	memset(tuya, 0, sizeof *tuya);
	uint8_t mac[6];
	uint32_t at = device_rf(dev, flash_size, mac);
	*rf_sector = at != BK_BEKEN_NONE && in_range(at, addr, len) && len - (at - addr) >= BK_BEKEN_SECTOR ? at
													   : BK_BEKEN_NONE;
	if (rules->keep_rf && *rf_sector != BK_BEKEN_NONE)
		*rf = (struct bk_beken_kept){ 1, at, BK_BEKEN_SECTOR };
	/* As write keeps it: from the key page to the end of the flash, when
	 * the data covers all of that. */
	const uint8_t *kvs = sector_at(dev, TUYA_KEY_PAGE);
	if (rules->keep_tuya && kvs && bk_beken_is_tuya_key_page(kvs) && addr <= TUYA_KEY_PAGE &&
	    (uint64_t)addr + len >= flash_size)
		*tuya = (struct bk_beken_kept){ 1, TUYA_KEY_PAGE, flash_size - TUYA_KEY_PAGE };
}
