#include "core/ops.h"

#include <stdio.h>
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
			return bk_err_ctx(job->err, r, "%s stopped after %u of %u KiB", phase, done / 1024, len / 1024);
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

/* Compares len bytes at addr with want (with `repeat`, the same CHUNK of
 * want for every chunk: an erase's 0xFF), counting into mm; progress goes
 * from done0 of the whole verify's total. */
static int compare(const struct bk_job *job, uint32_t addr, const uint8_t *want, int repeat, uint32_t len,
		   uint64_t done0, uint64_t total, struct bk_mismatch *mm)
{
	uint8_t *buf = malloc(2 * CHUNK);
	if (!buf)
		return bk_fail(job->err, BK_ENOMEM, "out of memory");
	int r = 0;
	for (uint32_t done = 0; done < len && !r;) {
		uint32_t n = len - done < CHUNK ? len - done : CHUNK;
		const uint8_t *w = repeat ? want : want + done;
		r = check_cancel(job, "verify", addr + done);
		if (!r)
			r = bk_flash_read(job->flash, addr + done, buf, n);
		if (r) {
			bk_err_ctx(job->err, r, "verify stopped after %llu of %llu KiB",
				   (unsigned long long)((done0 + done) / 1024), (unsigned long long)(total / 1024));
			break;
		}
		/* One bad read is not a bad flash: only what two reads agree on
		 * counts. */
		if (memcmp(buf, w, n)) {
			int fixed = 0;
			r = bk_settle(job, buf, addr + done, n, buf + CHUNK, &fixed);
			if (!r)
				diff(buf, w, n, addr + done, mm);
		}
		done += n;
		progress(job, "verify", done0 + done, total);
	}
	free(buf);
	if (!r && mm->count)
		r = bk_fail(job->err, BK_EVERIFY,
			    "verify failed: %u byte%s between 0x%06X and 0x%06X (each confirmed by two agreeing reads)",
			    mm->count, mm->count == 1 ? " differs" : "s differ", mm->first, mm->last);
	return r;
}

int bk_op_verify(const struct bk_job *job, uint32_t addr, const uint8_t *want, uint32_t len,
		 struct bk_mismatch *mm)
{
	memset(mm, 0, sizeof *mm);
	progress(job, "verify", 0, len);
	return compare(job, addr, want, 0, len, 0, len, mm);
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
		r = bk_plan_build(cur, want ? want + (s - base) : NULL, s, len, bk_flash_info(job->flash)->nor.erase, &sub,
				  job->err);
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
	uint64_t total = (uint64_t)plan->erased * BK_SECTOR + (uint64_t)plan->pages * BK_PAGE, done = 0;
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
			return bk_err_ctx(job->err, r, "%s stopped after %llu of %llu KiB were erased or programmed", phase,
					  (unsigned long long)(done / 1024), (unsigned long long)(total / 1024));
		done += op->len;
		progress(job, phase, done, total);
	}
	return 0;
}

/* The sectors a plan touches, one byte per sector of the span. */
static uint8_t *touched_sectors(const struct bk_plan *plan, uint32_t base, uint32_t span)
{
	uint8_t *t = calloc(span / BK_SECTOR ? span / BK_SECTOR : 1, 1);
	if (!t)
		return NULL;
	for (size_t i = 0; i < plan->n_erase; i++)
		memset(t + (plan->erase[i].addr - base) / BK_SECTOR, 1, plan->erase[i].len / BK_SECTOR);
	for (size_t i = 0; i < plan->n_program; i++)
		t[(plan->program[i].addr - base) / BK_SECTOR] = 1;
	return t;
}

/* Reads back every run of sectors the plan touched; the rest was compared
 * with the wanted data while planning. */
