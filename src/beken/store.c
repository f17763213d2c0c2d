/* Per-device stores beside the RF sector: Tuya's and OpenBeken's. */
#include "beken/internal.h"

#include <string.h>

#define KVS_BLOCK 16u

/* Tuya's store is encrypted; its key page is mostly encrypted 0xFF padding,
 * so one 16-byte block fills it (254 of 256 in every dump seen). A majority
 * of one block is the test, unless that block is one repeated byte: that is
 * erased or zeroed flash, not ciphertext. */
int bk_beken_is_tuya_key_page(const uint8_t *p)
{
	const uint32_t n = BK_BEKEN_SECTOR / KVS_BLOCK;
	const uint8_t *cand = p;
	uint32_t votes = 0;
	/* Boyer-Moore vote: the only possible majority in one pass. */
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *b = p + i * KVS_BLOCK;
		if (!votes) {
			cand = b;
			votes = 1;
		} else if (memcmp(b, cand, KVS_BLOCK) == 0) {
			votes++;
		} else {
			votes--;
		}
	}
	uint32_t count = 0;
	for (uint32_t i = 0; i < n; i++)
		count += memcmp(p + i * KVS_BLOCK, cand, KVS_BLOCK) == 0;
	if (count <= n / 2)
		return 0;
	for (uint32_t i = 1; i < KVS_BLOCK; i++)
		if (cand[i] != cand[0])
			return 1;
	return 0;
}

/* OpenBeken's config (OpenBK7231T_App src/new_cfg.c, read back the same way
 * by BK7231GUIFlashTool's OBKConfig.cs): "CFG", a CRC-8 byte, a
 * little-endian int version, and the CRC covers bytes 4 up to 2016
 * (version <= 3) or 3584. Tiny_CRC8 is written with plain char, so its
 * shifts are arithmetic where char is signed: the GUI tool checks Beken
 * configs that way, other platforms the unsigned way. Not seen in any dump,
 * so both are accepted; magic, a sane version and a matching CRC together
 * keep false positives rare. */
#define OBK_VERSION_MAX 100u
#define OBK_LEN_V3 2016u
#define OBK_LEN 3584u

static uint8_t tiny_crc8(const uint8_t *p, size_t n, int signed_char)
{
	uint8_t crc = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t x = p[i];
		for (int bit = 0; bit < 8; bit++) {
			int sum = (crc ^ x) & 1;
			crc = (uint8_t)(crc >> 1 | (signed_char ? crc & 0x80 : 0));
			if (sum)
				crc ^= 0x8C;
			x >>= 1;
		}
	}
	return crc;
}

int bk_beken_obk_config_at(const struct bk_beken_view *v, uint32_t addr,
			   uint32_t *version)
{
	const uint8_t *h = bk_beken_view_at(v, addr, 8);
	if (!h || memcmp(h, "CFG", 3) != 0)
		return 0;
	uint32_t ver = bk_beken_le32(h + 4);
	if (ver < 1 || ver > OBK_VERSION_MAX)
		return 0;
	size_t len = ver <= 3 ? OBK_LEN_V3 : OBK_LEN;
	const uint8_t *p = bk_beken_view_at(v, addr, len);
	if (!p || (p[3] != tiny_crc8(p + 4, len - 4, 0) &&
		   p[3] != tiny_crc8(p + 4, len - 4, 1)))
		return 0;
	*version = ver;
	return 1;
}
