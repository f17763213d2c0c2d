/* Beken BK72xx flash formats: pure functions over caller buffers.
 *
 * Nothing here does I/O, prints or allocates. Inputs may be any bytes of any
 * length (the library is fuzzed): a short or garbage buffer yields "unknown"
 * or BK_EINVAL, never an out-of-bounds read.
 *
 * Coordinates: an "addr" is a flash address. A dump may be rotated (its file
 * offset 0 holds flash address `rotation`, see bk_beken_detect_rotation);
 * bk_beken_analyse() undoes that, so every address it reports is a flash
 * address. */
#ifndef BK_BEKEN_BEKEN_H
#define BK_BEKEN_BEKEN_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define BK_BEKEN_NONE UINT32_MAX /* "no such address" in every field below */

/* Bootloader and application are stored as 34-byte physical blocks: 32 data
 * bytes, then their CRC-16 big-endian. */
#define BK_BEKEN_BLOCK 34u
#define BK_BEKEN_BLOCK_DATA 32u
#define BK_BEKEN_BOOT_END 0x11000u   /* bootloader region is [0, BOOT_END) */
#define BK_BEKEN_APP_START 0x11000u
#define BK_BEKEN_APP_END_2M 0x129F70u /* app region end on 2 MiB T/U/N */
#define BK_BEKEN_ROTATION 0x11000u   /* the only rotation seen: app first */
#define BK_BEKEN_SECTOR 0x1000u

enum bk_beken_family {
	BK_BEKEN_FAMILY_UNKNOWN = 0,
	BK_BEKEN_BK7231T,
	BK_BEKEN_BK7231U,
	BK_BEKEN_BK7231N,
	BK_BEKEN_BK7252,
	BK_BEKEN_BK7238,
};

/* "BK7231T" etc.; "unknown" for anything else. */
const char *bk_beken_family_name(enum bk_beken_family family);

/* ---- CRC-16 blocks --------------------------------------------------- */

/* Poly 0x8005, init 0xFFFF, not reflected, no final xor (CRC-16/CMS). */
uint16_t bk_beken_crc16(const uint8_t *p, size_t n);

struct bk_beken_blocks {
	uint32_t valid;         /* CRC-16 matches */
	uint32_t erased;        /* all 34 bytes 0xFF (fails the CRC, not corrupt) */
	uint32_t corrupt;       /* everything else */
	uint32_t first_corrupt; /* offset or addr of the first corrupt block */
};

/* Counts the blocks of img[start, end). The range must lie inside the buffer
 * and be a whole number of blocks; first_corrupt is an offset into img. */
int bk_beken_check_blocks(const uint8_t *img, size_t size, uint32_t start,
			  uint32_t end, struct bk_beken_blocks *st,
			  struct bk_err *err);

/* ---- bootloader fingerprint ------------------------------------------ */

struct bk_beken_fingerprint {
	uint32_t crc;                /* zlib CRC-32 of the first len bytes */
	uint16_t len;                /* 256; 257 on BK7231N */
	enum bk_beken_family family;
	const char *version;         /* "1.0.5" */
};

/* The table entry matching the start of an unrotated image, or NULL (also
 * when the image is shorter than 257 bytes). */
const struct bk_beken_fingerprint *bk_beken_fingerprint(const uint8_t *img,
							size_t size);

/* ---- rotation -------------------------------------------------------- */

/* 0, or BK_BEKEN_ROTATION when a chip-sized dump holds the application at
 * offset 0 and the bootloader at size - BK_BEKEN_ROTATION. */
uint32_t bk_beken_detect_rotation(const uint8_t *img, size_t size);

/* Writes the unrotated image (flash address == offset) to out, which must
 * not overlap img and must hold size bytes. */
int bk_beken_unrotate(const uint8_t *img, size_t size, uint32_t rotation,
		      uint8_t *out, size_t out_size, struct bk_err *err);

/* ---- RBL headers ----------------------------------------------------- */

/* RT-Thread OTA package header, 96 bytes, all integers little-endian:
 *   0 "RBL\0"   4 algo   8 timestamp   12 name[16]   28 version[24]
 *   52 sn[24]   76 body CRC-32   80 hash   84 size_raw   88 size_package
 *   92 header CRC-32 over bytes 0..91
 * In flash it is the last 96 data bytes (three blocks) of its partition and
 * the body is the partition's data from the start. */
#define BK_BEKEN_RBL_SIZE 96u