static int verify_touched(const struct bk_job *job, const struct bk_plan *plan, const uint8_t *want,
			  const uint8_t *ff, uint32_t base, uint32_t span, struct bk_write_report *rep)
{
	uint32_t n = span / BK_SECTOR;
	uint8_t *touched = touched_sectors(plan, base, span);
	if (!touched)
		return bk_fail(job->err, BK_ENOMEM, "out of memory");
	/* One progress line for the whole verify, however many runs. */
	uint64_t total = 0;
	for (uint32_t s = 0; s < n; s++)
		total += touched[s] ? BK_SECTOR : 0;
	progress(job, "verify", 0, total);
	int r = 0;
	for (uint32_t s = 0; s < n && !r;) {
		if (!touched[s]) {
			s++;
			continue;
		}
		uint32_t e = s;
		while (e < n && touched[e])
			e++;
		uint32_t addr = base + s * BK_SECTOR, len = (e - s) * BK_SECTOR;
		struct bk_mismatch mm = { 0 };
		/* An erase compares with 0xFF, the same chunk of it each time. */
		r = compare(job, addr, want ? want + (addr - base) : ff, !want, len, rep->read_back, total, &mm);
		rep->read_back += len;
		s = e;
	}
	free(touched);
	return r;
}

/* What a write works on: the sector-aligned span around the data, the
 * wanted bytes for all of it, and the device ranges it keeps. */
struct span {
	uint32_t base, len, data_off;
	uint8_t *want;               /* NULL: erase */
	struct bk_range keep[BK_WRITE_MAX_KEEP];
	size_t n_keep;
};

/* Fills the new data's margins and kept ranges from the flash, and plans.
 * Until the sectors the plan touches are confirmed, a misread could have
 * changed the plan, so this repeats while confirmation corrects anything. */
