/* What a file handed to the writer is: bk_beken_classify on the input as a
 * file and on the flash image it describes (see image.h). */
#include <string.h>

#include "beken/beken.h"
#include "fuzz.h"
#include "image.h"

static void classify(const uint8_t *img, size_t size)
{
	struct bk_beken_class cls;
	struct bk_err err = { 0 };
	memset(&cls, 0x5A, sizeof cls);
	int r = bk_beken_classify(img, size, &cls, &err);
	FUZZ_CHECK_MSG(err);
	FUZZ_CHECK(r == BK_OK || (r == BK_EINVAL && size == 0));
	FUZZ_CHECK(cls.name != NULL && cls.name[0]);
	FUZZ_CHECK(cls.kind >= BK_BEKEN_IMG_UNKNOWN && cls.kind <= BK_BEKEN_IMG_UF2);
	FUZZ_CHECK(bk_beken_family_name(cls.family) != NULL);
	FUZZ_CHECK(cls.rotation == 0 || cls.rotation == BK_BEKEN_ROTATION);
	FUZZ_CHECK(cls.kind == BK_BEKEN_IMG_FULL || cls.rotation == 0);
	if (cls.kind == BK_BEKEN_IMG_FULL) {
		FUZZ_CHECK(size == 0x200000 || size == 0x400000);
		FUZZ_CHECK(cls.rotation == bk_beken_detect_rotation(img, size));
	}
	/* Where it belongs must leave room for it in a 4 MiB flash. */
	if (cls.flash_offset != BK_BEKEN_NONE)
		FUZZ_CHECK((uint64_t)cls.flash_offset + size <= 0x400000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* libFuzzer and replay.c both hand over a buffer of exactly size. */
	classify(data, size);

	size_t n;
	uint8_t *img = fuzz_image(data, size, &n);
	if (img) {
		classify(img, n);
		free(img);
	}
	return 0;
}
