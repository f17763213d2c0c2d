/* The handle API (include/bkspi.h): one stack per handle, built here and
 * nowhere else. Front ends never see the layers; the layers never see a
 * front end. */
#include "bkspi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/limits.h"
#include "base/outfile.h"
#include "beken/policy.h"
#include "core/ops.h"
#include "prog/prog.h"
#include "spi/chips.h"
#include "spi/flash.h"
#include "spi/protect.h"
#include "target/target.h"

#define SAME(x) _Static_assert((int)BK_##x == (int)BKSPI_##x, "error codes differ: " #x)
SAME(OK); SAME(EINVAL); SAME(EEXIST); SAME(EFILE); SAME(ENOMEM); SAME(EREFUSED); SAME(ENODEV);
SAME(EACCESS); SAME(EBUSY); SAME(EUSB); SAME(ETIMEDOUT); SAME(EGONE); SAME(ENOCHIP); SAME(EFLASH);
SAME(EPROTECT); SAME(EVERIFY); SAME(EUNSTABLE); SAME(EINTR); SAME(ENOUSB);

struct bkspi {
	struct bkspi_config cfg;
	struct bk_err err;
	struct bk_prog *prog;
	struct bk_flash *flash;
	struct bkspi_entry entry;
	struct bk_hooks hooks;
	struct bk_job job;
};

const char *bkspi_errname(int code)
{
	return bk_err_name(code);
}

const char *bkspi_strerror(int code)
{
	return bk_strerror(code);
}

static void on_progress(void *user, const char *phase, uint64_t done, uint64_t total)
{
	struct bkspi *h = user;
	if (h->cfg.progress)
		h->cfg.progress(h->cfg.user, phase, done, total);
}

static int on_cancelled(void *user)
{
	struct bkspi *h = user;
	return h->cfg.cancel && *h->cfg.cancel;
}

bkspi *bkspi_new(const struct bkspi_config *cfg)
{
	struct bkspi *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	h->cfg = *cfg;
	if (!h->cfg.programmer)
		h->cfg.programmer = "ch341a";
	h->hooks = (struct bk_hooks){ .progress = on_progress, .cancelled = on_cancelled, .user = h };
	return h;
}

void bkspi_close(bkspi *h)
{
	if (!h)
		return;
	bk_flash_free(h->flash);
	bk_prog_close(h->prog);
	free(h);
}

const char *bkspi_errmsg(const bkspi *h)
{
	if (!h->err.code)
		return "";
	return h->err.msg[0] ? h->err.msg : bk_strerror(h->err.code);
}

int bkspi_errcode(const bkspi *h)
{
	return h->err.code;
}

const char *bkspi_programmer(const bkspi *h)
{
	return h->cfg.programmer;
}

void bkspi_stats(bkspi *h, struct bkspi_stats *st)
{
	*st = (struct bkspi_stats){ 0 };
	const struct bk_usb_stats *u = h->prog ? bk_prog_usb_stats(h->prog) : NULL;
	if (u)
		*st = (struct bkspi_stats){ 1, u->streams, u->out_transfers, u->in_transfers, u->out_bytes, u->in_bytes,
					    u->waits };
}

uint64_t bkspi_now_us(bkspi *h)
{
	return h->prog ? bk_prog_now_us(h->prog) : 0;
}

/* Every entry point starts with a clean error, so a message always
 * belongs to the call that just failed. */
static void begin(bkspi *h)
{
	bk_err_clear(&h->err);
}

static void note(void *user, const char *text)
{
	struct bkspi *h = user;
	if (h->cfg.note)
		h->cfg.note(h->cfg.user, text);
}

static int connect_prog(bkspi *h)
{
	if (h->prog)
		return 0;
	const struct bk_prog_driver *drv = bk_prog_find(h->cfg.programmer, h->cfg.drivers);
	if (!drv)
		return bk_fail(&h->err, BK_EINVAL, "unknown programmer '%s'", h->cfg.programmer);
	struct bk_prog_config pc = { .spi_hz = h->cfg.spi_hz, .cen = h->cfg.cen, .note = note, .note_user = h,
				     .driver_arg = h->cfg.driver_arg };
	return bk_prog_open(drv, &pc, &h->err, &h->prog);
}

