/* The emulator's switches, parsed from "key=value,key=value". */
#ifndef BK_EMU_CONFIG_H
#define BK_EMU_CONFIG_H

#include <stdint.h>
#include <stddef.h>

#include "base/err.h"
#include "spi/chips.h"
#include "spi/sfdp.h"

enum emu_wire { WIRE_OK, WIRE_MISO_OPEN, WIRE_MISO_SHORT, WIRE_CEN_OPEN, WIRE_MOSI_OPEN, WIRE_CS_OPEN };

struct emu_config {
	char *image;
	size_t size;
	uint32_t jedec;
	int sr2, wrsr31, sfdp, beken, style;
	unsigned entry_fails;
	uint8_t boot_sr1, boot_sr2;
	int wp_locked, stuck_wip;
	int64_t bad_byte;
	uint32_t flip_ppm;
	uint64_t seed;
	enum emu_wire wire;
	uint64_t unplug_after, usb_error_at, usb_timeout_at, interrupt_after;
	int interrupt_signal;    /* what interrupt-after raises: SIGINT unless told */
};

int emu_config_parse(struct emu_config *c, const char *text, struct bk_err *err);
int emu_config_apply(struct emu_config *c, const char *key_value, struct bk_err *err);
void emu_config_free(struct emu_config *c);

#endif
