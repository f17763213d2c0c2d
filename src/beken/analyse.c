/* Whole-image analysis: everything bk_beken_info holds, read through the
 * image's rotation. */
#include "beken/internal.h"

#include <string.h>
#include <zlib.h>

#define TUYA_KEY_PAGE 0x1EE000u
/* A bare store runs from 0x1EE000 (0x1ED000 with N's extra page) to 2 MiB. */
#define TUYA_STORE_MAX 0x13000u

static void read_bootloader(const struct bk_beken_view *v,
			    struct bk_beken_info *info)
{
	info->family = bk_beken_view_boot_family(v, &info->boot,
						 &info->family_evidence);
	size_t len = info->boot ? info->boot->len : 256;
	const uint8_t *p = bk_beken_view_at(v, 0, len);
	info->has_bootloader = bk_beken_view_boot_score(v) > 0;
	info->has_boot_crc = p != NULL;
	if (p)
		info->boot_crc = (uint32_t)crc32(0, p, (uInt)len);
}

/* The family's own layout first, then any: an RF sector also names the
 * family when the bootloader did not. */
static void find_rf(const struct bk_beken_view *v, struct bk_beken_info *info)
{
	for (int any = 0; any < 2; any++) {
		for (size_t i = 0; i < bk_beken_n_layouts; i++) {
			const struct bk_beken_layout *l = &bk_beken_layouts[i];
			if (!any && l->family != info->family)
				continue;
			const uint8_t *p = bk_beken_view_at(v, l->rf_addr,
							    BK_BEKEN_SECTOR);
			if (!p || memcmp(p, "TLV", 4) != 0)
				continue;
			info->rf_addr = l->rf_addr;
			info->has_mac = !bk_beken_mac_at(p, BK_BEKEN_SECTOR,
							 info->mac);
			if (info->family == BK_BEKEN_FAMILY_UNKNOWN) {
				info->family = l->family;
				info->family_evidence = l->rf_evidence;
			}
			return;
		}
	}
}

static void find_ptable(const struct bk_beken_view *v,
			struct bk_beken_info *info)
{
	for (size_t i = 0; i < bk_beken_n_ptable_addrs; i++) {
		const uint8_t *p = bk_beken_view_at(v, bk_beken_ptable_addrs[i], 4);
		if (p && memcmp(p, "01PE", 4) == 0) {
			info->ptable = bk_beken_ptable_addrs[i];
			return;
		}
	}
}

static void find_tuya_kvs(const struct bk_beken_view *v,
			  struct bk_beken_info *info)
{
	const uint8_t *p = bk_beken_view_at(v, TUYA_KEY_PAGE, BK_BEKEN_SECTOR);
	if (p && bk_beken_is_tuya_key_page(p)) {
		info->tuya_kvs = TUYA_KEY_PAGE;
		return;
	}
	/* A store saved on its own (like the 72 KiB PC44HA file) starts with
	 * its key page. */
	if (!v->rot && v->n >= BK_BEKEN_SECTOR && v->n <= TUYA_STORE_MAX &&
	    bk_beken_is_tuya_key_page(v->p)) {
		info->tuya_kvs = TUYA_KEY_PAGE;
		info->tuya_kvs_only = 1;
	}
}

/* One sector after the RF sector of any layout. */
static void find_obk_config(const struct bk_beken_view *v,
			    struct bk_beken_info *info)
{
	for (size_t i = 0; i < bk_beken_n_layouts; i++) {
		uint32_t addr = bk_beken_layouts[i].rf_addr + BK_BEKEN_SECTOR;
		if (bk_beken_obk_config_at(v, addr, &info->obk_version)) {
			info->obk_config = addr;
			return;
		}
	}
}

int bk_beken_analyse(const uint8_t *img, size_t size,
		     struct bk_beken_info *info, struct bk_err *err)
{
	if (!info)
		return bk_fail(err, BK_EINVAL, "analyse: no result struct");
	memset(info, 0, sizeof *info);
	info->family_evidence = "no image";
	info->ptable = info->rf_addr = BK_BEKEN_NONE;
	info->tuya_kvs = info->obk_config = BK_BEKEN_NONE;
	if (!img || !size)
		return bk_fail(err, BK_EINVAL, "empty image");

	info->size = size;
	info->flash_size = bk_beken_chip_sized(size) ? (uint32_t)size : 0;
	info->rotation = bk_beken_detect_rotation(img, size);
	struct bk_beken_view v = { img, size, info->rotation };

	read_bootloader(&v, info);
	find_rf(&v, info);
	if (info->family == BK_BEKEN_FAMILY_UNKNOWN)
		info->family_evidence = "no known bootloader or RF sector";

	const struct bk_beken_layout *l =
		bk_beken_layout(info->family, info->flash_size);
	if (!l)
		l = bk_beken_layout(info->family, 0);
	info->app_end = l ? l->app_end : BK_BEKEN_APP_END_2M;

	bk_beken_view_blocks(&v, 0, BK_BEKEN_BOOT_END, &info->boot_blocks);
	bk_beken_view_blocks(&v, BK_BEKEN_APP_START, info->app_end,
			     &info->app_blocks);
	bk_beken_rbl_in_flash(&v, 0, BK_BEKEN_BOOT_END, &info->rbl_boot);
	bk_beken_rbl_in_flash(&v, BK_BEKEN_APP_START, info->app_end,
			      &info->rbl_app);
	find_ptable(&v, info);
	find_tuya_kvs(&v, info);
	find_obk_config(&v, info);
	return BK_OK;
}
