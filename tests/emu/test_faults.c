/* bkspi survives faults: every fault the emulator can inject, against the
 * real USB, CH341A, SPI and core layers.
 *
 * The bench taps the USB seam so a test knows exactly how many IN transfers
 * the emulator has taken (its usb-error-at / usb-timeout-at count) and can
 * aim a fault at the next transfer of a given phase; progress hooks switch
 * faults on mid-job with bk_emu_set, relative to what has happened so far
 * (packets from bk_emu_stats, IN transfers from the tap), never at
 * hard-coded positions. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rig.h"

#define SECTOR 4096u

/* ---- the bench: emulator behind a counting tap ---------------------------- */

struct tap {
	struct bk_emu *emu;
	uint64_t in;   /* IN transfers the emulator has counted */
};

static int tap_submit(void *dev, struct bk_usb_xfer *x)
{
	struct tap *t = dev;
	int r = bk_emu_backend()->submit(t->emu, x);
	/* The emulator counts every IN it takes while plugged in. */
	if (x->is_in && r != BK_EGONE)
		t->in++;
	return r;
}

static int tap_wait(void *dev, unsigned ms)
{
	return bk_emu_backend()->wait(((struct tap *)dev)->emu, ms);
}

static void tap_cancel(void *dev, struct bk_usb_xfer *x)
{
	bk_emu_backend()->cancel(((struct tap *)dev)->emu, x);
}

static void tap_sleep(void *dev, uint64_t us)
{
	bk_emu_backend()->sleep_us(((struct tap *)dev)->emu, us);
}

static uint64_t tap_now(void *dev)
{
	return bk_emu_backend()->now_us(((struct tap *)dev)->emu);
}

static void tap_close(void *dev)
{
	struct tap *t = dev;
	bk_emu_free(t->emu);
	t->emu = NULL;
}

static const struct bk_usb_backend tap_backend = {
	.name = "tapped emulated CH341A",
	.submit = tap_submit,
	.wait = tap_wait,
	.cancel = tap_cancel,
	.sleep_us = tap_sleep,
	.now_us = tap_now,
	.close = tap_close,
};

/* The rig, with the tap between the driver and the emulator. */
struct bench {
	struct tap tap;
	struct rig r;
	uint8_t *mem;
	size_t size;
};

/* Emulator and programmer, no entry yet; returns the BK_E* code. */
static int bench_open(struct bench *b, const char *config)
{
	memset(b, 0, sizeof *b);
	struct bk_usb *usb;
	int rc = rig_emu_new(config, &b->r.err, &b->tap.emu);
	if (rc)
		return rc;
	b->mem = bk_emu_flash(b->tap.emu, &b->size);
	rc = bk_usb_wrap(&tap_backend, &b->tap, "tapped programmer", &b->r.err, &usb);
	if (!rc)
		rc = rig_open_usb(&b->r, usb, b->tap.emu);
	b->r.job = (struct bk_job){ .err = &b->r.err };
	return rc;
}

static int bench_enter(struct bench *b, enum bk_target_kind kind)
{
	return rig_enter(&b->r, kind);
}

static void bench_up(struct bench *b, const char *config)
{
	int rc = bench_open(b, config);
	if (!rc)
		rc = bench_enter(b, BK_TARGET_BEKEN);
	if (rc)
		fail_msg("bench %s: %s", config ? config : "(default)", b->r.err.msg);
}

static void bench_close(struct bench *b)
{
	rig_close(&b->r);
	memset(b, 0, sizeof *b);
}

static struct bk_emu_stats stats(const struct bench *b)
{
	struct bk_emu_stats st;
	bk_emu_stats(b->tap.emu, &st);
	return st;
}

