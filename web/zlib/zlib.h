/* The one zlib call the Beken analysis makes (crc32), for the web build:
 * Debian's emscripten cannot fetch its zlib port without the network, so
 * web/crc32.c provides it with zlib's signature and result. */
#ifndef BK_WEB_ZLIB_H
#define BK_WEB_ZLIB_H

typedef unsigned int uInt;
typedef unsigned long uLong;

uLong crc32(uLong crc, const unsigned char *buf, uInt len);

#endif
