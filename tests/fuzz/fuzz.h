/* Shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c) and replay.c,
 * which runs a harness over saved inputs without clang or libFuzzer.
 *
 * A harness feeds one input to a parser of outside data. Besides what the
 * sanitizers see, it checks the parser's documented promises with
 * FUZZ_CHECK, which aborts: a broken promise is a finding too. */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                        \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n",  \
				__FILE__, __LINE__, #cond);                     \
			abort();                                                \
		}                                                               \
	} while (0)

/* A bk_err message is a NUL-terminated string inside its array. */
#define FUZZ_CHECK_MSG(e) FUZZ_CHECK(memchr((e).msg, '\0', sizeof (e).msg) != NULL)

#endif
