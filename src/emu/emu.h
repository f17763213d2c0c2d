/* An emulated CH341A with a Beken chip and a SPI NOR flash behind it.
 *
 * It parses the real 0xA8/0xAB/0xAA packet stream at the USB transfer seam
 * (struct bk_usb_backend), so the driver above it is the real one. Time is
 * virtual and follows the model in README "Benchmarks": SPI at 1.5 MHz, a
 * 125 us host turnaround whenever the host must wait for a completion,
 * queued transfers overlapping, flash busy times from the datasheets.
 * Faults (unplug, USB errors, bit flips, stuck WIP, locked status, broken
 * wires) are configuration switches. */
#ifndef BK_EMU_EMU_H
#define BK_EMU_EMU_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
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
void bk_emu_free(struct bk_emu *e);

/* The emulator's USB backend, for callers that drive it directly (the
 * libusb stand-in the benchmarks preload into flashrom); dev is the emu. */
const struct bk_usb_backend *bk_emu_backend(void);

/* Hands the emulator to the USB layer; the returned handle owns it. */
int bk_emu_usb(struct bk_emu *e, struct bk_err *err, struct bk_usb **out);

void bk_emu_stats(const struct bk_emu *e, struct bk_emu_stats *st);

/* The flash array itself, for tests that check what a job left behind;
 * NULL when the flash is an image file (read the file instead). */
uint8_t *bk_emu_flash(struct bk_emu *e, size_t *size);

/* Changes one switch at run time, e.g. "unplug-after=100" mid-test. */
int bk_emu_set(struct bk_emu *e, const char *key_value, struct bk_err *err);

/* Fills img with a synthetic BK7231N-like image (see synth.c); seed makes
 * distinct, reproducible images with distinct MACs. Needs size >= 2 MiB. */
int bk_emu_synth(uint8_t *img, size_t size, uint32_t seed);

#endif
