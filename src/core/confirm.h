/* Making sure what was read is what the flash holds, before anything that
 * depends on it (a backup about to be relied on, a plan about to erase). */
#ifndef BK_CORE_CONFIRM_H
#define BK_CORE_CONFIRM_H

#include <stdint.h>

#include "base/err.h"

struct bk_job;

struct bk_confirm {
	uint32_t sectors;     /* sectors confirmed */
	uint32_t by_crc;      /* ... by their own Beken CRC-16 blocks */
	uint32_t by_reread;   /* ... by a second read that agreed */
	uint32_t corrected;   /* sectors whose first read was wrong */
};

#define BK_CONFIRM_READS 6

/* Confirms the 4 KiB sectors of buf (the flash from `at`, len bytes; both
 * sector-aligned) flagged in which[] (one byte per sector; NULL: all).
 * Where buf holds part of the Beken layout's CRC-framed bootloader or
 * application (from any address), a sector whose CRC-16 blocks all check
 * needs no second read; all-0xFF blocks pass only in the erased run at a
 * region's end (elsewhere they may be MISO stuck high for a few ms). Any
 * other sector is read again
 * and each page where two reads disagree is read until two of its reads
 * agree (at most BK_CONFIRM_READS reads).
 * buf is corrected in place. BK_EUNSTABLE when reads never agree. */
int bk_confirm_sectors(const struct bk_job *job, uint8_t *buf, uint32_t at, uint32_t len,
		       const uint8_t *which, struct bk_confirm *rep);

/* Reads [addr, addr+len) again into `again` (len bytes of scratch) and
 * settles every page of buf where the two reads differ; *fixed is set when
 * buf had to change. */
int bk_settle(const struct bk_job *job, uint8_t *buf, uint32_t addr, uint32_t len, uint8_t *again, int *fixed);

#endif
