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
	int rc = bk_emu_new(config, &b->r.err, &b->tap.emu);
	if (rc)
		return rc;
	b->mem = bk_emu_flash(b->tap.emu, &b->size);
	rc = bk_usb_wrap(&tap_backend, &b->tap, "tapped CH341A", &b->r.err, &usb);
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

/* ---- transient USB faults ------------------------------------------------------- */

/* A USB error or timeout anywhere in a read: the read is retried and comes
 * back byte for byte; the fault really fired (more IN transfers). */
static void read_survives_one_usb_fault_anywhere(void **state)
{
	(void)state;
	struct bench b;
	bench_up(&b, "size=65536");
	rig_fill(b.mem, b.size, 101);
	uint8_t *buf = malloc(b.size);
	uint64_t in0 = b.tap.in;
	assert_int_equal(bk_op_read(&b.r.job, "read", 0, buf, (uint32_t)b.size), 0);
	uint64_t n_in = b.tap.in - in0;
	assert_true(n_in > 100);
	/* The first transfers of the stream, then spread over the rest. */
	uint64_t at_list[24];
	size_t n_at = 0;
	for (uint64_t k = 1; k <= 8; k++)
		at_list[n_at++] = k;
	for (uint64_t k = 1; k <= 12; k++)
		at_list[n_at++] = 8 + k * (n_in - 8) / 12;
	char failed[400] = "";
	unsigned nf = 0;
	for (int timeout = 0; timeout < 2; timeout++) {
		for (size_t i = 0; i < n_at; i++) {
			uint64_t at = at_list[i];
			memset(buf, 0, b.size);
			usb_fault(&b, timeout, at);
			uint64_t before = b.tap.in;
			int rc = bk_op_read(&b.r.job, "read", 0, buf, (uint32_t)b.size);
			const char *why = rc ? bk_err_name(rc)
				       : memcmp(buf, b.mem, b.size) ? "exit 0 but the data differs"
				       : b.tap.in - before <= n_in ? "the fault did not fire" : NULL;
			if (why && nf++ < 6) {
				size_t n = strlen(failed);
				snprintf(failed + n, sizeof failed - n, " [%s at IN %llu of %llu: %s]", kind_name(timeout),
					 (unsigned long long)at, (unsigned long long)n_in, why);
			}
			usb_fault_off(&b);
		}
	}
	free(buf);
	bench_close(&b);
	if (nf)
		fail_msg("%u of %zu reads with one USB fault went wrong:%s", nf, 2 * n_at, failed);
}

