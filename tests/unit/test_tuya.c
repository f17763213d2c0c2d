/* src/beken/tuya: synthetic stores built and encrypted here
 * (tuya_build.c), damaged and cut ones, and the real dumps.
 *
 * The dumps' expected values come from bk7231tools 2.1.2
 * (github.com/tuya-cloudcutter/bk7231tools, KVStorage, run with Debian's
 * python3-pycryptodome over each dump's whole store region): its key count
 * and its parsed user_param_key, whose *_pin and *_lv fields give gpio and
 * level; role and channel follow from the key name by bkspi's table. Only
 * names and numbers appear here and in failure output: the dumps' secrets
 * are never compared or printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beken/tuya.h"
#include "dumps.h"
#include "tuya_build.h"

#define PAGE 4096u

static struct bk_tuya_store *st;

static int setup(void **state)
{
	(void)state;
	st = malloc(sizeof *st);
	return st ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(st);
	return 0;
}

#define S(x) x, sizeof x - 1

static const char upk[] =
	"{Jsonver:1.0.0,module:CB2S,rl1_pin:26,rl1_lv:1,bt1_pin:10,bt1_lv:0,"
	"netled1_pin:8,netled1_lv:0,rl2_pin:6,crc:12}";
static const char secret_wsm[] = "{\"ssid\":\"PlantedNet\",\"passwd\":\"planted-secret-42\"}";

static const struct tuya_kv kvs_live[] = {
	{ "user_param_key", S(upk) },
	{ "gw_wsm", S(secret_wsm) },
	{ "wf_start_md", S("3") },
};

static const struct tuya_kv kvs_stale[] = {
	{ "user_param_key", S("{module:OLD1,rl1_pin:5}") },
};

static void expect_pin(const char *key, unsigned gpio, const char *role, unsigned ch, int level)
{
	for (uint32_t i = 0; i < st->n_pins; i++) {
		const struct bk_tuya_pin *p = &st->pins[i];
		if (strcmp(p->key, key))
			continue;
		assert_int_equal(p->gpio, gpio);
		assert_string_equal(p->role, role);
		assert_int_equal(p->channel, ch);
		assert_int_equal(p->level, level);
		return;
	}
	fail_msg("pin %s not found", key);
}

static uint8_t *synthetic(unsigned pages)
{
	uint8_t *buf = malloc((size_t)pages * PAGE);
	assert_non_null(buf);
	/* A stale copy of block 0 first: the live one has the higher sequence. */
	const struct tuya_block blocks[] = {
		{ 0, 3, kvs_stale, 1 },
		{ 0, 9, kvs_live, 3 },
	};
	assert_int_equal(tuya_build(buf, pages, blocks, 2), 0);
	return buf;
}

static void test_synthetic(void **state)
{
	(void)state;
	uint8_t *buf = synthetic(6);
	struct bk_err err = { 0 };
	assert_int_equal(bk_tuya_read(buf, 6 * PAGE, st, &err), 0);
	assert_int_equal(st->offset, 0);
	assert_int_equal(st->pages, 6);
	assert_int_equal(st->pages_bad, 0);
	assert_int_equal(st->n_entries, 3);
	assert_int_equal(st->n_good, 3);
	assert_string_equal(st->module, "CB2S");
	assert_int_equal(st->n_pins, 4);
	expect_pin("rl1_pin", 26, "relay", 1, 1);
	expect_pin("bt1_pin", 10, "button", 1, 0);
	expect_pin("netled1_pin", 8, "wifi_led", 1, 0);
	expect_pin("rl2_pin", 6, "relay", 2, -1);
	/* Sorted by GPIO. */
	assert_int_equal(st->pins[0].gpio, 6);
	assert_int_equal(st->pins[3].gpio, 26);
	/* Active-low button and Wi-Fi LED in OpenBeken's names. */
	assert_string_equal(st->pins[1].obk_role, "WifiLED_n");
	assert_string_equal(st->pins[2].obk_role, "Btn");
	const struct bk_tuya_entry *e = bk_tuya_entry(st, "gw_wsm");
	assert_non_null(e);
	assert_int_equal(e->length, sizeof secret_wsm - 1);
	assert_true(e->good);
	free(buf);
}

static void test_found_inside_image(void **state)
{
	(void)state;
	const size_t size = 64 * PAGE, at = 40 * PAGE;
	uint8_t *img = malloc(size);
	assert_non_null(img);
	memset(img, 0xFF, size);
	uint8_t *buf = synthetic(6);
	memcpy(img + at, buf, 6 * PAGE);
	struct bk_err err = { 0 };
	assert_int_equal(bk_tuya_read(img, size, st, &err), 0);
	assert_int_equal(st->offset, at);
	/* Erased pages after the store are not part of it. */
	assert_int_equal(st->pages, 6);
	assert_string_equal(st->module, "CB2S");
	free(buf);
	free(img);
}

