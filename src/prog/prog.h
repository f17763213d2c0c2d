/* The programmer: drives chip select, CEN and SPI through a CH341A.
 * flashrom's spi_master in spirit: the layers above speak in CS frames. */
#ifndef BK_PROG_PROG_H
#define BK_PROG_PROG_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "usb/usb.h"

/* One chip-select frame: `len` bytes are clocked, the first tx_len taken
 * from tx and the rest 0x00. MISO of bytes [rx_skip, len) lands in rx. */
struct bk_spi_frame {
	const uint8_t *tx;
	size_t tx_len;
	size_t len;
	uint8_t *rx;
	size_t rx_skip;
};

struct bk_prog;

/* Takes ownership of usb. Puts the CH341A in SPI mode with CS high and
 * CEN high (chip running). */
int bk_prog_open(struct bk_usb *usb, struct bk_err *err, struct bk_prog **out);
void bk_prog_close(struct bk_prog *p);

/* Runs the frames back to back as one USB stream. */
int bk_prog_frames(struct bk_prog *p, const struct bk_spi_frame *f, size_t n);

/* Drives CEN (D2); every later pin update keeps this level. */
int bk_prog_set_cen(struct bk_prog *p, int high);

void bk_prog_sleep_us(struct bk_prog *p, uint64_t us);
uint64_t bk_prog_now_us(struct bk_prog *p);
const char *bk_prog_name(const struct bk_prog *p);

#endif
