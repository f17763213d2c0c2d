#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "spi/chips.h"

#define KIB(n) ((uint32_t)(n) * 1024u)
#define MIB(n) ((uint32_t)(n) * 1024u * 1024u)
#define E_ALL (BK_ERASE_4K | BK_ERASE_32K | BK_ERASE_64K)
#define E_NO32 (BK_ERASE_4K | BK_ERASE_64K)

struct expect {
	uint32_t jedec;
	const char *part;
	uint32_t size;
};

/* The IDs seen on Beken modules (field notes, section 3). */
static const struct expect field_ids[] = {
	{ 0x0B4015, "XT25F16B", MIB(2) },
	{ 0x0B4016, "XT25F32B", MIB(4) },
	{ 0x1C7015, "EN25QH16B", MIB(2) },
	{ 0xC84015, "GD25Q16", MIB(2) },
	{ 0x856015, "P25Q16H", MIB(2) },
	{ 0xEF4015, "W25Q16", MIB(2) },
	{ 0xEF4016, "W25Q32", MIB(4) },
	{ 0x5E4015, "ZB25VQ16", MIB(2) },
	{ 0x204015, "XM25QH16", MIB(2) },
	{ 0xA14015, "FM25Q16", MIB(2) },
};

static void test_field_note_ids(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof field_ids / sizeof field_ids[0]; i++) {
		const struct bk_chip *c = bk_chip_find(field_ids[i].jedec);
		assert_non_null(c);
		assert_int_equal(c->jedec, field_ids[i].jedec);
		assert_string_equal(c->part, field_ids[i].part);
		assert_int_equal(c->size, field_ids[i].size);
		/* every one of them has 4 KiB sectors and 64 KiB blocks */
		assert_int_equal(c->erase & E_NO32, E_NO32);
	}
}

/* Every family the table promises, smallest to largest, with the sizes from
 * the datasheets (the capacity byte is log2 of the size for all of them). */
static const struct expect families[] = {
	{ 0xEF3013, "W25X40", KIB(512) },  { 0xEF3014, "W25X80", MIB(1) },
	{ 0xEF3015, "W25X16", MIB(2) },    { 0xEF3016, "W25X32", MIB(4) },
	{ 0xEF3017, "W25X64", MIB(8) },    { 0xEF4013, "W25Q40", KIB(512) },
	{ 0xEF4014, "W25Q80", MIB(1) },    { 0xEF4017, "W25Q64", MIB(8) },
	{ 0xEF4018, "W25Q128", MIB(16) },  { 0xC84013, "GD25Q40", KIB(512) },
	{ 0xC84014, "GD25Q80", MIB(1) },   { 0xC84016, "GD25Q32", MIB(4) },
	{ 0xC84017, "GD25Q64", MIB(8) },   { 0xC84018, "GD25Q128", MIB(16) },
	{ 0xC22013, "MX25L4006E", KIB(512) }, { 0xC22014, "MX25L8006E", MIB(1) },
	{ 0xC22015, "MX25L1606E", MIB(2) }, { 0xC22016, "MX25L3206E", MIB(4) },
	{ 0xC22017, "MX25L6406E", MIB(8) }, { 0xC22018, "MX25L12835F", MIB(16) },
	{ 0x0B4014, "XT25F08B", MIB(1) },  { 0x0B4017, "XT25F64B", MIB(8) },
	{ 0x0B4018, "XT25F128B", MIB(16) }, { 0x1C3015, "EN25Q16", MIB(2) },
	{ 0x1C3016, "EN25Q32", MIB(4) },   { 0x1C7016, "EN25QH32", MIB(4) },
	{ 0x856013, "P25Q40H", KIB(512) }, { 0x856018, "P25Q128H", MIB(16) },
	{ 0x684015, "BY25Q16", MIB(2) },   { 0x684018, "BY25Q128", MIB(16) },
	{ 0x5E4016, "ZB25VQ32", MIB(4) },  { 0x5E4018, "ZB25VQ128", MIB(16) },
	{ 0x204016, "XM25QH32", MIB(4) },  { 0x204018, "XM25QH128", MIB(16) },
	{ 0xA14013, "FM25Q04", KIB(512) }, { 0xA14018, "FM25Q128", MIB(16) },
};

static void test_families(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
		const struct bk_chip *c = bk_chip_find(families[i].jedec);
		assert_non_null(c);
		assert_string_equal(c->part, families[i].part);
		assert_int_equal(c->size, families[i].size);
		assert_int_equal(c->size, bk_chip_size_from_id(c->jedec));
		assert_true(c->erase & BK_ERASE_4K);
		assert_int_equal(c->erase & ~E_ALL, 0);
		/* WRSR options only make sense with an SR2 */
		if (!(c->flags & BK_CHIP_SR2))
			assert_int_equal(c->flags, 0);
		uint8_t m = (uint8_t)(c->jedec >> 16);
		if (m != 0x20)
			assert_string_equal(c->vendor, bk_vendor_name(m));
		else
			assert_non_null(strstr(bk_vendor_name(m), c->vendor));
	}
}

