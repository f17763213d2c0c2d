#include "rig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *rig_programmer(void)
{
	const char *p = getenv("BKSPI_RIG");
	return p && !strcmp(p, "ch347") ? "ch347" : "ch341a";
}

static int on_ch347(void)
{
	return !strcmp(rig_programmer(), "ch347");
}

const struct bk_prog_driver *rig_driver(void)
{
	return on_ch347() ? &bk_prog_ch347 : &bk_prog_ch341a;
}

const struct bk_prog_driver *rig_sim_driver(void)
{
	return on_ch347() ? &bk_emu_driver_ch347 : &bk_emu_driver;
}

double rig_byte_ns(void)
{
	/* CH341A: 32 byte times at 1.5 MHz and 69 us of USB hand-over per 31
	 * data bytes; CH347: 8 bits at the default 15 MHz (the 2 us a 507-byte
	 * chunk costs is left out). */
	return on_ch347() ? 8e9 / BK_CH347_DEFAULT_HZ : (32.0 * 16000 / 3 + 69000) / 31;
}

int rig_emu_new(const char *config, struct bk_err *err, struct bk_emu **out)
{
	if (!on_ch347())
		return bk_emu_new(config, err, out);
	char full[512];
	snprintf(full, sizeof full, "programmer=ch347t%s%s", config && *config ? "," : "", config ? config : "");
	return bk_emu_new(full, err, out);
}

int rig_open(struct rig *r, const char *config)
{
	memset(r, 0, sizeof *r);
	r->sim.config = config;
	struct bk_prog_config pc = { .driver_arg = &r->sim };
	int rc = bk_prog_open(rig_sim_driver(), &pc, &r->err, &r->prog);
	r->emu = r->sim.emu;
	return rc;
}

int rig_open_usb(struct rig *r, struct bk_usb *usb, struct bk_emu *emu)
{
	memset(r, 0, sizeof *r);
	r->emu = emu;
	struct bk_prog_config pc = { .usb = usb };
	int rc = bk_prog_open(rig_driver(), &pc, &r->err, &r->prog);
	if (rc)
		r->emu = NULL;
	return rc;
}

int rig_enter(struct rig *r, enum bk_target_kind kind)
{
	int rc = bk_target_enter(r->prog, kind, &r->entry);
	if (!rc)
		rc = bk_flash_probe(r->prog, &r->flash);
	r->job = (struct bk_job){ .flash = r->flash, .err = &r->err };
	return rc;
}

int rig_up(struct rig *r, const char *config, enum bk_target_kind kind)
{
	int rc = rig_open(r, config);
	return rc ? rc : rig_enter(r, kind);
}

void rig_close(struct rig *r)
{
	bk_flash_free(r->flash);
	bk_prog_close(r->prog);
	memset(r, 0, sizeof *r);
}

static const struct bk_prog_driver *const drivers[] = { &bk_emu_driver, &bk_emu_driver_ch347, NULL };

bkspi *rig_handle(const char *config, enum bkspi_target target, struct bk_emu_sim *sim)
{
	*sim = (struct bk_emu_sim){ .config = config };
	struct bkspi_config cfg = { .programmer = rig_sim_driver()->name, .drivers = drivers, .driver_arg = sim,
				    .target = target };
	return bkspi_new(&cfg);
}

uint8_t *rig_mem(struct rig *r, size_t *size)
{
	return bk_emu_flash(r->emu, size);
}

uint64_t rig_ns(const struct rig *r)
{
	struct bk_emu_stats st;
	bk_emu_stats(r->emu, &st);
	return st.now_ns;
}

void rig_fill(uint8_t *buf, size_t n, uint32_t seed)
{
	uint32_t s = seed ? seed : 1;
	for (size_t i = 0; i < n; i++) {
		s ^= s << 13;
		s ^= s >> 17;
		s ^= s << 5;
		buf[i] = (uint8_t)(s >> 8);
	}
}
