/* The write planner: pure, no I/O. Given what a sector-aligned span holds
 * and what it should hold, it decides which blocks to erase and which
 * pages to program, touching nothing that is already right. */
#ifndef BK_CORE_PLAN_H
#define BK_CORE_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct bk_plan_op {
	uint32_t addr, len;
};

struct bk_plan {
	struct bk_plan_op *erase;    /* aligned blocks, ascending */
	struct bk_plan_op *program;  /* page runs within one sector, ascending */
	size_t n_erase, n_program;
	uint32_t sectors, same, erased, program_only;  /* sector counts */
	uint32_t pages;              /* pages to program */
};

/* old: current contents, or NULL when unknown (every sector is erased).
 * want: new contents, or NULL for all 0xFF (an erase).
 * base and len are multiples of 4 KiB; erase_mask is enum bk_erase_size
 * and must include 4 KiB. */
int bk_plan_build(const uint8_t *old, const uint8_t *want, uint32_t base, uint32_t len,
		  uint8_t erase_mask, struct bk_plan *plan, struct bk_err *err);
void bk_plan_free(struct bk_plan *plan);

/* The sector-aligned span covering [addr, addr+len). */
void bk_plan_span(uint32_t addr, uint32_t len, uint32_t *base, uint32_t *span);

#endif
