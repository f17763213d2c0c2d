#include "spi/protect.h"

#include <inttypes.h>
#include <stdio.h>

#define SR1_BP_SHIFT 2
#define SR1_BP_MASK (7u << SR1_BP_SHIFT)
#define SR1_TB (1u << 5)
#define SR1_SEC (1u << 6)
#define SR1_SRP (1u << 7)
#define SR2_CMP (1u << 6)

#define KIB 1024u
#define MIB (1024u * 1024u)

/* Length protected with CMP=0, from the W25Q16JV/W25Q32JV/W25Q64JV/W25Q128JV
 * and GD25Q tables:
 * - SEC=0: BP=n (1..6) protects unit << (n-1), where the unit is 1/64 of
 *   the chip but at least 64 KiB; BP=7 is always "all". That gives BP=6 =
 *   upper 1/2 on 4 MiB parts (2 MiB), but "all" on 2 MiB ones (64K << 5 is
 *   the whole chip) and 128/256 KiB steps on 8/16 MiB parts.
 * - SEC=1: 4 KiB << (n-1), at most 32 KiB (BP=4 and 5 both give 32 KiB).
 *   BP=6 is "all" in the 2 MiB table and absent from the larger ones;
 *   reading it as "all" is the side that never under-reports. */
static uint32_t base_len(unsigned bp, unsigned sec, uint32_t size)
{
	uint64_t len;

	if (bp == 0)
		return 0;
	if (bp == 7 || (sec && bp == 6))
		return size;
	if (sec) {
		len = (uint64_t)4 * KIB << (bp - 1);
		if (len > 32 * KIB)
			len = 32 * KIB;
	} else {
		uint64_t unit = size / 64 > 64 * KIB ? size / 64 : 64 * KIB;
		len = unit << (bp - 1);
	}
	return len < size ? (uint32_t)len : size;
}

void bk_prot_decode(uint8_t sr1, uint8_t sr2, int has_sr2, uint32_t size, struct bk_prot *out)
{
	if (!out)
		return;
	out->bp = (uint8_t)((sr1 & SR1_BP_MASK) >> SR1_BP_SHIFT);
	out->tb = (sr1 & SR1_TB) != 0;
	out->sec = (sr1 & SR1_SEC) != 0;
	out->srp = (sr1 & SR1_SRP) != 0;
	out->cmp = has_sr2 && (sr2 & SR2_CMP);

	uint32_t len = base_len(out->bp, out->sec, size);
	int top = !out->tb;
	/* CMP protects exactly what CMP=0 would leave open: none <-> all,
	 * upper X <-> lower size-X. */
	if (out->cmp) {
		len = size - len;
		top = !top;
	}
	out->len = len;
	out->start = top && len ? size - len : 0;
}

void bk_prot_decode_bp4(uint8_t sr1, uint32_t size, struct bk_prot *out)
{
	if (!out)
		return;
	*out = (struct bk_prot){ .bp = (uint8_t)((sr1 >> SR1_BP_SHIFT) & 0xFu), .srp = (sr1 & SR1_SRP) != 0 };
	uint64_t len = out->bp ? (uint64_t)64 * KIB << (out->bp - 1) : 0;
	out->len = len < size ? (uint32_t)len : size;
	out->start = size - out->len;
	if (!out->len)
		out->start = 0;
}

static void amount(uint32_t len, char *buf, size_t cap)
{
	if (len % MIB == 0)
		snprintf(buf, cap, "%" PRIu32 " MiB", len / MIB);
	else if (len % KIB == 0)
		snprintf(buf, cap, "%" PRIu32 " KiB", len / KIB);
	else
		snprintf(buf, cap, "%" PRIu32 " bytes", len);
}

void bk_prot_describe(const struct bk_prot *p, uint32_t size, char *buf, size_t cap)
{
	if (!buf || cap == 0)
		return;
	if (!p || p->len == 0) {
		snprintf(buf, cap, "none");
		return;
	}
	if (size && p->start == 0 && p->len >= size) {
		snprintf(buf, cap, "all");
		return;
	}

	uint64_t end = (uint64_t)p->start + p->len;
	const char *where = "";
	if (p->start == 0)
		where = "lower ";
	else if (end == size)
		where = "upper ";
	char how_much[24];
	amount(p->len, how_much, sizeof how_much);
	snprintf(buf, cap, "0x%06" PRIX32 "-0x%06" PRIX64 " (%s%s)", p->start, end - 1, where,
		 how_much);
}

void bk_prot_cleared(uint8_t sr1, uint8_t sr2, uint8_t *new_sr1, uint8_t *new_sr2)
{
	if (new_sr1)
		*new_sr1 = (uint8_t)(sr1 & ~(SR1_BP_MASK | SR1_TB | SR1_SEC));
	if (new_sr2)
		*new_sr2 = (uint8_t)(sr2 & ~SR2_CMP);
}

int bk_prot_covers(const struct bk_prot *p, uint32_t addr, uint32_t len)
{
	if (!p || p->len == 0 || len == 0)
		return 0;
	uint64_t a_end = (uint64_t)addr + len;
	uint64_t p_end = (uint64_t)p->start + p->len;
	return addr < p_end && p->start < a_end;
}
