/* The programmer handle: a driver and its state, plus the lookup by name. */
#include "prog/prog.h"

#include <stdlib.h>
#include <string.h>

struct bk_prog {
	const struct bk_prog_driver *drv;
	void *state;
	struct bk_err *err;
};

static const struct bk_prog_driver *const builtin[] = { &bk_prog_ch341a, &bk_prog_ch347, NULL };

const struct bk_prog_driver *const *bk_prog_builtin(void)
{
	return builtin;
}

static const struct bk_prog_driver *find_in(const char *name, const struct bk_prog_driver *const *list)
{
	for (; list && *list; list++)
		if (!strcmp((*list)->name, name))
			return *list;
	return NULL;
}

const struct bk_prog_driver *bk_prog_find(const char *name, const struct bk_prog_driver *const *extra)
{
	const struct bk_prog_driver *d = find_in(name, extra);
	return d ? d : find_in(name, builtin);
}

int bk_prog_open(const struct bk_prog_driver *drv, const struct bk_prog_config *cfg, struct bk_err *err,
		 struct bk_prog **out)
{
	struct bk_prog *p = calloc(1, sizeof *p);
	if (!p) {
		bk_usb_close(cfg->usb);
		return bk_fail(err, BK_ENOMEM, "out of memory");
	}
	p->drv = drv;
	p->err = err;
	int r = drv->open(cfg, err, &p->state);
	if (r) {
		free(p);
		return r;
	}
	*out = p;
	return 0;
}

void bk_prog_close(struct bk_prog *p)
{
	if (!p)
		return;
	p->drv->close(p->state);
	free(p);
}

int bk_prog_frames(struct bk_prog *p, const struct bk_spi_frame *f, size_t n)
{
	return p->drv->frames(p->state, f, n);
}

int bk_prog_set_cen(struct bk_prog *p, int high)
{
	if (!p->drv->set_cen)
		return bk_fail(p->err, BK_EINVAL, "the %s has no reset (CEN) line: use -t spi, or reset the chip by hand",
			       p->drv->label);
	return p->drv->set_cen(p->state, high);
}

int bk_prog_has_cen(const struct bk_prog *p)
{
	return p->drv->set_cen != NULL;
}

int bk_prog_set_clock(struct bk_prog *p, uint32_t hz)
{
	return p->drv->set_clock ? p->drv->set_clock(p->state, hz) : 0;
}

int bk_prog_has_slow_run(const struct bk_prog *p)
{
	return p->drv->slow_run != NULL;
}

int bk_prog_slow_run(struct bk_prog *p, uint8_t byte, size_t count)
{
	if (!p->drv->slow_run)
		return bk_fail(p->err, BK_EINVAL, "the %s cannot bit-bang a slow run", p->drv->label);
	return p->drv->slow_run(p->state, byte, count);
}

void bk_prog_describe(struct bk_prog *p, char *buf, size_t cap)
{
	if (cap)
		buf[0] = '\0';
	if (p->drv->describe && cap)
		p->drv->describe(p->state, buf, cap);
}

void bk_prog_sleep_us(struct bk_prog *p, uint64_t us)
{
	p->drv->sleep_us(p->state, us);
}

uint64_t bk_prog_now_us(struct bk_prog *p)
{
	return p->drv->now_us(p->state);
}

const struct bk_prog_driver *bk_prog_driver(const struct bk_prog *p)
{
	return p->drv;
}

struct bk_err *bk_prog_err(struct bk_prog *p)
{
	return p->err;
}

const struct bk_usb_stats *bk_prog_usb_stats(struct bk_prog *p)
{
	return p->drv->usb_stats ? p->drv->usb_stats(p->state) : NULL;
}