static void test_status_register_styles(void **state)
{
	(void)state;
	/* W25Q32JV: SR1-3, 01h takes SR1+SR2, 31h writes SR2 */
	const struct bk_chip *w = bk_chip_find(0xEF4016);
	assert_non_null(w);
	assert_int_equal(w->flags, BK_CHIP_SR2 | BK_CHIP_WRSR_2BYTE | BK_CHIP_WRSR2_31);
	/* XT25F16B: 16-bit status written with 01h (Beken SDK: CMP at bit 14) */
	const struct bk_chip *x = bk_chip_find(0x0B4015);
	assert_non_null(x);
	assert_true(x->flags & BK_CHIP_SR2);
	assert_true(x->flags & BK_CHIP_WRSR_2BYTE);
	/* Macronix: no SR2/CMP, and no 32 KiB erase on MX25L1606E (52h = 64K) */
	const struct bk_chip *m = bk_chip_find(0xC22015);
	assert_non_null(m);
	assert_int_equal(m->flags, 0);
	assert_int_equal(m->erase, E_NO32);
	assert_string_equal(m->vendor, "Macronix");
	/* MX25L12835F does have 32 KiB erase */
	assert_int_equal(bk_chip_find(0xC22018)->erase, E_ALL);
	/* EN25QH16B: a single status register */
	assert_int_equal(bk_chip_find(0x1C7015)->flags, 0);
	/* W25X: single status register, W25X40 without 32 KiB erase */
	assert_int_equal(bk_chip_find(0xEF3013)->flags, 0);
	assert_int_equal(bk_chip_find(0xEF3013)->erase, E_NO32);
	assert_int_equal(bk_chip_find(0xEF3016)->erase, E_ALL);
	/* the rest of the Q families have SR2 */
	const uint32_t with_sr2[] = { 0xC84015, 0x856015, 0x684016, 0x5E4015, 0x204015, 0xA14015 };
	for (size_t i = 0; i < sizeof with_sr2 / sizeof with_sr2[0]; i++)
		assert_true(bk_chip_find(with_sr2[i])->flags & BK_CHIP_SR2);
}

static void test_unknown(void **state)
{
	(void)state;
	assert_null(bk_chip_find(0x000000));
	assert_null(bk_chip_find(0xFFFFFF));
	assert_null(bk_chip_find(0x123456));
	assert_null(bk_chip_find(0xEF4019)); /* W25Q256: needs 4-byte addressing */
	assert_null(bk_chip_find(0x0B4015 | 0x01000000)); /* stray high byte */
}

static void test_vendor_names(void **state)
{
	(void)state;
	assert_string_equal(bk_vendor_name(0xEF), "Winbond");
	assert_string_equal(bk_vendor_name(0xC8), "GigaDevice");
	assert_string_equal(bk_vendor_name(0xC2), "Macronix");
	assert_string_equal(bk_vendor_name(0x0B), "XTX");
	assert_string_equal(bk_vendor_name(0x1C), "Eon");
	assert_string_equal(bk_vendor_name(0x85), "Puya");
	assert_string_equal(bk_vendor_name(0x68), "Boya");
	assert_string_equal(bk_vendor_name(0x5E), "Zbit");
	assert_string_equal(bk_vendor_name(0xA1), "Fudan");
	assert_non_null(strstr(bk_vendor_name(0x20), "XMC"));
	assert_string_equal(bk_vendor_name(0x00), "unknown");
	assert_string_equal(bk_vendor_name(0xFF), "unknown");
	assert_string_equal(bk_vendor_name(0x42), "unknown");
}

static void test_size_from_id(void **state)
{
	(void)state;
	assert_int_equal(bk_chip_size_from_id(0xEF4015), MIB(2));
	assert_int_equal(bk_chip_size_from_id(0x123416), MIB(4)); /* unknown part, plausible byte */
	assert_int_equal(bk_chip_size_from_id(0xEF4010), KIB(64));  /* lowest accepted */
	assert_int_equal(bk_chip_size_from_id(0xEF400F), 0);
	assert_int_equal(bk_chip_size_from_id(0xEF4018), MIB(16)); /* highest accepted */
	assert_int_equal(bk_chip_size_from_id(0xEF4019), 0);       /* 32 MiB */
	assert_int_equal(bk_chip_size_from_id(0xEF4020), 0);       /* W25Q512JV: 0x20 is not log2 here */
	assert_int_equal(bk_chip_size_from_id(0xBF2641), 0);       /* SST26VF016B: not log2 */
	assert_int_equal(bk_chip_size_from_id(0x1F8501), 0);       /* AT25SF081: not log2 */
	assert_int_equal(bk_chip_size_from_id(0xFFFFFF), 0);       /* floating MISO */
	assert_int_equal(bk_chip_size_from_id(0x000000), 0);       /* MISO stuck low */
	assert_int_equal(bk_chip_size_from_id(0x000015), 0);
	assert_int_equal(bk_chip_size_from_id(0xFF4015), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_field_note_ids),
		cmocka_unit_test(test_families),
		cmocka_unit_test(test_status_register_styles),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_vendor_names),
		cmocka_unit_test(test_size_from_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
