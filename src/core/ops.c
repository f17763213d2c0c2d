#include "core/ops.h"

#include <stdlib.h>
#include <string.h>

#include "base/outfile.h"
#include "spi/chips.h"

#define CHUNK (64u * 1024)

static void progress(const struct bk_job *job, const char *phase, uint64_t done, uint64_t total)
{
	if (job->hooks && job->hooks->progress)
		job->hooks->progress(job->hooks->user, phase, done, total);
}

static int check_cancel(const struct bk_job *job, const char *phase, uint32_t addr)
{
	if (job->hooks && job->hooks->cancelled && job->hooks->cancelled(job->hooks->user))
		return bk_fail(job->err, BK_EINTR, "interrupted during %s at 0x%06X", phase, addr);
	return 0;
}

int bk_op_read(const struct bk_job *job, const char *phase, uint32_t addr, uint8_t *buf, uint32_t len)
{
	progress(job, phase, 0, len);
	for (uint32_t done = 0; done < len;) {
		uint32_t n = len - done < CHUNK ? len - done : CHUNK;
		int r = check_cancel(job, phase, addr + done);
		if (!r)
			r = bk_flash_read(job->flash, addr + done, buf + done, n);
		if (r)
			return bk_err_ctx(job->err, "%s stopped after %u of %u KiB", phase, done / 1024, len / 1024);
		done += n;
		progress(job, phase, done, len);
	}
	return 0;
}

int bk_op_read_confirmed(const struct bk_job *job, uint32_t addr, uint8_t *buf, uint32_t len,
			 struct bk_confirm *rep)
{
	/* Confirmation works on whole sectors: read the span around the range. */
	uint32_t base, span;
	bk_plan_span(addr, len, &base, &span);
	uint8_t *tmp = base == addr && span == len ? buf : malloc(span);
	if (!tmp)
		return bk_fail(job->err, BK_ENOMEM, "out of memory");
	memset(rep, 0, sizeof *rep);
	int r = bk_op_read(job, "read", base, tmp, span);
	if (!r)
		r = bk_confirm_sectors(job, tmp, base, span, NULL, rep);
	if (tmp != buf) {
		if (!r)
			memcpy(buf, tmp + (addr - base), len);
		free(tmp);
	}
	return r;
}

static void diff(const uint8_t *got, const uint8_t *want, uint32_t n, uint32_t at, struct bk_mismatch *mm)
{
	for (uint32_t i = 0; i < n; i++) {
		if (got[i] == want[i])
			continue;
		if (!mm->count)
			mm->first = at + i;
		mm->last = at + i;
		mm->count++;
	}
}

int bk_op_verify(const struct bk_job *job, uint32_t addr, const uint8_t *want, uint32_t len,
		 struct bk_mismatch *mm)
{
	uint8_t *buf = malloc(2 * CHUNK);
	if (!buf)
		return bk_fail(job->err, BK_ENOMEM, "out of memory");
	memset(mm, 0, sizeof *mm);
	progress(job, "verify", 0, len);
	int r = 0;
	for (uint32_t done = 0; done < len && !r;) {
		uint32_t n = len - done < CHUNK ? len - done : CHUNK;
		r = check_cancel(job, "verify", addr + done);
		if (!r)
			r = bk_flash_read(job->flash, addr + done, buf, n);
		if (r) {
			bk_err_ctx(job->err, "verify stopped after %u of %u KiB", done / 1024, len / 1024);
			break;
		}
		/* One bad read is not a bad flash: only what two reads agree on
		 * counts. */
		if (!r && memcmp(buf, want + done, n)) {
			int fixed = 0;
			r = bk_settle(job, buf, addr + done, n, buf + CHUNK, &fixed);
			if (!r)
				diff(buf, want + done, n, addr + done, mm);
		}
		done += n;
		progress(job, "verify", done, len);
	}
	free(buf);
	if (!r && mm->count)
		r = bk_fail(job->err, BK_EVERIFY,
			    "verify failed: %u bytes differ between 0x%06X and 0x%06X (each confirmed by two agreeing reads)",
			    mm->count, mm->first, mm->last);
	return r;
}