int bkspi_connected(const bkspi *h)
{
	return h->prog != NULL;
}

int bkspi_connect(bkspi *h)
{
	begin(h);
	return connect_prog(h);
}

/* A JEDEC read that returns only zeros: something holds MISO low, which
 * is what a running Beken chip does with its flash's pins. */
static int silent_miso(bkspi *h)
{
	static const uint8_t jedec[4] = { 0x9F };
	uint8_t id[4] = { 0xFF };
	struct bk_spi_frame fr = { .tx = jedec, .tx_len = 1, .len = 4, .rx = id };
	return bk_prog_frames(h->prog, &fr, 1) == 0 && !(id[0] | id[1] | id[2] | id[3]);
}

/* Entry and probe, once per handle. */
static int ready(bkspi *h)
{
	if (h->flash)
		return 0;
	int r = connect_prog(h);
	if (r)
		return r;
	struct bk_entry e;
	enum bk_target_kind kind = h->cfg.target == BKSPI_TARGET_BEKEN ? BK_TARGET_BEKEN : BK_TARGET_SPI;
	r = bk_target_enter(h->prog, kind, &e);
	if (r)
		return r;
	h->entry = (struct bkspi_entry){ .beken = kind == BK_TARGET_BEKEN, .attempts = e.attempts, .echo = e.echo,
					 .long_flush = e.long_flush, .slow_run = e.slow_run };
	r = bk_flash_probe(h->prog, &h->flash);
	if (r == BK_ENOCHIP && kind == BK_TARGET_SPI && silent_miso(h))
		return bk_err_ctx(&h->err, r,
				  "MISO stays 0x00, as on a Beken chip that keeps its flash to itself until its entry: if this is a BK72xx board, use -t beken");
	if (r)
		return r;
	h->job = (struct bk_job){ .flash = h->flash, .hooks = &h->hooks, .err = &h->err };
	return 0;
}

static void flash_report(const struct bk_flash_info *in, struct bkspi_flash *out)
{
	memcpy(out->reply, in->id, 4);
	out->jedec = in->jedec;
	out->vendor = in->vendor;
	out->part = in->part;
	out->size = in->nor.size;
	out->size_from = in->nor.size_from;
	out->page_size = in->nor.page_size;
	out->erase_sizes = (in->nor.erase & BK_ERASE_4K ? 1u << 12 : 0) | (in->nor.erase & BK_ERASE_32K ? 1u << 15 : 0) |
			   (in->nor.erase & BK_ERASE_64K ? 1u << 16 : 0);
}

int bkspi_enter(bkspi *h, struct bkspi_entry *entry, struct bkspi_flash *flash)
{
	begin(h);
	int r = ready(h);
	if (r)
		return r;
	if (entry)
		*entry = h->entry;
	if (flash)
		flash_report(bk_flash_info(h->flash), flash);
	return 0;
}

int bkspi_detect(bkspi *h, struct bkspi_detect_report *rep)
{
	memset(rep, 0, sizeof *rep);
	int r = bkspi_enter(h, &rep->entry, &rep->flash);
	if (r)
		return r;
	bk_prog_describe(h->prog, rep->programmer, sizeof rep->programmer);
	const struct bk_flash_info *in = bk_flash_info(h->flash);
	struct bkspi_status_regs *s = &rep->status;
	r = bk_flash_status(h->flash, &s->sr1, &s->sr2);
	if (r)
		return r;
	struct bk_prot p;
	bk_flash_protection(in, s->sr1, s->sr2, &p);
	s->has_sr2 = !!(in->nor.sr_flags & BK_CHIP_SR2);
	s->bp = p.bp;
	s->tb = p.tb;
	s->sec = p.sec;
	s->cmp = p.cmp;
	s->srp = p.srp;
	s->prot_start = p.start;
	s->prot_len = p.len;
	bk_prot_describe(&p, in->nor.size, s->protected_desc, sizeof s->protected_desc);
	return 0;
}

