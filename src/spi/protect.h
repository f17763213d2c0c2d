/* Block protection as the status registers describe it, Winbond style:
 * SR1 = SRP SEC TB BP2 BP1 BP0 WEL WIP, SR2 bit 6 = CMP. Most parts on
 * Beken boards (W25Q, GD25Q, XT25F, P25Q, BY25Q, ZB25VQ, XM25QH, FM25Q)
 * follow it. Firmware sets these bits at every boot, so the programmer needs
 * to know what they cover and how to clear them. */
#ifndef BK_SPI_PROTECT_H
#define BK_SPI_PROTECT_H

#include <stddef.h>
#include <stdint.h>

/* Where the block-protect bits sit. */
enum bk_prot_scheme {
	BK_PROT_WINBOND,  /* BP0-2, TB, SEC in SR1; CMP in SR2 (W25Q, GD25Q, most on Beken boards) */
	BK_PROT_BP4,      /* BP0-3 in SR1 bits 2-5 from the top, no TB/SEC/CMP (Macronix, Eon) */
};

struct bk_prot {
	uint32_t start, len;   /* protected range; len 0 = none */
	uint8_t bp;            /* BP2..BP0 (SR1 bits 2-4) */
	uint8_t tb, sec, cmp, srp;  /* SR1 bit5 TB, bit6 SEC, SR2 bit6 CMP, SR1 bit7 SRP */
};

/* Winbond style; sr2 is ignored (treated as 0) when has_sr2 is 0. */
void bk_prot_decode(uint8_t sr1, uint8_t sr2, int has_sr2, uint32_t size, struct bk_prot *out);

/* BK_PROT_BP4: BP=n protects the upper 64 KiB << (n-1), all from the
 * level that covers the chip (MX25L1606E/3206E, EN25Q tables). */
void bk_prot_decode_bp4(uint8_t sr1, uint32_t size, struct bk_prot *out);

/* Human text: "none", "all", "0x1F0000-0x1FFFFF (upper 64 KiB)",
 * "0x000000-0x00FFFF (lower 64 KiB)", etc. Always NUL-terminates. */
void bk_prot_describe(const struct bk_prot *p, uint32_t size, char *buf, size_t cap);

/* Status values with every protection bit cleared (BP0-2, TB, SEC in SR1;
 * CMP in SR2) and every other bit kept (SRP, QE, LB... stay as they were). */
void bk_prot_cleared(uint8_t sr1, uint8_t sr2, uint8_t *new_sr1, uint8_t *new_sr2);

/* Is [addr, addr+len) touching a protected byte? */
int bk_prot_covers(const struct bk_prot *p, uint32_t addr, uint32_t len);

#endif
