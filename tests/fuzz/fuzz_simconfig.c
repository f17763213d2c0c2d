/* The simulator's settings string (--sim-config): emu_config_parse on the
 * input as one string. */
#include <string.h>

#include "emu/config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	struct emu_config c;
	struct bk_err err = { 0 };
	int r = emu_config_parse(&c, s, &err);
	FUZZ_CHECK_MSG(err);
	FUZZ_CHECK(r == 0 || r == BK_EINVAL || r == BK_ENOMEM);
	if (r == 0) {
		/* What the README's table promises about accepted settings. */
		FUZZ_CHECK(c.size >= 64u << 10 && c.size <= 16u << 20 && !(c.size & (c.size - 1)));
		FUZZ_CHECK(c.jedec <= 0xFFFFFF);
		FUZZ_CHECK(c.sr2 == 0 || c.sr2 == 1);
		FUZZ_CHECK(c.wrsr31 == 0 || c.wrsr31 == 1);
		FUZZ_CHECK(c.sfdp == 0 || c.sfdp == 1);
		FUZZ_CHECK(c.beken == 0 || c.beken == 1);
		FUZZ_CHECK(c.wp_locked == 0 || c.wp_locked == 1);
		FUZZ_CHECK(c.stuck_wip == 0 || c.stuck_wip == 1);
		FUZZ_CHECK(c.entry_fails <= 1000);
		FUZZ_CHECK(c.flip_ppm <= 1000000);
		FUZZ_CHECK(c.bad_byte >= -1 && c.bad_byte <= 16 << 20);
		FUZZ_CHECK(c.wire >= WIRE_OK && c.wire <= WIRE_CS_OPEN);
		FUZZ_CHECK(!c.image || strlen(c.image) <= size);
		emu_config_free(&c);
		FUZZ_CHECK(c.image == NULL);
	} else {
		FUZZ_CHECK(err.code == r && err.msg[0]);
		/* A refused string leaves nothing to free. */
		FUZZ_CHECK(c.image == NULL);
	}
	free(s);
	return 0;
}
