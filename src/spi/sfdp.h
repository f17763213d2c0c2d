/* SFDP (JESD216): what an unknown flash says about itself.
 *
 * Reading is two steps because the BFPT can sit anywhere in SFDP space:
 * read the headers at address 0, find the BFPT, read it, decode it. Both
 * decoders take untrusted bytes and never look past len. */
#ifndef BK_SPI_SFDP_H
#define BK_SPI_SFDP_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct bk_sfdp {
	uint32_t size;        /* bytes, from BFPT density */
	uint32_t page_size;   /* from BFPT DWORD 11 when present, else 256 */
	uint8_t erase;        /* enum bk_erase_size mask, from the erase types (DWORDs 8-9) and the 4K opcode in DWORD 1 */
	uint8_t erase_op[3];  /* opcode for 4K, 32K, 64K (0 when absent) */
};

/* From the SFDP header and parameter headers (the first bytes at SFDP
 * address 0): where the Basic Flash Parameter Table lives. bfpt_len is in
 * bytes. Reading 16 bytes is enough; more lets a newer BFPT revision listed
 * in a later parameter header win. */
int bk_sfdp_find_bfpt(const uint8_t *hdr, size_t len, uint32_t *bfpt_addr,
		      uint32_t *bfpt_len, struct bk_err *err);

/* Decodes the BFPT (len bytes, as read from bfpt_addr). Fails (BK_EINVAL)
 * on fewer than 9 DWORDs, a size outside 64 KiB .. 16 MiB, 4-byte-only
 * addressing, or no 4/32/64 KiB erase type. */
int bk_sfdp_parse_bfpt(const uint8_t *bfpt, size_t len, struct bk_sfdp *out,
		       struct bk_err *err);

#endif
