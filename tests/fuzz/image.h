/* Flash-sized images from small fuzz inputs, for fuzz_beken and
 * fuzz_classify.
 *
 * The Beken analysers look at fixed flash addresses (bootloader at 0, app at
 * 0x11000, RF sector near the end of 2 or 4 MiB, stores beside it) and some
 * only run on a whole 2 or 4 MiB dump. A fuzzer cannot mutate megabyte
 * inputs quickly, so an input whose first byte has bit 7 set describes an
 * image instead:
 *
 *   byte 0   bits 0-1: size: 2 MiB, 4 MiB, 0x130000 (a QIO image), or the
 *            next 3 bytes (little-endian, 1 .. 4 MiB)
 *            bit 2: background 0x00 instead of erased 0xFF
 *            bit 3: rotate the result as a rotated dump is (flash address
 *            BK_BEKEN_ROTATION at file offset 0)
 *   then records, until the input ends:
 *     op     bits 0-4: where: a slot of fuzz_slots[], or the last slot
 *            value for "the next 3 bytes are the address"
 *            bit 5: the data is repeated as many times as the 2-byte
 *            count after it says (little-endian), cut at the image size
 *            bit 6: the data is written as CRC-framed 34-byte blocks (32
 *            data bytes and their CRC-16, big-endian), as the bootloader
 *            and app are stored; the address is a block address
 *     len    2 bytes, little-endian, then len data bytes (fewer if the
 *            input ends)
 *   Writes past the image's end are cut off.
 *
 * The slots are the addresses src/beken reads (tables.c and its field
 * notes); an address that moves there only makes the fuzzer's job harder. */
#ifndef TESTS_FUZZ_IMAGE_H
#define TESTS_FUZZ_IMAGE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "beken/beken.h"

#define FUZZ_IMAGE_FLAG 0x80u
#define FUZZ_RBL_BLOCKS_AT(end) ((end) - 3u * BK_BEKEN_BLOCK)

static const uint32_t fuzz_slots[] = {
	0x000000,                                 /* bootloader */
	0x000110,                                 /* N bootloader's "BK7231" */
	FUZZ_RBL_BLOCKS_AT(BK_BEKEN_BOOT_END),    /* bootloader RBL header */
	BK_BEKEN_APP_START,                       /* app */
	FUZZ_RBL_BLOCKS_AT(BK_BEKEN_APP_END_2M),  /* app RBL header, 2 MiB */
	FUZZ_RBL_BLOCKS_AT(0x1CB000u),            /* app RBL header, BK7252 */
	0x00EA14, 0x00EA36, 0x00F1EA, 0x00F7F0,   /* "01PE" partition tables */
	0x1D0000, 0x1E0000, 0x1E3000, 0x3FE000,   /* RF sectors */
	0x1D1000, 0x1E1000, 0x1E4000, 0x3FF000,   /* OpenBeken configs */
	0x1ED000, 0x1EE000,                       /* Tuya store, key page */
	0x200000 - BK_BEKEN_ROTATION,             /* a rotated 2 MiB bootloader */
	0x100000, 0x130000 - 3u * BK_BEKEN_BLOCK, /* around QIO sizes */
};
#define FUZZ_N_SLOTS (sizeof fuzz_slots / sizeof fuzz_slots[0])
#define FUZZ_SLOT_EXPLICIT 31u

/* Copies n bytes to img at addr, cut at the image's end. */
static inline void fuzz_put(uint8_t *img, size_t size, uint64_t addr, const uint8_t *p, size_t n)
{
	if (addr >= size)
		return;
	if (n > size - addr)
		n = (size_t)(size - addr);
	memcpy(img + addr, p, n);
}

/* One logical data stream as CRC-framed blocks from addr on. */
static inline void fuzz_put_framed(uint8_t *img, size_t size, uint64_t addr, const uint8_t *p, size_t n)
{
	for (size_t o = 0; o < n; o += BK_BEKEN_BLOCK_DATA, addr += BK_BEKEN_BLOCK) {
		uint8_t blk[BK_BEKEN_BLOCK];
		size_t take = n - o < BK_BEKEN_BLOCK_DATA ? n - o : BK_BEKEN_BLOCK_DATA;
		memset(blk, 0xFF, sizeof blk);
		memcpy(blk, p + o, take);
		uint16_t crc = bk_beken_crc16(blk, BK_BEKEN_BLOCK_DATA);
		blk[BK_BEKEN_BLOCK_DATA] = (uint8_t)(crc >> 8);
		blk[BK_BEKEN_BLOCK_DATA + 1] = (uint8_t)crc;
		fuzz_put(img, size, addr, blk, sizeof blk);
	}
}

/* Builds the image an input with FUZZ_IMAGE_FLAG describes; returns it
 * (malloc'd, exactly *out_size bytes) or NULL. */
static inline uint8_t *fuzz_image(const uint8_t *data, size_t size, size_t *out_size)
{
	if (!size || !(data[0] & FUZZ_IMAGE_FLAG))
		return NULL;
	const uint8_t *p = data + 1, *end = data + size;
	size_t n;
	switch (data[0] & 3u) {
	case 0: n = 0x200000; break;
	case 1: n = 0x400000; break;
	case 2: n = 0x130000; break;
	default:
		if (end - p < 3)
			return NULL;
		n = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16;
		n = n % 0x400000 + 1;
		p += 3;
		break;
	}
	uint8_t *img = malloc(n);
	if (!img)
		return NULL;
	memset(img, data[0] & 4u ? 0x00 : 0xFF, n);

	uint8_t *fill = NULL;
	while (end - p >= 3) {
		unsigned op = *p++;
		uint64_t addr;
		unsigned slot = op & 31u;
		if (slot == FUZZ_SLOT_EXPLICIT) {
			if (end - p < 3)
				break;
			addr = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16;
			p += 3;
		} else {
			addr = fuzz_slots[slot % FUZZ_N_SLOTS];
		}
		if (end - p < 2)
			break;
		size_t len = (size_t)p[0] | (size_t)p[1] << 8;
		p += 2;
		if (len > (size_t)(end - p))
			len = (size_t)(end - p);
		const uint8_t *d = p;
		p += len;
		size_t total = len;
		if ((op & 0x20u) && len && end - p >= 2) {
			/* repeat to a length given in units of the data length */
			total = len * ((size_t)p[0] | (size_t)p[1] << 8);
			p += 2;
			if (total > n)
				total = n;
			uint8_t *f = realloc(fill, total ? total : 1);
			if (!f)
				break;
			fill = f;
			for (size_t o = 0; o < total; o += len)
				memcpy(fill + o, d, total - o < len ? total - o : len);
			d = fill;
		}
		if (op & 0x40u)
			fuzz_put_framed(img, n, addr, d, total);
		else
			fuzz_put(img, n, addr, d, total);
	}
	free(fill);

	if ((data[0] & 8u) && n > BK_BEKEN_ROTATION) {
		/* file offset o holds flash address o + ROTATION (mod n) */
		uint8_t *rot = malloc(n);
		if (rot) {
			memcpy(rot, img + BK_BEKEN_ROTATION, n - BK_BEKEN_ROTATION);
			memcpy(rot + (n - BK_BEKEN_ROTATION), img, BK_BEKEN_ROTATION);
			free(img);
			img = rot;
		}
	}
	*out_size = n;
	return img;
}

#endif
