/* The emulated programmer's engine: USB transfers queued both ways, run in
 * virtual time through the personality's command parser (ch341a.c,
 * ch347.c), with bounded reply buffering and the faults a real bench
 * produces (unplug, lost or failed transfers, Ctrl-C at a known point). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/limits.h"
#include "emu/internal.h"

/* What every personality shares: the host turnaround (README
 * "Benchmarks"), the wiring faults and the Beken chip behind the lines. */
#define TURNAROUND_NS (125 * EMU_NS_PER_US)

static int q_push(struct queue *q, struct pending p)
{
	if (q->head + q->len == q->cap) {
		if (q->head) {
			memmove(q->v, q->v + q->head, q->len * sizeof *q->v);
			q->head = 0;
		} else {
			size_t cap = q->cap ? q->cap * 2 : 64;
			struct pending *v = realloc(q->v, cap * sizeof *v);
			if (!v)
				return BK_ENOMEM;
			q->v = v;
			q->cap = cap;
		}
	}
	q->v[q->head + q->len++] = p;
	return 0;
}

static struct pending *q_front(struct queue *q)
{
	return q->len ? &q->v[q->head] : NULL;
}

/* Takes out entry i (an index into v), keeping the others in order. */
static struct pending q_take(struct queue *q, size_t i)
{
	struct pending p = q->v[i];
	memmove(&q->v[i], &q->v[i + 1], (q->head + q->len - i - 1) * sizeof *q->v);
	if (--q->len == 0)
		q->head = 0;
	return p;
}

static void q_pop(struct queue *q)
{
	q->head++;
	if (--q->len == 0)
		q->head = 0;
}

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static int complete(struct bk_emu *e, struct pending p, uint64_t at, int status, size_t actual)
{
	p.x->status = status;
	p.x->actual = actual;
	p.at = at;
	return q_push(&e->done, p);
}

static uint64_t next_random(struct bk_emu *e)
{
	e->rng ^= e->rng << 13;
	e->rng ^= e->rng >> 7;
	e->rng ^= e->rng << 17;
	return e->rng;
}

uint8_t emu_line_miso(struct bk_emu *e, uint8_t chip, uint32_t extra_ppm)
{
	switch (e->cfg.wire) {
	case WIRE_MISO_OPEN:
	case WIRE_CS_OPEN:
		return 0xFF;
	case WIRE_MISO_SHORT:
		return 0x00;
	default:
		break;
	}
	uint64_t ppm = (uint64_t)e->cfg.flip_ppm + extra_ppm;
	if (ppm) {
		uint64_t r = next_random(e);
		if (r % 1000000 < ppm)
			chip ^= (uint8_t)(1u << ((r >> 32) & 7));
	}
	return chip;
}

uint8_t emu_clock(struct bk_emu *e, uint8_t mosi, uint64_t t, int garble)
{
	if (e->cfg.wire == WIRE_MOSI_OPEN || garble)
		mosi = 0x00;
	return e->chip_cs_low ? emu_gate_byte(&e->gate, &e->flash, mosi, t) : 0xFF;
}

int emu_entry_too_fast(const struct bk_emu *e, uint64_t hz)
{
	return e->cfg.entry_max_hz && hz > e->cfg.entry_max_hz && e->gate.present && e->gate.mode == GATE_BOOT;
}

void emu_set_lines(struct bk_emu *e, int cs_low, int cen_high, uint64_t t)
{
	cs_low = cs_low && e->cfg.wire != WIRE_CS_OPEN;
	cen_high = cen_high || e->cfg.wire == WIRE_CEN_OPEN;
	if (cen_high != e->chip_cen_high) {
		e->chip_cen_high = cen_high;
		e->st.cen_pulses += !cen_high;
		emu_gate_cen(&e->gate, &e->flash, cen_high, t);
	}
	if (cs_low != e->chip_cs_low) {
		e->chip_cs_low = cs_low;
		emu_gate_cs(&e->gate, &e->flash, cs_low, t);
	}
}

static int unplug(struct bk_emu *e)
{
	e->gone = 1;
	struct queue *qs[] = { &e->out_q, &e->in_q };
	for (size_t i = 0; i < 2; i++) {
		struct pending *p;
		while ((p = q_front(qs[i]))) {
			int r = complete(e, *p, e->host_ns, BK_EGONE, 0);
			if (r)
				return r;
			q_pop(qs[i]);
		}
	}
	return 0;
}

/* Takes the next free reply slot at or after start; returns when it can begin. */
static struct emu_reply *reply_slot(struct bk_emu *e, uint64_t *start)
{
	size_t slot = (e->reply_head + e->reply_len) % e->pers->reply_depth;
	*start = max64(*start, e->taken_at[slot]);
	return &e->replies[slot];
}