static void test_none(void **state)
{
	(void)state;
	uint8_t img[3 * PAGE];
	memset(img, 0xFF, sizeof img);
	struct bk_err err = { 0 };
	assert_int_equal(bk_tuya_read(img, sizeof img, st, &err), BK_EINVAL);
	assert_non_null(strstr(err.msg, "no Tuya"));
	assert_int_equal(bk_tuya_read(NULL, 0, st, &err), BK_EINVAL);
	assert_int_equal(bk_tuya_read(img, 10, st, &err), BK_EINVAL);
	assert_int_equal(bk_tuya_decode(img, sizeof img, 0, st, &err), BK_EINVAL);
	assert_int_equal(bk_tuya_decode(img, sizeof img, 5 * PAGE, st, &err), BK_EINVAL);
}

/* One flipped ciphertext byte in the live data page: its checksum fails,
 * which is counted, and nothing reads out of bounds. */
static void test_corrupt_page(void **state)
{
	(void)state;
	uint8_t *buf = synthetic(6);
	buf[2 * PAGE + 1000] ^= 0x40;
	struct bk_err err = { 0 };
	assert_int_equal(bk_tuya_read(buf, 6 * PAGE, st, &err), 0);
	assert_int_equal(st->pages, 6);
	assert_int_equal(st->pages_bad, 1);
	/* The good stale copy wins over the damaged newer one. */
	assert_string_equal(st->module, "OLD1");
	free(buf);
}

/* A damaged value slot: the page checksum and the value checksum both say so. */
static void test_corrupt_value(void **state)
{
	(void)state;
	const struct tuya_block blocks[] = { { 0, 9, kvs_live, 3 } };
	uint8_t *buf = malloc(4 * PAGE);
	assert_non_null(buf);
	assert_int_equal(tuya_build(buf, 4, blocks, 1), 0);
	buf[PAGE + 2 * 128 + 5] ^= 1; /* user_param_key's first value slot */
	struct bk_err err = { 0 };
	assert_int_equal(bk_tuya_read(buf, 4 * PAGE, st, &err), 0);
	assert_int_equal(st->pages_bad, 1);
	assert_int_equal(st->n_entries, 3);
	assert_int_equal(st->n_good, 2);
	assert_false(bk_tuya_entry(st, "user_param_key")->good);
	free(buf);
}

static void test_corrupt_key_page(void **state)
{
	(void)state;
	uint8_t *buf = synthetic(4);
	buf[3] ^= 0x01;
	struct bk_err err = { 0 };
	assert_int_equal(bk_tuya_decode(buf, 4 * PAGE, 0, st, &err), BK_EINVAL);
	assert_non_null(strstr(err.msg, "not a key page"));
	assert_int_equal(bk_tuya_read(buf, 4 * PAGE, st, &err), BK_EINVAL);
	free(buf);
}

/* Every cut of the store, at odd lengths too: never a crash, and a store
 * is reported whenever its key page is whole. */
static void test_truncated(void **state)
{
	(void)state;
	uint8_t *buf = synthetic(6);
	for (size_t n = 0; n <= 6 * PAGE; n += 509) {
		uint8_t *cut = malloc(n ? n : 1);
		assert_non_null(cut);
		memcpy(cut, buf, n);
		struct bk_err err = { 0 };
		int r = bk_tuya_read(cut, n, st, &err);
		assert_int_equal(r, n >= PAGE ? 0 : BK_EINVAL);
		if (!r)
			assert_true(st->pages <= n / PAGE);
		free(cut);
	}
	/* Only the stale copy survives a cut after page 2. */
	assert_int_equal(bk_tuya_read(buf, 2 * PAGE, st, NULL), 0);
	assert_string_equal(st->module, "OLD1");
	free(buf);
}

static void test_secrets(void **state)
{
	(void)state;
	assert_true(bk_tuya_is_secret_key("gw_wsm"));
	assert_true(bk_tuya_is_secret_key("gw_ai"));
	assert_true(bk_tuya_is_secret_key("something_new"));
	assert_false(bk_tuya_is_secret_key("user_param_key"));
	assert_true(bk_tuya_is_secret_field("passwd", 6));
	assert_true(bk_tuya_is_secret_field("\"ssid\"", 6));
	assert_true(bk_tuya_is_secret_field("local_KEY", 9));
	assert_false(bk_tuya_is_secret_field("rl1_pin", 7));
	assert_false(bk_tuya_is_secret_field("module", 6));
}

/* ---- the real dumps --------------------------------------------------- */

