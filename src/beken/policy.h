/* The Beken write policy: what a Beken chip may be given (what the file
 * is, where it belongs, whether its bootloader suits the chip) and what
 * of the device itself a write keeps (its RF calibration and MAC, its
 * Tuya store). Pure: buffers in, verdict out. core calls it once per
 * write through its write hook; the generic writer knows SPI NOR only. */
#ifndef BK_BEKEN_POLICY_H
#define BK_BEKEN_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "beken/beken.h"
#include "base/err.h"

struct bk_safety {
	struct bk_beken_class file;
	enum bk_beken_family chip;     /* from the flash's bootloader; unknown if not read */
	char overridden[320];          /* with force: what would have been refused, else "" */
};

/* Refuses (BK_EREFUSED, message naming what the file is and what to do
 * instead) an OTA/UF2 package, an app-only image anywhere but 0x11000, a
 * full or bootloader+app image anywhere but 0, a rotated dump, and a
 * bootloader of another family than the chip's. boot may be NULL (chip
 * unknown) or the flash's first bytes. With force the refusal becomes a
 * note in out->overridden and the call succeeds. */
int bk_safety_check(const uint8_t *file, size_t len, uint32_t offset, const uint8_t *boot,
		    size_t boot_len, int force, struct bk_safety *out, struct bk_err *err);

struct bk_beken_rules {
	int force;       /* write what the safety check would refuse */
	int keep_rf;     /* keep the device's RF calibration/MAC sector */
	int keep_tuya;   /* keep the device's Tuya key-value store */
};

struct bk_beken_kept {
	int kept;
	uint32_t addr, len;
};

struct bk_beken_outcome {
	struct bk_safety safety;
	struct bk_beken_kept rf, tuya;    /* device ranges the write must keep */
	int has_mac_before, has_mac_after, has_file_mac;
	uint8_t mac_before[6], mac_after[6], file_mac[6];
};

/* data (len bytes) is to be written at addr; old holds the device from
 * `at` (old_len bytes: the whole chip when a backup was read, else the
 * sectors the write covers); head holds the flash from 0 (its bootloader),
 * which may be old itself. Refuses as bk_safety_check does, then decides
 * what to keep: a kept range lies inside both data and old. */
int bk_beken_write_rules(const struct bk_beken_rules *rules, const uint8_t *data, uint32_t len, uint32_t addr,
			 const uint8_t *old, uint32_t at, uint32_t old_len, const uint8_t *head, size_t head_len,
			 uint32_t flash_size, struct bk_beken_outcome *out, struct bk_err *err);

/* ---- erase and verify: what the chip holds where ------------------------ */

#define BK_BEKEN_MAX_PROBES 6

/* The 4 KiB sectors the policy needs from the chip before an erase or a
 * verify of [addr, addr+len): the bootloader's first sector, and each
 * sector of that range where a layout of this flash size keeps the RF
 * calibration or the Tuya store. Returns how many (flash addresses). */
size_t bk_beken_probes(uint32_t addr, uint32_t len, uint32_t flash_size, uint32_t out[BK_BEKEN_MAX_PROBES]);

/* What the chip holds in the probed sectors: sector[i] is 4 KiB from
 * addr[i], in the order bk_beken_probes gave. */
struct bk_beken_device {
	size_t n;
	const uint32_t *addr;
	const uint8_t *const *sector;
};

struct bk_beken_erase {
	int bootloader;             /* the range covers the chip's bootloader */
	int rf;                     /* ... its RF calibration and MAC */
	int whole_chip;
	uint32_t rf_addr;
	uint8_t mac[6];
	char destroys[320];         /* what the erase destroys, "" when nothing of the device's own */
	char overridden[480];       /* with force: what would have been refused */
};

/* An erase of [addr, addr+len) that destroys the chip's bootloader or its
 * RF calibration and MAC is refused (BK_EREFUSED, saying what it would
 * destroy) unless force; either way out->destroys says what goes. */
int bk_beken_erase_rules(int force, uint32_t addr, uint32_t len, uint32_t flash_size,
			 const struct bk_beken_device *dev, struct bk_beken_erase *out, struct bk_err *err);

/* The device ranges a write of len bytes at addr keeps under rules (its
 * RF sector, its Tuya store), for a verify that compares only what the
 * write wrote; *rf_sector is the device's RF sector whether kept or not
 * (BK_BEKEN_NONE when it has none in the range). */
void bk_beken_verify_keeps(const struct bk_beken_rules *rules, uint32_t addr, uint32_t len, uint32_t flash_size,
			   const struct bk_beken_device *dev, struct bk_beken_kept *rf, struct bk_beken_kept *tuya,
			   uint32_t *rf_sector);

#endif