static int run_op(const struct bk_job *job, int erase, const struct bk_plan_op *op, const uint8_t *want, uint32_t base)
{
	return erase ? bk_flash_erase(job->flash, op->addr, op->len)
		     : bk_flash_program(job->flash, op->addr, want + (op->addr - base), op->len);
}

/* After a USB fault in the middle of an erase or program nobody knows how
 * far the flash got, so nothing is repeated blindly: wait for it, read the
 * sectors back, and plan again from what they really hold. */
static int recover(const struct bk_job *job, const struct bk_plan_op *op, const uint8_t *want, uint32_t base)
{
	uint32_t s, len;
	bk_plan_span(op->addr, op->len, &s, &len);
	uint8_t *cur = malloc(len);
	if (!cur)
		return bk_fail(job->err, BK_ENOMEM, "out of memory");
	struct bk_plan sub;
	int r = bk_flash_wait_idle(job->flash, 3000000);
	if (!r)
		r = bk_flash_read(job->flash, s, cur, len);
	if (!r)
		r = bk_plan_build(cur, want ? want + (s - base) : NULL, s, len, bk_flash_info(job->flash)->erase, &sub, job->err);
	free(cur);
	if (r)
		return r;
	for (size_t i = 0; i < sub.n_erase && !r; i++)
		r = run_op(job, 1, &sub.erase[i], NULL, 0);
	for (size_t i = 0; i < sub.n_program && !r; i++)
		r = run_op(job, 0, &sub.program[i], want, base);
	bk_plan_free(&sub);
	return r;
}

#define RECOVERIES 3

/* Runs the plan in address order, each block erased right before its pages
 * are programmed, so an interruption leaves at most one block unfinished. */
static int execute(const struct bk_job *job, const struct bk_plan *plan, const uint8_t *want, uint32_t base,
		   struct bk_write_report *rep)
{
	uint64_t total = (uint64_t)plan->erased * 4096 + (uint64_t)plan->pages * 256, done = 0;
	size_t e = 0, p = 0;
	if (plan->n_erase)
		progress(job, "erase", 0, total);
	while (e < plan->n_erase || p < plan->n_program) {
		int erase_next = e < plan->n_erase &&
				 (p == plan->n_program || plan->erase[e].addr <= plan->program[p].addr);
		const struct bk_plan_op *op = erase_next ? &plan->erase[e++] : &plan->program[p++];
		const char *phase = erase_next ? "erase" : "program";
		int r = check_cancel(job, phase, op->addr);
		if (!r)
			r = run_op(job, erase_next, op, want, base);
		for (int tries = 0; bk_err_transient(r) && tries < RECOVERIES; tries++) {
			rep->recovered++;
			r = recover(job, op, want, base);
		}
		if (r)
			return bk_err_ctx(job->err, "%s stopped after %llu of %llu KiB were erased or programmed", phase,
					  (unsigned long long)(done / 1024), (unsigned long long)(total / 1024));
		done += op->len;
		progress(job, phase, done, total);
	}
	return 0;
}

/* The sectors a plan touches, one byte per sector of the span. */
static uint8_t *touched_sectors(const struct bk_plan *plan, uint32_t base, uint32_t span)
{
	uint8_t *t = calloc(span / 4096 ? span / 4096 : 1, 1);
	if (!t)
		return NULL;
	for (size_t i = 0; i < plan->n_erase; i++)
		memset(t + (plan->erase[i].addr - base) / 4096, 1, plan->erase[i].len / 4096);
	for (size_t i = 0; i < plan->n_program; i++)
		t[(plan->program[i].addr - base) / 4096] = 1;
	return t;
}

/* Reads back every run of sectors the plan touched; the rest was compared
 * with the wanted data while planning. */