static int plan_confirmed(const struct bk_job *job, const struct bk_write *w, struct span *sp, uint8_t *old,
			  uint32_t at, uint32_t old_len, struct bk_plan *plan, struct bk_write_report *rep)
{
	const struct bk_flash_info *info = bk_flash_info(job->flash);
	uint8_t *span_old = old ? old + (sp->base - at) : NULL;
	uint8_t *done = old ? calloc(sp->len / BK_SECTOR, 1) : NULL;
	if (old && !done)
		return bk_fail(job->err, BK_ENOMEM, "out of memory");
	int r = 0;
	if (old && w->confirm_all) {
		/* The whole backup, so that every byte of it can be trusted. */
		r = bk_confirm_sectors(job, old, at, old_len, NULL, &rep->confirm);
		if (r) {
			free(done);
			return bk_err_ctx(job->err, r, "confirming the backup (nothing was erased)");
		}
		memset(done, 1, sp->len / BK_SECTOR);
	}
	for (int round = 0;; round++) {
		if (sp->want) {
			memcpy(sp->want, span_old, sp->data_off);
			memcpy(sp->want + sp->data_off + w->len, span_old + sp->data_off + w->len,
			       sp->len - sp->data_off - w->len);
			for (size_t k = 0; k < sp->n_keep; k++)
				memcpy(sp->want + (sp->keep[k].addr - sp->base), old + (sp->keep[k].addr - at),
				       sp->keep[k].len);
		}
		r = bk_plan_build(span_old, sp->want, sp->base, sp->len, info->nor.erase, plan, job->err);
		if (r || !old)
			break;
		/* Each sector is confirmed once, whichever round first touches it. */
		uint8_t *touched = touched_sectors(plan, sp->base, sp->len);
		if (!touched) {
			r = bk_fail(job->err, BK_ENOMEM, "out of memory");
			break;
		}
		for (uint32_t i = 0; i < sp->len / BK_SECTOR; i++) {
			touched[i] &= !done[i];
			done[i] |= touched[i];
		}
		uint32_t corrected = rep->confirm.corrected;
		r = bk_confirm_sectors(job, span_old, sp->base, sp->len, touched, &rep->confirm);
		free(touched);
		if (r) {
			bk_err_ctx(job->err, r, "confirming what the flash holds (nothing was erased)");
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

/* The hook's keeps, checked: a kept range must lie in the data and in
 * what was read, or copying it would run outside either. */
static int prepare(const struct bk_job *job, const struct bk_write *w, struct span *sp, const uint8_t *old,
		   uint32_t at, uint32_t old_len)
{
	if (!w->hook)
		return 0;
	struct bk_write_view v = { .data = w->data, .addr = w->addr, .len = w->len,
				   .old = old, .at = at, .old_len = old_len };
	int r = w->hook->prepare(w->hook->ctx, &v, sp->keep, &sp->n_keep, job->err);
	if (r)
		return r;
	for (size_t k = 0; k < sp->n_keep; k++) {
		const struct bk_range *g = &sp->keep[k];
		if (g->addr < w->addr || g->addr + (uint64_t)g->len > (uint64_t)w->addr + w->len || g->addr < at ||
		    g->addr + (uint64_t)g->len > (uint64_t)at + old_len)
			return bk_fail(job->err, BK_EINVAL, "a write hook kept 0x%X bytes at 0x%06X, outside the write",
				       g->len, g->addr);
	}
	return 0;
}

int bk_op_write(const struct bk_job *job, const struct bk_write *w, struct bk_write_report *rep)
{
	const struct bk_flash_info *info = bk_flash_info(job->flash);
	memset(rep, 0, sizeof *rep);
	if (!w->len || (uint64_t)w->addr + w->len > info->nor.size)
		return bk_fail(job->err, BK_EINVAL, "0x%X bytes at 0x%06X end past the %u KiB flash: give a smaller offset or length",
			       w->len, w->addr, info->nor.size / 1024);
	if (!w->data && ((w->addr | w->len) & (BK_SECTOR - 1)))
		return bk_fail(job->err, BK_EINVAL,
			       "erase works on whole 4 KiB sectors: 0x%X bytes at 0x%06X are not", w->len, w->addr);
	struct span sp = { 0 };
	bk_plan_span(w->addr, w->len, &sp.base, &sp.len);
	sp.data_off = w->addr - sp.base;
	uint8_t *own = NULL;
	if (w->data) {
		int lend = w->work && sp.base == w->addr && sp.len == w->len;
		sp.want = lend ? w->work : (own = malloc(sp.len));
		if (!sp.want)
			return bk_fail(job->err, BK_ENOMEM, "out of memory");
		if (sp.want + sp.data_off != w->data)
			memmove(sp.want + sp.data_off, w->data, w->len);
	}

	/* What the flash holds now: the whole chip for a backup, else only the
	 * span, and nothing at all for an unsaved erase. */
	uint8_t *old = NULL, *ff = NULL;
	uint32_t at = w->backup_path ? 0 : sp.base, old_len = w->backup_path ? info->nor.size : sp.len;
	int r = 0;
	if (w->backup_path || w->data) {
		old = malloc(old_len);
		if (!old)
			r = bk_fail(job->err, BK_ENOMEM, "out of memory");
		else
			r = bk_op_read(job, w->backup_path ? "backup" : "read", at, old, old_len);
	}
	if (!w->data) {
		ff = malloc(CHUNK);
		if (!ff)
			r = r ? r : bk_fail(job->err, BK_ENOMEM, "out of memory");
		else
			memset(ff, 0xFF, CHUNK);
	}
	if (!r)
		r = prepare(job, w, &sp, old, at, old_len);
	struct bk_plan plan = { 0 };
	if (!r)
		r = plan_confirmed(job, w, &sp, old, at, old_len, &plan, rep);
	/* Saved only now: every sector about to change has been confirmed. */
	if (!r && w->backup_path) {
		int flags = w->private_backup ? BK_OUT_PRIVATE : 0;
		char *path = rep->backup_path;
		snprintf(path, sizeof rep->backup_path, "%s", w->backup_path);
		r = w->force_backup ? bk_outfile_write(path, old, old_len, flags | BK_OUT_REPLACE, job->err)
				    : bk_outfile_write_unique(path, sizeof rep->backup_path, old, old_len, flags, job->err);
		if (r) {
			path[0] = '\0';
			bk_err_ctx(job->err, r, "saving the backup (nothing was erased)");
		}
	}
	free(old);
	if (!r) {
		rep->sectors = plan.sectors;
		rep->same = plan.same;
		rep->erased = plan.erased;
		rep->program_only = plan.program_only;
		rep->pages = plan.pages;
		rep->erase_ops = (uint32_t)plan.n_erase;
		if (w->planned)
			w->planned(w->planned_ctx, rep);
		if (plan.n_erase || plan.n_program)
			r = bk_flash_unprotect(job->flash, &rep->unprotect);
	}
	if (!r)
		r = execute(job, &plan, sp.want, sp.base, rep);
	if (!r && w->verify) {
		r = verify_touched(job, &plan, sp.want, ff, sp.base, sp.len, rep);
		if (!r)
			rep->verified = sp.len;
	}
	bk_plan_free(&plan);
	free(own);
	free(ff);
	return r;
}
