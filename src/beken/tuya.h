/* Tuya's encrypted key-value store ("vault"): find it, decrypt it, list its
 * keys and read the device's pin assignment out of user_param_key.
 *
 * Pure like the rest of src/beken: buffer in, struct out, no I/O, no
 * printing, no allocation (the result struct is large: callers allocate it).
 * Any bytes of any length are safe input; the decoder is fuzzed.
 *
 * The format, as Tuya's SDK lays it out (learnt from bk7231tools and the
 * BK7231 GUI flash tool; the code here is independent of theirs):
 *
 * - The store is whole 4 KiB pages, each AES-128-ECB encrypted on its own.
 * - The first ("key") page is encrypted with the fixed master key
 *   "qwertyuiopasdfgh"; decrypted it starts with a magic word, then a
 *   checksum (the 32-bit sum of the next 16 bytes) and 16 bytes of per-device
 *   key material. The data pages' key is derived from that material and two
 *   key parts fixed per SDK (see tuya.c).
 * - A data page, decrypted: magic, checksum (sum of bytes 8..4095), a block
 *   id, a write sequence number and an allocation bitmap, all in the first
 *   128-byte slot; the other 31 slots hold index slots (key name, value
 *   length, value checksum and where the value's slots are) or value slots.
 *   A block id may be present in several pages: the copy with the highest
 *   sequence number is the live one (older copies are the SDK's swap space).
 * - A value's checksum is the 32-bit sum of its bytes. */
#ifndef BK_BEKEN_TUYA_H
#define BK_BEKEN_TUYA_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/limits.h"

#define BK_TUYA_PAGE BK_SECTOR
#define BK_TUYA_SLOT 128u
/* The largest store read: 0x13000 on 2 MiB parts; room for bigger layouts. */
#define BK_TUYA_MAX_PAGES 64u
#define BK_TUYA_MAX_KEYS 256u
#define BK_TUYA_NAME_MAX 63u
#define BK_TUYA_MODULE_MAX 31u
#define BK_TUYA_PIN_KEY_MAX 31u
#define BK_TUYA_MAX_PINS 64u
/* Room for every value: each value slot of a full store could serve one
 * key once; values past this are reported as bad, not read. */
#define BK_TUYA_VALUES_MAX (BK_TUYA_MAX_PAGES * BK_TUYA_PAGE)

struct bk_tuya_entry {
	char name[BK_TUYA_NAME_MAX + 1]; /* non-printable bytes become '?' */
	uint32_t length;   /* the value length the index declares */
	uint32_t value;    /* offset of the value in bk_tuya_store.values */
	uint32_t have;     /* bytes of the value present there */
	int good;          /* whole value present and its checksum matches */
};

struct bk_tuya_pin {
	unsigned gpio;
	char key[BK_TUYA_PIN_KEY_MAX + 1]; /* the user_param_key field: "rl1_pin" */
	const char *role;     /* "relay", "button", "led", ... (static) */
	unsigned channel;     /* the number in the key ("rl2_pin": 2), or fixed */
	int level;            /* raw value of "<stem>_lv"; -1 when absent */
	const char *obk_role; /* OpenBeken pin role for that level, or NULL */
};

struct bk_tuya_store {
	uint32_t offset;      /* buffer offset of the key page */
	uint32_t pages;       /* key page up to the last data page */
	uint32_t pages_bad;   /* among them: wrong magic or checksum */
	uint32_t blocks;      /* distinct live blocks */
	uint32_t index_bad;   /* index slots that made no sense */
	uint32_t keys_dropped; /* keys beyond BK_TUYA_MAX_KEYS */
	const char *sdk;      /* the key parts that decrypted it (static) */

	uint32_t n_entries;   /* live keys, newest copy of each */
	uint32_t n_good;      /* of them with a whole value and a good checksum */
	struct bk_tuya_entry entries[BK_TUYA_MAX_KEYS];

	/* From user_param_key (or another entry with a "module" field). */
	int has_config;       /* an entry with a device configuration was found */
	char config_key[BK_TUYA_NAME_MAX + 1];
	char module[BK_TUYA_MODULE_MAX + 1]; /* "" when not named */
	int dmod;             /* light driver type, -1 when absent */
	uint32_t n_pins;
	struct bk_tuya_pin pins[BK_TUYA_MAX_PINS];

	uint32_t values_used;
	uint8_t values[BK_TUYA_VALUES_MAX];
	uint8_t plain[BK_TUYA_MAX_PAGES * BK_TUYA_PAGE]; /* decrypted pages */
};

/* Offset of the first 4 KiB-aligned page of buf that is a store's key page
 * (its magic and checksum decrypt right), or BK_EINVAL. */
int bk_tuya_find(const uint8_t *buf, size_t size, uint32_t *offset,
		 struct bk_err *err);

/* Decrypts and decodes the store whose key page is at offset: its keys and
 * values (tuya.c). Fails (BK_EINVAL, with why) only when there is no valid
 * key page there; bad data pages, bad index slots, missing or corrupt
 * values are counted in st. */
int bk_tuya_decode(const uint8_t *buf, size_t size, uint32_t offset,
		   struct bk_tuya_store *st, struct bk_err *err);

/* The device's configuration from a decoded store: module, light driver
 * and pins (tuya_pins.c). */
void bk_tuya_parse_config(struct bk_tuya_store *st);

/* bk_tuya_find, bk_tuya_decode, then bk_tuya_parse_config (tuya_pins.c). */
int bk_tuya_read(const uint8_t *buf, size_t size, struct bk_tuya_store *st,
		 struct bk_err *err);

/* The entry named name, or NULL. */
const struct bk_tuya_entry *bk_tuya_entry(const struct bk_tuya_store *st,
					  const char *name);

/* Whether an entry's value holds secrets (Wi-Fi credentials, keys, device
 * identity): everything except a short list of known harmless keys. */
int bk_tuya_is_secret_key(const char *name);

/* Whether a field name inside a value names a secret ("passwd", "ssid",
 * "key", "token", ...). */
int bk_tuya_is_secret_field(const char *field, size_t len);

/* OpenBeken's pin role and channel for GPIOs, from the pins; NULL when the
 * pin has no OpenBeken role. Light driver I2C pins depend on dmod. */
const char *bk_tuya_obk_driver(const struct bk_tuya_store *st);

#endif
