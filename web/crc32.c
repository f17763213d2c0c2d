/* zlib's crc32() (CRC-32/ISO-HDLC, reflected polynomial 0xEDB88320) for
 * the web build; a NULL buffer returns the initial value, as zlib's does.
 * tests/web checks it against zlib through the bootloader fingerprints. */
#include <stddef.h>
#include <stdint.h>

#include "zlib.h"

uLong crc32(uLong crc, const unsigned char *buf, uInt len)
{
	if (!buf)
		return 0;
	uint32_t c = ~(uint32_t)crc;
	for (uInt i = 0; i < len; i++) {
		c ^= buf[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
	}
	return ~c;
}
