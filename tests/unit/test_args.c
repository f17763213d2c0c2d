/* Number and option parsing: every malformed input is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "cli/args.h"

static void numbers(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		uint64_t want;
	} ok[] = {
		{ "0", 0 }, { "4096", 4096 }, { "0x1000", 0x1000 }, { "0X1f", 0x1F }, { "4K", 4096 },
		{ "4k", 4096 }, { "2M", 2u << 20 }, { "0x10K", 0x4000 }, { "16M", 16u << 20 },
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		uint64_t v = 1;
		if (bk_parse_num(ok[i].in, 16u << 20, &v) || v != ok[i].want)
			fail_msg("'%s' gave %llu", ok[i].in, (unsigned long long)v);
	}
	static const char *const bad[] = {
		"", "-1", "+1", " 1", "1 ", "0x", "12Q", "1KK", "K", "0xG", "1.5M", "17M", "99999999999999999999999",
		"0x10000000000000000", "18446744073709551615", "1e3",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint64_t v;
		if (!bk_parse_num(bad[i], 16u << 20, &v))
			fail_msg("'%s' was accepted", bad[i]);
	}
	uint64_t v;
	assert_int_equal(bk_parse_num(NULL, 1, &v), BK_EINVAL);
}

static int parse(struct bk_opts *o, struct bk_err *e, const char *const *argv)
{
	int argc = 0;
	char *copy[16];
	while (argv[argc]) {
		copy[argc] = (char *)argv[argc];
		argc++;
	}
	copy[argc] = NULL;
	return bk_args_parse(argc, copy, o, e);
}

static void options_and_commands(void **state)
{
	(void)state;
	struct bk_opts o;
	struct bk_err e = { 0 };
	const char *a1[] = { "bkspi", "-p", "sim", "write", "img.bin", "--offset", "0x11000", "--no-backup", NULL };
	assert_int_equal(parse(&o, &e, a1), 0);
	assert_int_equal(o.cmd, CMD_WRITE);
	assert_string_equal(o.file, "img.bin");
	assert_int_equal(o.offset, 0x11000);
	assert_true(o.no_backup);
	assert_string_equal(o.programmer, "sim");

	const char *a2[] = { "bkspi", "read", NULL };
	assert_int_equal(parse(&o, &e, a2), 0);
	assert_null(o.file);
	assert_int_equal(o.target, BKSPI_TARGET_BEKEN);

	const char *bad[][6] = {
		{ "bkspi", NULL },
		{ "bkspi", "frobnicate", NULL },
		{ "bkspi", "write", NULL },
		{ "bkspi", "--bogus", "read", NULL },
		{ "bkspi", "-p", "ft2232", "read", NULL },
		{ "bkspi", "-t", "esp", "read", NULL },
		{ "bkspi", "read", "a", "b", NULL },
		{ "bkspi", "read", "--offset", "-5", NULL },
		{ "bkspi", "read", "--length", NULL },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		bk_err_clear(&e);
		if (parse(&o, &e, bad[i]) != BK_EINVAL)
			fail_msg("case %zu accepted", i);
		assert_true(strlen(e.msg) > 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(numbers),
		cmocka_unit_test(options_and_commands),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
