#include "spi/chips.h"

#include <stddef.h>

#define KIB(n) ((uint32_t)(n) * 1024u)
#define MIB(n) ((uint32_t)(n) * 1024u * 1024u)

/* Erase sets. Older parts (W25X40/80, Eon, Macronix MX25Lxx06E) have no
 * 32 KiB erase; on the MX25Lxx06E 0x52 even erases 64 KiB, so claiming 32K
 * there would wipe twice what was asked. */
#define E_ALL (BK_ERASE_4K | BK_ERASE_32K | BK_ERASE_64K)
#define E_NO32 (BK_ERASE_4K | BK_ERASE_64K)

/* Status register styles. Q: SR2 with CMP/QE, written as SR1+SR2 through
 * 0x01 (Beken's own SDK writes these parts that way). Q31: the same, and the
 * current datasheet also has 0x31 for SR2 alone. SR1: one status register;
 * Macronix and Eon keep QE or extra BP bits there, not in an SR2. */
#define SR1 0
#define Q (BK_CHIP_SR2 | BK_CHIP_WRSR_2BYTE)
#define Q31 (BK_CHIP_SR2 | BK_CHIP_WRSR_2BYTE | BK_CHIP_WRSR2_31)

static const struct {
	uint8_t id;
	const char *name;
} vendors[] = {
	{ 0x01, "Spansion" },
	{ 0x0B, "XTX" },
	{ 0x0E, "FMD" },
	{ 0x1C, "Eon" },
	{ 0x1F, "Adesto" },
	/* Micron/ST use 0x20 too, but the 0x2040xx/0x2070xx IDs below are XMC. */
	{ 0x20, "XMC/Micron" },
	{ 0x5E, "Zbit" },
	{ 0x68, "Boya" },
	{ 0x85, "Puya" },
	{ 0x8C, "ESMT" },
	{ 0x9D, "ISSI" },
	{ 0xA1, "Fudan" },
	{ 0xBF, "SST" },
	{ 0xC2, "Macronix" },
	{ 0xC8, "GigaDevice" },
	{ 0xEF, "Winbond" },
};

/* IDs from the vendors' datasheets, cross-checked against flashrom's and
 * Beken's SDK tables. Where one ID covers several parts the name is the
 * family (W25Q32 = BV/FV/JV). */
