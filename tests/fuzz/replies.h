/* What fuzz_replies does with the programmer once the wire is set up, kept
 * apart so tests/fuzz/gen_seeds.c can run the same steps against the
 * emulator and record the IN bytes as seeds that reach deep.
 *
 * An input is a plan (below) followed by the wire bytes: every IN transfer
 * is filled from them in order, then with the fill byte once they run out.
 *
 *   byte 0   flags (REPLIES_*)
 *   byte 1-2 the IN transfer (1-based, little-endian) that meets a fault;
 *            0: none
 *   byte 3   the fault (REPLIES_FAULT_*, modulo their count)
 *   byte 4   number of bk_flash_program calls (modulo 9), followed by one
 *            byte per call: bits 0-4 whole pages, bits 5-7 times 37 tail
 *            bytes; each call starts at the next page after the last
 *   rest     wire bytes */
#ifndef TESTS_FUZZ_REPLIES_H
#define TESTS_FUZZ_REPLIES_H

#include <stdint.h>
#include <string.h>

#include "base/err.h"
#include "fuzz.h"
#include "prog/prog.h"
#include "spi/flash.h"
#include "target/target.h"

enum {
	REPLIES_FILL_FF = 1u << 0,   /* exhausted wire reads 0xFF, else 0x00 */
	REPLIES_SPI = 1u << 1,       /* BK_TARGET_SPI, else BK_TARGET_BEKEN */
	REPLIES_READ = 1u << 2,      /* read 300 bytes at 0x1F00 */
	REPLIES_UNPROTECT = 1u << 3, /* status, then unprotect */
	REPLIES_ERASE = 1u << 4,     /* erase 4K at 0x1000 */
	REPLIES_ERASE_BIG = 1u << 5, /* erase 32K at 0x8000 and 64K at 0x10000 */
	REPLIES_RESET = 1u << 6,     /* pulse CEN at the end */
	REPLIES_WAIT_IDLE = 1u << 7, /* bk_flash_wait_idle(200 ms) after the probe */
};

enum {
	REPLIES_FAULT_ERROR,  /* completes with an error */
	REPLIES_FAULT_STUCK,  /* never completes unless cancelled */
	REPLIES_FAULT_SHORT,  /* completes with half its bytes */
	REPLIES_FAULT_UNPLUG, /* the device is gone from then on */
	REPLIES_FAULT_SUBMIT, /* submitting it fails */
	REPLIES_N_FAULTS
};

#define REPLIES_MAX_PROGRAMS 8
#define REPLIES_PROGRAM_MAX (31u * 256 + 7u * 37)

struct replies_plan {
	uint8_t flags;
	uint16_t fault_at;
	uint8_t fault;
	uint8_t n_programs;
	uint8_t programs[REPLIES_MAX_PROGRAMS];
};

/* Reads the plan; returns how many input bytes it took. */
static inline size_t replies_plan_parse(const uint8_t *d, size_t n, struct replies_plan *pl)
{
	uint8_t h[5] = { 0 };
	size_t used = n < 5 ? n : 5;
	memcpy(h, d, used);
	memset(pl, 0, sizeof *pl);
	pl->flags = h[0];
	pl->fault_at = (uint16_t)(h[1] | h[2] << 8);
	pl->fault = (uint8_t)(h[3] % REPLIES_N_FAULTS);
	pl->n_programs = (uint8_t)(h[4] % (REPLIES_MAX_PROGRAMS + 1));
	for (unsigned i = 0; i < pl->n_programs && used < n; i++)
		pl->programs[i] = d[used++];
	return used;
}

/* The inverse, for the seed generator; returns the bytes written. */
static inline size_t replies_plan_put(const struct replies_plan *pl, uint8_t *out)
{
	out[0] = pl->flags;
	out[1] = (uint8_t)pl->fault_at;
	out[2] = (uint8_t)(pl->fault_at >> 8);
	out[3] = pl->fault;
	out[4] = pl->n_programs;
	memcpy(out + 5, pl->programs, pl->n_programs);
	return 5u + pl->n_programs;
}

