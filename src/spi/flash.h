/* SPI NOR over a programmer: probing (SFDP first, then the chip table),
 * reads, erases, batched page programs, status and protection. */
#ifndef BK_SPI_FLASH_H
#define BK_SPI_FLASH_H

#include <stdint.h>

#include "base/err.h"
#include "base/limits.h"
#include "prog/prog.h"

#include "spi/protect.h"

/* How to drive one flash: filled from SFDP first, then corrected by the
 * chip table (which knows parts whose SFDP or opcodes mislead), then by
 * the ID alone. Every operation reads it; nothing else hard-codes an
 * opcode, a page or an erase size. */
struct bk_nor_params {
	uint32_t size;
	uint32_t page_size;    /* bytes one page program may cover */
	uint8_t erase;         /* enum bk_erase_size: the erases the planner may use */
	uint8_t erase_op[3];   /* their opcodes: 4 KiB, 32 KiB, 64 KiB (0: absent) */
	uint8_t sr_flags;      /* enum bk_chip_flags: how status registers work */
	uint8_t prot;          /* enum bk_prot_scheme */
	const char *size_from; /* "chip table", "SFDP" or "ID capacity byte" */
};

struct bk_flash_info {
	uint8_t id[4];        /* MISO during 9F and the three ID bytes */
	uint32_t jedec;
	const char *vendor, *part;
	struct bk_nor_params nor;
};

struct bk_flash;

/* Failures are recorded in the programmer's error object. */
int bk_flash_probe(struct bk_prog *p, struct bk_flash **out);
void bk_flash_free(struct bk_flash *f);
const struct bk_flash_info *bk_flash_info(const struct bk_flash *f);

int bk_flash_read(struct bk_flash *f, uint32_t addr, uint8_t *buf, uint32_t len);
int bk_flash_status(struct bk_flash *f, uint8_t *sr1, uint8_t *sr2);

/* What the status registers protect, the way this flash's vendor uses them. */
void bk_flash_protection(const struct bk_flash_info *in, uint8_t sr1, uint8_t sr2, struct bk_prot *out);

struct bk_unprotect {
	uint8_t sr1_before, sr2_before, sr1_after, sr2_after;
	int changed;
};
/* Clears BP/TB/SEC and CMP, keeping every other bit (QE above all). */
int bk_flash_unprotect(struct bk_flash *f, struct bk_unprotect *rep);

/* Waits until the flash is no longer busy (after a transfer that failed
 * half-way, say); BK_EFLASH after timeout_us. */
int bk_flash_wait_idle(struct bk_flash *f, uint32_t timeout_us);

/* Erases the aligned block of `size` (4 KiB, 32 KiB or 64 KiB) at addr. */
int bk_flash_erase(struct bk_flash *f, uint32_t addr, uint32_t size);

/* Programs whole pages from page-aligned addr; pages are batched into one
 * USB stream with their write-enables and status polls. */
int bk_flash_program(struct bk_flash *f, uint32_t addr, const uint8_t *data, uint32_t len);

#endif