static int verify_touched(const struct bk_job *job, const struct bk_plan *plan, const uint8_t *want,
			  const uint8_t *ff, uint32_t base, uint32_t span, struct bk_write_report *rep)
{
	uint32_t n = span / 4096;
	uint8_t *touched = touched_sectors(plan, base, span);
	if (!touched)
		return bk_fail(job->err, BK_ENOMEM, "out of memory");
	int r = 0;
	for (uint32_t s = 0; s < n && !r;) {
		if (!touched[s]) {
			s++;
			continue;
		}
		uint32_t e = s;
		while (e < n && touched[e])
			e++;
		uint32_t addr = base + s * 4096, len = (e - s) * 4096;
		struct bk_mismatch mm;
		if (want) {
			r = bk_op_verify(job, addr, want + (addr - base), len, &mm);
		} else {
			/* An erase compares with 0xFF, one chunk of it at a time. */
			for (uint32_t done = 0; done < len && !r; done += CHUNK)
				r = bk_op_verify(job, addr + done, ff, len - done < CHUNK ? len - done : CHUNK, &mm);
		}
		rep->read_back += len;
		s = e;
	}
	free(touched);
	return r;
}

/* Copies [addr, addr+len) of the device's old contents (old holds the
 * flash from `at`) over the new data when it lies inside what is written. */
