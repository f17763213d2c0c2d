/* The generic SPI NOR operations: read, verify and write (which covers
 * erase: an erase is a write of 0xFF). Backups, planning, unprotect,
 * erase, program and verify happen here in that order; nothing is erased
 * before what it held has been read (and, unless told otherwise, saved).
 * Target rules (Beken) come in through struct bk_write_hook. */
#ifndef BK_CORE_OPS_H
#define BK_CORE_OPS_H

#include <stdint.h>

#include "core/confirm.h"
#include "base/err.h"
#include "core/plan.h"
#include "spi/flash.h"

struct bk_hooks {
	/* phase is "backup", "read", "erase", "program" or "verify"; erase
	 * and program alternate block by block and share one total (bytes
	 * erased plus bytes programmed); a phase's total never changes */
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

struct bk_range {
	uint32_t addr, len;
};

/* What a write hook sees: the caller's new data and what the device held
 * (old, from `at`: the whole chip when a backup was read). */
struct bk_write_view {
	const uint8_t *data;
	uint32_t addr, len;
	const uint8_t *old;
	uint32_t at, old_len;
};

#define BK_WRITE_MAX_KEEP 4

/* A target's rules for writes and erases (the Beken policy), run once per
 * job after the device was read and before anything is planned: it may
 * refuse (nothing has been erased yet) and, for a write, may name device
 * ranges whose current contents the write keeps instead of the new data.
 * For an erase v->data is NULL and old may be NULL (no backup read): the
 * hook reads what it needs itself. */
struct bk_write_hook {
	int (*prepare)(void *ctx, const struct bk_write_view *v, struct bk_range keep[BK_WRITE_MAX_KEEP],
		       size_t *n_keep, struct bk_err *err);
	void *ctx;
};

struct bk_write_report;

/* Owned by the caller and never modified. */
struct bk_write {
	uint32_t addr, len;      /* where the data goes; for an erase, sector-aligned */
	const uint8_t *data;     /* len bytes; NULL: erase */
	uint8_t *work;           /* see bkspi_write_req.work; NULL: allocate */
	const char *backup_path; /* whole flash is saved here first; NULL: no backup */
	int force_backup;        /* overwrite an existing backup file; else a taken name gets _2, _3... */
	int private_backup;      /* the backup's folder must be the user's own (BK_OUT_PRIVATE) */
	int verify;
	int confirm_all;         /* confirm every sector read, not only those about to change */
	const struct bk_write_hook *hook; /* NULL: a generic SPI flash */
	/* Called once with the plan's counts, after the backup was saved and
	 * before anything is unprotected or erased; may be NULL. */
	void (*planned)(void *ctx, const struct bk_write_report *rep);
	void *planned_ctx;
};

struct bk_write_report {
	struct bk_unprotect unprotect;
	uint32_t sectors, same, erased, program_only, pages;
	uint32_t erase_ops;
	uint32_t verified, read_back;
	struct bk_confirm confirm;    /* how the sectors about to change were confirmed */
	uint32_t recovered;           /* operations redone after a USB fault */
	char backup_path[4096];       /* the backup saved, under the name really used; "" when none */
};

int bk_op_write(const struct bk_job *job, const struct bk_write *w, struct bk_write_report *rep);

#endif
