/* The reply path from the USB wire: a bk_usb_backend whose OUT transfers
 * complete at once and whose IN transfers are filled from the input, under
 * the real CH341A driver, Beken entry, JEDEC/SFDP probe and flash
 * operations (see replies.h for the input's layout). Its clock moves on
 * sleeps, timeouts and completions, so nothing really waits. */
#include <string.h>

#include "fuzz.h"
#include "replies.h"
#include "usb/usb.h"

#define QMAX 256
#define DRAIN_LEN 64      /* bk_usb_drain's reads; stream INs are <= 31 bytes */
#define TURNAROUND_US 125 /* what one completion costs the host */

struct pend {
	struct bk_usb_xfer *x;
	int status;       /* forced completion status, 0: normal */
	int stuck, cancelled, short_, unplug;
};

struct wire {
	const uint8_t *p;
	size_t n, pos;
	uint8_t fill;
	uint64_t now_us;
	unsigned long in_submitted;
	unsigned long fault_at;
	int fault;
	int gone;
	struct pend q[QMAX];
	size_t nq;
};

static void take(struct wire *w, size_t i)
{
	memmove(&w->q[i], &w->q[i + 1], (w->nq - i - 1) * sizeof w->q[0]);
	w->nq--;
}

static void finish(struct bk_usb_xfer *x, int status, size_t actual)
{
	x->status = status;
	x->actual = actual;
	x->priv = NULL;
	x->done(x);
}

static int w_submit(void *dev, struct bk_usb_xfer *x)
{
	struct wire *w = dev;
	if (w->gone)
		return BK_EGONE;
	if (w->nq == QMAX)
		return BK_ENOMEM;
	struct pend e = { .x = x };
	if (x->is_in && ++w->in_submitted == w->fault_at) {
		switch (w->fault) {
		case REPLIES_FAULT_ERROR: e.status = BK_EUSB; break;
		case REPLIES_FAULT_STUCK: e.stuck = 1; break;
		case REPLIES_FAULT_SHORT: e.short_ = 1; break;
		case REPLIES_FAULT_UNPLUG: e.unplug = 1; break;
		default: return BK_EUSB;
		}
	}
	x->priv = w;
	w->q[w->nq++] = e;
	return 0;
}

/* Unplugged: every pending transfer completes with BK_EGONE, as libusb and
 * the emulator do it. */
static int unplug(struct wire *w)
{
	w->gone = 1;
	int any = w->nq > 0;
	while (w->nq) {
		struct bk_usb_xfer *x = w->q[0].x;
		take(w, 0);
		finish(x, BK_EGONE, 0);
	}
	return any ? 0 : BK_EGONE;
}

/* Completes one transfer: a cancelled one, an OUT, or the oldest IN when
 * the wire has something for it. */
static int w_wait(void *dev, unsigned timeout_ms)
{
	struct wire *w = dev;
	if (w->gone)
		return unplug(w);
	int in_seen = 0;
	for (size_t i = 0; i < w->nq; i++) {
		struct pend e = w->q[i];
		struct bk_usb_xfer *x = e.x;
		size_t actual = x->length;
		if (e.cancelled) {
			take(w, i);
			finish(x, BK_EUSB, 0);
			return 0;
		}
		if (x->is_in) {
			if (in_seen++)
				continue; /* INs complete in order */
			if (e.unplug)
				return unplug(w);
			if (e.stuck)
				continue;
			size_t left = w->n - w->pos;
			if (x->length == DRAIN_LEN) {
				/* Stale data is what drain reads; an exhausted wire
				 * holds nothing, so drain's read times out. */
				if (!left)
					continue;
				actual = left < x->length ? left : x->length;
			}
			size_t from = left < actual ? left : actual;
			memcpy(x->buf, w->p + w->pos, from);
			memset(x->buf + from, w->fill, actual - from);
			w->pos += from;
			if (e.short_)
				actual /= 2;
		}
		take(w, i);
		w->now_us += TURNAROUND_US;
		finish(x, e.status, e.status ? 0 : actual);
		return 0;
	}
	w->now_us += (uint64_t)timeout_ms * 1000;
	return BK_ETIMEDOUT;
}

static void w_cancel(void *dev, struct bk_usb_xfer *x)
{
	struct wire *w = dev;
	for (size_t i = 0; i < w->nq; i++)
		if (w->q[i].x == x)
			w->q[i].cancelled = 1;
}

static void w_sleep_us(void *dev, uint64_t us)
{
	struct wire *w = dev;
	w->now_us += us;
}

static uint64_t w_now_us(void *dev)
{
	const struct wire *w = dev;
	return w->now_us;
}

static void w_close(void *dev)
{
	struct wire *w = dev;
	/* Whatever is left was abandoned by its owner: a bug above. */
	FUZZ_CHECK(w->nq == 0);
	free(w);
}

static const struct bk_usb_backend wire_backend = {
	.name = "fuzz wire",
	.submit = w_submit,
	.wait = w_wait,
	.cancel = w_cancel,
	.sleep_us = w_sleep_us,
	.now_us = w_now_us,
	.close = w_close,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct replies_plan plan;
	size_t used = replies_plan_parse(data, size, &plan);

	struct wire *w = calloc(1, sizeof *w);
	if (!w)
		return 0;
	w->p = data + used;
	w->n = size - used;
	w->fill = plan.flags & REPLIES_FILL_FF ? 0xFF : 0x00;
	w->fault_at = plan.fault_at;
	w->fault = plan.fault;

	struct bk_err err = { 0 };
	struct bk_usb *usb;
	struct bk_prog *prog;
	if (bk_usb_wrap(&wire_backend, w, "replayed CH341A", &err, &usb))
		return 0;
	struct bk_prog_config pc = { .usb = usb };
	int r = bk_prog_open(&bk_prog_ch341a, &pc, &err, &prog);
	if (r) {
		replies_check_fail(r, &err);
		return 0;
	}
	replies_run(prog, &plan, &err);
	return 0;
}
