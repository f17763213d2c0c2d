/* Shared between the src/beken files; not part of the public API. */
#ifndef BK_BEKEN_INTERNAL_H
#define BK_BEKEN_INTERNAL_H

#include "beken/beken.h"

/* An image seen through its rotation: flash address a lives at file offset
 * (a - rot) mod n. rot is 0 or smaller than n. */
struct bk_beken_view {
	const uint8_t *p;
	size_t n;
	uint32_t rot;
};

/* Pointer to len bytes at flash address addr, or NULL when they are not all
 * in the buffer or straddle the rotation seam. */
const uint8_t *bk_beken_view_at(const struct bk_beken_view *v, uint32_t addr,
				size_t len);

/* Block statistics of [start, end), stopping at the first missing block;
 * first_corrupt is a flash address. */
void bk_beken_view_blocks(const struct bk_beken_view *v, uint32_t start,
			  uint32_t end, struct bk_beken_blocks *st);

/* How sure we are that a bootloader starts at flash 0: 2 fingerprint
 * match, 1 CRC-valid blocks that are not the app's, 0 none. */
int bk_beken_view_boot_score(const struct bk_beken_view *v);

/* Family from the bootloader alone (fingerprint, then the N text marker). */
enum bk_beken_family
bk_beken_view_boot_family(const struct bk_beken_view *v,
			  const struct bk_beken_fingerprint **fp,
			  const char **evidence);

enum bk_beken_block_state { BK_BEKEN_VALID, BK_BEKEN_ERASED, BK_BEKEN_CORRUPT };
enum bk_beken_block_state bk_beken_block_state(const uint8_t *blk);

/* The first few blocks of p (n bytes) are all CRC-valid. */
int bk_beken_starts_framed(const uint8_t *p, size_t n);

/* The app's first 8 bytes, byte 0 excepted (see tables.c). */
int bk_beken_is_app_start(const uint8_t *p);

/* 2 or 4 MiB: sizes a whole-flash dump can have. */
int bk_beken_chip_sized(size_t n);

/* One row per known flash layout. */
struct bk_beken_layout {
	enum bk_beken_family family;
	uint32_t flash_size;
	uint32_t rf_addr;
	uint32_t app_end;
	const char *rf_evidence; /* family evidence when only the RF sector is known */
};
extern const struct bk_beken_layout bk_beken_layouts[];
extern const size_t bk_beken_n_layouts;

/* The row for family (any flash size when flash_size is 0), or NULL. */
const struct bk_beken_layout *bk_beken_layout(enum bk_beken_family family,
					      uint32_t flash_size);

extern const uint32_t bk_beken_ptable_addrs[];
extern const size_t bk_beken_n_ptable_addrs;

/* Family of a UF2 family id, or unknown. */
enum bk_beken_family bk_beken_uf2_family(uint32_t id);

/* RBL header at the end of the CRC-framed partition [start, end). */
void bk_beken_rbl_in_flash(const struct bk_beken_view *v, uint32_t start,
			   uint32_t end, struct bk_beken_rbl *rbl);

/* MAC from an RF sector at p (n bytes available): NULL when found, else
 * why not. */
const char *bk_beken_mac_at(const uint8_t *p, size_t n, uint8_t mac[6]);

/* Key page of the Tuya store at p (one sector). */
int bk_beken_is_tuya_key_page(const uint8_t *p);

/* Valid OpenBeken config at addr: 1 and its version. */
int bk_beken_obk_config_at(const struct bk_beken_view *v, uint32_t addr,
			   uint32_t *version);

static inline uint32_t bk_beken_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

#endif
