/* A test bench: the emulator wired to the real USB, CH341A and SPI layers. */
#ifndef TESTS_EMU_RIG_H
#define TESTS_EMU_RIG_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "core/ops.h"
#include "emu/emu.h"
#include "prog/prog.h"
#include "spi/flash.h"
#include "target/target.h"

struct rig {
	struct bk_err err;
	struct bk_emu *emu;
	struct bk_prog *prog;
	struct bk_flash *flash;
	struct bk_entry entry;
	struct bk_job job;
};

/* Emulator + programmer only; returns the BK_E* code. */
int rig_open(struct rig *r, const char *config);
/* rig_open, entry for kind, probe. */
int rig_up(struct rig *r, const char *config, enum bk_target_kind kind);
void rig_close(struct rig *r);

uint8_t *rig_mem(struct rig *r, size_t *size);
uint64_t rig_ns(const struct rig *r);

/* Deterministic pseudo-random bytes. */
void rig_fill(uint8_t *buf, size_t n, uint32_t seed);

#endif