int bkspi_reset(bkspi *h)
{
	begin(h);
	int r = connect_prog(h);
	if (!r)
		r = bk_target_reset(h->prog);
	/* The chip left SPI mode: the next operation enters again. */
	bk_flash_free(h->flash);
	h->flash = NULL;
	return r;
}

static int check_range(bkspi *h, uint32_t addr, uint32_t len)
{
	uint32_t size = bk_flash_info(h->flash)->nor.size;
	if (!len || addr >= size || len > size - addr)
		return bk_fail(&h->err, BK_EINVAL, "0x%X bytes at 0x%06X do not fit the %u KiB flash: give a smaller offset or length", len, addr,
			       size / 1024);
	return 0;
}

static void confirm_report(const struct bk_confirm *c, struct bkspi_confirm_report *out)
{
	*out = (struct bkspi_confirm_report){ c->sectors, c->by_crc, c->by_reread, c->corrected };
}

int bkspi_read(bkspi *h, const struct bkspi_read_req *req, uint8_t *buf, struct bkspi_read_report *rep)
{
	begin(h);
	memset(rep, 0, sizeof *rep);
	int r = ready(h);
	if (!r)
		r = check_range(h, req->addr, req->len);
	if (r)
		return r;
	if (!req->confirm)
		return bk_op_read(&h->job, "read", req->addr, buf, req->len);
	struct bk_confirm c = { 0 };
	r = bk_op_read_confirmed(&h->job, req->addr, buf, req->len, &c);
	confirm_report(&c, &rep->confirm);
	return r;
}

/* The sectors the Beken policy asks for (bk_beken_probes), from what was
 * already read (old, the flash from at) or else from the flash. buf holds
 * BK_BEKEN_MAX_PROBES sectors. */
struct probes {
	uint32_t addr[BK_BEKEN_MAX_PROBES];
	const uint8_t *sector[BK_BEKEN_MAX_PROBES];
	uint8_t buf[BK_BEKEN_MAX_PROBES][BK_SECTOR];
	struct bk_beken_device dev;
};

static int read_probes(bkspi *h, uint32_t addr, uint32_t len, const uint8_t *old, uint32_t at, uint32_t old_len,
		       struct probes *p)
{
	size_t n = bk_beken_probes(addr, len, bk_flash_info(h->flash)->nor.size, p->addr);
	for (size_t i = 0; i < n; i++) {
		uint32_t a = p->addr[i];
		if (old && a >= at && a - at <= old_len - BK_SECTOR && old_len >= BK_SECTOR) {
			p->sector[i] = old + (a - at);
			continue;
		}
		int r = bk_flash_read(h->flash, a, p->buf[i], BK_SECTOR);
		if (r)
			return bk_err_ctx(&h->err, r, "reading the sector at 0x%06X", a);
		p->sector[i] = p->buf[i];
	}
	p->dev = (struct bk_beken_device){ n, p->addr, p->sector };
	return 0;
}

/* Verifies [addr, addr+len) except the kept ranges, as one mismatch report. */
static int verify_except(bkspi *h, uint32_t addr, const uint8_t *data, uint32_t len, const struct bk_beken_kept *skip,
			 size_t n_skip, struct bk_mismatch *mm)
{
	memset(mm, 0, sizeof *mm);
	uint32_t end = addr + len;
	for (uint32_t a = addr; a < end;) {
		uint32_t stop = end, next = end;
		for (size_t i = 0; i < n_skip; i++) {
			if (!skip[i].kept || skip[i].addr + skip[i].len <= a || skip[i].addr >= stop)
				continue;
			stop = skip[i].addr > a ? skip[i].addr : a;
			next = skip[i].addr + skip[i].len;
		}
		if (stop > a) {
			struct bk_mismatch part;
			int r = bk_op_verify(&h->job, a, data + (a - addr), stop - a, &part);
			if (r && r != BK_EVERIFY)
				return r;
			if (part.count && !mm->count)
				mm->first = part.first;
			if (part.count)
				mm->last = part.last;
			mm->count += part.count;
		}
		a = next > stop ? next : end;
	}
	if (mm->count)
		return bk_fail(&h->err, BK_EVERIFY,
			       "verify failed: %u byte%s between 0x%06X and 0x%06X (each confirmed by two agreeing reads)",
			       mm->count, mm->count == 1 ? " differs" : "s differ", mm->first, mm->last);
	return 0;
}