/* Faults tied to the device's progress, checked before each command. */
static int fault_due(struct bk_emu *e)
{
	if (e->cfg.unplug_after && e->st.packets >= e->cfg.unplug_after)
		return 1;
	/* A Ctrl-C (or kill) at a known point of the job, for the tests. */
	if (e->cfg.interrupt_after && e->st.packets == e->cfg.interrupt_after)
		raise(e->cfg.interrupt_signal);
	return 0;
}

/* Moves the device forward as far as the transfers queued so far allow. */
static int advance(struct bk_emu *e)
{
	const struct emu_personality *pers = e->pers;
	for (;;) {
		struct pending *in = q_front(&e->in_q);
		if (in && in->stuck) {
			/* A lost reply: nothing behind it completes until cancelled. */
		} else if (in && e->reply_len) {
			struct emu_reply *r = &e->replies[e->reply_head];
			uint64_t at = max64(r->ready, in->at);
			size_t n = r->len < in->x->length ? r->len : in->x->length;
			if (!in->fail)
				memcpy(in->x->buf, r->data, n);
			e->st.in_bytes += n;
			e->taken_at[e->reply_head] = at;
			e->reply_head = (e->reply_head + 1) % pers->reply_depth;
			e->reply_len--;
			if (complete(e, *in, at, in->fail ? BK_EUSB : 0, in->fail ? 0 : n))
				return BK_ENOMEM;
			q_pop(&e->in_q);
			continue;
		}
		if (pers->pending && pers->pending(e)) {
			if (e->reply_len == pers->reply_depth)
				return 0; /* the chip stops clocking until the host reads */
			if (fault_due(e))
				return unplug(e);
			e->st.packets++;
			uint64_t start = e->dev_ns;
			struct emu_reply *r = reply_slot(e, &start);
			e->dev_ns = start + pers->more(e, start, r);
			r->ready = e->dev_ns;
			e->reply_len++;
			if (e->flash.io_error)
				return unplug(e);
			continue;
		}
		struct pending *out = q_front(&e->out_q);
		if (!out)
			return 0;
		const uint8_t *p = out->x->buf + out->pos;
		size_t len = pers->unit(p, out->x->length - out->pos);
		int replies = pers->replies(p, len);
		if (replies && e->reply_len == pers->reply_depth)
			return 0; /* the chip NAKs OUT until the host reads */
		if (fault_due(e))
			return unplug(e);
		e->st.packets++;
		uint64_t start = max64(e->dev_ns, out->at);
		struct emu_reply spare, *r = replies ? reply_slot(e, &start) : &spare;
		r->len = 0;
		e->dev_ns = start + pers->run(e, p, len, start, r);
		e->st.out_bytes += len;
		if (replies) {
			r->ready = e->dev_ns;
			e->reply_len++;
		}
		out->pos += len;
		/* A simulator that cannot reach its image file is a device gone. */
		if (e->flash.io_error)
			return unplug(e);
		if (out->pos == out->x->length) {
			if (complete(e, *out, e->dev_ns, 0, out->pos))
				return BK_ENOMEM;
			q_pop(&e->out_q);
		}
	}
}

static int emu_submit(void *dev, struct bk_usb_xfer *x)
{
	struct bk_emu *e = dev;
	if (e->gone)
		return BK_EGONE;
	struct pending p = { .x = x, .at = e->host_ns };
	x->priv = e;
	if (!x->is_in) {
		/* A lost OUT transfer: the device never sees its packets. */
		if (++e->out_submitted == e->cfg.usb_out_error_at)
			return complete(e, p, e->host_ns, BK_EUSB, 0);
		return q_push(&e->out_q, p);
	}
	e->in_submitted++;
	p.fail = e->in_submitted == e->cfg.usb_error_at;
	p.stuck = e->in_submitted == e->cfg.usb_timeout_at;
	return q_push(&e->in_q, p);
}

/* Ties keep submission order, which IN data depends on. */
static size_t earliest_done(const struct bk_emu *e)
{
	size_t best = e->done.head;
	for (size_t i = e->done.head; i < e->done.head + e->done.len; i++)
		if (e->done.v[i].at < e->done.v[best].at)
			best = i;
	return best;
}


