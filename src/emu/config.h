/* The emulator's switches, parsed from "key=value,key=value". */
#ifndef BK_EMU_CONFIG_H
#define BK_EMU_CONFIG_H

#include <stdint.h>
#include <stddef.h>

#include "base/err.h"
#include "spi/chips.h"
#include "spi/sfdp.h"

enum emu_wire { WIRE_OK, WIRE_MISO_OPEN, WIRE_MISO_SHORT, WIRE_CEN_OPEN, WIRE_MOSI_OPEN, WIRE_CS_OPEN };

enum emu_prog { EMU_PROG_CH341A, EMU_PROG_CH347T, EMU_PROG_CH347F };
#define EMU_CEN_CS1 8

struct emu_config {
	enum emu_prog programmer;
	int cen_line;              /* CH347: the line wired to CEN, a GPIO or EMU_CEN_CS1 */
	uint32_t entry_max_hz;     /* the Beken chip misses a 0xD2 run clocked faster; 0: never */
	uint32_t wire_max_hz;      /* the wires flip bits above this clock; 0: never */
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
	uint64_t unplug_after, usb_error_at, usb_out_error_at, usb_timeout_at, interrupt_after;
	int interrupt_signal;    /* what interrupt-after raises: SIGINT unless told */
};

int emu_config_parse(struct emu_config *c, const char *text, struct bk_err *err);
int emu_config_apply(struct emu_config *c, const char *key_value, struct bk_err *err);
void emu_config_free(struct emu_config *c);

#endif
