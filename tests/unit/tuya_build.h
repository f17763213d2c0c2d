/* Synthetic Tuya key-value stores for tests and fuzz seeds: built and
 * encrypted here with nettle, in the layout src/beken/tuya.h describes. */
#ifndef TESTS_UNIT_TUYA_BUILD_H
#define TESTS_UNIT_TUYA_BUILD_H

#include <stddef.h>
#include <stdint.h>

struct tuya_kv {
	const char *name;
	const char *value; /* bytes; len of them */
	size_t len;
};

/* A block of the store: its id, write sequence and keys. */
struct tuya_block {
	uint16_t id;
	uint32_t seq;
	const struct tuya_kv *kvs;
	size_t n;
};

/* Writes a key page and one data page per block, then empty blocks up to
 * pages in all, into out (pages * 4096 bytes). Returns 0, or -1 when a
 * block's keys do not fit in its 31 slots. */
int tuya_build(uint8_t *out, unsigned pages, const struct tuya_block *blocks, size_t n_blocks);

#endif
