/* Emulator internals shared by its parts: the flash model, the Beken gate
 * in front of it and the CH341A packet engine that drives both. */
#ifndef BK_EMU_INTERNAL_H
#define BK_EMU_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#define EMU_NS_PER_US 1000ull
#define EMU_NS_PER_MS 1000000ull

/* A SPI NOR flash: status registers, write-enable latch, busy time,
 * Winbond-style BP/TB/SEC/CMP protection, page wrap, erase granularity. */
struct emu_flash {
	/* The array: all of it in memory, or a 64 KiB window onto the image
	 * file, so a simulated 16 MiB flash costs the tool no memory. */
	uint8_t *mem;
	int fd;                   /* -1: mem is the whole flash */
	uint32_t win;             /* file offset of the window */
	int win_loaded, win_dirty, io_error;
	uint8_t scratch;          /* stands in for a cell the file failed to give */
	size_t size;
	uint32_t jedec;
	uint8_t sr1, sr2, sr3;    /* sr1 without WIP: that one is derived from time */
	int has_sr2, wrsr_2byte, wrsr2_31, has_sfdp;
	int wp_low;               /* WP# held low: with SRP set, status is locked */
	int stuck_wip;            /* fault: the first program/erase never ends */
	int64_t bad_byte;         /* fault: bit 0 of this address will not program */
	uint64_t busy_until;
	int busy_forever;
	uint8_t sfdp[128];
	size_t sfdp_len;

	/* the CS frame being clocked */
	int selected, ignore;
	uint8_t op;
	size_t n;                 /* bytes clocked in this frame */
	uint32_t addr;
	uint8_t arg[2];
	uint8_t page[256];        /* page program buffer, by offset in page */
};

#define EMU_WINDOW 65536u

uint8_t emu_flash_byte(struct emu_flash *f, uint8_t mosi, uint64_t t);
/* Writes a dirty window back; 0 or an errno. */
int emu_flash_sync(struct emu_flash *f);
void emu_flash_select(struct emu_flash *f);
void emu_flash_deselect(struct emu_flash *f, uint64_t t);
int emu_flash_busy(const struct emu_flash *f, uint64_t t);

enum emu_gate_mode { GATE_RESET, GATE_BOOT, GATE_RUNNING, GATE_ARMED, GATE_FLUSHED, GATE_SPI };
enum emu_style { STYLE_ECHO, STYLE_FLUSH };

/* The Beken chip between the CH341A and its flash: held in reset by CEN,
 * listening for the 0xD2 run for a second after release, then (after the
 * zero flush) passing the SPI bus through to the flash. */
struct emu_gate {
	int present;              /* 0: a bare SPI flash on the bus */
	enum emu_gate_mode mode;
	enum emu_style style;
	uint64_t released_at;
	unsigned d2_run, zeros, fails_left;
	int echo_due, frame_start;
	uint8_t boot_sr1, boot_sr2;  /* what the firmware sets when it boots */
};

void emu_gate_cen(struct emu_gate *g, struct emu_flash *f, int high, uint64_t t);
void emu_gate_cs(struct emu_gate *g, struct emu_flash *f, int low, uint64_t t);
uint8_t emu_gate_byte(struct emu_gate *g, struct emu_flash *f, uint8_t mosi, uint64_t t);
void emu_gate_boot(struct emu_gate *g, struct emu_flash *f);

#endif
