#include "base/limits.h"
#include "core/plan.h"

#include <stdlib.h>
#include <string.h>

#include "spi/chips.h"

#define SECTOR BK_SECTOR
#define PAGE BK_PAGE

enum need { SAME, PROGRAM_ONLY, ERASE };

static int all_ff(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0xFF)
			return 0;
	return 1;
}

/* Programming only clears bits: a sector whose new contents only clear
 * bits of the old needs no erase. */
static enum need classify(const uint8_t *old, const uint8_t *want)
{
	if (!old)
		return ERASE;
	if (want ? !memcmp(old, want, SECTOR) : all_ff(old, SECTOR))
		return SAME;
	if (!want)
		return ERASE;
	for (size_t i = 0; i < SECTOR; i++)
		if ((old[i] & want[i]) != want[i])
			return ERASE;
	return PROGRAM_ONLY;
}

static const struct {
	uint8_t mask;
	uint32_t sectors;
} blocks[] = { { BK_ERASE_64K, 16 }, { BK_ERASE_32K, 8 }, { BK_ERASE_4K, 1 } };

/* The largest aligned block whose every sector needs erasing: blocks nest,
 * so taking it greedily gives the fewest erase operations. */
static uint32_t block_at(const enum need *need, uint32_t i, uint32_t n, uint32_t first_sector, uint8_t mask)
{
	for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
		uint32_t k = blocks[b].sectors;
		if (!(mask & blocks[b].mask) || (first_sector + i) % k || i + k > n)
			continue;
		uint32_t j = 0;
		while (j < k && need[i + j] == ERASE)
			j++;
		if (j == k)
			return k;
	}
	return 1;
}

static int push(struct bk_plan_op **v, size_t *n, uint32_t addr, uint32_t len)
{
	/* Grows by doubling: capacity is implied by n being a power of two. */
	if ((*n & (*n - 1)) == 0) {
		struct bk_plan_op *nv = realloc(*v, (*n ? *n * 2 : 1) * sizeof *nv);
		if (!nv)
			return BK_ENOMEM;
		*v = nv;
	}
	(*v)[(*n)++] = (struct bk_plan_op){ addr, len };
	return 0;
}

static int plan_pages(struct bk_plan *plan, const uint8_t *old, const uint8_t *want,
		      uint32_t addr, enum need need)
{
	uint32_t run = 0;
	for (uint32_t p = 0; p <= SECTOR; p += PAGE) {
		int wanted = 0;
		if (p < SECTOR && want)
			wanted = need == ERASE ? !all_ff(want + p, PAGE) : !!memcmp(old + p, want + p, PAGE);
		if (wanted) {
			run += PAGE;
			plan->pages++;
			continue;
		}
		if (run && push(&plan->program, &plan->n_program, addr + p - run, run))
			return BK_ENOMEM;
		run = 0;
	}
	return 0;
}

int bk_plan_build(const uint8_t *old, const uint8_t *want, uint32_t base, uint32_t len,
		  uint8_t erase_mask, struct bk_plan *plan, struct bk_err *err)
{
	memset(plan, 0, sizeof *plan);
	if (base % SECTOR || len % SECTOR || !(erase_mask & BK_ERASE_4K))
		return bk_fail(err, BK_EINVAL, "plan: span 0x%06X+0x%X is not 4 KiB aligned", base, len);
	uint32_t n = len / SECTOR;
	enum need *need = malloc((n ? n : 1) * sizeof *need);
	if (!need)
		return bk_fail(err, BK_ENOMEM, "out of memory");
	plan->sectors = n;
	for (uint32_t i = 0; i < n; i++) {
		size_t o = (size_t)i * SECTOR;
		need[i] = classify(old ? old + o : NULL, want ? want + o : NULL);
		plan->same += need[i] == SAME;
		plan->program_only += need[i] == PROGRAM_ONLY;
	}
	int r = 0;
	for (uint32_t i = 0; i < n && !r;) {
		if (need[i] != ERASE) {
			i++;
			continue;
		}
		uint32_t k = block_at(need, i, n, base / SECTOR, erase_mask);
		r = push(&plan->erase, &plan->n_erase, base + i * SECTOR, k * SECTOR);
		plan->erased += k;
		i += k;
	}
	for (uint32_t i = 0; i < n && !r; i++) {
		size_t o = (size_t)i * SECTOR;
		if (need[i] != SAME)
			r = plan_pages(plan, old ? old + o : NULL, want ? want + o : NULL,
				       base + i * SECTOR, need[i]);
	}
	free(need);
	if (r) {
		bk_plan_free(plan);
		return bk_fail(err, BK_ENOMEM, "out of memory");
	}
	return 0;
}

void bk_plan_free(struct bk_plan *plan)
{
	free(plan->erase);
	free(plan->program);
	memset(plan, 0, sizeof *plan);
}

void bk_plan_span(uint32_t addr, uint32_t len, uint32_t *base, uint32_t *span)
{
	uint64_t end = (uint64_t)addr + len;
	*base = addr & ~(SECTOR - 1);
	*span = (uint32_t)(((end + SECTOR - 1) & ~(uint64_t)(SECTOR - 1)) - *base);
}