/* A failed step returned the code its message was recorded with. */
static inline void replies_check_fail(int r, const struct bk_err *err)
{
	FUZZ_CHECK(r < 0);
	FUZZ_CHECK(err->code == r);
	FUZZ_CHECK(memchr(err->msg, '\0', sizeof err->msg) && err->msg[0]);
}

/* Everything after bk_prog_open, the way `bkspi` runs it: enter, probe, and
 * stop at the first failure. Takes ownership of prog. */
static inline void replies_run(struct bk_prog *prog, const struct replies_plan *pl, struct bk_err *err)
{
	static uint8_t data[REPLIES_PROGRAM_MAX];
	static uint8_t buf[300];
	struct bk_entry entry;
	struct bk_flash *flash = NULL;

	int r = bk_target_enter(prog, pl->flags & REPLIES_SPI ? BK_TARGET_SPI : BK_TARGET_BEKEN, &entry);
	if (r) {
		replies_check_fail(r, err);
		goto out;
	}
	FUZZ_CHECK((pl->flags & REPLIES_SPI) ? entry.attempts == 0
					    : entry.attempts >= 1 && entry.attempts <= BK_ENTRY_ATTEMPTS);
	r = bk_flash_probe(prog, &flash);
	if (r) {
		replies_check_fail(r, err);
		goto out;
	}
	const struct bk_flash_info *in = bk_flash_info(flash);
	FUZZ_CHECK(in->jedec != 0 && in->jedec != 0xFFFFFF && in->jedec <= 0xFFFFFF);
	FUZZ_CHECK(in->nor.size && in->nor.size <= BK_MAX_FLASH);
	FUZZ_CHECK(in->nor.erase & 1u);
	FUZZ_CHECK(in->vendor && in->part && in->nor.size_from);

	if (pl->flags & REPLIES_WAIT_IDLE) {
		r = bk_flash_wait_idle(flash, 200000);
		if (r) {
			replies_check_fail(r, err);
			goto out;
		}
	}
	if (pl->flags & REPLIES_READ) {
		r = bk_flash_read(flash, 0x1F00, buf, sizeof buf);
		if (r) {
			replies_check_fail(r, err);
			goto out;
		}
	}
	if (pl->flags & REPLIES_UNPROTECT) {
		uint8_t sr1, sr2;
		struct bk_unprotect rep;
		r = bk_flash_status(flash, &sr1, &sr2);
		if (!r)
			r = bk_flash_unprotect(flash, &rep);
		if (r) {
			replies_check_fail(r, err);
			goto out;
		}
	}
	if (pl->flags & REPLIES_ERASE) {
		r = bk_flash_erase(flash, 0x1000, 4096);
		if (r) {
			replies_check_fail(r, err);
			goto out;
		}
	}
	if (pl->flags & REPLIES_ERASE_BIG) {
		r = bk_flash_erase(flash, 0x8000, 32768);
		if (!r)
			r = bk_flash_erase(flash, 0x10000, 65536);
		if (r) {
			replies_check_fail(r, err);
			goto out;
		}
	}
	uint32_t addr = 0;
	for (unsigned i = 0; i < pl->n_programs; i++) {
		uint32_t len = (pl->programs[i] & 31u) * 256u + (pl->programs[i] >> 5) * 37u;
		for (uint32_t k = 0; k < len; k++)
			data[k] = (uint8_t)(k * 7 + i);
		r = bk_flash_program(flash, addr, data, len);
		if (r) {
			replies_check_fail(r, err);
			goto out;
		}
		addr += (len + 255u) & ~255u;
	}
	if (pl->flags & REPLIES_RESET) {
		r = bk_target_reset(prog);
		if (r)
			replies_check_fail(r, err);
	}
out:
#ifdef REPLIES_DEBUG
	fprintf(stderr, "replies: %s\n", r ? err->msg : "all steps passed");
#endif
	bk_flash_free(flash);
	bk_prog_close(prog);
}

#endif