int bkspi_verify(bkspi *h, const struct bkspi_verify_req *req, struct bkspi_verify_report *rep)
{
	begin(h);
	memset(rep, 0, sizeof *rep);
	rep->rf_addr = BK_BEKEN_NONE;
	int r = ready(h);
	if (!r)
		r = check_range(h, req->addr, req->len);
	if (r)
		return r;
	struct bk_beken_kept keep[2] = { { 0 }, { 0 } };
	if (h->cfg.target == BKSPI_TARGET_BEKEN) {
		struct probes *p = malloc(sizeof *p);
		if (!p)
			return bk_fail(&h->err, BK_ENOMEM, "out of memory");
		r = read_probes(h, req->addr, req->len, NULL, 0, 0, p);
		struct bk_beken_rules rules = { .keep_rf = req->keep_rf, .keep_tuya = req->keep_tuya };
		if (!r)
			bk_beken_verify_keeps(&rules, req->addr, req->len, bk_flash_info(h->flash)->nor.size, &p->dev,
					      &keep[0], &keep[1], &rep->rf_addr);
		free(p);
		if (r)
			return r;
	}
	rep->skipped_rf = (struct bkspi_kept){ keep[0].kept, keep[0].addr, keep[0].len };
	rep->skipped_tuya = (struct bkspi_kept){ keep[1].kept, keep[1].addr, keep[1].len };
	struct bk_mismatch mm;
	r = verify_except(h, req->addr, req->data, req->len, keep, 2, &mm);
	rep->mismatched = mm.count;
	rep->first = mm.first;
	rep->last = mm.last;
	rep->only_rf = mm.count && rep->rf_addr != BK_BEKEN_NONE && !keep[0].kept && mm.first >= rep->rf_addr &&
		       mm.last < rep->rf_addr + BK_SECTOR;
	if (rep->only_rf)
		bk_err_ctx(&h->err, r,
			   "the file differs only in this device's RF calibration sector (0x%06X-0x%06X), which write keeps (--keep-rf yes, the default)",
			   rep->rf_addr, rep->rf_addr + BK_SECTOR - 1);
	return r;
}

/* The Beken policy behind the generic writer's hook. */
struct beken_hook {
	bkspi *h;
	const struct bk_beken_rules *rules;
	struct bk_beken_outcome out;
	struct bk_beken_erase erase;
};

/* An erase: what of the device's own the range holds, refused unless
 * forced when that is its bootloader or its RF calibration. */
static int beken_erase(struct beken_hook *b, const struct bk_write_view *v, struct bk_err *err)
{
	struct probes *p = malloc(sizeof *p);
	if (!p)
		return bk_fail(err, BK_ENOMEM, "out of memory");
	int r = read_probes(b->h, v->addr, v->len, v->old, v->at, v->old_len, p);
	if (!r)
		r = bk_beken_erase_rules(b->rules->force, v->addr, v->len, bk_flash_info(b->h->flash)->nor.size, &p->dev,
					 &b->erase, err);
	free(p);
	return r;
}

static int beken_prepare(void *ctx, const struct bk_write_view *v, struct bk_range keep[BK_WRITE_MAX_KEEP],
			 size_t *n_keep, struct bk_err *err)
{
	struct beken_hook *b = ctx;
	*n_keep = 0;
	if (!v->data)
		return beken_erase(b, v, err);
	uint8_t head[BK_SECTOR];
	const uint8_t *boot = v->old;
	size_t boot_len = v->old_len;
	if (v->at != 0) {
		int r = bk_flash_read(b->h->flash, 0, head, sizeof head);
		if (r)
			return r;
		boot = head;
		boot_len = sizeof head;
	}
	int r = bk_beken_write_rules(b->rules, v->data, v->len, v->addr, v->old, v->at, v->old_len, boot, boot_len,
				     bk_flash_info(b->h->flash)->nor.size, &b->out, err);
	if (r)
		return r;
	const struct bk_beken_kept *k[] = { &b->out.rf, &b->out.tuya };
	for (size_t i = 0; i < 2; i++)
		if (k[i]->kept)
			keep[(*n_keep)++] = (struct bk_range){ k[i]->addr, k[i]->len };
	return 0;
}

