/* The Tuya store decoder: bk_tuya_read on the input as it is, and
 * bk_tuya_decode on the input read as 16 bytes of key material followed
 * by plaintext data pages, which the harness encrypts (behind a key page it
 * builds) so that mutations reach the page, index and value parsing instead
 * of dying in AES. */
#include <nettle/aes.h>
#include <string.h>

#include "beken/tuya.h"
#include "fuzz.h"

static struct bk_tuya_store *st;

static void check(const struct bk_tuya_store *s, size_t size)
{
	FUZZ_CHECK(s->pages >= 1 && s->pages <= BK_TUYA_MAX_PAGES);
	FUZZ_CHECK((uint64_t)s->offset + (uint64_t)s->pages * BK_TUYA_PAGE <= size);
	FUZZ_CHECK(s->pages_bad < s->pages);
	FUZZ_CHECK(s->n_good <= s->n_entries && s->n_entries <= BK_TUYA_MAX_KEYS);
	FUZZ_CHECK(s->values_used <= BK_TUYA_VALUES_MAX);
	FUZZ_CHECK(s->n_pins <= BK_TUYA_MAX_PINS);
	FUZZ_CHECK(memchr(s->module, '\0', sizeof s->module) != NULL);
	for (uint32_t i = 0; i < s->n_entries; i++) {
		const struct bk_tuya_entry *e = &s->entries[i];
		FUZZ_CHECK(e->name[0] && memchr(e->name, '\0', sizeof e->name));
		FUZZ_CHECK(e->have <= e->length && (uint64_t)e->value + e->have <= s->values_used);
		FUZZ_CHECK(!e->good || e->have == e->length);
	}
	for (uint32_t i = 0; i < s->n_pins; i++) {
		FUZZ_CHECK(s->pins[i].role != NULL && s->pins[i].key[0]);
		FUZZ_CHECK(s->pins[i].level >= -1 && s->pins[i].level <= 255);
		FUZZ_CHECK(i == 0 || s->pins[i - 1].gpio <= s->pins[i].gpio);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!st && !(st = malloc(sizeof *st)))
		return 0;
	struct bk_err err = { 0 };
	int r = bk_tuya_read(data, size, st, &err);
	FUZZ_CHECK_MSG(err);
	FUZZ_CHECK(r == BK_OK || r == BK_EINVAL);
	if (!r)
		check(st, size);

	/* The key page carries the input's first 16 bytes as key material;
	 * the rest are plaintext pages, encrypted with the key derived from it
	 * (a partial last page stays as it is). */
	if (size < 16)
		return 0;
	size_t n = size - 16 + BK_TUYA_PAGE;
	uint8_t *buf = malloc(n);
	if (!buf)
		return 0;
	uint8_t page[BK_TUYA_PAGE];
	memset(page, 0xFF, sizeof page);
	uint32_t sum = 0;
	for (int i = 0; i < 16; i++)
		sum += data[i];
	const uint32_t words[2] = { 0x13579753u, sum };
	for (int i = 0; i < 8; i++)
		page[i] = (uint8_t)(words[i / 4] >> (8 * (i % 4)));
	memcpy(page + 8, data, 16);
	struct aes128_ctx ctx;
	aes128_set_encrypt_key(&ctx, (const uint8_t *)"qwertyuiopasdfgh");
	aes128_encrypt(&ctx, sizeof page, buf, page);
	memcpy(buf + BK_TUYA_PAGE, data + 16, size - 16);
	static const char p1[] = "8710", p2[] = "HHRRQbyemofrtytf";
	uint8_t key[16];
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)(p1[i % 4] + p2[i] + data[i]);
	aes128_set_encrypt_key(&ctx, key);
	size_t whole = (size - 16) / BK_TUYA_PAGE * BK_TUYA_PAGE;
	aes128_encrypt(&ctx, whole, buf + BK_TUYA_PAGE, buf + BK_TUYA_PAGE);
	err = (struct bk_err){ 0 };
	r = bk_tuya_decode(buf, n, 0, st, &err);
	if (!r)
		bk_tuya_parse_config(st);
	FUZZ_CHECK_MSG(err);
	FUZZ_CHECK(r == BK_OK);
	check(st, n);
	free(buf);
	return 0;
}
