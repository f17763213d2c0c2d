/* A synthetic Beken-like flash image for the simulator and the tests: the
 * same layout as a BK7231N dump (CRC-framed bootloader and application, RF
 * sector with a MAC, 0xFF elsewhere) but made of pseudo-random bytes, so it
 * carries no one's secrets and can be regenerated anywhere. */
#include <string.h>

#include "beken/beken.h"
#include "emu/emu.h"

#define RF_SECTOR 0x1D0000u
#define APP_FILLED 0x60000u   /* CRC-framed bytes of application; the rest is erased */

static uint32_t next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void framed(uint8_t *img, uint32_t start, uint32_t end, uint32_t *rng)
{
	for (uint32_t a = start; a + BK_BEKEN_BLOCK <= end; a += BK_BEKEN_BLOCK) {
		for (uint32_t i = 0; i < BK_BEKEN_BLOCK_DATA; i++)
			img[a + i] = (uint8_t)next(rng);
		if (a == start + 8 * BK_BEKEN_BLOCK && start == 0)
			memcpy(img + a, "BK7231", 6); /* where BK7231N bootloaders name themselves */
		uint16_t crc = bk_beken_crc16(img + a, BK_BEKEN_BLOCK_DATA);
		img[a + 32] = (uint8_t)(crc >> 8);
		img[a + 33] = (uint8_t)crc;
	}
}

int bk_emu_synth(uint8_t *img, size_t size, uint32_t seed)
{
	if (size < RF_SECTOR + 0x1000)
		return BK_EINVAL;
	uint32_t rng = seed ? seed : 1;
	memset(img, 0xFF, size);
	framed(img, 0, BK_BEKEN_BOOT_END, &rng);
	framed(img, BK_BEKEN_APP_START, BK_BEKEN_APP_START + APP_FILLED, &rng);

	static const uint8_t tlv_head[] = { 'T', 'L', 'V', 0 };
	uint8_t *rf = img + RF_SECTOR;
	memcpy(rf, tlv_head, 4);
	for (uint32_t i = 4; i < 0x1C; i++)
		rf[i] = (uint8_t)next(&rng);
	static const uint8_t mac_tag[] = { 0x02, 0x11, 0x11, 0x11, 0x06, 0, 0, 0 };
	memcpy(rf + 0x1C, mac_tag, sizeof mac_tag);
	/* A locally administered unicast MAC, so it is nobody's real one. */
	uint8_t mac[6] = { 0x02, 0xB4, 0x5E, (uint8_t)(seed >> 16), (uint8_t)(seed >> 8), (uint8_t)seed };
	memcpy(rf + 0x24, mac, 6);
	for (uint32_t i = 0x2A; i < 0x200; i++)
		rf[i] = (uint8_t)next(&rng);
	return 0;
}
