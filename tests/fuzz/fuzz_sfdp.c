/* SFDP: the header/parameter-header walk and the BFPT decoder on the input
 * and on slices of it, the two chained as bk_flash_probe chains them, and
 * bk_emu_sfdp_build's output read back. */
#include <string.h>

#include "emu/emu.h"
#include "fuzz.h"
#include "spi/chips.h"
#include "base/limits.h"
#include "spi/sfdp.h"
#include "emu/emu.h"

#define SFDP_SPACE (1u << 24)

static int is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

/* What bk_sfdp_parse_bfpt promises about a table it accepts. */
static void check_parsed(const struct bk_sfdp *s)
{
	FUZZ_CHECK(s->size >= BK_MIN_FLASH && s->size <= BK_MAX_FLASH);
	FUZZ_CHECK(s->size % 4096 == 0);
	FUZZ_CHECK(is_pow2(s->page_size) && s->page_size >= 16 && s->page_size <= 4096);
	FUZZ_CHECK(s->erase && !(s->erase & ~(BK_ERASE_4K | BK_ERASE_32K | BK_ERASE_64K)));
	static const uint8_t masks[3] = { BK_ERASE_4K, BK_ERASE_32K, BK_ERASE_64K };
	for (int i = 0; i < 3; i++) {
		int op = s->erase_op[i];
		FUZZ_CHECK((s->erase & masks[i]) ? op != 0x00 && op != 0xFF : op == 0);
	}
}

static int parse(const uint8_t *p, size_t n, struct bk_sfdp *s)
{
	struct bk_err err = { 0 };
	struct bk_sfdp out;
	memset(&out, 0x5A, sizeof out);
	int r = bk_sfdp_parse_bfpt(p, n, &out, &err);
	FUZZ_CHECK(r == 0 || r == BK_EINVAL);
	FUZZ_CHECK_MSG(err);
	if (r == 0) {
		check_parsed(&out);
		if (s)
			*s = out;
	} else {
		FUZZ_CHECK(err.msg[0]);
	}
	return r;
}

/* Exactly n bytes of their own, so a read past the slice is caught. */
static int parse_copy(const uint8_t *p, size_t n, struct bk_sfdp *s)
{
	uint8_t *c = malloc(n ? n : 1);
	if (!c)
		return BK_ENOMEM;
	memcpy(c, p, n);
	int r = parse(c, n, s);
	free(c);
	return r;
}

/* A table that parsed is rebuilt and must read back the same. */
static void round_trip(const struct bk_sfdp *s)
{
	uint8_t img[256];
	size_t n = bk_emu_sfdp_build(img, sizeof img, s->size, s->erase);
	FUZZ_CHECK(n > 0 && n <= sizeof img);
	struct bk_err err = { 0 };
	uint32_t at = 0, len = 0;
	FUZZ_CHECK(bk_sfdp_find_bfpt(img, n, &at, &len, &err) == 0);
	FUZZ_CHECK(at + len <= n);
	struct bk_sfdp back;
	FUZZ_CHECK(parse_copy(img + at, len, &back) == 0);
	FUZZ_CHECK(back.size == s->size && back.erase == s->erase && back.page_size == 256);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bk_err err = { 0 };
	uint32_t at = 0xDEADBEEF, len = 0xDEADBEEF;

	/* The input as SFDP space from address 0: headers, then the BFPT
	 * wherever they point (cut to 256 bytes as bk_flash_probe reads it). */
	int r = bk_sfdp_find_bfpt(data, size, &at, &len, &err);
	FUZZ_CHECK(r == 0 || r == BK_EINVAL);
	FUZZ_CHECK_MSG(err);
	if (r == 0) {
		FUZZ_CHECK(len >= 36 && len <= 4 * 255 && len % 4 == 0);
		FUZZ_CHECK(at >= 16 && at < SFDP_SPACE && at + len <= SFDP_SPACE);
		/* bk_flash_probe reads the header as 64 bytes: the same bytes cut
		 * there must still be accepted or refused cleanly. */
		uint32_t at64, len64;
		if (size >= 64)
			(void)bk_sfdp_find_bfpt(data, 64, &at64, &len64, &err);
		if (at < size) {
			size_t n = size - at < len ? size - at : len;
			struct bk_sfdp s;
			if (parse_copy(data + at, n > 256 ? 256 : n, &s) == 0)
				round_trip(&s);
			(void)parse_copy(data + at, n, NULL);
		}
	} else {
		FUZZ_CHECK(at == 0xDEADBEEF && len == 0xDEADBEEF);
		FUZZ_CHECK(err.msg[0]);
	}

	/* The input as a BFPT, whole and from a few offsets. */
	struct bk_sfdp s;
	if (parse_copy(data, size, &s) == 0)
		round_trip(&s);
	static const size_t offs[] = { 1, 4, 8, 16, 48 };
	for (size_t i = 0; i < sizeof offs / sizeof offs[0] && offs[i] < size; i++)
		(void)parse_copy(data + offs[i], size - offs[i], NULL);
	if (size >= 2) {
		size_t off = data[0] % size, n = data[1];
		(void)parse_copy(data + off, n < size - off ? n : size - off, NULL);
	}

	/* The builder with whatever size and erase mask: when it builds, the
	 * result parses unless the size is one the parser refuses. */
	if (size >= 5) {
		uint32_t want = le32(data);
		uint8_t erase = data[4];
		uint8_t img[256];
		size_t n = bk_emu_sfdp_build(img, data[4] & 0x80 ? 80 : sizeof img, want, erase);
		FUZZ_CHECK(n <= sizeof img);
		if (n) {
			FUZZ_CHECK(bk_sfdp_find_bfpt(img, n, &at, &len, &err) == 0);
			FUZZ_CHECK(at + len <= n);
			int ok = want >= 64u << 10 && want <= 16u << 20 && want % 4096 == 0 &&
				 (erase & (BK_ERASE_4K | BK_ERASE_32K | BK_ERASE_64K));
			r = parse_copy(img + at, len, &s);
			FUZZ_CHECK((r == 0) == !!ok);
			if (r == 0)
				FUZZ_CHECK(s.size == want &&
					   s.erase == (erase & (BK_ERASE_4K | BK_ERASE_32K | BK_ERASE_64K)));
		}
	}
	return 0;
}