static void beken_report(const struct bk_beken_outcome *o, struct bkspi_write_report *rep)
{
	rep->beken = 1;
	rep->image_kind = o->safety.file.name;
	rep->image_family = bk_beken_family_name(o->safety.file.family);
	rep->chip_family = bk_beken_family_name(o->safety.chip);
	snprintf(rep->forced, sizeof rep->forced, "%s", o->safety.overridden);
	rep->kept_rf = (struct bkspi_kept){ o->rf.kept, o->rf.addr, o->rf.len };
	rep->kept_tuya = (struct bkspi_kept){ o->tuya.kept, o->tuya.addr, o->tuya.len };
	rep->has_mac_before = o->has_mac_before;
	rep->has_mac_after = o->has_mac_after;
	rep->has_file_mac = o->has_file_mac;
	memcpy(rep->mac_before, o->mac_before, 6);
	memcpy(rep->mac_after, o->mac_after, 6);
	memcpy(rep->file_mac, o->file_mac, 6);
}

int bkspi_write_check(bkspi *h, const struct bkspi_write_req *req, struct bkspi_write_report *rep)
{
	begin(h);
	memset(rep, 0, sizeof *rep);
	if (h->cfg.target != BKSPI_TARGET_BEKEN || !req->data)
		return 0;
	struct bk_safety s;
	return bk_safety_check(req->data, req->len, req->addr, NULL, 0, req->force, &s, &h->err);
}

/* What the job is about to do, for the front end's plan callback. */
struct planned {
	bkspi *h;
	const struct bkspi_write_req *req;
	int erase, beken;
	const struct beken_hook *bh;
};

static void on_planned(void *ctx, const struct bk_write_report *wr)
{
	struct planned *pl = ctx;
	if (!pl->h->cfg.plan)
		return;
	struct bkspi_plan_report p = {
		.erase = pl->erase, .addr = pl->req->addr, .len = pl->req->len, .beken = pl->beken,
		.belongs_at = UINT32_MAX, .sectors = wr->sectors, .same = wr->same, .erased = wr->erased,
		.erase_ops = wr->erase_ops, .program_only = wr->program_only, .pages = wr->pages,
	};
	const struct bk_beken_outcome *o = &pl->bh->out;
	if (pl->beken && pl->erase) {
		snprintf(p.destroys, sizeof p.destroys, "%s", pl->bh->erase.destroys);
		snprintf(p.forced, sizeof p.forced, "%s", pl->bh->erase.overridden);
	} else if (pl->beken && o->safety.file.name) {
		p.image_kind = o->safety.file.name;
		p.image_family = bk_beken_family_name(o->safety.file.family);
		p.chip_family = bk_beken_family_name(o->safety.chip);
		p.belongs_at = o->safety.file.flash_offset;
		p.kept_rf = (struct bkspi_kept){ o->rf.kept, o->rf.addr, o->rf.len };
		p.kept_tuya = (struct bkspi_kept){ o->tuya.kept, o->tuya.addr, o->tuya.len };
		snprintf(p.forced, sizeof p.forced, "%s", o->safety.overridden);
	}
	pl->h->cfg.plan(pl->h->cfg.user, &p);
}

