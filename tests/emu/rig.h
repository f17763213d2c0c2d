/* The one test bench: the emulator behind the real CH341A driver, SPI NOR
 * and target layers, built here and nowhere else. Layer tests take the
 * pieces (prog, flash, job); handle tests take a bkspi handle on the same
 * simulator driver the CLI uses.
 *
 * BKSPI_RIG=ch347 in the environment puts the CH347 driver over the
 * emulated CH347 instead: tests/run.sh runs every emulator test both ways,
 * so each CH341A test has its CH347 counterpart. */
#ifndef TESTS_EMU_RIG_H
#define TESTS_EMU_RIG_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "bkspi.h"
#include "core/ops.h"
#include "emu/emu.h"
#include "prog/prog.h"
#include "spi/flash.h"
#include "target/target.h"

struct rig {
	struct bk_err err;
	struct bk_emu_sim sim;
	struct bk_emu *emu;
	struct bk_prog *prog;
	struct bk_flash *flash;
	struct bk_entry entry;
	struct bk_job job;
};

/* An emulator playing the rig's programmer, for tests that wrap its
 * transport themselves (then rig_open_usb). */
int rig_emu_new(const char *config, struct bk_err *err, struct bk_emu **out);
/* Emulator + programmer only; returns the BK_E* code. */
int rig_open(struct rig *r, const char *config);
/* The CH341A driver over a transport of the test's own (a tap, a replay);
 * emu, when the transport wraps one, is kept for rig_mem and rig_ns. */
int rig_open_usb(struct rig *r, struct bk_usb *usb, struct bk_emu *emu);
/* rig_open, entry for kind, probe. */
int rig_up(struct rig *r, const char *config, enum bk_target_kind kind);
/* Entry and probe on an open rig. */
int rig_enter(struct rig *r, enum bk_target_kind kind);
void rig_close(struct rig *r);

/* A handle on the simulator; *emu (may be NULL) is set once it connected. */
bkspi *rig_handle(const char *config, enum bkspi_target target, struct bk_emu_sim *sim);

/* "ch341a" or "ch347": the programmer the rig builds. */
const char *rig_programmer(void);
/* The programmer driver (or simulator driver) the rig uses. */
const struct bk_prog_driver *rig_driver(void);
const struct bk_prog_driver *rig_sim_driver(void);
/* Virtual ns one data byte takes on the wire, command overhead included,
 * at the rig programmer's data clock: what a read's floor is made of. */
double rig_byte_ns(void);

uint8_t *rig_mem(struct rig *r, size_t *size);
uint64_t rig_ns(const struct rig *r);

/* Deterministic pseudo-random bytes. */
void rig_fill(uint8_t *buf, size_t n, uint32_t seed);

#endif
