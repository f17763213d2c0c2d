/* The command line: bk_parse_num on the input as one string, then
 * bk_args_parse on an argv made by splitting the input at NUL bytes. */
#include <getopt.h>
#include <string.h>

#include "cli/args.h"
#include "fuzz.h"

#define MAX_ARGS 24

static void parse_num(const char *s)
{
	static const uint64_t maxes[] = { 0, 1, 4095, 16u << 20, UINT64_MAX / 1024, UINT64_MAX };
	for (size_t i = 0; i < sizeof maxes / sizeof maxes[0]; i++) {
		uint64_t v = 0xA5A5A5A5A5A5A5A5u;
		int r = bk_parse_num(s, maxes[i], &v);
		FUZZ_CHECK(r == 0 || r == BK_EINVAL);
		if (r == 0) {
			FUZZ_CHECK(v <= maxes[i]);
			/* Only digits, one 0x prefix and one K/M suffix get in. */
			FUZZ_CHECK(strspn(s, "0123456789abcdefABCDEFxXkKmM") == strlen(s));
			FUZZ_CHECK(s[0] >= '0' && s[0] <= '9');
		} else {
			FUZZ_CHECK(v == 0xA5A5A5A5A5A5A5A5u);
		}
	}
}

/* glibc's getopt keeps a pointer into the last argv between calls and only
 * forgets it when optind is 0; start every input from that clean state. */
static void reset_getopt(void)
{
	static char prog[] = "bkspi";
	static char *argv[] = { prog, NULL };
	static const struct option none[] = { { NULL, 0, NULL, 0 } };
	optind = 0;
	opterr = 0;
	(void)getopt_long(1, argv, "", none, NULL);
}

/* What a parse produced, as text, so two parses compare with strcmp. */
struct outcome {
	int r;
	char text[16384];
};

static const char *str(const char *s)
{
	return s ? s : "(null)";
}

/* argv[0] is "bkspi"; each argument is its own allocation, so reading past
 * one is caught. */
static int parse_args(const uint8_t *data, size_t size, struct outcome *out)
{
	static char prog[] = "bkspi";
	char *argv[MAX_ARGS + 2] = { prog };
	int argc = 1;
	size_t at = 0;
	while (at < size && argc <= MAX_ARGS) {
		const uint8_t *nul = memchr(data + at, 0, size - at);
		size_t len = nul ? (size_t)(nul - (data + at)) : size - at;
		char *a = malloc(len + 1);
		if (!a)
			break;
		memcpy(a, data + at, len);
		a[len] = '\0';
		argv[argc++] = a;
		at += len + 1;
	}
	argv[argc] = NULL;

	struct bk_err err = { 0 };
	struct bk_opts opts, *o = &opts;
	int r = bk_args_parse(argc, argv, o, &err);
	out->r = r;
	FUZZ_CHECK(r == 0 || r == BK_EINVAL);
	FUZZ_CHECK_MSG(err);
	if (r == 0 && !o->help && !o->version) {
		FUZZ_CHECK(o->cmd != CMD_NONE && o->cmd_name);
		FUZZ_CHECK(!o->file || *o->file);
	}
	if (r == 0) {
		FUZZ_CHECK(!o->has_offset || o->offset <= 16u << 20);
		FUZZ_CHECK(!o->has_length || o->length <= 16u << 20);
		FUZZ_CHECK(o->programmer && (!strcmp(o->programmer, "ch341a") ||
					     !strcmp(o->programmer, "sim")));
		FUZZ_CHECK((o->keep_rf == 0 || o->keep_rf == 1) &&
			   (o->keep_tuya == 0 || o->keep_tuya == 1));
	} else {
		FUZZ_CHECK(err.code == r && err.msg[0]);
	}
	snprintf(out->text, sizeof out->text,
		 "%d|%s|%d %s %s %s %d|%llu %d %llu %d|%s|%d %d %d %d %d %d %d %d %d %d %d %d|%s|%s",
		 r, err.msg, (int)o->cmd, str(o->cmd_name), str(o->file), str(o->programmer),
		 (int)o->target, (unsigned long long)o->offset, o->has_offset,
		 (unsigned long long)o->length, o->has_length, str(o->label), o->no_backup,
		 o->no_verify, o->no_reset, o->force, o->json, o->quiet, o->verbose, o->keep_rf,
		 o->keep_tuya, o->confirm, o->help, o->version, str(o->sim_image), str(o->sim_config));
	for (int i = 1; i < argc; i++)
		free(argv[i]);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	parse_num(s);
	free(s);

	/* Twice over fresh copies of the same argv: the CLI parses once, but
	 * a parser that keeps state between calls answers differently (build
	 * with -DFUZZ_ARGS_ONCE to fuzz past such a finding). */
	static struct outcome a, b;
	reset_getopt();
	parse_args(data, size, &a);
#ifndef FUZZ_ARGS_ONCE
	parse_args(data, size, &b);
	FUZZ_CHECK(a.r == b.r);
	FUZZ_CHECK(strcmp(a.text, b.text) == 0);
#else
	(void)b;
#endif
	return 0;
}