struct pin_expect {
	const char *key;
	unsigned gpio;
	const char *role;
	unsigned channel;
	int level;
};

struct dump_expect {
	const char *file;
	uint32_t offset;
	uint32_t entries;
	const char *module;
	struct pin_expect pins[12];
};

/* From bk7231tools 2.1.2 (see the top of this file). */
static const struct dump_expect dumps[] = {
	{ "bk7231t-tuya-ds-101jl-4gang-switch.bin", 0x1EE000, 6, "WB3S",
	  { { "bt1_pin", 24, "button", 1, 0 }, { "bt2_pin", 10, "button", 2, 0 },
	    { "bt3_pin", 8, "button", 3, 0 }, { "bt4_pin", 14, "button", 4, 0 },
	    { "netled_pin", 1, "wifi_led", 0, 0 }, { "rl1_pin", 6, "relay", 1, 1 },
	    { "rl2_pin", 9, "relay", 2, 1 }, { "rl3_pin", 7, "relay", 3, 1 },
	    { "rl4_pin", 26, "relay", 4, 1 } } },
	{ "bk7231n-moes-wk-us2-tc-outlet.bin", 0x1EE000, 11, "CB2S",
	  { { "bt1_pin", 11, "button", 1, 0 }, { "bt2_pin", 24, "button", 2, 0 },
	    { "netled1_pin", 10, "wifi_led", 1, 0 }, { "rl1_pin", 26, "relay", 1, 1 },
	    { "rl2_pin", 8, "relay", 2, 1 }, { "rl3_pin", 6, "relay", 3, 1 },
	    { "rl4_pin", 7, "relay", 4, 1 } } },
	{ "bk7231t-led-moon-18w-cct-rotated.bin", 0x1DD000, 6, "WB3L",
	  { { "c_pin", 7, "pwm_cold", 4, 1 }, { "ctrl_pin", 14, "control", 0, 1 },
	    { "w_pin", 6, "pwm_warm", 5, 1 } } },
	{ "bk7231t-tuya-config-pc44ha-72k.bin", 0, 11, "WB2S",
	  { { "bt1_pin", 10, "button", 1, 0 }, { "ele_pin", 7, "power_cf", 0, -1 },
	    { "led1_pin", 11, "led", 1, 0 }, { "netled1_pin", 6, "wifi_led", 1, 0 },
	    { "rl1_pin", 26, "relay", 1, 1 }, { "sel_pin_pin", 24, "power_sel", 0, 0 },
	    { "vi_pin", 8, "power_cf1", 0, -1 } } },
	{ "bk7231t-globe-37783-rgbct-bulb.bin", 0x1EE000, 6, "WB3L",
	  { { "iicscl", 8, "i2c_scl", 0, -1 }, { "iicsda", 26, "i2c_sda", 0, -1 } } },
	{ "bk7231n-kanlux-33643-gu10-bulb.bin", 0x1EE000, 6, "CBLC5",
	  { { "iicscl", 26, "i2c_scl", 0, -1 }, { "iicsda", 24, "i2c_sda", 0, -1 } } },
};

static void test_dumps(void **state)
{
	(void)state;
	if (!dumps_present()) {
		printf("skip: %s not found\n", dumps_dir());
		skip();
	}
	for (size_t d = 0; d < sizeof dumps / sizeof dumps[0]; d++) {
		const struct dump_expect *x = &dumps[d];
		size_t size;
		unsigned char *img = dumps_load(x->file, &size);
		if (!img)
			fail_msg("cannot read %s/%s", dumps_dir(), x->file);
		struct bk_err err = { 0 };
		int r = bk_tuya_read(img, size, st, &err);
		free(img);
		if (r)
			fail_msg("%s: %s", x->file, err.msg);
		assert_int_equal(st->offset, x->offset);
		/* The whole store: key page and 17 data pages on every one. */
		assert_int_equal(st->pages, 18);
		assert_int_equal(st->pages_bad, 0);
		assert_int_equal(st->n_entries, x->entries);
		assert_int_equal(st->n_good, x->entries);
		assert_string_equal(st->module, x->module);
		size_t n = 0;
		while (n < 12 && x->pins[n].key)
			n++;
		if (st->n_pins != n)
			fail_msg("%s: %u pins, expected %zu", x->file, st->n_pins, n);
		for (size_t i = 0; i < n; i++)
			expect_pin(x->pins[i].key, x->pins[i].gpio, x->pins[i].role, x->pins[i].channel,
				   x->pins[i].level);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_synthetic),
		cmocka_unit_test(test_found_inside_image),
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_corrupt_page),
		cmocka_unit_test(test_corrupt_value),
		cmocka_unit_test(test_corrupt_key_page),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_secrets),
		cmocka_unit_test(test_dumps),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
