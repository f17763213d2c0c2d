/* Known SPI NOR parts, looked up by their 9F (JEDEC ID) answer.
 *
 * The table only has to be right about what the programmer acts on: size,
 * which of the standard erase opcodes (20/52/D8) exist, and how the status
 * registers are written. Anything not in it can still be driven from SFDP
 * or from the capacity byte. */
#ifndef BK_SPI_CHIPS_H
#define BK_SPI_CHIPS_H

#include <stdint.h>

enum bk_erase_size { BK_ERASE_4K = 1u << 0, BK_ERASE_32K = 1u << 1, BK_ERASE_64K = 1u << 2 };

/* One ID is often shared by several generations of a part (W25Q32BV/FV/JV
 * all answer EF4016). BK_CHIP_WRSR2_31 follows the current datasheet and an
 * older generation under the same ID may lack 0x31; the 2-byte 0x01 write
 * works on every generation, so prefer it when both are set. */
enum bk_chip_flags {
	BK_CHIP_SR2 = 1u << 0,        /* has status register 2 (CMP, QE), read with 0x35 */
	BK_CHIP_WRSR_2BYTE = 1u << 1, /* 0x01 accepts SR1 then SR2 in one command */
	BK_CHIP_WRSR2_31 = 1u << 2,   /* SR2 is written alone with 0x31 */
};

struct bk_chip {
	uint32_t jedec;      /* manufacturer << 16 | type << 8 | capacity */
	const char *vendor;
	const char *part;
	uint32_t size;       /* bytes */
	uint8_t erase;       /* enum bk_erase_size mask */
	uint8_t flags;       /* enum bk_chip_flags */
};

const struct bk_chip *bk_chip_find(uint32_t jedec);   /* NULL if unknown */
const char *bk_vendor_name(uint8_t manufacturer);      /* "Winbond", ...; "unknown" */
/* Size implied by the capacity byte (1 << cap) when plausible for a 24-bit
 * SPI NOR (64 KiB .. 16 MiB); 0 otherwise. */
uint32_t bk_chip_size_from_id(uint32_t jedec);

#endif
