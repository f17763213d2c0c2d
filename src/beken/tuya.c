/* Tuya key-value store: locating, decrypting and decoding (see tuya.h). */
#include "beken/tuya.h"

#include <nettle/aes.h>
#include <stddef.h>
#include <string.h>

#include "beken/internal.h"

#define MAGIC_KEY 0x13579753u
#define MAGIC_KEY_NEW 0x135726ABu
#define MAGIC_DATA 0x98761234u
#define MAGIC_DATA_NEW 0x135726ABu
#define SLOTS (BK_TUYA_PAGE / BK_TUYA_SLOT) /* 32: slot 0 is the header */

static const uint8_t master_key[16] = "qwertyuiopasdfgh";

/* Key parts per SDK: the data key is, byte by byte, part1[i % 4] +
 * part2[i] + the key page's material[i]. Only the BK72xx parts are known;
 * a row per SDK goes here as they become known. */
static const struct key_parts {
	const char *sdk;
	uint8_t part1[4];
	uint8_t part2[16];
} sdks[] = {
	{ "8710_2M", { '8', '7', '1', '0' },
	  { 'H', 'H', 'R', 'R', 'Q', 'b', 'y', 'e', 'm', 'o', 'f', 'r', 't', 'y', 't', 'f' } },
};

static uint32_t sum32(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += p[i];
	return s;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void decrypt(const struct aes128_ctx *ctx, const uint8_t *src, size_t n,
		    uint8_t *dst)
{
	aes128_decrypt(ctx, n, dst, src);
}

/* The key page's 16 bytes of key material when p is one. */
static int key_page(const uint8_t *p, uint8_t material[16])
{
	struct aes128_ctx ctx;
	uint8_t head[32];
	aes128_set_decrypt_key(&ctx, master_key);
	decrypt(&ctx, p, sizeof head, head);
	uint32_t magic = bk_beken_le32(head);
	if (magic != MAGIC_KEY && magic != MAGIC_KEY_NEW)
		return 0;
	if (bk_beken_le32(head + 4) != sum32(head + 8, 16))
		return 0;
	memcpy(material, head + 8, 16);
	return 1;
}

int bk_tuya_find(const uint8_t *buf, size_t size, uint32_t *offset,
		 struct bk_err *err)
{
	uint8_t material[16];
	if (!buf || !offset)
		return bk_fail(err, BK_EINVAL, "tuya: no buffer");
	for (size_t at = 0; at + BK_TUYA_PAGE <= size && at <= UINT32_MAX; at += BK_TUYA_PAGE) {
		if (key_page(buf + at, material)) {
			*offset = (uint32_t)at;
			return BK_OK;
		}
	}
	return bk_fail(err, BK_EINVAL, "no Tuya key-value store (no page decrypts to its key page)");
}

static void data_key(const struct key_parts *k, const uint8_t material[16],
		     struct aes128_ctx *ctx)
{
	uint8_t key[16];
	for (unsigned i = 0; i < 16; i++)
		key[i] = (uint8_t)(k->part1[i % 4] + k->part2[i] + material[i]);
	aes128_set_decrypt_key(ctx, key);
}

static int data_magic(const uint8_t *plain)
{
	uint32_t m = bk_beken_le32(plain);
	return m == MAGIC_DATA || m == MAGIC_DATA_NEW;
}

/* Which key parts decrypt the first data page with a valid magic. */
static const struct key_parts *pick_sdk(const uint8_t *buf, size_t size,
					uint32_t offset, uint32_t max_pages,
					const uint8_t material[16])
{
	for (size_t s = 0; s < sizeof sdks / sizeof sdks[0]; s++) {
		struct aes128_ctx ctx;
		data_key(&sdks[s], material, &ctx);
		for (uint32_t i = 1; i < max_pages; i++) {
			size_t at = (size_t)offset + (size_t)i * BK_TUYA_PAGE;
			if (at + BK_TUYA_PAGE > size)
				break;
			uint8_t head[16];
			decrypt(&ctx, buf + at, sizeof head, head);
			if (data_magic(head))
				return &sdks[s];
		}
	}
	return NULL;
}

/* One decrypted data page whose header makes sense. */
struct page {
	const uint8_t *p;
	uint16_t block;
	uint32_t seq;
	int good;          /* checksum matches */
	uint8_t map[4];    /* which slots hold an index (bit i: slot i) */
};

static uint32_t slot_is_index(const struct page *pg, unsigned slot)
{
	return pg->map[slot / 8] >> (slot % 8) & 1;
}

static void read_page(const uint8_t *p, struct page *pg)
{
	pg->p = p;
	pg->block = le16(p + 8);
	pg->seq = bk_beken_le32(p + 10);
	pg->good = bk_beken_le32(p + 4) == sum32(p + 8, BK_TUYA_PAGE - 8);
	/* map size at 14, bitmap from 15, inside slot 0; only the 32 bits
	 * that name slots matter. */
	unsigned n = p[14];
	if (n > sizeof pg->map)
		n = sizeof pg->map;
	memset(pg->map, 0, sizeof pg->map);
	memcpy(pg->map, p + 15, n);
	pg->map[0] &= 0xFE; /* slot 0 is the header */
}

/* The live copy of every block: a good checksum first, then the highest
 * sequence number, then the first in the store. */
static int better(const struct page *a, const struct page *b)
{
	if (a->good != b->good)
		return a->good > b->good;
	return a->seq > b->seq;
}

static void sanitize_name(const uint8_t *s, size_t n, char *out, size_t cap)
{
	size_t j = 0;
	for (size_t i = 0; i < n && s[i] && j + 1 < cap; i++)
		out[j++] = s[i] >= 0x20 && s[i] < 0x7F ? (char)s[i] : '?';
	out[j] = '\0';
}

const struct bk_tuya_entry *bk_tuya_entry(const struct bk_tuya_store *st,
					  const char *name)
{
	for (uint32_t i = 0; st && name && i < st->n_entries; i++)
		if (!strcmp(st->entries[i].name, name))
			return &st->entries[i];
	return NULL;
}

static const struct page *find_block(const struct page *live, uint32_t n,
				     uint16_t block)
{
	for (uint32_t i = 0; i < n; i++)
		if (live[i].block == block)
			return &live[i];
	return NULL;
}

/* Copies a value's slots into st->values. Returns whether every slot it
 * names exists and is a value slot. */
static int read_value(struct bk_tuya_store *st, const struct page *live,
		      uint32_t n_live, const uint8_t *idx, unsigned parts_at,
		      unsigned n_parts, struct bk_tuya_entry *e)
{
	uint32_t room = BK_TUYA_VALUES_MAX - st->values_used;
	uint32_t want = e->length < room ? e->length : room;
	uint8_t *out = st->values + st->values_used;
	uint32_t got = 0;
	int whole = e->length <= room;
	for (unsigned k = 0; k < n_parts && got < want; k++) {
		const uint8_t *part = idx + parts_at + 4 * k;
		const struct page *pg = find_block(live, n_live, le16(part));
		unsigned first = part[2], last = part[3];
		if (!pg || first < 1 || last >= SLOTS || first > last)
			return 0;
		for (unsigned s = first; s <= last && got < want; s++) {
			if (slot_is_index(pg, s))
				return 0;
			uint32_t n = want - got < BK_TUYA_SLOT ? want - got : BK_TUYA_SLOT;
			memcpy(out + got, pg->p + s * BK_TUYA_SLOT, n);
			got += n;
		}
	}
	e->value = st->values_used;
	e->have = got;
	st->values_used += got;
	return whole && got == e->length;
}

/* Index slot s of a live page: name, length, checksum, value parts. */
static void read_index(struct bk_tuya_store *st, const struct page *live,
		       uint32_t n_live, const struct page *pg, unsigned s)
{
	const uint8_t *idx = pg->p + s * BK_TUYA_SLOT;
	uint32_t crc = bk_beken_le32(idx);
	uint32_t length = bk_beken_le32(idx + 4);
	unsigned n_parts = le16(idx + 11);
	unsigned name_len = idx[17];
	unsigned parts_at = 18 + name_len;
	if (le16(idx + 8) != pg->block || idx[10] != s || name_len < 2 ||
	    parts_at + 4 * n_parts > BK_TUYA_SLOT || n_parts == 0) {
		st->index_bad++;
		return;
	}
	char name[BK_TUYA_NAME_MAX + 1];
	sanitize_name(idx + 18, name_len, name, sizeof name);
	if (!name[0]) {
		st->index_bad++;
		return;
	}
	/* An older copy under another block: the first one read stays, like
	 * the SDK's lookup, which walks blocks in order. */
	if (bk_tuya_entry(st, name))
		return;
	if (st->n_entries >= BK_TUYA_MAX_KEYS) {
		st->keys_dropped++;
		return;
	}
	struct bk_tuya_entry *e = &st->entries[st->n_entries++];
	memset(e, 0, sizeof *e);
	memcpy(e->name, name, sizeof e->name);
	e->length = length;
	int whole = read_value(st, live, n_live, idx, parts_at, n_parts, e);
	e->good = whole && sum32(st->values + e->value, e->have) == crc;
	st->n_good += (uint32_t)e->good;
}

int bk_tuya_decode(const uint8_t *buf, size_t size, uint32_t offset,
		   struct bk_tuya_store *st, struct bk_err *err)
{
	uint8_t material[16];
	if (!st)
		return bk_fail(err, BK_EINVAL, "tuya: no result struct");
	/* Everything but the two big buffers, which are written before read. */
	memset(st, 0, offsetof(struct bk_tuya_store, values));
	st->dmod = -1;
	st->offset = offset;
	if (!buf || offset > size || size - offset < BK_TUYA_PAGE)
		return bk_fail(err, BK_EINVAL, "tuya: no whole page at 0x%X", offset);
	if (!key_page(buf + offset, material))
		return bk_fail(err, BK_EINVAL, "tuya: the page at 0x%X is not a key page (magic or checksum wrong)",
			       offset);

	uint32_t avail = (uint32_t)((size - offset) / BK_TUYA_PAGE);
	uint32_t max_pages = avail < BK_TUYA_MAX_PAGES ? avail : BK_TUYA_MAX_PAGES;
	st->pages = 1;
	const struct key_parts *sdk = pick_sdk(buf, size, offset, max_pages, material);
	if (!sdk)
		return BK_OK; /* a key page and nothing readable after it */
	st->sdk = sdk->sdk;

	struct aes128_ctx ctx;
	data_key(sdk, material, &ctx);
	struct page live[BK_TUYA_MAX_PAGES];
	uint32_t n_live = 0, bad = 0;
	for (uint32_t i = 1; i < max_pages; i++) {
		uint8_t *p = st->plain + (size_t)i * BK_TUYA_PAGE;
		decrypt(&ctx, buf + offset + (size_t)i * BK_TUYA_PAGE, BK_TUYA_PAGE, p);
		if (!data_magic(p)) {
			/* Past the store, or a page of it gone bad: only a
			 * store page further on says which. */
			bad++;
			continue;
		}
		st->pages = i + 1;
		st->pages_bad += bad;
		bad = 0;
		struct page pg;
		read_page(p, &pg);
		st->pages_bad += (uint32_t)!pg.good;
		struct page *old = NULL;
		for (uint32_t k = 0; k < n_live; k++)
			if (live[k].block == pg.block)
				old = &live[k];
		if (!old)
			live[n_live++] = pg;
		else if (better(&pg, old))
			*old = pg;
	}
	st->blocks = n_live;
	for (uint32_t k = 0; k < n_live; k++)
		for (unsigned s = 1; s < SLOTS; s++)
			if (slot_is_index(&live[k], s))
				read_index(st, live, n_live, &live[k], s);
	return BK_OK;
}