static void status_read_survives_one_usb_fault(void **state)
{
	(void)state;
	struct bench b;
	bench_up(&b, "size=65536");
	uint8_t sr1, sr2, want1, want2;
	assert_int_equal(bk_flash_status(b.r.flash, &want1, &want2), 0);
	assert_int_equal(want1, 0x1C); /* the firmware's protection */
	for (int timeout = 0; timeout < 2; timeout++)
		for (uint64_t at = 1; at <= 2; at++) {
			usb_fault(&b, timeout, at);
			if (bk_flash_status(b.r.flash, &sr1, &sr2))
				fail_msg("status read, %s at IN +%llu: %s", kind_name(timeout), (unsigned long long)at,
					 b.r.err.msg);
			assert_int_equal(sr1, want1);
			assert_int_equal(sr2, want2);
		}
	bench_close(&b);
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

/* When a stream gives up on a lost reply, its message counts the replies
 * that really came back. */
static void timeout_message_counts_replies(void **state)
{
	(void)state;
	struct bench b;
	bench_up(&b, "size=65536");
	/* a read of 89 bytes: 4 + 89 = 93 bytes clocked, 3 IN transfers */
	uint8_t cmd[4] = { 0x03, 0, 0, 0 }, buf[89];
	struct bk_spi_frame fr = { .tx = cmd, .tx_len = 4, .len = 93, .rx = buf, .rx_skip = 4 };
	usb_fault(&b, 1, 2);
	int rc = bk_prog_frames(b.r.prog, &fr, 1);
	char msg[sizeof b.r.err.msg];
	snprintf(msg, sizeof msg, "%s", b.r.err.msg);
	/* and the next stream is clean again */
	int rc2 = bk_prog_frames(b.r.prog, &fr, 1);
	int same = !memcmp(buf, b.mem, sizeof buf);
	bench_close(&b);
	assert_int_equal(rc, BK_ETIMEDOUT);
	assert_int_equal(rc2, 0);
	assert_true(same);
	if (!strstr(msg, "(1 of 3 replies received)"))
		fail_msg("the second of 3 replies was lost; the message says: %s", msg);
}

/* One USB fault at any IN transfer of the Beken entry and the probe: both
 * are worth retrying like a read (they change nothing on the flash). */
static void entry_survives_one_usb_fault(void **state)
{
	(void)state;
	struct bench b;
	assert_int_equal(bench_open(&b, "size=65536"), 0);
	assert_int_equal(bk_target_enter(b.r.prog, BK_TARGET_BEKEN, &b.r.entry), 0);
	uint64_t n_entry = b.tap.in;
	assert_int_equal(bench_enter(&b, BK_TARGET_SPI), 0); /* the probe alone */
	uint64_t n_in = b.tap.in;
	bench_close(&b);
	assert_true(n_entry > 5 && n_in > n_entry);
	char report[400] = "";
	unsigned nf = 0;
	for (int timeout = 0; timeout < 2; timeout++) {
		char runs[160] = "";
		uint64_t run_start = 0;
		const char *code = "";
		for (uint64_t at = 1; at <= n_in + 1; at++) {
			int rc = 0;
			if (at <= n_in) {
				char config[64];
				snprintf(config, sizeof config, "size=65536,usb-%s-at=%llu", kind_name(timeout),
					 (unsigned long long)at);
				assert_int_equal(bench_open(&b, config), 0);
				rc = bench_enter(&b, BK_TARGET_BEKEN);
				if (!rc && bk_flash_info(b.r.flash)->jedec != 0x0B4010)
					rc = BK_ENOCHIP;
				bench_close(&b);
			}
			if (rc) {
				nf++;
				code = bk_err_name(rc);
				if (!run_start)
					run_start = at;
			} else if (run_start) {
				add_run(runs, sizeof runs, run_start, at - 1);
				run_start = 0;
			}
		}
		if (runs[0]) {
			size_t n = strlen(report);
			snprintf(report + n, sizeof report - n, " usb-%s-at IN %s (%s);", kind_name(timeout), runs, code);
		}
	}
	if (nf)
		fail_msg("entry (IN 1-%llu) and probe (IN %llu-%llu): %u of %llu single USB faults were not survived:%s",
			 (unsigned long long)n_entry, (unsigned long long)n_entry + 1, (unsigned long long)n_in, nf,
			 (unsigned long long)(2 * n_in), report);
}

/* A write with one USB fault at every k-th IN transfer from the backup read
 * to the last verify read (the unprotect included: the chip re-protects at
 * each entry): every run ends with the flash holding the data, verified. */
static void write_survives_one_usb_fault_anywhere(void **state)
{
	(void)state;
	struct bench b;
	bench_up(&b, "size=65536");
	rig_fill(b.mem, b.size, 201);
	uint8_t *old = dup_mem(&b);
	/* 0x4000-0x5FFF needs erase + program, 0x6000-0x6FFF program only. */
	uint32_t addr = 0x4000, len = 0x3000;
	uint8_t *data = random_buf(len, 202);
	for (uint32_t i = 0x2000; i < len; i++)
		data[i] &= old[addr + i];
	struct bk_write_report rep;
	uint64_t in0 = b.tap.in;
	assert_int_equal(write_at(&b, addr, data, len, NULL, &rep), 0);
	uint64_t n_in = b.tap.in - in0;
	assert_int_equal(rep.erased, 2);
	assert_int_equal(rep.program_only, 1);
	assert_memory_equal(b.mem + addr, data, len);

	uint64_t stride = n_in / 60 + 1;
	unsigned runs = 0, recovered_runs = 0, failures = 0;
	char failed[480] = "";
	for (int timeout = 0; timeout < 2; timeout++) {
		for (uint64_t at = 1; at <= n_in; at += stride) {
			/* A fresh board, whose firmware has set the protection again. */
			bench_close(&b);
			bench_up(&b, "size=65536");
			memcpy(b.mem, old, b.size);
			usb_fault(&b, timeout, at);
			int rc = write_at(&b, addr, data, len, NULL, &rep);
			runs++;
			recovered_runs += rep.recovered > 0;
			int bad = rc || memcmp(b.mem + addr, data, len) || memcmp(b.mem, old, addr) ||
				  memcmp(b.mem + addr + len, old + addr + len, b.size - addr - len);
			if (bad && failures++ < 4) {
				size_t n = strlen(failed);
				snprintf(failed + n, sizeof failed - n, " [%s at IN %llu/%llu: %.100s]", kind_name(timeout),
					 (unsigned long long)at, (unsigned long long)n_in,
					 rc ? b.r.err.msg : "flash differs");
			}
			usb_fault_off(&b);
		}
	}
	if (failures)
		fail_msg("%u of %u writes with one USB fault failed:%s", failures, runs, failed);
	/* Some faults hit an erase or a page program and were recovered. */
	assert_true(recovered_runs > 0);
	free(data);
	free(old);
	bench_close(&b);
}

/* The unprotect (status reads, the status write and its busy polls) comes
 * right before the first erase: one USB fault at each of its transfers. */
static void unprotect_survives_one_usb_fault(void **state)
{
	(void)state;
	struct bench b;
	bench_up(&b, "size=65536");
	rig_fill(b.mem, b.size, 251);
	uint8_t *old = dup_mem(&b), *data = random_buf(0x2000, 252);
	/* Where the erase phase starts, in IN transfers from the write's start. */
	struct bk_hooks h;
	struct trigger t = { .phase = "erase", .num = 0, .den = 1, .act = ACT_NONE };
	hook(&b, &h, &t);
	struct bk_write_report rep;
	uint64_t in0 = b.tap.in;
	assert_int_equal(write_at(&b, 0, data, 0x2000, NULL, &rep), 0);
	assert_true(t.fired && rep.unprotect.changed);
	uint64_t erase_at = t.fired_in - in0;
	b.r.job.hooks = NULL;
	char report[400] = "";
	unsigned nf = 0;
	bench_close(&b);
	for (int timeout = 0; timeout < 2; timeout++)
		for (uint64_t at = erase_at > 12 ? erase_at - 12 : 1; at <= erase_at + 2; at++) {
			/* a fresh board: its firmware has set the protection */
			bench_up(&b, "size=65536");
			memcpy(b.mem, old, b.size);
			usb_fault(&b, timeout, at);
			int rc = write_at(&b, 0, data, 0x2000, NULL, &rep);
			if ((rc || memcmp(b.mem, data, 0x2000)) && nf++ < 4) {
				size_t n = strlen(report);
				snprintf(report + n, sizeof report - n, " [%s at IN %llu (erase starts at %llu): %.90s]",
					 kind_name(timeout), (unsigned long long)at, (unsigned long long)erase_at,
					 rc ? b.r.err.msg : "flash differs");
			}
			bench_close(&b);
		}
	free(data);
	free(old);
	if (nf)
		fail_msg("%u writes with one USB fault around the unprotect failed:%s", nf, report);
}

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

/* ---- unplugged mid-job ---------------------------------------------------------- */

static void unplug_mid_read(void **state)
{
	(void)state;
	struct bench b;
	bench_up(&b, "size=262144");
	rig_fill(b.mem, b.size, 501);
	uint8_t *buf = malloc(b.size);
	struct bk_hooks h;
	struct trigger t = { .phase = "read", .num = 1, .den = 2, .act = ACT_UNPLUG, .ahead = 700 };
	hook(&b, &h, &t);
	int rc = bk_op_read(&b.r.job, "read", 0, buf, (uint32_t)b.size);
	assert_int_equal(rc, BK_EGONE);
	assert_true(t.fired);
	/* It says how far it got: about half of the read. */
	const char *p = strstr(b.r.err.msg, "read stopped after ");
	unsigned kib = 0, of = 0;
	if (!p || sscanf(p, "read stopped after %u of %u KiB", &kib, &of) != 2 || of != 256 || kib < 64 || kib > 192)
		fail_msg("unplugged half-way, the message says: %s", b.r.err.msg);
	/* A gone programmer stays gone: no retries, no hang. */
	uint8_t sr1;
	assert_int_equal(bk_flash_status(b.r.flash, &sr1, NULL), BK_EGONE);
	free(buf);
	bench_close(&b);
}

/* A write or erase cut off by an unplug, then the same job again on the
 * flash it left: only what still differs is done, and the end is exact. */
static void unplug_then_rerun(const char *phase, int erase)
{
	struct bench b;
	bench_up(&b, "size=131072");
	rig_fill(b.mem, b.size, erase ? 601 : 602);
	uint8_t *old = dup_mem(&b), *data = erase ? NULL : random_buf(b.size, 603);
	uint8_t *want = erase ? malloc(b.size) : data;
	if (erase)
		memset(want, 0xFF, b.size);
	struct bk_hooks h;
	struct trigger t = { .phase = phase, .num = 1, .den = 2, .act = ACT_UNPLUG, .ahead = erase ? 4 : 60 };
	hook(&b, &h, &t);
	struct bk_write_report rep;
	/* with a backup, as the CLI does by default: it also tells an erase
	 * which sectors are blank already */
	char path[64];
	temp_path(path, sizeof path);
	int rc = write_at(&b, 0, data, (uint32_t)b.size, path, &rep);
	assert_int_equal(rc, BK_EGONE);
	assert_true(t.fired);
	assert_int_equal(rep.recovered, 0); /* nothing to recover on a gone device */
	if (!strstr(b.r.err.msg, "stopped after"))
		fail_msg("message does not say how far it got: %s", b.r.err.msg);
	uint32_t first_run_erased = rep.erased;
	assert_int_equal(first_run_erased, b.size / SECTOR);
	assert_true(memcmp(b.mem, want, b.size) != 0);
	/* the backup was saved before anything was erased, and is exact */
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	uint8_t *saved = malloc(b.size);
	assert_int_equal(fread(saved, 1, b.size, f), b.size);
	fclose(f);
	assert_memory_equal(saved, old, b.size);
	free(saved);
	unlink(path);
	uint8_t *left = dup_mem(&b);
	bench_close(&b);

	/* Replugged: a new bench on the flash as it was left. */
	bench_up(&b, "size=131072");
	memcpy(b.mem, left, b.size);
	rc = write_at(&b, 0, data, (uint32_t)b.size, path, &rep);
	unlink(path);
	if (rc)
		fail_msg("re-run: %s", b.r.err.msg);
	assert_memory_equal(b.mem, want, b.size);
	assert_int_equal(rep.verified, b.size);
	if (rep.erased >= first_run_erased)
		fail_msg("re-run erased %u sectors, the first run planned %u", rep.erased, first_run_erased);
	assert_true(rep.same > 0);
	free(left);
	free(want);
	free(old);
	bench_close(&b);
}

static void unplug_mid_write_then_rerun(void **state)
{
	(void)state;
	unplug_then_rerun("program", 0);
}

static void unplug_mid_erase_then_rerun(void **state)
{
	(void)state;
	unplug_then_rerun("erase", 1);
}

/* ---- Ctrl-C ----------------------------------------------------------------------- */

/* The emulator raises a real SIGINT (interrupt-after) in the middle of a
 * phase; the handler sets a flag as bkspi's does. The job stops at the next
 * operation boundary with BK_EINTR, every sector before the address it
 * names is already right, and a re-run finishes. */
static void interrupt_then_rerun(const char *phase, const char *kind)
{
	struct sigaction sa = { .sa_handler = on_sigint }, old_sa;
	sigaction(SIGINT, &sa, &old_sa);
	sigint_seen = 0;
	struct bench b;
	bench_up(&b, "size=131072");
	uint8_t *want = malloc(b.size), *data = NULL;
	if (!strcmp(kind, "program-only")) {
		memset(b.mem, 0xFF, b.size);
		data = random_buf(b.size, 701);
	} else if (!strcmp(kind, "erase-only")) {
		/* every other sector holds data: 4 KiB erases, one by one */
		rig_fill(b.mem, b.size, 702);
		for (size_t s = 0; s < b.size; s += 2 * SECTOR)
			memset(b.mem + s, 0xFF, SECTOR);
	} else {
		rig_fill(b.mem, b.size, 703);
		data = random_buf(b.size, 704);
	}
	if (data)
		memcpy(want, data, b.size);
	else
		memset(want, 0xFF, b.size);
	struct bk_hooks h;
	struct trigger t = { .phase = phase, .num = 1, .den = 2, .act = ACT_INTERRUPT, .ahead = 3 };
	hook(&b, &h, &t);
	struct bk_write_report rep;
	char path[64];
	temp_path(path, sizeof path);
	int rc = write_at(&b, 0, data, (uint32_t)b.size, path, &rep);
	unlink(path);
	sigaction(SIGINT, &old_sa, NULL);
	assert_true(t.fired);
	assert_true(sigint_seen);
	if (rc != BK_EINTR)
		fail_msg("%s, Ctrl-C in %s: %s (%s)", kind, phase, bk_err_name(rc), b.r.err.msg);
	assert_non_null(strstr(b.r.err.msg, "interrupted during"));
	uint32_t at = addr_in(b.r.err.msg, " at 0x");
	assert_true(at != UINT32_MAX && at > 0 && at < b.size);
	/* Everything before the interruption point is done and correct. */
	if (memcmp(b.mem, want, at))
		fail_msg("%s: the flash below 0x%06X (where it stopped) is not finished", kind, at);
	uint32_t planned = rep.erased, pages = rep.pages;
	uint8_t *left = dup_mem(&b);
	bench_close(&b);

	sigint_seen = 0;
	bench_up(&b, "size=131072");
	memcpy(b.mem, left, b.size);
	rc = write_at(&b, 0, data, (uint32_t)b.size, path, &rep);
	unlink(path);
	if (rc)
		fail_msg("re-run after Ctrl-C: %s", b.r.err.msg);
	assert_memory_equal(b.mem, want, b.size);
	assert_int_equal(rep.verified, b.size);
	assert_true(rep.same >= at / SECTOR);
	assert_true(rep.erased < planned || (planned == 0 && rep.pages < pages));
	free(left);
	free(data);
	free(want);
	bench_close(&b);
}

static void ctrl_c_in_program_phase(void **state)
{
	(void)state;
	interrupt_then_rerun("program", "program-only");
}

static void ctrl_c_in_erase_phase(void **state)
{
	(void)state;
	interrupt_then_rerun("erase", "erase-only");
}

static void ctrl_c_in_mixed_write(void **state)
{
	(void)state;
	interrupt_then_rerun("program", "mixed");
}

/* Ctrl-C in the backup read and while confirming: nothing erased at all. */
static void ctrl_c_before_erasing_changes_nothing(void **state)
{
	(void)state;
	static const char *const phases[] = { "backup", "confirm" };
	for (size_t i = 0; i < 2; i++) {
		struct bench b;
		bench_up(&b, "size=131072");
		rig_fill(b.mem, b.size, 801);
		uint8_t *old = dup_mem(&b), *data = random_buf(b.size, 802);
		char path[64];
		temp_path(path, sizeof path);
		struct bk_hooks h;
		/* "confirm": cancel as the backup read ends, before confirming */
		struct trigger t = { .phase = "backup", .num = 1, .den = i ? 1 : 2, .act = ACT_CANCEL };
		hook(&b, &h, &t);
		struct bk_write_report rep;
		int rc = write_at(&b, 0, data, (uint32_t)b.size, path, &rep);
		assert_int_equal(rc, BK_EINTR);
		if (!strstr(b.r.err.msg, i ? "confirming" : "interrupted during backup"))
			fail_msg("Ctrl-C in %s: %s", phases[i], b.r.err.msg);
		assert_memory_equal(b.mem, old, b.size);
		assert_true(no_file(path));
		free(data);
		free(old);
		bench_close(&b);
	}
}

static void ctrl_c_in_read_and_verify(void **state)
{
	(void)state;
	struct sigaction sa = { .sa_handler = on_sigint }, old_sa;
	sigaction(SIGINT, &sa, &old_sa);
	struct bench b;
	bench_up(&b, "size=262144");
	rig_fill(b.mem, b.size, 901);
	uint8_t *buf = malloc(b.size);
	static const char *const phases[] = { "read", "verify" };
	for (size_t i = 0; i < 2; i++) {
		sigint_seen = 0;
		struct bk_hooks h;
		struct trigger t = { .phase = phases[i], .num = 1, .den = 4, .act = ACT_INTERRUPT, .ahead = 100 };
		hook(&b, &h, &t);
		struct bk_mismatch mm;
		int rc = i ? bk_op_verify(&b.r.job, 0, b.mem, (uint32_t)b.size, &mm)
			   : bk_op_read(&b.r.job, "read", 0, buf, (uint32_t)b.size);
		assert_true(sigint_seen);
		if (rc != BK_EINTR)
			fail_msg("Ctrl-C in %s: %s (%s)", phases[i], bk_err_name(rc), b.r.err.msg);
		if (!strstr(b.r.err.msg, "interrupted during") || !strstr(b.r.err.msg, phases[i]))
			fail_msg("Ctrl-C in %s: %s", phases[i], b.r.err.msg);
		if (i == 1)
			assert_int_equal(mm.count, 0);
	}
	sigaction(SIGINT, &old_sa, NULL);
	sigint_seen = 0;
	free(buf);
	bench_close(&b);
}

/* ---- bit flips on MISO ------------------------------------------------------------ */

/* Flips are switched on after the entry, so only the job sees them. */
static void confirmed_read_is_exact_under_flips(void **state)
{
	(void)state;
	static const unsigned ppm[] = { 100, 200, 300 };
	for (size_t i = 0; i < 3; i++)
		for (unsigned seed = 1; seed <= 2; seed++) {
			char config[48];
			snprintf(config, sizeof config, "size=131072,seed=%u", seed * 7919);
			struct bench b;
			bench_up(&b, config);
			rig_fill(b.mem, b.size, 1001 + seed);
			set(&b, "flip-ppm=%u", ppm[i]);
			uint8_t *buf = malloc(b.size);
			struct bk_confirm rep;
			int rc = bk_op_read_confirmed(&b.r.job, 0, buf, (uint32_t)b.size, &rep);
			if (rc)
				fail_msg("flip-ppm=%u seed %u: %s", ppm[i], seed, b.r.err.msg);
			if (memcmp(buf, b.mem, b.size))
				fail_msg("flip-ppm=%u seed %u: confirmed read differs from the flash", ppm[i], seed);
			assert_int_equal(rep.sectors, b.size / SECTOR);
			assert_int_equal(rep.by_reread, b.size / SECTOR);
			assert_true(rep.corrected > 0);
			/* An unaligned range goes through whole sectors too. */
			rc = bk_op_read_confirmed(&b.r.job, 0x1234, buf, 0x5000, &rep);
			assert_int_equal(rc, 0);
			assert_memory_equal(buf, b.mem + 0x1234, 0x5000);
			free(buf);
			bench_close(&b);
		}
}

/* Reads that never agree stop the write before anything is erased, and no
 * backup is saved. */
static void marginal_wire_stops_before_erasing(void **state)
{
	(void)state;
	struct bench b;
	bench_up(&b, "size=131072,seed=3");
	rig_fill(b.mem, b.size, 1101);
	uint8_t *old = dup_mem(&b), *data = random_buf(b.size, 1102);
	set(&b, "flip-ppm=5000");
	char path[64];
	temp_path(path, sizeof path);
	struct bk_write_report rep;
	int rc = write_at(&b, 0, data, (uint32_t)b.size, path, &rep);
	assert_int_equal(rc, BK_EUNSTABLE);
	assert_non_null(strstr(b.r.err.msg, "marginal"));
	assert_non_null(strstr(b.r.err.msg, "nothing was erased"));
	assert_memory_equal(b.mem, old, b.size);
	assert_true(no_file(path));
	/* an erase too (with its backup, which is what reads the flash) */
	rc = write_at(&b, 0, NULL, (uint32_t)b.size, path, &rep);
	assert_int_equal(rc, BK_EUNSTABLE);
	assert_memory_equal(b.mem, old, b.size);
	assert_true(no_file(path));
	free(data);
	free(old);
	bench_close(&b);
}

static void verify_under_flips_has_no_false_mismatch(void **state)
{
	(void)state;
	for (unsigned seed = 1; seed <= 3; seed++) {
		char config[48];
		snprintf(config, sizeof config, "size=262144,seed=%u", seed * 104729);
		struct bench b;
		bench_up(&b, config);
		rig_fill(b.mem, b.size, 1201);
		uint8_t *want = dup_mem(&b);
		set(&b, "flip-ppm=300");
		struct bk_mismatch mm;
		int rc = bk_op_verify(&b.r.job, 0, want, (uint32_t)b.size, &mm);
		if (rc)
			fail_msg("seed %u: %s", seed, b.r.err.msg);
		/* A real difference is still found, exactly. */
		want[0x2345] ^= 0x10;
		rc = bk_op_verify(&b.r.job, 0, want, (uint32_t)b.size, &mm);
		assert_int_equal(rc, BK_EVERIFY);
		assert_int_equal(mm.count, 1);
		assert_int_equal(mm.first, 0x2345);
		assert_int_equal(mm.last, 0x2345);
		free(want);
		bench_close(&b);
	}
}

/* A Beken layout under flips: sectors whose CRC-16 blocks check need no
 * second read, the rest are read again; misreads are corrected; the
 * write ends exact and the backup is the flash as it was. */
static void beken_write_under_flips(void **state)
{
	(void)state;
	struct bench b;
	bench_up(&b, "seed=11");
	assert_int_equal(bk_emu_synth(b.mem, b.size, 1), 0);
	uint8_t *old = dup_mem(&b), *img = malloc(b.size);
	assert_int_equal(bk_emu_synth(img, b.size, 2), 0);
	set(&b, "flip-ppm=150");
	char path[64];
	temp_path(path, sizeof path);
	struct bk_write_report rep;
	int rc = write_at(&b, 0, img, (uint32_t)b.size, path, &rep);
	if (rc)
		fail_msg("%s", b.r.err.msg);
	set(&b, "flip-ppm=0");
	assert_memory_equal(b.mem, img, b.size);
	assert_true(rep.confirm.by_crc > 0);
	assert_true(rep.confirm.by_reread > 0);
	assert_true(rep.confirm.corrected > 0);
	assert_int_equal(rep.confirm.sectors, rep.confirm.by_crc + rep.confirm.by_reread);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	uint8_t *saved = malloc(b.size);
	assert_int_equal(fread(saved, 1, b.size, f), b.size);
	fclose(f);
	unlink(path);
	/* The backup of what this write changed is exact. */
	for (size_t s = 0; s < b.size; s += SECTOR)
		if (memcmp(old + s, img + s, SECTOR) && memcmp(saved + s, old + s, SECTOR))
			fail_msg("backup sector 0x%06zX (changed by the write) differs from the old flash", s);
	free(saved);
	free(img);
	free(old);
	bench_close(&b);
}

/* The backup is of the whole flash; under flips the sectors the write does
 * not touch must not be saved with misread bytes either. */
/* By default a write confirms the sectors it changes (the rest stays on
 * the chip); confirm_all (--confirm) makes every byte of the backup exact. */
static void backup_is_exact_under_flips(void **state)
{
	(void)state;
	struct bench b;
	bench_up(&b, "size=262144,seed=5");
	rig_fill(b.mem, b.size, 1301);
	uint8_t *old = dup_mem(&b), data[4096];
	rig_fill(data, sizeof data, 1302);
	set(&b, "flip-ppm=200");
	char path[64];
	temp_path(path, sizeof path);
	struct bk_write_report rep;
	int rc = write_with(&b, 0x10000, data, sizeof data, path, 1, &rep);
	if (rc)
		fail_msg("%s", b.r.err.msg);
	set(&b, "flip-ppm=0");
	assert_memory_equal(b.mem + 0x10000, data, sizeof data);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	uint8_t *saved = malloc(b.size);
	assert_int_equal(fread(saved, 1, b.size, f), b.size);
	fclose(f);
	unlink(path);
	size_t bad = 0, first = 0, size = b.size;
	for (size_t i = 0; i < size; i++)
		if (saved[i] != old[i] && !bad++)
			first = i;
	free(saved);
	free(old);
	bench_close(&b);
	if (bad)
		fail_msg("the backup differs from the flash before the write in %zu bytes (first 0x%06zX); "
			 "only %u of %zu sectors were confirmed",
			 bad, first, rep.confirm.sectors, size / SECTOR);
}

/* ---- the flash itself misbehaves ------------------------------------------------------ */

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

static void locked_protection_refuses_before_erasing(void **state)
{
	(void)state;
	struct bench b;
	bench_up(&b, "size=65536,wp-locked=1");
	rig_fill(b.mem, b.size, 1601);
	uint8_t *old = dup_mem(&b), *data = random_buf(b.size, 1602);
	struct bk_write_report rep;
	int rc = write_at(&b, 0, data, (uint32_t)b.size, NULL, &rep);
	assert_int_equal(rc, BK_EPROTECT);
	static const char *const words[] = { "BP=7", "CMP=0", "SRP=1", "WP#" };
	for (size_t i = 0; i < 4; i++)
		if (!strstr(b.r.err.msg, words[i]))
			fail_msg("message lacks '%s': %s", words[i], b.r.err.msg);
	assert_memory_equal(b.mem, old, b.size);
	rc = write_at(&b, 0, NULL, (uint32_t)b.size, NULL, &rep);
	assert_int_equal(rc, BK_EPROTECT);
	assert_memory_equal(b.mem, old, b.size);
	free(data);
	free(old);
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
		assert_non_null(strstr(b.r.err.msg, "check D2 -> CEN"));
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(read_survives_one_usb_fault_anywhere),
		cmocka_unit_test(status_read_survives_one_usb_fault),
		cmocka_unit_test(timeout_message_counts_replies),
		cmocka_unit_test(entry_survives_one_usb_fault),
		cmocka_unit_test(write_survives_one_usb_fault_anywhere),
		cmocka_unit_test(unprotect_survives_one_usb_fault),
		cmocka_unit_test(fault_in_erase_or_program_is_recovered),
		cmocka_unit_test(fault_during_recovery_is_recovered),
		cmocka_unit_test(fault_in_verify_is_no_mismatch),
		cmocka_unit_test(unplug_mid_read),
		cmocka_unit_test(unplug_mid_write_then_rerun),
		cmocka_unit_test(unplug_mid_erase_then_rerun),
		cmocka_unit_test(ctrl_c_in_program_phase),
		cmocka_unit_test(ctrl_c_in_erase_phase),
		cmocka_unit_test(ctrl_c_in_mixed_write),
		cmocka_unit_test(ctrl_c_before_erasing_changes_nothing),
		cmocka_unit_test(ctrl_c_in_read_and_verify),
		cmocka_unit_test(confirmed_read_is_exact_under_flips),
		cmocka_unit_test(marginal_wire_stops_before_erasing),
		cmocka_unit_test(verify_under_flips_has_no_false_mismatch),
		cmocka_unit_test(beken_write_under_flips),
		cmocka_unit_test(backup_is_exact_under_flips),
		cmocka_unit_test(stuck_wip_timeout_scales_with_the_operation),
		cmocka_unit_test(stuck_wip_mid_write_names_the_page),
		cmocka_unit_test(locked_protection_refuses_before_erasing),
		cmocka_unit_test(unprogrammable_byte_is_reported_by_address),
		cmocka_unit_test(entry_gives_up_after_bounded_attempts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
