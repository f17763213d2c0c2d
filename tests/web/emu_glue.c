/* The emulator's USB backend as a few calls for tests/web/fake_usb.js, the
 * navigator.usb stand-in: it queues each WebUSB transfer here as the
 * emulator's own transfer and settles the promise when the emulator
 * completes it, so the timing is the emulator's virtual one. */
#include <emscripten.h>
#include <stdlib.h>
#include <string.h>

#include "emu/emu.h"

struct glue;
struct xfer;
struct glue *emu_create(const char *config);
void emu_destroy(struct glue *g);
int emu_submit(struct glue *g, int token, int is_in, const uint8_t *data, int len);
int emu_wait(struct glue *g, int timeout_ms);
struct xfer *emu_next(struct glue *g);
int emu_token(struct xfer *t);
int emu_status(struct xfer *t);
int emu_actual(struct xfer *t);
uint8_t *emu_data(struct xfer *t);
void emu_release(struct xfer *t);
double emu_now_us(struct glue *g);
void emu_sleep_us(struct glue *g, double us);
uint8_t *emu_flash(struct glue *g);
int emu_flash_size(struct glue *g);
int emu_set(struct glue *g, const char *key_value);
double emu_packets(struct glue *g);

struct glue {
	struct bk_emu *emu;
	const struct bk_usb_backend *be;
	struct bk_err err;
	/* Finished transfers, oldest first, until the stand-in takes them. */
	struct bk_usb_xfer **done;
	size_t n_done, cap_done;
};

struct xfer {
	struct bk_usb_xfer x;
	struct glue *g;
	int token;
};

static void on_done(struct bk_usb_xfer *x)
{
	struct xfer *t = (struct xfer *)x;
	struct glue *g = t->g;
	if (g->n_done == g->cap_done) {
		size_t cap = g->cap_done ? g->cap_done * 2 : 64;
		struct bk_usb_xfer **v = realloc(g->done, cap * sizeof *v);
		if (!v)
			abort();
		g->done = v;
		g->cap_done = cap;
	}
	g->done[g->n_done++] = x;
}

EMSCRIPTEN_KEEPALIVE struct glue *emu_create(const char *config)
{
	struct glue *g = calloc(1, sizeof *g);
	if (!g || bk_emu_new(config, &g->err, &g->emu)) {
		free(g);
		return NULL;
	}
	g->be = bk_emu_backend();
	return g;
}

EMSCRIPTEN_KEEPALIVE void emu_destroy(struct glue *g)
{
	bk_emu_free(g->emu);
	free(g->done);
	free(g);
}

/* Queues a transfer; its buffer is copied for OUT and allocated for IN.
 * 0, or a BK_E* code (BK_EGONE once unplugged). */
EMSCRIPTEN_KEEPALIVE int emu_submit(struct glue *g, int token, int is_in, const uint8_t *data, int len)
{
	struct xfer *t = calloc(1, sizeof *t + (size_t)len);
	if (!t)
		return BK_ENOMEM;
	uint8_t *buf = (uint8_t *)(t + 1);
	if (!is_in)
		memcpy(buf, data, (size_t)len);
	t->g = g;
	t->token = token;
	t->x = (struct bk_usb_xfer){ .is_in = is_in, .buf = buf, .length = (size_t)len, .done = on_done };
	int r = g->be->submit(g->emu, &t->x);
	if (r)
		free(t);
	return r;
}

/* Lets the device run as the host would while waiting. */
EMSCRIPTEN_KEEPALIVE int emu_wait(struct glue *g, int timeout_ms)
{
	return g->be->wait(g->emu, (unsigned)timeout_ms);
}

/* The oldest finished transfer (0 when none): its token, status, length
 * and data stay readable until emu_release. */
EMSCRIPTEN_KEEPALIVE struct xfer *emu_next(struct glue *g)
{
	if (!g->n_done)
		return NULL;
	struct bk_usb_xfer *x = g->done[0];
	memmove(g->done, g->done + 1, --g->n_done * sizeof *g->done);
	return (struct xfer *)x;
}

EMSCRIPTEN_KEEPALIVE int emu_token(struct xfer *t) { return t->token; }
EMSCRIPTEN_KEEPALIVE int emu_status(struct xfer *t) { return t->x.status; }
EMSCRIPTEN_KEEPALIVE int emu_actual(struct xfer *t) { return (int)t->x.actual; }
EMSCRIPTEN_KEEPALIVE uint8_t *emu_data(struct xfer *t) { return t->x.buf; }
EMSCRIPTEN_KEEPALIVE void emu_release(struct xfer *t) { free(t); }

EMSCRIPTEN_KEEPALIVE double emu_now_us(struct glue *g)
{
	return (double)g->be->now_us(g->emu);
}

EMSCRIPTEN_KEEPALIVE void emu_sleep_us(struct glue *g, double us)
{
	g->be->sleep_us(g->emu, (uint64_t)us);
}

EMSCRIPTEN_KEEPALIVE uint8_t *emu_flash(struct glue *g)
{
	size_t n;
	return bk_emu_flash(g->emu, &n);
}

EMSCRIPTEN_KEEPALIVE int emu_flash_size(struct glue *g)
{
	size_t n = 0;
	bk_emu_flash(g->emu, &n);
	return (int)n;
}

/* A switch at run time ("unplug-after=900"); 0 or BK_EINVAL. */
EMSCRIPTEN_KEEPALIVE int emu_set(struct glue *g, const char *key_value)
{
	return bk_emu_set(g->emu, key_value, &g->err);
}

EMSCRIPTEN_KEEPALIVE double emu_packets(struct glue *g)
{
	struct bk_emu_stats st;
	bk_emu_stats(g->emu, &st);
	return (double)st.packets;
}
