/* Emulator internals shared by its parts: the flash model, the Beken gate
 * in front of it, the transfer engine (device.c: queues, virtual time,
 * faults) and the programmer personalities it runs (ch341a.c, ch347.c). */
#ifndef BK_EMU_INTERNAL_H
#define BK_EMU_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "emu/config.h"
#include "emu/emu.h"

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

/* ---- the transfer engine and its personalities ---------------------- */

#define EMU_REPLY_MAX 512
#define EMU_REPLY_DEPTH_MAX 8

struct emu_reply {
	uint8_t data[EMU_REPLY_MAX];
	size_t len;
	uint64_t ready;
};

/* What a programmer chip does with the OUT stream. The engine feeds it
 * one command at a time, in virtual time, and buffers its replies. */
struct emu_personality {
	const char *label;         /* "simulated CH341A": what messages call it */
	uint16_t pid;              /* its USB product ID */
	unsigned reply_depth;      /* IN packets it buffers before it stalls */
	void (*init)(struct bk_emu *e);
	/* Bytes of the rest of an OUT transfer (left > 0) its next command takes. */
	size_t (*unit)(const uint8_t *p, size_t left);
	/* Whether that command produces a reply (it then needs a free slot). */
	int (*replies)(const uint8_t *p, size_t len);
	/* Runs it from t; returns its duration and fills r when it replies. */
	uint64_t (*run)(struct bk_emu *e, const uint8_t *p, size_t len, uint64_t t, struct emu_reply *r);
	/* Replies an earlier command still owes (0xC3's later chunks): when
	 * pending() is set the engine calls more() for the next one before
	 * taking any OUT data. NULL for a chip that has none. */
	int (*pending)(const struct bk_emu *e);
	uint64_t (*more)(struct bk_emu *e, uint64_t t, struct emu_reply *r);
};

extern const struct emu_personality emu_ch341a;
extern const struct emu_personality emu_ch347t;
extern const struct emu_personality emu_ch347f;

struct pending {
	struct bk_usb_xfer *x;
	uint64_t at;       /* submitted (queues) or completed (done list) */
	size_t pos;        /* OUT: bytes the device has consumed */
	int stuck;         /* IN: fault, never completes */
	int fail;          /* IN: fault, its reply is lost on the bus */
};

struct queue {
	struct pending *v;
	size_t head, len, cap;
};

struct emu_ch341a_state {
	uint8_t pins;              /* output latch as last set */
	/* SCK and MOSI driven through UIO (the slow run): the byte being
	 * shifted in, its bit count, the last rising edge and the shortest
	 * SCK period seen in this byte (0: none yet). */
	uint8_t shift;
	unsigned bits;
	uint64_t last_rise, fastest_ns;
};

struct emu_ch347_state {
	uint8_t cfg[26];           /* the SPI configuration 0xCA reads, 0xC0 writes */
	uint32_t hz;               /* SPI clock it sets */
	int lsb_first;
	int cs0_low, cs1_low;
	uint8_t gpio_out, gpio_level;  /* bit n: GPIOn driven, and its level */
	uint32_t read_left;        /* bytes a 0xC3 still has to clock */
};

struct bk_emu {
	struct emu_config cfg;
	const struct emu_personality *pers;
	struct emu_flash flash;
	struct emu_gate gate;
	int chip_cs_low, chip_cen_high;
	union {
		struct emu_ch341a_state ch341a;
		struct emu_ch347_state ch347;
	} chip;

	struct queue out_q, in_q, done;
	struct emu_reply replies[EMU_REPLY_DEPTH_MAX];
	size_t reply_head, reply_len;
	uint64_t taken_at[EMU_REPLY_DEPTH_MAX]; /* when each reply slot was last emptied */
	uint64_t host_ns, dev_ns;
	uint64_t in_submitted, out_submitted;
	uint64_t rng;
	int gone;
	struct bk_emu_stats st;
};

/* The lines as the target sees them, after wiring faults. */
void emu_set_lines(struct bk_emu *e, int cs_low, int cen_high, uint64_t t);
/* Clocks one byte at t: MOSI (after wiring faults) to the chip, MISO as
 * the programmer sees it (after wiring faults and flips). garble: the
 * chip misses this byte (a clock too fast for the entry). */
uint8_t emu_clock(struct bk_emu *e, uint8_t mosi, uint64_t t, int garble);
/* Whether a 0xD2 run clocked at hz is lost on the chip: entry-max-hz is
 * set, hz is above it, and the chip is listening for the run. */
int emu_entry_too_fast(const struct bk_emu *e, uint64_t hz);
/* MISO after wiring faults and marginal-wire flips; extra_ppm adds flips
 * (a clock too fast for the wires). */
uint8_t emu_line_miso(struct bk_emu *e, uint8_t chip, uint32_t extra_ppm);

#endif
