/* The SFDP table the emulated flash answers 5A with, written from JESD216B
 * here rather than borrowed from the product's parser, so a misreading of
 * the standard in one is caught by the other. */
#include <string.h>

#include "emu/emu.h"
#include "spi/chips.h"

#define SFDP_SIGNATURE 0x50444653u /* "SFDP" read as a little-endian DWORD */
#define HDR_LEN 8u
#define BFPT_BUILD_DWORDS 16u      /* JESD216B */

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static unsigned log2_u64(uint64_t v)
{
	unsigned n = 0;
	while (v >>= 1)
		n++;
	return n;
}

size_t bk_emu_sfdp_build(uint8_t *buf, size_t cap, uint32_t size, uint8_t erase)
{
	const size_t total = 2 * HDR_LEN + 4 * BFPT_BUILD_DWORDS;
	uint64_t bits = (uint64_t)size * 8;
	uint32_t density;

	if (!buf || cap < total || size == 0)
		return 0;
	if (bits - 1 <= 0x7FFFFFFFu)
		density = (uint32_t)(bits - 1);
	else if ((size & (size - 1)) == 0)
		density = 0x80000000u | log2_u64(bits);
	else
		return 0;

	memset(buf, 0, total);
	put32(buf, SFDP_SIGNATURE);
	buf[4] = 6;    /* JESD216B: revision 1.6 */
	buf[5] = 1;
	buf[6] = 0;    /* one parameter header */
	buf[7] = 0xFF; /* legacy access protocol */

	uint8_t *ph = buf + HDR_LEN;
	ph[0] = 0x00;  /* BFPT ID LSB */
	ph[1] = 6;
	ph[2] = 1;
	ph[3] = BFPT_BUILD_DWORDS;
	ph[4] = 2 * HDR_LEN; /* table right after the headers */
	ph[5] = 0;
	ph[6] = 0;
	ph[7] = 0xFF;  /* BFPT ID MSB */

	uint8_t *t = buf + 2 * HDR_LEN;
	/* DWORD 1: unused bits set as JESD216 asks, write granularity >= 64
	 * bytes, 3-byte addressing only, no fast-read modes. */
	uint32_t d1 = 0xFF8000E4u;
	d1 |= (erase & BK_ERASE_4K) ? 0x2001u : 0xFF03u;
	put32(t + 0, d1);
	put32(t + 4, density);
	put32(t + 16, 0xFFFFFFEEu); /* DWORD 5: no 2-2-2 or 4-4-4 read */
	put32(t + 20, 0x0000FFFFu);
	put32(t + 24, 0x0000FFFFu);
	uint32_t d8 = 0, d9 = 0;
	if (erase & BK_ERASE_4K)
		d8 |= 0x200Cu;
	if (erase & BK_ERASE_32K)
		d8 |= 0x520Fu << 16;
	if (erase & BK_ERASE_64K)
		d9 |= 0xD810u;
	put32(t + 28, d8);
	put32(t + 32, d9);
	put32(t + 40, 8u << 4);     /* DWORD 11: 2^8 = 256-byte pages */
	put32(t + 44, 0x80000000u); /* DWORD 12: no suspend/resume */
	put32(t + 52, 0x80000004u); /* DWORD 14: poll WIP with 05h; no deep power-down */
	return total;
}