static int emu_wait(void *dev, unsigned timeout_ms)
{
	struct bk_emu *e = dev;
	if (!e->gone) {
		int r = advance(e);
		if (r)
			return r;
	}
	if (!e->done.len) {
		if (e->gone)
			return BK_EGONE;
		e->host_ns += timeout_ms * EMU_NS_PER_MS;
		return BK_ETIMEDOUT;
	}
	uint64_t first = e->done.v[earliest_done(e)].at;
	if (first > e->host_ns) {
		e->st.wakeups++;
		/* The device idles through the turnaround unless work is queued. */
		if (e->dev_ns < first + TURNAROUND_NS)
			e->st.round_trips++;
		e->host_ns = first + TURNAROUND_NS;
	}
	/* Deliver in completion order; done() may submit more. */
	while (e->done.len) {
		size_t i = earliest_done(e);
		if (e->done.v[i].at > e->host_ns)
			break;
		struct pending p = q_take(&e->done, i);
		p.x->priv = NULL;
		p.x->done(p.x);
	}
	return 0;
}

static int cancel_queued(struct bk_emu *e, struct queue *q, struct bk_usb_xfer *x)
{
	for (size_t i = q->head; i < q->head + q->len; i++) {
		if (q->v[i].x != x)
			continue;
		struct pending p = q_take(q, i);
		return complete(e, p, e->host_ns, BK_EUSB, p.pos) ? -1 : 1;
	}
	return 0;
}

static void emu_cancel(void *dev, struct bk_usb_xfer *x)
{
	struct bk_emu *e = dev;
	if (x->priv != e)
		return;
	/* Out of memory here leaves the transfer queued: wait() reaps it. */
	if (!cancel_queued(e, &e->in_q, x))
		(void)cancel_queued(e, &e->out_q, x);
}

static void emu_sleep_us(void *dev, uint64_t us)
{
	struct bk_emu *e = dev;
	e->host_ns += us * EMU_NS_PER_US;
}

static uint64_t emu_now_us(void *dev)
{
	const struct bk_emu *e = dev;
	return e->host_ns / EMU_NS_PER_US;
}

static void emu_close(void *dev)
{
	bk_emu_free(dev);
}

static const struct bk_usb_backend emu_backend = {
	.name = "emulator",
	.submit = emu_submit,
	.wait = emu_wait,
	.cancel = emu_cancel,
	.sleep_us = emu_sleep_us,
	.now_us = emu_now_us,
	.close = emu_close,
};

const struct bk_usb_backend *bk_emu_backend(void)
{
	return &emu_backend;
}

int bk_emu_usb(struct bk_emu *e, struct bk_err *err, struct bk_usb **out)
{
	return bk_usb_wrap(&emu_backend, e, e->pers->label, err, out);
}

/* The image file is the flash, reached through a window: writes persist,
 * and the simulator's memory stays small whatever the flash size. */
static int open_image(struct bk_emu *e, struct bk_err *err)
{
	const char *path = e->cfg.image;
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return bk_fail(err, BK_EINVAL, "simulator image %s: %s", path, strerror(errno));
	struct stat sb;
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		close(fd);
		return bk_fail(err, BK_EINVAL, "simulator image %s: not a regular file", path);
	}
	size_t size = (size_t)sb.st_size;
	if (size < 65536 || size > BK_MAX_FLASH || (size & (size - 1))) {
		close(fd);
		return bk_fail(err, BK_EINVAL,
			       "simulator image %s: %zu bytes; a flash is a power of two from 64 KiB to 16 MiB",
			       path, size);
	}
	e->flash.mem = malloc(EMU_WINDOW);
	if (!e->flash.mem) {
		close(fd);
		return bk_fail(err, BK_ENOMEM, "out of memory");
	}
	e->flash.fd = fd;
	e->flash.size = size;
	return 0;
}

