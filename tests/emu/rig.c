#include "rig.h"

#include <string.h>

int rig_open(struct rig *r, const char *config)
{
	memset(r, 0, sizeof *r);
	struct bk_usb *usb;
	int rc = bk_emu_new(config, &r->err, &r->emu);
	if (rc)
		return rc;
	rc = bk_emu_usb(r->emu, &r->err, &usb);
	if (rc) {
		r->emu = NULL;
		return rc;
	}
	rc = bk_prog_open(usb, &r->err, &r->prog);
	if (rc)
		r->emu = NULL;
	return rc;
}

int rig_up(struct rig *r, const char *config, enum bk_target_kind kind)
{
	int rc = rig_open(r, config);
	if (!rc)
		rc = bk_target_enter(r->prog, kind, &r->err, &r->entry);
	if (!rc)
		rc = bk_flash_probe(r->prog, &r->err, &r->flash);
	r->job = (struct bk_job){ .flash = r->flash, .err = &r->err };
	return rc;
}

void rig_close(struct rig *r)
{
	bk_flash_free(r->flash);
	bk_prog_close(r->prog);
	memset(r, 0, sizeof *r);
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
