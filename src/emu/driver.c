/* The simulator as programmer drivers: the product's own CH341A and CH347
 * drivers over the emulator's USB backend, so `-p sim`, `-p sim347`, the
 * demo and the tests run the real driver code. They live here, outside the
 * product library, and a front end hands them to bkspi_new() in its
 * driver list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/emu.h"

/* Opens the emulator with `personality` in front of the user's settings
 * (which may name another CH347 variant), then the real driver over it. */
static int open_over(const struct bk_prog_driver *real, const char *personality, const struct bk_prog_config *cfg,
		     struct bk_err *err, void **state)
{
	struct bk_emu_sim *arg = cfg->driver_arg;
	if (!arg)
		return bk_fail(err, BK_EINVAL, "the simulated programmer needs its settings (struct bk_emu_sim)");
	const char *user = arg->config ? arg->config : "";
	size_t n = strlen(personality) + strlen(user) + 2;
	char *config = malloc(n);
	if (!config)
		return bk_fail(err, BK_ENOMEM, "out of memory");
	snprintf(config, n, "%s%s%s", personality, *user && *personality ? "," : "", user);
	struct bk_emu *e;
	int r = bk_emu_open(arg->image, config, err, &e);
	free(config);
	if (r)
		return r;
	struct bk_prog_config c = *cfg;
	c.usb_pid = bk_emu_usb_pid(e);
	r = bk_emu_usb(e, err, &c.usb);
	if (r)
		return r;
	r = real->open(&c, err, state);
	arg->emu = r ? NULL : e;
	return r;
}

static int sim_open(const struct bk_prog_config *cfg, struct bk_err *err, void **state)
{
	return open_over(&bk_prog_ch341a, "", cfg, err, state);
}

static int sim347_open(const struct bk_prog_config *cfg, struct bk_err *err, void **state)
{
	return open_over(&bk_prog_ch347, "programmer=ch347t", cfg, err, state);
}

/* Everything after open is the real driver's. */
#define PASS_THROUGH(prefix, real)                                                          \
	static int prefix##_frames(void *s, const struct bk_spi_frame *f, size_t n)         \
	{                                                                                   \
		return real.frames(s, f, n);                                                \
	}                                                                                   \
	static int prefix##_set_cen(void *s, int high)                                      \
	{                                                                                   \
		return real.set_cen(s, high);                                               \
	}                                                                                   \
	static void prefix##_sleep_us(void *s, uint64_t us)                                 \
	{                                                                                   \
		real.sleep_us(s, us);                                                       \
	}                                                                                   \
	static uint64_t prefix##_now_us(void *s)                                            \
	{                                                                                   \
		return real.now_us(s);                                                      \
	}                                                                                   \
	static void prefix##_close(void *s)                                                 \
	{                                                                                   \
		real.close(s);                                                              \
	}

PASS_THROUGH(sim, bk_prog_ch341a)
PASS_THROUGH(sim347, bk_prog_ch347)

static int sim_slow_run(void *s, uint8_t byte, size_t count)
{
	return bk_prog_ch341a.slow_run(s, byte, count);
}

static int sim347_set_clock(void *s, uint32_t hz)
{
	return bk_prog_ch347.set_clock(s, hz);
}

static const struct bk_usb_stats *sim_usb_stats(void *s)
{
	return bk_prog_ch341a.usb_stats(s);
}

static const struct bk_usb_stats *sim347_usb_stats(void *s)
{
	return bk_prog_ch347.usb_stats(s);
}

static void sim347_describe(void *s, char *buf, size_t cap)
{
	bk_prog_ch347.describe(s, buf, cap);
}

const struct bk_prog_driver bk_emu_driver = {
	.name = "sim",
	.label = "simulated CH341A",
	.pins = { .cs = "D0", .sck = "D3", .mosi = "D5", .miso = "D7", .cen = "D2" },
	.open = sim_open,
	.frames = sim_frames,
	.set_cen = sim_set_cen,
	.slow_run = sim_slow_run,
	.usb_stats = sim_usb_stats,
	.sleep_us = sim_sleep_us,
	.now_us = sim_now_us,
	.close = sim_close,
};

const struct bk_prog_driver bk_emu_driver_ch347 = {
	.name = "sim347",
	.label = "simulated CH347",
	.pins = { .cs = "CS0", .sck = "SCK", .mosi = "MOSI", .miso = "MISO", .cen = "the --cen line (CS1 by default)" },
	.open = sim347_open,
	.frames = sim347_frames,
	.set_cen = sim347_set_cen,
	.set_clock = sim347_set_clock,
	.describe = sim347_describe,
	.usb_stats = sim347_usb_stats,
	.sleep_us = sim347_sleep_us,
	.now_us = sim347_now_us,
	.close = sim347_close,
};