static int log2u(size_t v)
{
	int n = 0;
	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

static char *state_path(const struct bk_emu *e)
{
	size_t n = strlen(e->cfg.image) + sizeof ".chip";
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s.chip", e->cfg.image);
	return p;
}

/* A chip left in SPI mode by an earlier run is still there. */
static int held_in_spi(const struct bk_emu *e)
{
	char *p = state_path(e), mode[8] = "";
	FILE *f = p ? fopen(p, "r") : NULL;
	if (f) {
		if (!fgets(mode, sizeof mode, f))
			mode[0] = '\0';
		fclose(f);
	}
	free(p);
	return !strncmp(mode, "spi", 3);
}

static void save_state(const struct bk_emu *e)
{
	char *p = state_path(e);
	FILE *f = p ? fopen(p, "w") : NULL;
	if (f) {
		fprintf(f, "%s\n", bk_emu_chip_name(bk_emu_chip_state(e)));
		fclose(f);
	}
	free(p);
}

int bk_emu_new(const char *config, struct bk_err *err, struct bk_emu **out)
{
	return bk_emu_open(NULL, config, err, out);
}

int bk_emu_open(const char *image, const char *config, struct bk_err *err, struct bk_emu **out)
{
	struct bk_emu *e = calloc(1, sizeof *e);
	if (!e)
		return bk_fail(err, BK_ENOMEM, "out of memory");
	int r = emu_config_parse(&e->cfg, config, err);
	e->flash.fd = -1;
	if (!r && image) {
		free(e->cfg.image);
		e->cfg.image = strdup(image);
		if (!e->cfg.image)
			r = bk_fail(err, BK_ENOMEM, "out of memory");
	}
	if (!r && e->cfg.image)
		r = open_image(e, err);
	if (!r && !e->cfg.image) {
		e->flash.size = e->cfg.size;
		e->flash.mem = malloc(e->cfg.size);
		if (!e->flash.mem)
			r = bk_fail(err, BK_ENOMEM, "out of memory");
		else
			memset(e->flash.mem, 0xFF, e->cfg.size);
	}
	if (r) {
		bk_emu_free(e);
		return r;
	}
	struct emu_flash *f = &e->flash;
	f->jedec = e->cfg.jedec ? e->cfg.jedec : 0x0B4000u | (uint32_t)log2u(f->size);
	f->has_sr2 = e->cfg.sr2;
	f->wrsr_2byte = e->cfg.sr2;
	f->wrsr2_31 = e->cfg.sr2 && e->cfg.wrsr31;
	f->wp_low = e->cfg.wp_locked;
	f->sr1 = e->cfg.wp_locked ? 0x80 : 0x00;
	f->stuck_wip = e->cfg.stuck_wip;
	f->bad_byte = e->cfg.bad_byte;
	if (e->cfg.sfdp)
		f->sfdp_len = bk_emu_sfdp_build(f->sfdp, sizeof f->sfdp, (uint32_t)f->size,
					    BK_ERASE_4K | BK_ERASE_32K | BK_ERASE_64K);
	e->gate.present = e->cfg.beken;
	e->gate.style = e->cfg.style;
	e->gate.fails_left = e->cfg.entry_fails;
	e->gate.boot_sr1 = e->cfg.boot_sr1;
	e->gate.boot_sr2 = e->cfg.boot_sr2;
	emu_gate_boot(&e->gate, f);
	e->gate.mode = e->cfg.beken && !(e->cfg.image && held_in_spi(e)) ? GATE_RUNNING : GATE_SPI;
	e->pers = e->cfg.programmer == EMU_PROG_CH347T ? &emu_ch347t
		  : e->cfg.programmer == EMU_PROG_CH347F ? &emu_ch347f : &emu_ch341a;
	e->chip_cen_high = 1;
	e->pers->init(e);
	e->rng = e->cfg.seed ? e->cfg.seed : 0x9E3779B97F4A7C15ull;
	*out = e;
	return 0;
}

void bk_emu_free(struct bk_emu *e)
{
	if (!e)
		return;
	if (e->flash.fd >= 0) {
		emu_flash_sync(&e->flash);
		close(e->flash.fd);
		if (e->gate.present)
			save_state(e);
	}
	free(e->flash.mem);
	free(e->out_q.v);
	free(e->in_q.v);
	free(e->done.v);
	emu_config_free(&e->cfg);
	free(e);
}

enum bk_emu_chip bk_emu_chip_state(const struct bk_emu *e)
{
	if (!e->gate.present)
		return BK_EMU_CHIP_SPI;
	switch (e->gate.mode) {
	case GATE_RESET: return BK_EMU_CHIP_RESET;
	case GATE_FLUSHED:
	case GATE_SPI: return BK_EMU_CHIP_SPI;
	default: return BK_EMU_CHIP_RUNNING;
	}
}

const char *bk_emu_chip_name(enum bk_emu_chip c)
{
	static const char *const names[] = { "reset", "running", "spi" };
	return names[c];
}

void bk_emu_stats(const struct bk_emu *e, struct bk_emu_stats *st)
{
	*st = e->st;
	st->now_ns = e->host_ns;
}

uint16_t bk_emu_usb_pid(const struct bk_emu *e)
{
	return e->pers->pid;
}

uint8_t *bk_emu_flash(struct bk_emu *e, size_t *size)
{
	*size = e->flash.size;
	return e->flash.fd < 0 ? e->flash.mem : NULL;
}

int bk_emu_set(struct bk_emu *e, const char *key_value, struct bk_err *err)
{
	int r = emu_config_apply(&e->cfg, key_value, err);
	if (r)
		return r;
	/* Switches that live in the models are copied where they act. */
	e->flash.stuck_wip = e->cfg.stuck_wip;
	e->flash.bad_byte = e->cfg.bad_byte;
	e->flash.wp_low = e->cfg.wp_locked;
	return 0;
}
