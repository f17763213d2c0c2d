/* The Beken download-mode gate, with both reply styles seen on real chips:
 * "echo" answers the first byte of the frame after the 0xD2 run with 0xD2
 * and needs a short zero flush; "flush" never echoes and needs a long one. */
#include "emu/internal.h"

#define ENTRY_WINDOW_NS (1000 * EMU_NS_PER_MS)
#define D2_RUN_NEEDED 200
#define FLUSH_ECHO 16
#define FLUSH_LONG 2000

void emu_gate_boot(struct emu_gate *g, struct emu_flash *f)
{
	g->mode = GATE_RUNNING;
	/* Tuya firmware re-protects the flash at every boot. */
	f->sr1 = (uint8_t)((f->sr1 & 0x83) | (g->boot_sr1 & 0x7C));
	if (f->has_sr2)
		f->sr2 = (uint8_t)((f->sr2 & ~0x40) | (g->boot_sr2 & 0x40));
}

void emu_gate_cen(struct emu_gate *g, struct emu_flash *f, int high, uint64_t t)
{
	if (!g->present)
		return;
	if (!high) {
		g->mode = GATE_RESET;
		emu_flash_deselect(f, t);
		return;
	}
	if (g->mode != GATE_RESET)
		return;
	if (g->fails_left) {
		g->fails_left--;
		emu_gate_boot(g, f);
		return;
	}
	g->mode = GATE_BOOT;
	g->released_at = t;
	g->d2_run = 0;
}

void emu_gate_cs(struct emu_gate *g, struct emu_flash *f, int low, uint64_t t)
{
	g->frame_start = low;
	if (g->present && g->mode == GATE_FLUSHED && low)
		g->mode = GATE_SPI;
	if (g->present && g->mode != GATE_SPI)
		return;
	if (low)
		emu_flash_select(f);
	else
		emu_flash_deselect(f, t);
}

uint8_t emu_gate_byte(struct emu_gate *g, struct emu_flash *f, uint8_t mosi, uint64_t t)
{
	if (!g->present)
		return emu_flash_byte(f, mosi, t);
	int first = g->frame_start;
	g->frame_start = 0;
	switch (g->mode) {
	case GATE_RESET:
		return 0xFF; /* in reset the chip does not drive MISO */
	case GATE_BOOT:
		if (t - g->released_at > ENTRY_WINDOW_NS) {
			emu_gate_boot(g, f);
			return 0x00;
		}
		g->d2_run = mosi == 0xD2 ? g->d2_run + 1 : 0;
		if (g->d2_run >= D2_RUN_NEEDED) {
			g->mode = GATE_ARMED;
			g->zeros = 0;
			g->echo_due = g->style == STYLE_ECHO;
		}
		return 0x00;
	case GATE_ARMED: {
		uint8_t reply = 0x00;
		if (first && g->echo_due) {
			g->echo_due = 0;
			reply = 0xD2;
		}
		if (mosi == 0x00 && ++g->zeros >= (g->style == STYLE_ECHO ? FLUSH_ECHO : FLUSH_LONG))
			g->mode = GATE_FLUSHED;
		return reply;
	}
	case GATE_FLUSHED:
	case GATE_RUNNING:
		return 0x00;
	case GATE_SPI:
		return emu_flash_byte(f, mosi, t);
	}
	return 0x00;
}
