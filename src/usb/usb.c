/* Backend-independent half of the USB seam: the streaming pipeline that
 * keeps the device busy. It runs unchanged over libusb and the emulator. */
#include "usb/usb.h"

#include <stdlib.h>
#include <string.h>

/* flashrom keeps 32 IN transfers in flight; OUT needs as many because a
 * frame that ends in a short packet ends its transfer. */
#define DEPTH 32
#define WAIT_MS 1000
#define DRAIN_MS 20

struct bk_usb {
	const struct bk_usb_backend *be;
	void *dev;
	const char *name;
	struct bk_err *err;
	struct bk_usb_stats st;
};

int bk_usb_wrap(const struct bk_usb_backend *be, void *dev, const char *name,
		struct bk_err *err, struct bk_usb **out)
{
	struct bk_usb *u = calloc(1, sizeof *u);
	if (!u) {
		be->close(dev);
		return bk_fail(err, BK_ENOMEM, "out of memory");
	}
	u->be = be;
	u->dev = dev;
	u->name = name;
	u->err = err;
	*out = u;
	return 0;
}

void bk_usb_close(struct bk_usb *u)
{
	if (!u)
		return;
	u->be->close(u->dev);
	free(u);
}

void bk_usb_sleep_us(struct bk_usb *u, uint64_t us)
{
	u->be->sleep_us(u->dev, us);
}

uint64_t bk_usb_now_us(struct bk_usb *u)
{
	return u->be->now_us(u->dev);
}

const char *bk_usb_backend_name(const struct bk_usb *u)
{
	return u->be->name;
}

const struct bk_usb_stats *bk_usb_stats(const struct bk_usb *u)
{
	return &u->st;
}

struct bk_err *bk_usb_err(struct bk_usb *u)
{
	return u->err;
}

/* One direction of a stream: transfers i..n, slot i % DEPTH. */
struct lane {
	struct bk_usb_xfer x[DEPTH];
	size_t next, done, n;
	size_t off;             /* where transfer `next` starts */
	uint8_t *buf;
};

struct stream {
	struct lane out, in;
	unsigned busy;
	int status;
};

static void xfer_done(struct bk_usb_xfer *x)
{
	struct stream *s = x->user;
	x->user = NULL;
	s->busy--;
	if (x->status == 0 && x->actual != x->length)
		x->status = BK_EUSB;
	if (x->status && !s->status)
		s->status = x->status;
	(x->is_in ? &s->in : &s->out)->done++;
}

static void top_up(struct bk_usb *u, struct stream *s, struct lane *l, int is_in, const uint16_t *lens)
{
	while (!s->status && l->next < l->n && l->next - l->done < DEPTH) {
		size_t len = lens[l->next];
		struct bk_usb_xfer *x = &l->x[l->next % DEPTH];
		/* Completions come in order per endpoint, but a slot is reused
		 * only once its own transfer is back, whatever a backend does. */
		if (x->user)
			return;
		*x = (struct bk_usb_xfer){ .is_in = is_in, .buf = l->buf + l->off, .length = len,
					   .done = xfer_done, .user = s };
		int r = u->be->submit(u->dev, x);
		if (r) {
			s->status = r;
			return;
		}
		s->busy++;
		l->off += len;
		l->next++;
		*(is_in ? &u->st.in_transfers : &u->st.out_transfers) += 1;
		*(is_in ? &u->st.in_bytes : &u->st.out_bytes) += len;
	}
}

static int fail_msg(struct bk_usb *u, int code, const struct stream *s, size_t received)
{
	switch (code) {
	case BK_EGONE:
		return bk_fail(u->err, code, "%s disconnected (USB device gone)", u->name);
	case BK_ETIMEDOUT:
		return bk_fail(u->err, code, "USB transfer timed out after %u ms (%zu of %zu replies received)",
			       WAIT_MS, received, s->in.n);
	default:
		return bk_fail(u->err, code, "USB transfer failed (%s)", bk_err_name(code));
	}
}

static void reap(struct bk_usb *u, struct stream *s)
{
	struct lane *lanes[] = { &s->out, &s->in };
	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < DEPTH; i++)
			if (lanes[k]->x[i].user)
				u->be->cancel(u->dev, &lanes[k]->x[i]);
	while (s->busy && u->be->wait(u->dev, WAIT_MS) == 0)
		;
}

int bk_usb_stream(struct bk_usb *u, const uint8_t *out, const uint16_t *out_len, size_t n_out,
		  uint8_t *in, const uint16_t *in_len, size_t n_in)
{
	struct stream s = { .out = { .n = n_out, .buf = (uint8_t *)out },
			    .in = { .n = n_in, .buf = in } };
	u->st.streams++;
	for (;;) {
		top_up(u, &s, &s.in, 1, in_len);
		top_up(u, &s, &s.out, 0, out_len);
		if (s.status || (s.out.done == n_out && s.in.done == n_in))
			break;
		u->st.waits++;
		int r = u->be->wait(u->dev, WAIT_MS);
		if (r && !s.status)
			s.status = r;
	}
	/* Counted before reaping: cancelled transfers also come back "done". */
	size_t received = s.in.done;
	if (s.busy)
		reap(u, &s);
	return s.status ? fail_msg(u, s.status, &s, received) : 0;
}

int bk_usb_drain(struct bk_usb *u)
{
	uint8_t junk[512];
	for (int i = 0; i < 64; i++) {
		struct stream s = { .in = { .n = 1, .buf = junk } };
		struct bk_usb_xfer x = { .is_in = 1, .buf = junk, .length = sizeof junk,
					 .done = xfer_done, .user = &s };
		int r = u->be->submit(u->dev, &x);
		if (r)
			return r;
		s.busy = 1;
		r = u->be->wait(u->dev, DRAIN_MS);
		if (r && r != BK_ETIMEDOUT)
			return r;
		if (s.busy) {
			/* Nothing came back: the device holds nothing more. */
			u->be->cancel(u->dev, &x);
			while (s.busy && u->be->wait(u->dev, WAIT_MS) == 0)
				;
			return 0;
		}
	}
	return bk_fail(u->err, BK_EUSB, "the %s keeps sending data nobody asked for; unplug and replug it", u->name);
}