static int write_or_erase(bkspi *h, const struct bkspi_write_req *req, int erase, struct bkspi_write_report *rep)
{
	begin(h);
	memset(rep, 0, sizeof *rep);
	int r = ready(h);
	if (r)
		return r;
	struct bk_beken_rules rules = { .force = req->force, .keep_rf = req->keep_rf, .keep_tuya = req->keep_tuya };
	struct beken_hook bh = { .h = h, .rules = &rules };
	struct bk_write_hook hook = { .prepare = beken_prepare, .ctx = &bh };
	int beken = h->cfg.target == BKSPI_TARGET_BEKEN;
	struct planned pl = { .h = h, .req = req, .erase = erase, .beken = beken, .bh = &bh };
	struct bk_write w = {
		.addr = req->addr, .len = req->len, .data = erase ? NULL : req->data, .work = erase ? NULL : req->work,
		.backup_path = req->backup_path, .force_backup = req->force_backup, .private_backup = 1,
		.verify = !req->no_verify, .confirm_all = req->confirm_all, .hook = beken ? &hook : NULL,
		.planned = on_planned, .planned_ctx = &pl,
	};
	struct bk_write_report wr;
	r = bk_op_write(&h->job, &w, &wr);
	if (beken && !erase && bh.out.safety.file.name)
		beken_report(&bh.out, rep);
	if (beken && erase) {
		rep->beken = 1;
		snprintf(rep->destroys, sizeof rep->destroys, "%s", bh.erase.destroys);
		snprintf(rep->forced, sizeof rep->forced, "%s", bh.erase.overridden);
	}
	rep->unprotect.changed = wr.unprotect.changed;
	rep->unprotect.sr1_before = wr.unprotect.sr1_before;
	rep->unprotect.sr2_before = wr.unprotect.sr2_before;
	rep->unprotect.sr1_after = wr.unprotect.sr1_after;
	rep->unprotect.sr2_after = wr.unprotect.sr2_after;
	rep->sectors = wr.sectors;
	rep->same = wr.same;
	rep->erased = wr.erased;
	rep->erase_ops = wr.erase_ops;
	rep->program_only = wr.program_only;
	rep->pages = wr.pages;
	rep->verified = wr.verified;
	rep->read_back = wr.read_back;
	rep->recovered = wr.recovered;
	confirm_report(&wr.confirm, &rep->confirm);
	snprintf(rep->backup, sizeof rep->backup, "%s", wr.backup_path);
	if (r == BK_EREFUSED)
		bk_err_ctx(&h->err, r, "nothing was erased");
	return r;
}

int bkspi_write(bkspi *h, const struct bkspi_write_req *req, struct bkspi_write_report *rep)
{
	return write_or_erase(h, req, 0, rep);
}

int bkspi_erase(bkspi *h, const struct bkspi_write_req *req, struct bkspi_write_report *rep)
{
	return write_or_erase(h, req, 1, rep);
}

static void sanitize(char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_' || *s == '.'))
			*s = '-';
}

int bkspi_backup_name(bkspi *h, const char *dir, const char *label, const char *purpose, char *path, size_t cap)
{
	begin(h);
	int r = ready(h);
	if (r)
		return r;
	const struct bk_flash_info *in = bk_flash_info(h->flash);
	char part[64], name[128], stamp[32];
	snprintf(part, sizeof part, "%s", in->part);
	if (!strcmp(in->part, "unknown part"))
		snprintf(part, sizeof part, "%06X", in->jedec);
	if (label)
		snprintf(name, sizeof name, "%s%s%s", label, purpose ? "-" : "", purpose ? purpose : "");
	else
		snprintf(name, sizeof name, "%s", purpose ? purpose : "read");
	sanitize(part);
	sanitize(name);
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
	r = bk_outdir_make(dir, BK_OUT_PRIVATE, &h->err);
	if (r)
		return r;
	if ((size_t)snprintf(path, cap, "%s/%s_%s_%s.bin", dir, part, name, stamp) >= cap)
		return bk_fail(&h->err, BK_EINVAL, "backup name too long: choose a shorter --backup-dir or --label");
	return 0;
}

int bkspi_save(bkspi *h, const char *path, const uint8_t *data, size_t len, int overwrite)
{
	begin(h);
	return bk_outfile_write(path, data, len, overwrite ? BK_OUT_REPLACE : 0, &h->err);
}
