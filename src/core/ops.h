/* The operations a command runs: read, verify and write (which covers
 * erase: an erase is a write of 0xFF). Backups, planning, unprotect,
 * erase, program and verify happen here in that order; nothing is erased
 * before what it held has been read (and, unless told otherwise, saved). */
#ifndef BK_CORE_OPS_H
#define BK_CORE_OPS_H

#include <stdint.h>

#include "core/confirm.h"
#include "base/err.h"
#include "core/plan.h"
#include "core/safety.h"
#include "spi/flash.h"

struct bk_hooks {
	/* phase is "backup", "read", "erase", "program" or "verify" */
	void (*progress)(void *user, const char *phase, uint64_t done, uint64_t total);
	int (*cancelled)(void *user);
	void *user;
};

struct bk_job {
	struct bk_flash *flash;
	const struct bk_hooks *hooks;
	struct bk_err *err;
};

int bk_op_read(const struct bk_job *job, const char *phase, uint32_t addr, uint8_t *buf, uint32_t len);

/* bk_op_read, then every sector confirmed (see bk_confirm_sectors). */
int bk_op_read_confirmed(const struct bk_job *job, uint32_t addr, uint8_t *buf, uint32_t len,
			 struct bk_confirm *rep);

struct bk_mismatch {
	uint32_t count;      /* differing bytes */
	uint32_t first, last;
};

/* Compares flash with want; a range that differs is read again before it
 * counts, so one bad read is not reported as a bad flash. */
int bk_op_verify(const struct bk_job *job, uint32_t addr, const uint8_t *want, uint32_t len,
		 struct bk_mismatch *mm);

/* What a write to a Beken chip respects beyond plain SPI. */
struct bk_beken_rules {
	int force;       /* write what the safety check would refuse */
	int keep_rf;     /* keep the device's RF calibration/MAC sector */
	int keep_tuya;   /* keep the device's Tuya key-value store */
};

struct bk_write {
	uint32_t base, span;     /* sector-aligned span to write */
	uint8_t *want;           /* span bytes: the new data at [data_off, data_off+data_len);
				    the rest is filled in from the flash. NULL: erase */
	uint32_t data_off, data_len;
	const char *backup_path; /* whole flash is saved here first; NULL: no backup */
	int force_backup;        /* overwrite an existing backup file */
	int verify;
	int confirm_all;         /* confirm every sector read, not only those about to change */
	const struct bk_beken_rules *beken; /* NULL: a generic SPI flash */
};

struct bk_kept {
	int kept;
	uint32_t addr, len;
};

struct bk_write_report {
	struct bk_safety safety;      /* with beken rules */
	struct bk_kept rf, tuya;
	int has_mac_before, has_mac_after, has_file_mac;
	uint8_t mac_before[6], mac_after[6], file_mac[6];
	struct bk_unprotect unprotect;
	uint32_t sectors, same, erased, program_only, pages;
	uint32_t erase_ops;
	uint32_t verified, read_back;
	struct bk_confirm confirm;    /* how the sectors about to change were confirmed */
	uint32_t recovered;           /* operations redone after a USB fault */
};

int bk_op_write(const struct bk_job *job, const struct bk_write *w, struct bk_write_report *rep);

#endif