static const struct bk_chip chips[] = {
	/* Winbond */
	{ 0xEF3013, "Winbond", "W25X40", KIB(512), E_NO32, SR1 },
	{ 0xEF3014, "Winbond", "W25X80", MIB(1), E_NO32, SR1 },
	{ 0xEF3015, "Winbond", "W25X16", MIB(2), E_ALL, SR1 },
	{ 0xEF3016, "Winbond", "W25X32", MIB(4), E_ALL, SR1 },
	{ 0xEF3017, "Winbond", "W25X64", MIB(8), E_ALL, SR1 },
	{ 0xEF4013, "Winbond", "W25Q40", KIB(512), E_ALL, Q },
	{ 0xEF4014, "Winbond", "W25Q80", MIB(1), E_ALL, Q },
	{ 0xEF4015, "Winbond", "W25Q16", MIB(2), E_ALL, Q31 },
	{ 0xEF4016, "Winbond", "W25Q32", MIB(4), E_ALL, Q31 },
	{ 0xEF4017, "Winbond", "W25Q64", MIB(8), E_ALL, Q31 },
	{ 0xEF4018, "Winbond", "W25Q128", MIB(16), E_ALL, Q31 },
	{ 0xEF7015, "Winbond", "W25Q16JV-M", MIB(2), E_ALL, Q31 },
	{ 0xEF7016, "Winbond", "W25Q32JV-M", MIB(4), E_ALL, Q31 },
	{ 0xEF7017, "Winbond", "W25Q64JV-M", MIB(8), E_ALL, Q31 },
	{ 0xEF7018, "Winbond", "W25Q128JV-M", MIB(16), E_ALL, Q31 },

	/* GigaDevice */
	{ 0xC84013, "GigaDevice", "GD25Q40", KIB(512), E_ALL, Q },
	{ 0xC84014, "GigaDevice", "GD25Q80", MIB(1), E_ALL, Q },
	{ 0xC84015, "GigaDevice", "GD25Q16", MIB(2), E_ALL, Q },
	{ 0xC84016, "GigaDevice", "GD25Q32", MIB(4), E_ALL, Q31 },
	{ 0xC84017, "GigaDevice", "GD25Q64", MIB(8), E_ALL, Q31 },
	{ 0xC84018, "GigaDevice", "GD25Q128", MIB(16), E_ALL, Q31 },

	/* Macronix: SR1 bit 6 is QE and protection options live in a separate
	 * configuration register, so no SR2/CMP. */
	{ 0xC22013, "Macronix", "MX25L4006E", KIB(512), E_NO32, SR1 },
	{ 0xC22014, "Macronix", "MX25L8006E", MIB(1), E_NO32, SR1 },
	{ 0xC22015, "Macronix", "MX25L1606E", MIB(2), E_NO32, SR1 },
	{ 0xC22016, "Macronix", "MX25L3206E", MIB(4), E_NO32, SR1 },
	{ 0xC22017, "Macronix", "MX25L6406E", MIB(8), E_NO32, SR1 },
	{ 0xC22018, "Macronix", "MX25L12835F", MIB(16), E_ALL, SR1 },
	{ 0xC22313, "Macronix", "MX25V4035F", KIB(512), E_ALL, SR1 },
	{ 0xC22314, "Macronix", "MX25V8035F", MIB(1), E_ALL, SR1 },
	{ 0xC22315, "Macronix", "MX25V1635F", MIB(2), E_ALL, SR1 },

	/* XTX */
	{ 0x0B4014, "XTX", "XT25F08B", MIB(1), E_ALL, Q },
	{ 0x0B4015, "XTX", "XT25F16B", MIB(2), E_ALL, Q },
	{ 0x0B4016, "XTX", "XT25F32B", MIB(4), E_ALL, Q },
	{ 0x0B4017, "XTX", "XT25F64B", MIB(8), E_ALL, Q },
	{ 0x0B4018, "XTX", "XT25F128B", MIB(16), E_ALL, Q },

	/* Eon: one status register whose bits 2-5 are BP0-BP3. */
	{ 0x1C3013, "Eon", "EN25Q40", KIB(512), E_NO32, SR1 },
	{ 0x1C3014, "Eon", "EN25Q80", MIB(1), E_NO32, SR1 },
	{ 0x1C3015, "Eon", "EN25Q16", MIB(2), E_NO32, SR1 },
	{ 0x1C3016, "Eon", "EN25Q32", MIB(4), E_NO32, SR1 },
	{ 0x1C3017, "Eon", "EN25Q64", MIB(8), E_NO32, SR1 },
	{ 0x1C3018, "Eon", "EN25Q128", MIB(16), E_NO32, SR1 },
	{ 0x1C7015, "Eon", "EN25QH16B", MIB(2), E_NO32, SR1 },
	{ 0x1C7016, "Eon", "EN25QH32", MIB(4), E_NO32, SR1 },
	{ 0x1C7017, "Eon", "EN25QH64", MIB(8), E_NO32, SR1 },
	{ 0x1C7018, "Eon", "EN25QH128", MIB(16), E_NO32, SR1 },

	/* Puya */
	{ 0x856013, "Puya", "P25Q40H", KIB(512), E_ALL, Q },
	{ 0x856014, "Puya", "P25Q80H", MIB(1), E_ALL, Q },
	{ 0x856015, "Puya", "P25Q16H", MIB(2), E_ALL, Q },
	{ 0x856016, "Puya", "P25Q32H", MIB(4), E_ALL, Q },
	{ 0x856017, "Puya", "P25Q64H", MIB(8), E_ALL, Q },
	{ 0x856018, "Puya", "P25Q128H", MIB(16), E_ALL, Q },

	/* Boya (the BY25D parts of the same size answer the same IDs) */
	{ 0x684013, "Boya", "BY25Q40", KIB(512), E_ALL, Q },
	{ 0x684014, "Boya", "BY25Q80", MIB(1), E_ALL, Q },
	{ 0x684015, "Boya", "BY25Q16", MIB(2), E_ALL, Q },
	{ 0x684016, "Boya", "BY25Q32", MIB(4), E_ALL, Q },
	{ 0x684017, "Boya", "BY25Q64", MIB(8), E_ALL, Q },
	{ 0x684018, "Boya", "BY25Q128", MIB(16), E_ALL, Q },

	/* Zbit. Some ZB25VQ16 were seen answering 0E4015 (FMD's ID). */
	{ 0x5E4015, "Zbit", "ZB25VQ16", MIB(2), E_ALL, Q },
	{ 0x5E4016, "Zbit", "ZB25VQ32", MIB(4), E_ALL, Q },
	{ 0x5E4017, "Zbit", "ZB25VQ64", MIB(8), E_ALL, Q },
	{ 0x5E4018, "Zbit", "ZB25VQ128", MIB(16), E_ALL, Q },
	{ 0x0E4015, "FMD", "FT25H16", MIB(2), E_ALL, Q },
	{ 0x0E4016, "FMD", "FT25H32", MIB(4), E_ALL, Q },

	/* XMC */
	{ 0x204014, "XMC", "XM25QH80", MIB(1), E_ALL, Q },
	{ 0x204015, "XMC", "XM25QH16", MIB(2), E_ALL, Q },
	{ 0x204016, "XMC", "XM25QH32", MIB(4), E_ALL, Q },
	{ 0x204017, "XMC", "XM25QH64", MIB(8), E_ALL, Q },
	{ 0x204018, "XMC", "XM25QH128", MIB(16), E_ALL, Q31 },
	{ 0x207017, "XMC", "XM25QH64A", MIB(8), E_ALL, Q31 },
	{ 0x207018, "XMC", "XM25QH128A", MIB(16), E_ALL, Q31 },

	/* Fudan */
	{ 0xA14013, "Fudan", "FM25Q04", KIB(512), E_ALL, Q },
	{ 0xA14014, "Fudan", "FM25Q08", MIB(1), E_ALL, Q },
	{ 0xA14015, "Fudan", "FM25Q16", MIB(2), E_ALL, Q },
	{ 0xA14016, "Fudan", "FM25Q32", MIB(4), E_ALL, Q },
	{ 0xA14017, "Fudan", "FM25Q64", MIB(8), E_ALL, Q },
	{ 0xA14018, "Fudan", "FM25Q128", MIB(16), E_ALL, Q },
};

const struct bk_chip *bk_chip_find(uint32_t jedec)
{
	for (size_t i = 0; i < sizeof chips / sizeof chips[0]; i++)
		if (chips[i].jedec == jedec)
			return &chips[i];
	return NULL;
}

const char *bk_vendor_name(uint8_t manufacturer)
{
	for (size_t i = 0; i < sizeof vendors / sizeof vendors[0]; i++)
		if (vendors[i].id == manufacturer)
			return vendors[i].name;
	return "unknown";
}

uint32_t bk_chip_size_from_id(uint32_t jedec)
{
	unsigned manufacturer = (jedec >> 16) & 0xFFu;
	unsigned cap = jedec & 0xFFu;

	/* 00 and FF are what a floating or shorted MISO reads, not a vendor. */
	if (manufacturer == 0x00 || manufacturer == 0xFF)
		return 0;
	/* Below 64 KiB or above 16 MiB the byte is either not a log2 size
	 * (SST, Adesto) or the part needs 4-byte addressing we do not do. */
	if (cap < 16 || cap > 24)
		return 0;
	return 1u << cap;
}