static void keep(const struct bk_write *w, const uint8_t *old, uint32_t at, uint32_t old_len, uint32_t addr,
		 uint32_t len, struct bk_kept *k)
{
	uint32_t lo = w->base + w->data_off, hi = lo + w->data_len;
	if (addr == BK_BEKEN_NONE || addr < lo || addr + len > hi || addr < at || addr + len > at + old_len)
		return;
	memcpy(w->want + (addr - w->base), old + (addr - at), len);
	*k = (struct bk_kept){ 1, addr, len };
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

/* The Beken rules: refuse what would brick the chip, then keep what makes
 * this device itself (its RF calibration and MAC, optionally its Tuya
 * store) unless told otherwise. old holds the flash from `at`. */
static int apply_beken(const struct bk_job *job, const struct bk_write *w, const uint8_t *old, uint32_t at,
		       uint32_t old_len, struct bk_write_report *rep)
{
	uint8_t boot[4096];
	const uint8_t *b = old;
	if (at != 0) {
		int r = bk_flash_read(job->flash, 0, boot, sizeof boot);
		if (r)
			return r;
		b = boot;
	}
	int r = bk_safety_check(w->want + w->data_off, w->data_len, w->base + w->data_off, b,
				at == 0 ? old_len : sizeof boot, w->beken->force, &rep->safety, job->err);
	if (r)
		return r;

	uint32_t tuya, rf = device_rf(old, at, old_len, rep->safety.chip, bk_flash_info(job->flash)->size,
				      rep->mac_before, &tuya);
	if (rf == BK_BEKEN_NONE)
		return 0;
	rep->has_mac_before = 1;
	uint32_t in_span = rf - w->base;
	struct bk_err quiet;
	if (rf >= w->base && in_span < w->span)
		rep->has_file_mac = bk_beken_mac(w->want + in_span, w->span - in_span, 0, rep->file_mac, &quiet) == 0;
	if (w->beken->keep_rf)
		keep(w, old, at, old_len, rf, BK_BEKEN_SECTOR, &rep->rf);
	if (w->beken->keep_tuya && tuya != BK_BEKEN_NONE)
		keep(w, old, at, old_len, tuya, old_len - (tuya - at), &rep->tuya);
	if (rf >= w->base && in_span < w->span) {
		rep->has_mac_after = bk_beken_mac(w->want + in_span, w->span - in_span, 0, rep->mac_after, &quiet) == 0;
	} else {
		memcpy(rep->mac_after, rep->mac_before, 6);
		rep->has_mac_after = 1;
	}
	return 0;
}

/* Fills the new data's margins from the flash, applies the Beken rules and
 * plans. Until the sectors the plan touches are confirmed, a misread could
 * have changed the plan, so this repeats while confirmation corrects
 * anything. */
static int plan_confirmed(const struct bk_job *job, const struct bk_write *w, uint8_t *old, uint32_t at,
			  uint32_t old_len, struct bk_plan *plan, struct bk_write_report *rep)
{
	const struct bk_flash_info *info = bk_flash_info(job->flash);
	uint8_t *span_old = old ? old + (w->base - at) : NULL;
	uint8_t *done = old ? calloc(w->span / 4096, 1) : NULL;
	if (old && !done)
		return bk_fail(job->err, BK_ENOMEM, "out of memory");
	int r = 0;
	if (old && w->confirm_all) {
		/* The whole backup, so that every byte of it can be trusted. */
		r = bk_confirm_sectors(job, old, at, old_len, NULL, &rep->confirm);
		if (r) {
			free(done);
			return bk_err_ctx(job->err, "confirming the backup (nothing was erased)");
		}
		memset(done, 1, w->span / 4096);
	}
	for (int round = 0;; round++) {
		r = 0;
		if (w->want) {
			memcpy(w->want, span_old, w->data_off);
			memcpy(w->want + w->data_off + w->data_len, span_old + w->data_off + w->data_len,
			       w->span - w->data_off - w->data_len);
			if (w->beken)
				r = apply_beken(job, w, old, at, old_len, rep);
		}
		if (!r)
			r = bk_plan_build(span_old, w->want, w->base, w->span, info->erase, plan, job->err);
		if (r || !old)
			break;
		/* Each sector is confirmed once, whichever round first touches it. */
		uint8_t *touched = touched_sectors(plan, w->base, w->span);
		if (!touched) {
			r = bk_fail(job->err, BK_ENOMEM, "out of memory");
			break;
		}
		for (uint32_t i = 0; i < w->span / 4096; i++) {
			touched[i] &= !done[i];
			done[i] |= touched[i];
		}
		uint32_t corrected = rep->confirm.corrected;
		r = bk_confirm_sectors(job, span_old, w->base, w->span, touched, &rep->confirm);
		free(touched);
		if (r) {
			bk_err_ctx(job->err, "confirming what the flash holds (nothing was erased)");
			break;
		}
		if (rep->confirm.corrected == corrected || round == 3)
			break;
		bk_plan_free(plan);
	}
	if (r)
		bk_plan_free(plan);
	free(done);
	return r;
}

int bk_op_write(const struct bk_job *job, const struct bk_write *w, struct bk_write_report *rep)
{
	const struct bk_flash_info *info = bk_flash_info(job->flash);
	memset(rep, 0, sizeof *rep);
	if ((uint64_t)w->base + w->span > info->size)
		return bk_fail(job->err, BK_EINVAL, "0x%X bytes at 0x%06X end past the %u KiB flash",
			       w->span, w->base, info->size / 1024);

	/* What the flash holds now: the whole chip for a backup, else only the
	 * span, and nothing at all for an unsaved erase. */
	uint8_t *old = NULL, *ff = NULL;
	uint32_t at = w->backup_path ? 0 : w->base, old_len = w->backup_path ? info->size : w->span;
	int r = 0;
	if (w->backup_path || w->want) {
		old = malloc(old_len);
		if (!old)
			return bk_fail(job->err, BK_ENOMEM, "out of memory");
		r = bk_op_read(job, w->backup_path ? "backup" : "read", at, old, old_len);
	}
	if (!w->want) {
		ff = malloc(CHUNK);
		if (!ff)
			r = r ? r : bk_fail(job->err, BK_ENOMEM, "out of memory");
		else
			memset(ff, 0xFF, CHUNK);
	}
	struct bk_plan plan = { 0 };
	if (!r)
		r = plan_confirmed(job, w, old, at, old_len, &plan, rep);
	/* Saved only now: every sector about to change has been confirmed. */
	if (!r && w->backup_path) {
		r = bk_outfile_write(w->backup_path, old, old_len, w->force_backup, job->err);
		if (r)
			bk_err_ctx(job->err, "saving the backup (nothing was erased)");
	}
	free(old);
	if (!r) {
		rep->sectors = plan.sectors;
		rep->same = plan.same;
		rep->erased = plan.erased;
		rep->program_only = plan.program_only;
		rep->pages = plan.pages;
		rep->erase_ops = (uint32_t)plan.n_erase;
		if (plan.n_erase || plan.n_program)
			r = bk_flash_unprotect(job->flash, &rep->unprotect);
	}
	if (!r)
		r = execute(job, &plan, w->want, w->base, rep);
	if (!r && w->verify) {
		r = verify_touched(job, &plan, w->want, ff, w->base, w->span, rep);
		if (!r)
			rep->verified = w->span;
	}
	bk_plan_free(&plan);
	free(ff);
	return r;
}
