/* Decisions about what a Beken chip may be given: what the file is, where
 * it belongs, whether its bootloader suits the chip. Pure: buffers in,
 * verdict out; the Beken formats themselves live in src/beken. */
#ifndef BK_CORE_SAFETY_H
#define BK_CORE_SAFETY_H

#include <stddef.h>
#include <stdint.h>

#include "beken/beken.h"
#include "base/err.h"

struct bk_safety {
	struct bk_beken_class file;
	enum bk_beken_family chip;     /* from the flash's bootloader; unknown if not read */
	char overridden[320];          /* with force: what would have been refused, else "" */
};

/* Refuses (BK_EREFUSED, message naming what the file is and what to do
 * instead) an OTA/UF2 package, an app-only image anywhere but 0x11000, a
 * full or bootloader+app image anywhere but 0, a rotated dump, and a
 * bootloader of another family than the chip's. boot may be NULL (chip
 * unknown) or the flash's first bytes. With force the refusal becomes a
 * note in out->overridden and the call succeeds. */
int bk_safety_check(const uint8_t *file, size_t len, uint32_t offset, const uint8_t *boot,
		    size_t boot_len, int force, struct bk_safety *out, struct bk_err *err);

#endif