struct bk_beken_rbl {
	uint32_t addr; /* where the header was looked for (0 in a file) */
	int present;   /* "RBL\0" there */
	int header_ok; /* header CRC-32 matches */
	int body_ok;   /* body CRC-32 computed over the body and matches */
	uint32_t algo;
	uint32_t timestamp;
	char name[17];    /* NUL-terminated; bytes outside 0x20..0x7E become '?' */
	char version[25];
	char sn[25];
	uint32_t body_crc;
	uint32_t hash;
	uint32_t size_raw;
	uint32_t size_package;
	uint32_t header_crc;
};

/* Parses an OTA .rbl file (header at p[0], body right after it). body_ok is
 * set when the buffer holds the whole body. BK_EINVAL if no header. */
int bk_beken_rbl_parse(const uint8_t *p, size_t n, struct bk_beken_rbl *rbl,
		       struct bk_err *err);

/* ---- RF calibration sector and MAC ----------------------------------- */

/* The RF sector ("TLV\0") of a layout; BK_EINVAL when none is known. */
int bk_beken_rf_addr(enum bk_beken_family family, uint32_t flash_size,
		     uint32_t *addr, struct bk_err *err);

/* Reads the MAC from the RF sector at rf_addr of an unrotated image. */
int bk_beken_mac(const uint8_t *img, size_t size, uint32_t rf_addr,
		 uint8_t mac[6], struct bk_err *err);

/* ---- whole-image analysis -------------------------------------------- */

struct bk_beken_info {
	size_t size;
	uint32_t flash_size; /* size when it is a chip size (2 or 4 MiB), else 0 */
	uint32_t rotation;   /* see bk_beken_detect_rotation */

	enum bk_beken_family family;
	const char *family_evidence; /* static text, never NULL */

	int has_bootloader; /* CRC-framed bootloader at 0, known or not */
	int has_boot_crc;  /* image holds at least 256 bytes at flash 0 */
	uint32_t boot_crc; /* CRC-32 of 256 bytes, 257 when the N entry matched */
	const struct bk_beken_fingerprint *boot; /* NULL: unknown bootloader */

	uint32_t app_end;  /* end of the CRC-framed app region used below */
	struct bk_beken_blocks boot_blocks; /* [0, BOOT_END), whole blocks held */
	struct bk_beken_blocks app_blocks;  /* [APP_START, app_end) */

	uint32_t ptable;   /* addr of the "01PE" partition table */
	struct bk_beken_rbl rbl_boot; /* last 3 blocks of the bootloader region */
	struct bk_beken_rbl rbl_app;  /* last 3 blocks of the app region */

	uint32_t rf_addr;  /* RF sector starting "TLV\0" */
	int has_mac;
	uint8_t mac[6];

	uint32_t tuya_kvs; /* addr of the Tuya store's key page (0x1EE000) */
	int tuya_kvs_only; /* the image is a bare store (key page at offset 0)
			    * that belongs at tuya_kvs */

	uint32_t obk_config; /* addr of a valid OpenBeken config */
	uint32_t obk_version;
};

/* Analyses an image of any length (chip-sized, partial, rotated). Fails only
 * on a NULL or empty buffer. */
int bk_beken_analyse(const uint8_t *img, size_t size,
		     struct bk_beken_info *info, struct bk_err *err);

/* ---- classification of files fed to the writer ----------------------- */

enum bk_beken_kind {
	BK_BEKEN_IMG_UNKNOWN = 0,
	BK_BEKEN_IMG_FULL, /* whole flash dump */
	BK_BEKEN_IMG_QIO,  /* bootloader + app, about 1.1-1.3 MiB */
	BK_BEKEN_IMG_UA,   /* app only */
	BK_BEKEN_IMG_RBL,  /* OTA package */
	BK_BEKEN_IMG_UG,   /* Tuya OTA package */
	BK_BEKEN_IMG_UF2,
};

struct bk_beken_class {
	enum bk_beken_kind kind;
	const char *name;       /* static text, never NULL */
	uint32_t flash_offset;  /* where it belongs; BK_BEKEN_NONE: not for SPI */
	uint32_t rotation;      /* FULL only: undo before writing */
	enum bk_beken_family family; /* from fingerprint or UF2 family id */
};

int bk_beken_classify(const uint8_t *img, size_t size,
		      struct bk_beken_class *cls, struct bk_err *err);

#endif
