/* An emulated CH341A or CH347 with a Beken chip and a SPI NOR flash behind
 * it (the programmer=ch341a|ch347t|ch347f setting chooses).
 *
 * It parses the real command stream (CH341A 0xA8/0xAB/0xAA packets, CH347
 * 0xC0-0xCC messages) at the USB transfer seam (struct bk_usb_backend), so
 * the driver above it is the real one. Time is virtual and follows the
 * model in README "Benchmarks": SPI at the programmer's clock, a 125 us
 * host turnaround whenever the host must wait for a completion, queued
 * transfers overlapping, flash busy times from the datasheets.
 * Faults (unplug, USB errors, bit flips, stuck WIP, locked status, broken
 * wires) are configuration switches. */
#ifndef BK_EMU_EMU_H
#define BK_EMU_EMU_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "prog/prog.h"
#include "usb/usb.h"

struct bk_emu;

struct bk_emu_stats {
	uint64_t now_ns;       /* virtual time since power-up */
	uint64_t round_trips;  /* host waits that left the device idle */
	uint64_t wakeups;      /* host waits in all */
	uint64_t out_bytes, in_bytes;
	uint64_t packets;
	uint64_t cen_pulses;   /* falling CEN edges the chip saw */
};

/* `config` is "key=value" pairs separated by commas (see README
 * "Simulator"); NULL or "" means a healthy 2 MiB Beken board. With an
 * image=PATH key the flash is that file, so writes persist. */
int bk_emu_new(const char *config, struct bk_err *err, struct bk_emu **out);
/* The same with the flash image given apart from the settings, so any path
 * works (commas included); NULL: the settings decide. An image-backed
 * chip also keeps its mode (running, or held in SPI mode) beside the
 * image in PATH.chip, as a real chip keeps it while powered, so `enter`
 * in one run and `reset` in the next act on the same chip. */
int bk_emu_open(const char *image, const char *config, struct bk_err *err, struct bk_emu **out);

enum bk_emu_chip { BK_EMU_CHIP_RESET, BK_EMU_CHIP_RUNNING, BK_EMU_CHIP_SPI };
/* What the emulated Beken chip is doing now. */
enum bk_emu_chip bk_emu_chip_state(const struct bk_emu *e);
const char *bk_emu_chip_name(enum bk_emu_chip c);
void bk_emu_free(struct bk_emu *e);

/* The emulator's USB backend, for callers that drive it directly (the
 * libusb stand-in the benchmarks preload into flashrom); dev is the emu. */
const struct bk_usb_backend *bk_emu_backend(void);

/* Hands the emulator to the USB layer; the returned handle owns it. */
int bk_emu_usb(struct bk_emu *e, struct bk_err *err, struct bk_usb **out);

void bk_emu_stats(const struct bk_emu *e, struct bk_emu_stats *st);

/* The USB product ID of the programmer it plays (0x5512, 0x55db, 0x55de). */
uint16_t bk_emu_usb_pid(const struct bk_emu *e);

/* The flash array itself, for tests that check what a job left behind;
 * NULL when the flash is an image file (read the file instead). */
uint8_t *bk_emu_flash(struct bk_emu *e, size_t *size);

/* Changes one switch at run time, e.g. "unplug-after=100" mid-test. */
int bk_emu_set(struct bk_emu *e, const char *key_value, struct bk_err *err);

/* The simulator as a programmer driver ("sim"): the real CH341A driver
 * over an emulator it creates from driver_arg, a struct bk_emu_sim. */
struct bk_emu_sim {
	const char *image;         /* NULL: 2 MiB in memory */
	const char *config;        /* "key=value,..." or NULL */
	struct bk_emu *emu;        /* out: valid until the programmer closes */
};
extern const struct bk_prog_driver bk_emu_driver;
/* The same over an emulated CH347T ("sim347"); programmer=ch347f in the
 * config plays the CH347F instead. */
extern const struct bk_prog_driver bk_emu_driver_ch347;

/* Builds a valid SFDP image (header + one BFPT parameter header + a
 * 16-DWORD BFPT) describing `size`, the `erase` mask (enum bk_erase_size,
 * standard opcodes 20/52/D8) and 256-byte pages into buf; returns its
 * length, or 0 if cap is too small or size is 0 or cannot be encoded. */
size_t bk_emu_sfdp_build(uint8_t *buf, size_t cap, uint32_t size, uint8_t erase);

/* Fills img with a synthetic BK7231N-like image (see synth.c); seed makes
 * distinct, reproducible images with distinct MACs. Needs size >= 2 MiB. */
int bk_emu_synth(uint8_t *img, size_t size, uint32_t seed);

#endif
