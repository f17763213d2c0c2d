/* The simulator as a programmer driver: the product's own CH341A driver
 * over the emulator's USB backend, so `-p sim`, the demo and the tests run
 * the real driver code. It lives here, outside the product library, and a
 * front end hands it to bkspi_new() in its driver list. */
#include "emu/emu.h"

static int sim_open(const struct bk_prog_config *cfg, struct bk_err *err, void **state)
{
	struct bk_emu_sim *arg = cfg->driver_arg;
	if (!arg)
		return bk_fail(err, BK_EINVAL, "the sim programmer needs its settings (struct bk_emu_sim)");
	struct bk_emu *e;
	int r = bk_emu_open(arg->image, arg->config, err, &e);
	if (r)
		return r;
	struct bk_usb *usb;
	r = bk_emu_usb(e, err, &usb);
	if (r)
		return r;
	struct bk_prog_config c = *cfg;
	c.usb = usb;
	r = bk_prog_ch341a.open(&c, err, state);
	arg->emu = r ? NULL : e;
	return r;
}

static int sim_frames(void *state, const struct bk_spi_frame *f, size_t n)
{
	return bk_prog_ch341a.frames(state, f, n);
}

static int sim_set_cen(void *state, int high)
{
	return bk_prog_ch341a.set_cen(state, high);
}

static void sim_sleep_us(void *state, uint64_t us)
{
	bk_prog_ch341a.sleep_us(state, us);
}

static uint64_t sim_now_us(void *state)
{
	return bk_prog_ch341a.now_us(state);
}

static void sim_close(void *state)
{
	bk_prog_ch341a.close(state);
}

const struct bk_prog_driver bk_emu_driver = {
	.name = "sim",
	.label = "simulated CH341A",
	.pins = { .cs = "D0", .sck = "D3", .mosi = "D5", .miso = "D7", .cen = "D2" },
	.open = sim_open,
	.frames = sim_frames,
	.set_cen = sim_set_cen,
	.sleep_us = sim_sleep_us,
	.now_us = sim_now_us,
	.close = sim_close,
};
