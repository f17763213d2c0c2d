#include "tuya_build.h"

#include <nettle/aes.h>
#include <string.h>

#define PAGE 4096u
#define SLOT 128u

static const uint8_t master[16] = "qwertyuiopasdfgh";
static const uint8_t material[16] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
				      0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xF0, 0x0F };

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t sum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	while (n--)
		s += *p++;
	return s;
}

static void encrypt(const uint8_t key[16], uint8_t *page)
{
	struct aes128_ctx ctx;
	aes128_set_encrypt_key(&ctx, key);
	aes128_encrypt(&ctx, PAGE, page, page);
}

static int data_page(uint8_t *p, const struct tuya_block *b)
{
	memset(p, 0, PAGE);
	put32(p, 0x98761234u);
	p[8] = (uint8_t)b->id;
	p[9] = (uint8_t)(b->id >> 8);
	put32(p + 10, b->seq);
	p[14] = 4; /* bitmap bytes */
	unsigned slot = 1;
	for (size_t k = 0; k < b->n; k++) {
		const struct tuya_kv *kv = &b->kvs[k];
		unsigned vslots = (unsigned)((kv->len + SLOT - 1) / SLOT);
		size_t nl = strlen(kv->name) + 1;
		if (!vslots)
			vslots = 1;
		if (slot + 1 + vslots > 32 || 18 + nl + 4 > SLOT)
			return -1;
		uint8_t *ix = p + slot * SLOT;
		put32(ix, sum((const uint8_t *)kv->value, kv->len));
		put32(ix + 4, (uint32_t)kv->len);
		ix[8] = (uint8_t)b->id;
		ix[9] = (uint8_t)(b->id >> 8);
		ix[10] = (uint8_t)slot;
		ix[11] = 1; /* one part */
		ix[17] = (uint8_t)nl;
		memcpy(ix + 18, kv->name, nl);
		uint8_t *part = ix + 18 + nl;
		part[0] = (uint8_t)b->id;
		part[1] = (uint8_t)(b->id >> 8);
		part[2] = (uint8_t)(slot + 1);
		part[3] = (uint8_t)(slot + vslots);
		p[15 + slot / 8] |= (uint8_t)(1u << (slot % 8));
		memcpy(p + (slot + 1) * SLOT, kv->value, kv->len);
		slot += 1 + vslots;
	}
	put32(p + 4, sum(p + 8, PAGE - 8));
	return 0;
}

int tuya_build(uint8_t *out, unsigned pages, const struct tuya_block *blocks, size_t n_blocks)
{
	memset(out, 0xFF, (size_t)pages * PAGE);
	put32(out, 0x13579753u);
	put32(out + 4, sum(material, 16));
	memcpy(out + 8, material, 16);
	encrypt(master, out);

	static const char p1[] = "8710", p2[] = "HHRRQbyemofrtytf";
	uint8_t key[16];
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)(p1[i % 4] + p2[i] + material[i]);
	for (unsigned i = 1; i < pages; i++) {
		struct tuya_block empty = { (uint16_t)(100 + i), 0, NULL, 0 };
		const struct tuya_block *b = i - 1 < n_blocks ? &blocks[i - 1] : &empty;
		if (data_page(out + (size_t)i * PAGE, b))
			return -1;
		encrypt(key, out + (size_t)i * PAGE);
	}
	return 0;
}