static void set(struct bench *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set(struct bench *b, const char *fmt, ...)
{
	char kv[96];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(kv, sizeof kv, fmt, ap);
	va_end(ap);
	struct bk_err err = { 0 };
	if (bk_emu_set(b->tap.emu, kv, &err))
		fail_msg("bk_emu_set %s: %s", kv, err.msg);
}

/* The IN transfer `ahead` transfers from now fails (error) or never
 * completes (timeout). */
static void usb_fault(struct bench *b, int timeout, uint64_t ahead)
{
	set(b, "usb-%s-at=%llu", timeout ? "timeout" : "error", (unsigned long long)(b->tap.in + ahead));
}

static void usb_fault_off(struct bench *b)
{
	set(b, "usb-error-at=0");
	set(b, "usb-timeout-at=0");
}

static const char *kind_name(int timeout)
{
	return timeout ? "timeout" : "error";
}

/* ---- switching faults on mid-job -------------------------------------------- */

enum action { ACT_NONE, ACT_USB_ERROR, ACT_USB_TIMEOUT, ACT_UNPLUG, ACT_INTERRUPT, ACT_CANCEL, ACT_STUCK };

/* Fires once, at the first progress report of `phase` with done >= total *
 * num / den: `ahead` IN transfers (USB faults) or packets (unplug,
 * interrupt) later. */
struct trigger {
	struct bench *b;
	const char *phase;
	uint64_t num, den;
	enum action act;
	uint64_t ahead;
	int fired;
	uint64_t fired_done;    /* progress done when it fired */
	uint64_t fired_in;      /* IN transfers so far when it fired */
	volatile int cancel;   /* what the cancelled hook answers */
};

static void on_progress(void *user, const char *phase, uint64_t done, uint64_t total)
{
	struct trigger *t = user;
	if (t->fired || !t->phase || strcmp(phase, t->phase) || done * t->den < total * t->num)
		return;
	t->fired = 1;
	t->fired_done = done;
	struct bench *b = t->b;
	t->fired_in = b->tap.in;
	switch (t->act) {
	case ACT_NONE:
		break;
	case ACT_USB_ERROR:
	case ACT_USB_TIMEOUT:
		usb_fault(b, t->act == ACT_USB_TIMEOUT, t->ahead);
		break;
	case ACT_UNPLUG:
		set(b, "unplug-after=%llu", (unsigned long long)(stats(b).packets + t->ahead));
		break;
	case ACT_INTERRUPT:
		set(b, "interrupt-after=%llu", (unsigned long long)(stats(b).packets + t->ahead));
		break;
	case ACT_CANCEL:
		t->cancel = 1;
		break;
	case ACT_STUCK:
		set(b, "stuck-wip=1");
		break;
	}
}

static volatile sig_atomic_t sigint_seen;

static void on_sigint(int sig)
{
	(void)sig;
	sigint_seen = 1;
}

static int is_cancelled(void *user)
{
	struct trigger *t = user;
	return t->cancel || sigint_seen;
}

static void hook(struct bench *b, struct bk_hooks *h, struct trigger *t)
{
	t->b = b;
	*h = (struct bk_hooks){ .progress = on_progress, .cancelled = is_cancelled, .user = t };
	b->r.job.hooks = h;
}

/* ---- writing ---------------------------------------------------------------- */

/* Writes data at addr (want NULL: erases [addr, addr+len)) as the CLI does,
 * without Beken rules. */
static int write_with(struct bench *b, uint32_t addr, const uint8_t *data, uint32_t len, const char *backup,
		      int confirm_all, struct bk_write_report *rep)
{
	struct bk_write w = { .addr = addr, .len = len, .data = data, .verify = 1, .backup_path = backup,
			      .confirm_all = confirm_all };
	return bk_op_write(&b->r.job, &w, rep);
}

static int write_at(struct bench *b, uint32_t addr, const uint8_t *data, uint32_t len, const char *backup,
		    struct bk_write_report *rep)
{
	return write_with(b, addr, data, len, backup, 0, rep);
}

static uint8_t *dup_mem(const struct bench *b)
{
	uint8_t *m = malloc(b->size);
	assert_non_null(m);
	memcpy(m, b->mem, b->size);
	return m;
}

static uint8_t *random_buf(size_t n, uint32_t seed)
{
	uint8_t *m = malloc(n);
	assert_non_null(m);
	rig_fill(m, n, seed);
	return m;
}

/* The hex number right after `after` in msg, or UINT32_MAX. */
static uint32_t addr_in(const char *msg, const char *after)
{
	const char *p = strstr(msg, after);
	unsigned long v;
	if (!p || sscanf(p + strlen(after), "%lx", &v) != 1)
		return UINT32_MAX;
	return (uint32_t)v;
}

/* A fresh path for a backup in /tmp (not created). */
static void temp_path(char *path, size_t cap)
{
	snprintf(path, cap, "/tmp/bkspi-faults-backup-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
}

/* Neither PATH nor PATH.partial exists. */
static int no_file(const char *path)
{
	char partial[300];
	snprintf(partial, sizeof partial, "%s.partial", path);
	return access(path, F_OK) == -1 && access(partial, F_OK) == -1;
}
/* The backup a write saved at path, read back and removed. */
static uint8_t *take_backup(const char *path, size_t size)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	uint8_t *saved = malloc(size);
	assert_non_null(saved);
	assert_int_equal(fread(saved, 1, size, f), size);
	fclose(f);
	unlink(path);
	return saved;
}

/* Appends "a-b" or "a" for a run of failing positions to out. */
static void add_run(char *out, size_t cap, uint64_t a, uint64_t b)
{
	size_t n = strlen(out);
	if (a == b)
		snprintf(out + n, cap - n, "%s%llu", n ? "," : "", (unsigned long long)a);
	else
		snprintf(out + n, cap - n, "%s%llu-%llu", n ? "," : "", (unsigned long long)a, (unsigned long long)b);
}

#define ROWS_OF(table) (sizeof (table) / sizeof (table)[0])

/* ---- one USB fault, at every transfer that matters -------------------------------- */

/* A transient USB error or lost reply must never cost a job: each scenario
 * runs its operation clean to learn how many IN transfers it takes, then
 * aims one fault (error, then timeout) at each chosen transfer; every
 * attempt must end as the clean run did. All failures are collected, so one
 * report shows which transfers are not survived rather than the first. */

/* Where a fault's board comes from. */
enum board {
	SAME_BOARD,    /* the operation changes nothing: one bench serves all */
	FRESH_BOARD,   /* a write: its firmware must have set the protection again */
	FROM_POWER_ON, /* the entry: the fault is armed before the emulator starts */
};

#define EVERY_IN UINT64_MAX /* head: every transfer of the clean run */

struct one_fault;

struct one_fault_case {
	const char *name;
	const char *what; /* the operation, as failure messages call it */
	const char *config;
	enum board board;
	/* Opens the bench and runs clean: sets n_in, and mark if it aims there. */
	void (*measure)(struct one_fault *f);
	/* One run with the fault armed: NULL, or why it went wrong. */
	const char *(*attempt)(struct one_fault *f);
	/* Aimed: IN 1..head, `spread` more evenly over the rest of the clean
	 * run, and IN mark-before..mark+after (transfers counted as the board
	 * was when armed). */
	uint64_t head, spread, before, after;
	const char *mark_is;
	int some_recover; /* some fault must land on an erase or a page program */
};

struct one_fault {
	const struct one_fault_case *c;
	struct bench b;
	uint8_t *old, *data, *buf;
	uint32_t addr, len;
	uint8_t sr1, sr2;
	uint64_t n_in, mark;
	unsigned recovered;
	char why[160];
};

static const char *failed_with(struct one_fault *f, int rc)
{
	snprintf(f->why, sizeof f->why, "%s: %.100s", bk_err_name(rc), f->b.r.err.msg);
	return f->why;
}

static void measure_read(struct one_fault *f)
{
	bench_up(&f->b, f->c->config);
	rig_fill(f->b.mem, f->b.size, 101);
	f->buf = malloc(f->b.size);
	assert_non_null(f->buf);
	uint64_t in0 = f->b.tap.in;
	assert_int_equal(bk_op_read(&f->b.r.job, "read", 0, f->buf, (uint32_t)f->b.size), 0);
	f->n_in = f->b.tap.in - in0;
	assert_true(f->n_in > 100);
}

static const char *attempt_read(struct one_fault *f)
{
	memset(f->buf, 0, f->b.size);
	uint64_t before = f->b.tap.in;
	int rc = bk_op_read(&f->b.r.job, "read", 0, f->buf, (uint32_t)f->b.size);
	if (rc)
		return failed_with(f, rc);
	if (memcmp(f->buf, f->b.mem, f->b.size))
		return "exit 0 but the data differs";
	/* a retry costs transfers: without them the test proved nothing */
	if (f->b.tap.in - before <= f->n_in)
		return "the fault did not fire";
	return NULL;
}

static void measure_status(struct one_fault *f)
{
	bench_up(&f->b, f->c->config);
	uint64_t in0 = f->b.tap.in;
	assert_int_equal(bk_flash_status(f->b.r.flash, &f->sr1, &f->sr2), 0);
	f->n_in = f->b.tap.in - in0;
	assert_int_equal(f->sr1, 0x1C); /* the firmware's protection */
}

static const char *attempt_status(struct one_fault *f)
{
	uint8_t sr1, sr2;
	int rc = bk_flash_status(f->b.r.flash, &sr1, &sr2);
	if (rc)
		return failed_with(f, rc);
	if (sr1 != f->sr1 || sr2 != f->sr2) {
		snprintf(f->why, sizeof f->why, "status %02X %02X, not %02X %02X", sr1, sr2, f->sr1, f->sr2);
		return f->why;
	}
	return NULL;
}

/* The entry and the probe change nothing on the flash, so both are worth
 * retrying like a read. */
static void measure_entry(struct one_fault *f)
{
	assert_int_equal(bench_open(&f->b, f->c->config), 0);
	assert_int_equal(bk_target_enter(f->b.r.prog, BK_TARGET_BEKEN, &f->b.r.entry), 0);
	f->mark = f->b.tap.in + 1;
	assert_int_equal(bench_enter(&f->b, BK_TARGET_SPI), 0); /* the probe alone */
	f->n_in = f->b.tap.in;
	assert_true(f->mark > 6 && f->n_in >= f->mark);
}

static const char *attempt_entry(struct one_fault *f)
{
	int rc = bench_enter(&f->b, BK_TARGET_BEKEN);
	if (rc)
		return failed_with(f, rc);
	if (bk_flash_info(f->b.r.flash)->jedec != 0x0B4010)
		return "entered, but the probe read a wrong JEDEC id";
	return NULL;
}

/* 0x4000-0x5FFF needs erase + program, 0x6000-0x6FFF program only: faults
 * land on every kind of operation a write does. */
static void measure_write(struct one_fault *f)
{
	bench_up(&f->b, f->c->config);
	rig_fill(f->b.mem, f->b.size, 201);
	f->old = dup_mem(&f->b);
	f->addr = 0x4000;
	f->len = 0x3000;
	f->data = random_buf(f->len, 202);
	for (uint32_t i = 0x2000; i < f->len; i++)
		f->data[i] &= f->old[f->addr + i];
	struct bk_write_report rep;
	uint64_t in0 = f->b.tap.in;
	assert_int_equal(write_at(&f->b, f->addr, f->data, f->len, NULL, &rep), 0);
	f->n_in = f->b.tap.in - in0;
	assert_int_equal(rep.erased, 2);
	assert_int_equal(rep.program_only, 1);
	assert_memory_equal(f->b.mem + f->addr, f->data, f->len);
}

/* The unprotect (status reads, the status write and its busy polls) comes
 * right before the first erase; the clean run finds where that is. */
static void measure_unprotect(struct one_fault *f)
{
	bench_up(&f->b, f->c->config);
	rig_fill(f->b.mem, f->b.size, 251);
	f->old = dup_mem(&f->b);
	f->addr = 0;
	f->len = 0x2000;
	f->data = random_buf(f->len, 252);
	struct bk_hooks h;
	struct trigger t = { .phase = "erase", .num = 0, .den = 1, .act = ACT_NONE };
	hook(&f->b, &h, &t);
	struct bk_write_report rep;
	uint64_t in0 = f->b.tap.in;
	assert_int_equal(write_at(&f->b, f->addr, f->data, f->len, NULL, &rep), 0);
	f->b.r.job.hooks = NULL;
	assert_true(t.fired && rep.unprotect.changed);
	f->n_in = f->b.tap.in - in0;
	f->mark = t.fired_in - in0;
}

static const char *attempt_write(struct one_fault *f)
{
	struct bk_write_report rep;
	int rc = write_at(&f->b, f->addr, f->data, f->len, NULL, &rep);
	f->recovered += rep.recovered > 0;
	if (rc)
		return failed_with(f, rc);
	size_t end = (size_t)f->addr + f->len;
	if (memcmp(f->b.mem + f->addr, f->data, f->len))
		return "exit 0 but the flash differs from the data";
	if (memcmp(f->b.mem, f->old, f->addr) || memcmp(f->b.mem + end, f->old + end, f->b.size - end))
		return "exit 0 but the flash changed outside the write";
	return NULL;
}

static const struct one_fault_case one_fault_cases[] = {
	{ .name = "read_survives_one_usb_fault_anywhere", .what = "read", .config = "size=65536",
	  .board = SAME_BOARD, .measure = measure_read, .attempt = attempt_read,
	  /* the start of the stream, where its queue fills, then the rest */
	  .head = 8, .spread = 12 },
	{ .name = "status_read_survives_one_usb_fault", .what = "status read", .config = "size=65536",
	  .board = SAME_BOARD, .measure = measure_status, .attempt = attempt_status, .head = 2 },
	{ .name = "entry_survives_one_usb_fault", .what = "entry and probe", .config = "size=65536",
	  .board = FROM_POWER_ON, .measure = measure_entry, .attempt = attempt_entry, .head = EVERY_IN,
	  .mark_is = "the probe starts at" },
	/* every so many transfers from the backup read to the last verify
	 * read, the unprotect included */
	{ .name = "write_survives_one_usb_fault_anywhere", .what = "write", .config = "size=65536",
	  .board = FRESH_BOARD, .measure = measure_write, .attempt = attempt_write, .head = 1, .spread = 60,
	  .some_recover = 1 },
	{ .name = "unprotect_survives_one_usb_fault", .what = "write around the unprotect",
	  .config = "size=65536", .board = FRESH_BOARD, .measure = measure_unprotect, .attempt = attempt_write,
	  .before = 12, .after = 2, .mark_is = "the erase starts at" },
};

/* The transfers a case aims at, ascending, each once; *n set. */
static uint64_t *aims_of(const struct one_fault *f, size_t *n)
{
	const struct one_fault_case *c = f->c;
	uint64_t head = c->head == EVERY_IN ? f->n_in : c->head;
	uint64_t *at = malloc((head + c->spread + c->before + c->after + 1) * sizeof *at);
	assert_non_null(at);
	size_t k = 0;
#define AIM(v) do { uint64_t v_ = (v); if (!k || v_ > at[k - 1]) at[k++] = v_; } while (0)
	for (uint64_t i = 1; i <= head; i++)
		AIM(i);
	for (uint64_t i = 1; i <= c->spread && f->n_in > head; i++)
		AIM(head + i * (f->n_in - head) / c->spread);
	if (c->before || c->after)
		for (uint64_t i = f->mark > c->before ? f->mark - c->before : 1; i <= f->mark + c->after; i++)
			AIM(i);
#undef AIM
	*n = k;
	return at;
}

static void arm(struct one_fault *f, int timeout, uint64_t at)
{
	switch (f->c->board) {
	case SAME_BOARD:
		usb_fault(&f->b, timeout, at);
		break;
	case FRESH_BOARD:
		bench_up(&f->b, f->c->config);
		memcpy(f->b.mem, f->old, f->b.size);
		usb_fault(&f->b, timeout, at);
		break;
	case FROM_POWER_ON: {
		char config[96];
		snprintf(config, sizeof config, "%s,usb-%s-at=%llu", f->c->config, kind_name(timeout),
			 (unsigned long long)at);
		assert_int_equal(bench_open(&f->b, config), 0);
		break;
	}
	}
}

static void disarm(struct one_fault *f)
{
	if (f->c->board == SAME_BOARD)
		usb_fault_off(&f->b);
	else
		bench_close(&f->b);
}

static void survives_one_usb_fault(void **state)
{
	const struct one_fault_case *c = *state;
	struct one_fault f = { .c = c };
	c->measure(&f);
	if (c->board != SAME_BOARD)
		bench_close(&f.b);
	size_t n_at;
	uint64_t *at = aims_of(&f, &n_at);
	char runs[2][200] = { "", "" }, first[480] = "";
	unsigned nf = 0;
	for (int timeout = 0; timeout < 2; timeout++) {
		uint64_t run_a = 0, run_b = 0;
		for (size_t i = 0; i < n_at; i++) {
			arm(&f, timeout, at[i]);
			const char *why = c->attempt(&f);
			if (why && nf++ < 4) {
				size_t n = strlen(first);
				snprintf(first + n, sizeof first - n, " [%s at IN %llu: %s]", kind_name(timeout),
					 (unsigned long long)at[i], why);
			}
			disarm(&f);
			if (!why)
				continue;
			if (run_a && at[i] == run_b + 1) {
				run_b = at[i];
				continue;
			}
			if (run_a)
				add_run(runs[timeout], sizeof runs[timeout], run_a, run_b);
			run_a = run_b = at[i];
		}
		if (run_a)
			add_run(runs[timeout], sizeof runs[timeout], run_a, run_b);
	}
	if (c->board == SAME_BOARD)
		bench_close(&f.b);
	free(at);
	free(f.buf);
	free(f.data);
	free(f.old);
	char mark[64] = "";
	if (c->mark_is)
		snprintf(mark, sizeof mark, ", %s IN %llu", c->mark_is, (unsigned long long)f.mark);
	if (nf)
		fail_msg("%s (%llu IN transfers clean%s): %u of %zu single USB faults were not survived:"
			 " error at IN {%s}, timeout at IN {%s}; the first:%s",
			 c->what, (unsigned long long)f.n_in, mark, nf, 2 * n_at, runs[0], runs[1], first);
	if (c->some_recover && !f.recovered)
		fail_msg("%s: no fault hit an erase or a page program, so no recovery was tried", c->what);
}

/* When a stream gives up on a lost reply, its message counts the replies
 * that really came back. */
static void timeout_message_counts_replies(void **state)
{
	(void)state;
	struct bench b;
	bench_up(&b, "size=65536");
	/* a read that takes 3 IN transfers: 4 + 89 bytes on the CH341A (31
	 * a packet), 4 + 1100 on the CH347 (507 a message) */
	size_t n = strcmp(rig_programmer(), "ch347") ? 89 : 1100;
	uint8_t cmd[4] = { 0x03, 0, 0, 0 }, buf[1100];
	struct bk_spi_frame fr = { .tx = cmd, .tx_len = 4, .len = 4 + n, .rx = buf, .rx_skip = 4 };
	usb_fault(&b, 1, 2);
	int rc = bk_prog_frames(b.r.prog, &fr, 1);
	char msg[sizeof b.r.err.msg];
	snprintf(msg, sizeof msg, "%s", b.r.err.msg);
	/* and the next stream is clean again */
	int rc2 = bk_prog_frames(b.r.prog, &fr, 1);
	int same = !memcmp(buf, b.mem, n);
	bench_close(&b);
	assert_int_equal(rc, BK_ETIMEDOUT);
	assert_int_equal(rc2, 0);
	assert_true(same);
	if (!strstr(msg, "(1 of 3 replies received)"))
		fail_msg("the second of 3 replies was lost; the message says: %s", msg);
}


/* ---- USB faults aimed inside a write ------------------------------------------------ */

/* A fault aimed at the erase and at the page programs: the write reads the
 * flash back and plans again ("recovered"), and ends right. */
static void fault_in_erase_or_program_is_recovered(void **state)
{
	(void)state;
	static const struct {
		const char *phase;
		uint64_t num, den, ahead;
	} aims[] = {
		/* the write enable and the erase command (a fault in a status
		 * poll after them is a status read: retried, nothing to recover) */
		{ "erase", 0, 1, 1 }, { "erase", 0, 1, 2 },
		/* anywhere in a batch of page programs (each fires right after a
		 * program operation whose successor is one too) */
		{ "program", 1, 4, 1 }, { "program", 1, 4, 2 }, { "program", 3, 8, 6 },
		{ "program", 5, 8, 11 }, { "program", 7, 8, 40 },
	};
	struct bench b;
	bench_up(&b, "size=131072");
	rig_fill(b.mem, b.size, 301);
	uint8_t *old = dup_mem(&b), *data = random_buf(0x10000, 302);
	for (int timeout = 0; timeout < 2; timeout++)
		for (size_t i = 0; i < sizeof aims / sizeof aims[0]; i++) {
			memcpy(b.mem, old, b.size);
			struct bk_hooks h;
			struct trigger t = { .phase = aims[i].phase, .num = aims[i].num, .den = aims[i].den,
					     .act = timeout ? ACT_USB_TIMEOUT : ACT_USB_ERROR, .ahead = aims[i].ahead };
			hook(&b, &h, &t);
			struct bk_write_report rep;
			int rc = write_at(&b, 0x8000, data, 0x10000, NULL, &rep);
			if (rc)
				fail_msg("%s in %s (+%llu): %s", kind_name(timeout), aims[i].phase,
					 (unsigned long long)aims[i].ahead, b.r.err.msg);
			assert_true(t.fired);
			if (!rep.recovered)
				fail_msg("%s in %s (+%llu): not reported as recovered", kind_name(timeout),
					 aims[i].phase, (unsigned long long)aims[i].ahead);
			assert_memory_equal(b.mem + 0x8000, data, 0x10000);
			assert_memory_equal(b.mem, old, 0x8000);
			assert_memory_equal(b.mem + 0x18000, old + 0x18000, 0x8000);
			assert_int_equal(rep.verified, 0x10000);
			usb_fault_off(&b);
			b.r.job.hooks = NULL;
		}
	free(data);
	free(old);
	bench_close(&b);
}

/* A second fault while recovering from the first: recovery is retried.
 * A dry run finds where a page batch starts; then an error hits it and a
 * lost reply follows some transfers later, inside the recovery or after. */
static void fault_during_recovery_is_recovered(void **state)
{
	(void)state;
	static const uint64_t second[] = { 3, 8, 20, 60, 150, 400 };
	struct bench b;
	bench_up(&b, "size=131072");
	rig_fill(b.mem, b.size, 351);
	uint8_t *old = dup_mem(&b), *data = random_buf(0x10000, 352);
	struct bk_hooks h;
	struct trigger t = { .phase = "program", .num = 1, .den = 4, .act = ACT_NONE };
	hook(&b, &h, &t);
	struct bk_write_report rep;
	uint64_t in0 = b.tap.in;
	assert_int_equal(write_at(&b, 0x8000, data, 0x10000, NULL, &rep), 0);
	assert_true(t.fired);
	uint64_t batch = t.fired_in - in0;
	b.r.job.hooks = NULL;
	for (size_t i = 0; i < sizeof second / sizeof second[0]; i++) {
		memcpy(b.mem, old, b.size);
		uint64_t base = b.tap.in;
		set(&b, "usb-error-at=%llu", (unsigned long long)(base + batch + 2));
		set(&b, "usb-timeout-at=%llu", (unsigned long long)(base + batch + 2 + second[i]));
		int rc = write_at(&b, 0x8000, data, 0x10000, NULL, &rep);
		if (rc)
			fail_msg("error, then a timeout %llu transfers later: %s", (unsigned long long)second[i], b.r.err.msg);
		assert_true(rep.recovered >= 1);
		assert_memory_equal(b.mem + 0x8000, data, 0x10000);
		usb_fault_off(&b);
	}
	free(data);
	free(old);
	bench_close(&b);
}

/* A fault while verifying is a re-read, not a mismatch and not a
 * recovery. */
static void fault_in_verify_is_no_mismatch(void **state)
{
	(void)state;
	struct bench b;
	bench_up(&b, "size=262144");
	rig_fill(b.mem, b.size, 401);
	uint8_t *old = dup_mem(&b), *data = random_buf(0x20000, 402);
	for (int timeout = 0; timeout < 2; timeout++)
		for (uint64_t num = 0; num < 2; num++) {
			memcpy(b.mem, old, b.size);
			struct bk_hooks h;
			struct trigger t = { .phase = "verify", .num = num, .den = 2,
					     .act = timeout ? ACT_USB_TIMEOUT : ACT_USB_ERROR, .ahead = 5 };
			hook(&b, &h, &t);
			struct bk_write_report rep;
			uint64_t in0 = b.tap.in;
			int rc = write_at(&b, 0, data, 0x20000, NULL, &rep);
			if (rc)
				fail_msg("%s in verify: %s", kind_name(timeout), b.r.err.msg);
			assert_true(t.fired);
			/* it fired inside this write */
			assert_true(b.tap.in > in0 + t.ahead);
			assert_int_equal(rep.recovered, 0);
			assert_int_equal(rep.verified, 0x20000);
			assert_memory_equal(b.mem, data, 0x20000);
			usb_fault_off(&b);
			b.r.job.hooks = NULL;
		}
	/* And the verify command itself. */
	struct bk_mismatch mm;
	for (int timeout = 0; timeout < 2; timeout++) {
		usb_fault(&b, timeout, 700);
		assert_int_equal(bk_op_verify(&b.r.job, 0, data, 0x20000, &mm), 0);
		assert_int_equal(mm.count, 0);
	}
	free(data);
	free(old);
	bench_close(&b);
}

/* ---- a job stopped half-way ------------------------------------------------------ */

/* Unplugged (the device is gone) or Ctrl-C (the emulator raises a real
 * SIGINT; the handler sets a flag as bkspi's does) in the middle of a
 * write or erase phase, with a backup as the CLI makes by default (it also
 * tells an erase which sectors are blank already). The job stops without
 * trying to recover, the backup is the flash as it was, everything below
 * the address a Ctrl-C names is finished; then the same job again on the
 * flash it left (replugged: a new bench) does only what still differs and
 * ends exact. */
struct rerun_case {
	const char *name;
	uint32_t flash_seed; /* 0: the flash starts blank */
	int half_blank;      /* every other sector blank: 4 KiB erases, one by one */
	uint32_t data_seed;  /* 0: erase */
	const char *phase;
	enum action act;     /* ACT_UNPLUG or ACT_INTERRUPT */
	uint64_t ahead;      /* packets after half the phase */
	uint32_t planned;    /* sectors the first run erases or means to */
};

static const struct rerun_case rerun_cases[] = {
	{ .name = "unplug_mid_write_then_rerun", .flash_seed = 602, .data_seed = 603, .phase = "program",
	  .act = ACT_UNPLUG, .ahead = 60, .planned = 32 },
	{ .name = "unplug_mid_erase_then_rerun", .flash_seed = 601, .phase = "erase", .act = ACT_UNPLUG,
	  .ahead = 4, .planned = 32 },
	{ .name = "ctrl_c_in_program_phase", .data_seed = 701, .phase = "program", .act = ACT_INTERRUPT,
	  .ahead = 3, .planned = 0 },
	{ .name = "ctrl_c_in_erase_phase", .flash_seed = 702, .half_blank = 1, .phase = "erase",
	  .act = ACT_INTERRUPT, .ahead = 3, .planned = 16 },
	{ .name = "ctrl_c_in_mixed_write", .flash_seed = 703, .data_seed = 704, .phase = "program",
	  .act = ACT_INTERRUPT, .ahead = 3, .planned = 32 },
};

static void stopped_then_rerun(void **state)
{
	const struct rerun_case *c = *state;
	const char *name = c->name;
	int unplug = c->act == ACT_UNPLUG;
	struct sigaction sa = { .sa_handler = on_sigint }, old_sa;
	sigaction(SIGINT, &sa, &old_sa);
	sigint_seen = 0;
	struct bench b;
	bench_up(&b, "size=131072");
	if (c->flash_seed)
		rig_fill(b.mem, b.size, c->flash_seed);
	else
		memset(b.mem, 0xFF, b.size);
	for (size_t s = 0; c->half_blank && s < b.size; s += 2 * SECTOR)
		memset(b.mem + s, 0xFF, SECTOR);
	uint8_t *old = dup_mem(&b), *data = c->data_seed ? random_buf(b.size, c->data_seed) : NULL;
	uint8_t *want = malloc(b.size);
	assert_non_null(want);
	if (data)
		memcpy(want, data, b.size);
	else
		memset(want, 0xFF, b.size);
	struct bk_hooks h;
	struct trigger t = { .phase = c->phase, .num = 1, .den = 2, .act = c->act, .ahead = c->ahead };
	hook(&b, &h, &t);
	struct bk_write_report rep;
	char path[64];
	temp_path(path, sizeof path);
	int rc = write_at(&b, 0, data, (uint32_t)b.size, path, &rep);
	sigaction(SIGINT, &old_sa, NULL);
	if (!t.fired)
		fail_msg("%s: the %s phase never reached half-way", name, c->phase);
	if (sigint_seen != !unplug)
		fail_msg("%s: SIGINT %s", name, sigint_seen ? "raised by an unplug" : "never raised");
	if (rc != (unplug ? BK_EGONE : BK_EINTR))
		fail_msg("%s: %s (%s)", name, bk_err_name(rc), b.r.err.msg);
	if (!strstr(b.r.err.msg, unplug ? "stopped after" : "interrupted during"))
		fail_msg("%s: the message does not say how far it got: %s", name, b.r.err.msg);
	/* nothing to recover: a gone device, or the user asked to stop */
	assert_int_equal(rep.recovered, 0);
	assert_int_equal(rep.erased, c->planned);
	assert_true(memcmp(b.mem, want, b.size) != 0);
	uint32_t at = 0;
	if (!unplug) {
		at = addr_in(b.r.err.msg, " at 0x");
		if (at == UINT32_MAX || at == 0 || at >= b.size)
			fail_msg("%s: the message names no address inside the flash: %s", name, b.r.err.msg);
		if (memcmp(b.mem, want, at))
			fail_msg("%s: the flash below 0x%06X (where it stopped) is not finished", name, at);
	}
	/* saved before anything was erased */
	uint8_t *saved = take_backup(path, b.size);
	assert_memory_equal(saved, old, b.size);
	free(saved);
	uint32_t pages = rep.pages;
	uint8_t *left = dup_mem(&b);
	bench_close(&b);

	sigint_seen = 0;
	bench_up(&b, "size=131072");
	memcpy(b.mem, left, b.size);
	rc = write_at(&b, 0, data, (uint32_t)b.size, path, &rep);
	unlink(path);
	if (rc)
		fail_msg("%s, the re-run: %s", name, b.r.err.msg);
	assert_memory_equal(b.mem, want, b.size);
	assert_int_equal(rep.verified, b.size);
	if (!rep.same || rep.same < at / SECTOR)
		fail_msg("%s, the re-run: only %u sectors were found done (it stopped at 0x%06X)", name, rep.same,
			 at);
	if (!(rep.erased < c->planned || (c->planned == 0 && rep.pages < pages)))
		fail_msg("%s, the re-run: erased %u sectors and programmed %u pages; the first run %u and %u", name,
			 rep.erased, rep.pages, c->planned, pages);
	free(left);
	free(want);
	free(data);
	free(old);
	bench_close(&b);
}

/* A read or a verify stopped half-way: it says where, and a gone
 * programmer stays gone (no retries, no hang). */
struct read_stop_case {
	const char *name;
	const char *phase; /* "read" or "verify" */
	uint32_t seed;
	enum action act;
	uint64_t num, den, ahead;
};

static const struct read_stop_case read_stop_cases[] = {
	{ .name = "unplug_mid_read", .phase = "read", .seed = 501, .act = ACT_UNPLUG, .num = 1, .den = 2,
	  .ahead = 700 },
	{ .name = "ctrl_c_in_read", .phase = "read", .seed = 901, .act = ACT_INTERRUPT, .num = 1, .den = 4,
	  .ahead = 100 },
	{ .name = "ctrl_c_in_verify", .phase = "verify", .seed = 901, .act = ACT_INTERRUPT, .num = 1, .den = 4,
	  .ahead = 100 },
};

static void read_stopped(void **state)
{
	const struct read_stop_case *c = *state;
	int unplug = c->act == ACT_UNPLUG, verify = !strcmp(c->phase, "verify");
	struct sigaction sa = { .sa_handler = on_sigint }, old_sa;
	sigaction(SIGINT, &sa, &old_sa);
	sigint_seen = 0;
	struct bench b;
	bench_up(&b, "size=262144");
	rig_fill(b.mem, b.size, c->seed);
	uint8_t *buf = malloc(b.size);
	assert_non_null(buf);
	struct bk_hooks h;
	/* The table counts CH341A packets (31 bytes); a CH347 message carries
	 * 507, so the same distance in bytes is fewer of them. */
	uint64_t ahead = strcmp(rig_programmer(), "ch347") || c->ahead < 507 / 31 ? c->ahead : c->ahead * 31 / 507;
	struct trigger t = { .phase = c->phase, .num = c->num, .den = c->den, .act = c->act, .ahead = ahead };
	hook(&b, &h, &t);
	struct bk_mismatch mm = { 0 };
	int rc = verify ? bk_op_verify(&b.r.job, 0, b.mem, (uint32_t)b.size, &mm)
			: bk_op_read(&b.r.job, "read", 0, buf, (uint32_t)b.size);
	sigaction(SIGINT, &old_sa, NULL);
	int seen = sigint_seen;
	sigint_seen = 0;
	assert_true(t.fired);
	if (seen != !unplug)
		fail_msg("%s: SIGINT %s", c->name, seen ? "raised by an unplug" : "never raised");
	if (rc != (unplug ? BK_EGONE : BK_EINTR))
		fail_msg("%s: %s (%s)", c->name, bk_err_name(rc), b.r.err.msg);
	if (unplug) {
		/* about half of it */
		const char *p = strstr(b.r.err.msg, "read stopped after ");
		unsigned kib = 0, of = 0;
		if (!p || sscanf(p, "read stopped after %u of %u KiB", &kib, &of) != 2 || of != 256 || kib < 64 ||
		    kib > 192)
			fail_msg("%s: unplugged half-way, the message says: %s", c->name, b.r.err.msg);
		uint8_t sr1;
		assert_int_equal(bk_flash_status(b.r.flash, &sr1, NULL), BK_EGONE);
	} else if (!strstr(b.r.err.msg, "interrupted during") || !strstr(b.r.err.msg, c->phase)) {
		fail_msg("%s: %s", c->name, b.r.err.msg);
	}
	/* what it compared before stopping was right */
	if (verify)
		assert_int_equal(mm.count, 0);
	free(buf);
	bench_close(&b);
}

/* ---- refused before anything is erased -------------------------------------------- */

/* A write or erase that cannot go ahead (Ctrl-C before erasing, reads that
 * never agree, a protection bkspi may not clear) must stop before the first
 * erase: the flash is as it was, no backup is left behind, and the message
 * says why. */
struct refusal_case {
	const char *name;
	const char *config;
	uint32_t seed; /* the flash; the data is seed + 1 */
	int erase;     /* an erase rather than a write */
	int backup;
	const char *fault; /* switched on after the entry */
	const char *cancel_in; /* Ctrl-C (the cancelled hook) in this phase... */
	uint64_t num, den;     /* ...this far through */
	int rc;
	const char *words[4];
};

static const struct refusal_case refusal_cases[] = {
	{ .name = "ctrl_c_in_backup_changes_nothing", .config = "size=131072", .seed = 801, .backup = 1,
	  .cancel_in = "backup", .num = 1, .den = 2, .rc = BK_EINTR, .words = { "interrupted during backup" } },
	/* as the backup read ends: the next step is confirming */
	{ .name = "ctrl_c_while_confirming_changes_nothing", .config = "size=131072", .seed = 801, .backup = 1,
	  .cancel_in = "backup", .num = 1, .den = 1, .rc = BK_EINTR, .words = { "confirming" } },
	{ .name = "marginal_wire_stops_write_before_erasing", .config = "size=131072,seed=3", .seed = 1101,
	  .backup = 1, .fault = "flip-ppm=5000", .rc = BK_EUNSTABLE, .words = { "marginal", "nothing was erased" } },
	/* with its backup, which is what reads the flash */
	{ .name = "marginal_wire_stops_erase_before_erasing", .config = "size=131072,seed=3", .seed = 1101,
	  .erase = 1, .backup = 1, .fault = "flip-ppm=5000", .rc = BK_EUNSTABLE,
	  .words = { "marginal", "nothing was erased" } },
	{ .name = "locked_protection_refuses_write", .config = "size=65536,wp-locked=1", .seed = 1601,
	  .rc = BK_EPROTECT, .words = { "BP=7", "CMP=0", "SRP=1", "WP#" } },
	{ .name = "locked_protection_refuses_erase", .config = "size=65536,wp-locked=1", .seed = 1601,
	  .erase = 1, .rc = BK_EPROTECT, .words = { "BP=7", "CMP=0", "SRP=1", "WP#" } },
};

static void refused_before_erasing(void **state)
{
	const struct refusal_case *c = *state;
	struct bench b;
	bench_up(&b, c->config);
	rig_fill(b.mem, b.size, c->seed);
	uint8_t *old = dup_mem(&b), *data = c->erase ? NULL : random_buf(b.size, c->seed + 1);
	if (c->fault)
		set(&b, "%s", c->fault);
	struct bk_hooks h;
	struct trigger t = { .phase = c->cancel_in, .num = c->num, .den = c->den, .act = ACT_CANCEL };
	if (c->cancel_in)
		hook(&b, &h, &t);
	char path[64];
	temp_path(path, sizeof path);
	struct bk_write_report rep;
	int rc = write_at(&b, 0, data, (uint32_t)b.size, c->backup ? path : NULL, &rep);
	if (rc != c->rc)
		fail_msg("%s: %s, not %s (%s)", c->name, bk_err_name(rc), bk_err_name(c->rc), b.r.err.msg);
	for (size_t i = 0; i < ROWS_OF(c->words) && c->words[i]; i++)
		if (!strstr(b.r.err.msg, c->words[i]))
			fail_msg("%s: the message lacks '%s': %s", c->name, c->words[i], b.r.err.msg);
	assert_memory_equal(b.mem, old, b.size);
	if (!no_file(path))
		fail_msg("%s: a backup was left behind", c->name);
	free(data);
	free(old);
	bench_close(&b);
}

/* ---- bit flips on MISO ------------------------------------------------------------ */

/* Flips are switched on after the entry, so only the job sees them; every
 * job must end exact anyway (and report the misreads it corrected). */
struct flips_case {
	const char *name;
	const char *config;
	uint32_t seed; /* the flash; 0: a Beken layout */
	unsigned ppm;
	void (*check)(struct bench *b, const struct flips_case *c);
};

static void confirmed_read_is_exact(struct bench *b, const struct flips_case *c)
{
	uint8_t *buf = malloc(b->size);
	assert_non_null(buf);
	struct bk_confirm rep;
	int rc = bk_op_read_confirmed(&b->r.job, 0, buf, (uint32_t)b->size, &rep);
	if (rc)
		fail_msg("%s: %s", c->name, b->r.err.msg);
	if (memcmp(buf, b->mem, b->size))
		fail_msg("%s: the confirmed read differs from the flash", c->name);
	assert_int_equal(rep.sectors, b->size / SECTOR);
	assert_int_equal(rep.by_reread, b->size / SECTOR);
	assert_true(rep.corrected > 0);
	/* An unaligned range goes through whole sectors too. */
	rc = bk_op_read_confirmed(&b->r.job, 0x1234, buf, 0x5000, &rep);
	assert_int_equal(rc, 0);
	assert_memory_equal(buf, b->mem + 0x1234, 0x5000);
	free(buf);
}

static void verify_has_no_false_mismatch(struct bench *b, const struct flips_case *c)
{
	uint8_t *want = dup_mem(b);
	struct bk_mismatch mm;
	int rc = bk_op_verify(&b->r.job, 0, want, (uint32_t)b->size, &mm);
	if (rc)
		fail_msg("%s: %s", c->name, b->r.err.msg);
	/* A real difference is still found, exactly. */
	want[0x2345] ^= 0x10;
	rc = bk_op_verify(&b->r.job, 0, want, (uint32_t)b->size, &mm);
	assert_int_equal(rc, BK_EVERIFY);
	assert_int_equal(mm.count, 1);
	assert_int_equal(mm.first, 0x2345);
	assert_int_equal(mm.last, 0x2345);
	free(want);
}

/* Sectors whose CRC-16 blocks check need no second read, the rest are
 * read again; the backup of what the write changed is the flash as it
 * was. */
static void beken_write_is_exact(struct bench *b, const struct flips_case *c)
{
	uint8_t *old = dup_mem(b), *img = malloc(b->size);
	assert_non_null(img);
	assert_int_equal(bk_emu_synth(img, b->size, 2), 0);
	char path[64];
	temp_path(path, sizeof path);
	struct bk_write_report rep;
	int rc = write_at(b, 0, img, (uint32_t)b->size, path, &rep);
	if (rc)
		fail_msg("%s: %s", c->name, b->r.err.msg);
	set(b, "flip-ppm=0");
	assert_memory_equal(b->mem, img, b->size);
	assert_true(rep.confirm.by_crc > 0);
	assert_true(rep.confirm.by_reread > 0);
	assert_true(rep.confirm.corrected > 0);
	assert_int_equal(rep.confirm.sectors, rep.confirm.by_crc + rep.confirm.by_reread);
	uint8_t *saved = take_backup(path, b->size);
	for (size_t s = 0; s < b->size; s += SECTOR)
		if (memcmp(old + s, img + s, SECTOR) && memcmp(saved + s, old + s, SECTOR))
			fail_msg("%s: backup sector 0x%06zX (changed by the write) differs from the old flash",
				 c->name, s);
	free(saved);
	free(img);
	free(old);
}

/* By default a write confirms only the sectors it changes (the rest stays
 * on the chip); confirm_all (--confirm) must make every byte of the whole
 * flash's backup exact, untouched sectors included. */
static void confirmed_backup_is_exact(struct bench *b, const struct flips_case *c)
{
	uint8_t *old = dup_mem(b), data[4096];
	rig_fill(data, sizeof data, c->seed + 1);
	char path[64];
	temp_path(path, sizeof path);
	struct bk_write_report rep;
	int rc = write_with(b, 0x10000, data, sizeof data, path, 1, &rep);
	if (rc)
		fail_msg("%s: %s", c->name, b->r.err.msg);
	set(b, "flip-ppm=0");
	assert_memory_equal(b->mem + 0x10000, data, sizeof data);
	uint8_t *saved = take_backup(path, b->size);
	size_t bad = 0, first = 0;
	for (size_t i = 0; i < b->size; i++)
		if (saved[i] != old[i] && !bad++)
			first = i;
	free(saved);
	free(old);
	if (bad)
		fail_msg("%s: the backup differs from the flash before the write in %zu bytes (first 0x%06zX); "
			 "only %u of %zu sectors were confirmed",
			 c->name, bad, first, rep.confirm.sectors, b->size / SECTOR);
}

static const struct flips_case flips_cases[] = {
	{ "confirmed_read_is_exact_under_100ppm_flips_a", "size=131072,seed=7919", 1002, 100,
	  confirmed_read_is_exact },
	{ "confirmed_read_is_exact_under_100ppm_flips_b", "size=131072,seed=15838", 1003, 100,
	  confirmed_read_is_exact },
	{ "confirmed_read_is_exact_under_200ppm_flips_a", "size=131072,seed=7919", 1002, 200,
	  confirmed_read_is_exact },
	{ "confirmed_read_is_exact_under_200ppm_flips_b", "size=131072,seed=15838", 1003, 200,
	  confirmed_read_is_exact },
	{ "confirmed_read_is_exact_under_300ppm_flips_a", "size=131072,seed=7919", 1002, 300,
	  confirmed_read_is_exact },
	{ "confirmed_read_is_exact_under_300ppm_flips_b", "size=131072,seed=15838", 1003, 300,
	  confirmed_read_is_exact },
	{ "verify_under_flips_has_no_false_mismatch_a", "size=262144,seed=104729", 1201, 300,
	  verify_has_no_false_mismatch },
	{ "verify_under_flips_has_no_false_mismatch_b", "size=262144,seed=209458", 1201, 300,
	  verify_has_no_false_mismatch },
	{ "verify_under_flips_has_no_false_mismatch_c", "size=262144,seed=314187", 1201, 300,
	  verify_has_no_false_mismatch },
	{ "beken_write_under_flips", "seed=11", 0, 150, beken_write_is_exact },
	{ "backup_is_exact_under_flips", "size=262144,seed=5", 1301, 200, confirmed_backup_is_exact },
};

static void under_flips(void **state)
{
	const struct flips_case *c = *state;
	struct bench b;
	bench_up(&b, c->config);
	if (c->seed)
		rig_fill(b.mem, b.size, c->seed);
	else
		assert_int_equal(bk_emu_synth(b.mem, b.size, 1), 0);
	set(&b, "flip-ppm=%u", c->ppm);
	c->check(&b, c);
	bench_close(&b);
}

/* Time a write with the flash stuck busy: the timeout follows the
 * operation (page program < 4K erase < 64K erase). */
static uint64_t stuck_ns(uint32_t erase_size, char *msg, size_t cap)
{
	struct bench b;
	/* status writes still finish: the unprotect gets through */
	bench_up(&b, "size=131072,stuck-wip=1");
	uint8_t *data = malloc(erase_size ? erase_size : SECTOR);
	if (erase_size) {
		rig_fill(b.mem, b.size, 1401);
		memset(data, 0xFF, erase_size);
	} else {
		memset(b.mem, 0xFF, b.size);
		rig_fill(data, SECTOR, 1402);
	}
	uint64_t t0 = stats(&b).now_ns;
	struct bk_write_report rep;
	int rc = write_at(&b, 0x10000, data, erase_size ? erase_size : SECTOR, NULL, &rep);
	uint64_t ns = stats(&b).now_ns - t0;
	assert_int_equal(rc, BK_EFLASH);
	assert_int_equal(rep.erase_ops, erase_size ? 1 : 0);
	snprintf(msg, cap, "%s", b.r.err.msg);
	free(data);
	bench_close(&b);
	return ns;
}

static void stuck_wip_timeout_scales_with_the_operation(void **state)
{
	(void)state;
	char m_pp[512], m_4k[512], m_64k[512];
	uint64_t pp = stuck_ns(0, m_pp, sizeof m_pp);
	uint64_t e4 = stuck_ns(SECTOR, m_4k, sizeof m_4k);
	uint64_t e64 = stuck_ns(0x10000, m_64k, sizeof m_64k);
	const char *msgs[] = { m_pp, m_4k, m_64k };
	for (size_t i = 0; i < 3; i++) {
		if (!strstr(msgs[i], "busy") || !strstr(msgs[i], "0x010000"))
			fail_msg("stuck message lacks 'busy' or the address: %s", msgs[i]);
	}
	assert_non_null(strstr(m_pp, "page program"));
	assert_non_null(strstr(m_64k, "erase"));
	/* page program: tens of ms; erases: seconds, the bigger the longer */
	if (!(pp < 200000000ull && e4 > 5 * pp && e64 > e4 && e64 >= 2000000000ull && e64 < 20000000000ull))
		fail_msg("stuck timeouts: page program %.3f s, 4K erase %.3f s, 64K erase %.3f s", pp / 1e9, e4 / 1e9,
			 e64 / 1e9);
}

/* Stuck in the middle of a long write: the message names the page. */
static void stuck_wip_mid_write_names_the_page(void **state)
{
	(void)state;
	struct bench b;
	bench_up(&b, "size=131072");
	memset(b.mem, 0xFF, b.size);
	uint8_t *data = random_buf(0x10000, 1501);
	struct bk_hooks h;
	struct trigger t = { .phase = "program", .num = 1, .den = 2, .act = ACT_STUCK };
	hook(&b, &h, &t);
	struct bk_write_report rep;
	int rc = write_at(&b, 0, data, 0x10000, NULL, &rep);
	assert_int_equal(rc, BK_EFLASH);
	uint32_t at = addr_in(b.r.err.msg, "page program at 0x");
	if (at == UINT32_MAX || at < 0x8000 - 0x1000 || at >= 0x10000 || at % 256)
		fail_msg("stuck at half the write, message: %s", b.r.err.msg);
	assert_non_null(strstr(b.r.err.msg, "busy"));
	/* the pages before it were written */
	assert_memory_equal(b.mem, data, at);
	free(data);
	bench_close(&b);
}

static void unprogrammable_byte_is_reported_by_address(void **state)
{
	(void)state;
	struct bench b;
	bench_up(&b, "size=65536,bad-byte=0x3456");
	memset(b.mem, 0xFF, b.size);
	uint8_t data[SECTOR];
	memset(data, 0x00, sizeof data);
	struct bk_write_report rep;
	int rc = write_at(&b, 0x3000, data, sizeof data, NULL, &rep);
	assert_int_equal(rc, BK_EVERIFY);
	assert_non_null(strstr(b.r.err.msg, "0x003456"));
	assert_non_null(strstr(b.r.err.msg, "1 byte differs"));
	struct bk_mismatch mm;
	assert_int_equal(bk_op_verify(&b.r.job, 0x3000, data, sizeof data, &mm), BK_EVERIFY);
	assert_int_equal(mm.count, 1);
	assert_int_equal(mm.first, 0x3456);
	bench_close(&b);
}

/* ---- the entry ---------------------------------------------------------------------- */

static void entry_gives_up_after_bounded_attempts(void **state)
{
	(void)state;
	static const char *const configs[] = { "size=65536,entry-fails=100",
					       "size=65536,entry-fails=100,style=flush" };
	for (size_t i = 0; i < 2; i++) {
		struct bench b;
		assert_int_equal(bench_open(&b, configs[i]), 0);
		int rc = bench_enter(&b, BK_TARGET_BEKEN);
		assert_int_equal(rc, BK_ENOCHIP);
		struct bk_emu_stats st = stats(&b);
		assert_int_equal(st.cen_pulses, BK_ENTRY_ATTEMPTS);
		assert_true(st.now_ns < 5000000000ull); /* seconds, not minutes */
		char want[96];
		snprintf(want, sizeof want, "check %s -> CEN", rig_driver()->pins.cen);
		assert_non_null(strstr(b.r.err.msg, want));
		bench_close(&b);
	}
	/* one short of giving up still works */
	char config[48];
	snprintf(config, sizeof config, "size=65536,entry-fails=%d", BK_ENTRY_ATTEMPTS - 1);
	struct bench b;
	bench_up(&b, config);
	assert_int_equal(b.r.entry.attempts, BK_ENTRY_ATTEMPTS);
	bench_close(&b);
}


/* One cmocka test per table row, named by the row, so a failure says which
 * scenario broke. */
#define ADD_ROWS(driver, table)                                                                      \
	for (size_t i_ = 0; i_ < ROWS_OF(table); i_++)                                                \
		tests[n++] = (struct CMUnitTest){ .name = (table)[i_].name, .test_func = (driver),     \
						  .initial_state = (void *)&(table)[i_] }
#define ADD(f) tests[n++] = (struct CMUnitTest)cmocka_unit_test(f)

int main(void)
{
	struct CMUnitTest tests[8 + ROWS_OF(one_fault_cases) + ROWS_OF(rerun_cases) + ROWS_OF(read_stop_cases) +
				ROWS_OF(refusal_cases) + ROWS_OF(flips_cases)];
	size_t n = 0;
	ADD_ROWS(survives_one_usb_fault, one_fault_cases);
	ADD(timeout_message_counts_replies);
	ADD(fault_in_erase_or_program_is_recovered);
	ADD(fault_during_recovery_is_recovered);
	ADD(fault_in_verify_is_no_mismatch);
	ADD_ROWS(read_stopped, read_stop_cases);
	ADD_ROWS(stopped_then_rerun, rerun_cases);
	ADD_ROWS(refused_before_erasing, refusal_cases);
	ADD_ROWS(under_flips, flips_cases);
	ADD(stuck_wip_timeout_scales_with_the_operation);
	ADD(stuck_wip_mid_write_names_the_page);
	ADD(unprogrammable_byte_is_reported_by_address);
	ADD(entry_gives_up_after_bounded_attempts);
	if (n != ROWS_OF(tests)) {
		fprintf(stderr, "%zu tests listed, %zu slots\n", n, ROWS_OF(tests));
		return 1;
	}
	return _cmocka_run_group_tests("test_faults", tests, n, NULL, NULL);
}
