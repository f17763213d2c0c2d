/* Real flash dumps for tests: ../shared/dumps from the working directory,
 * or the folder named by $BKSPI_DUMPS. */
#ifndef TESTS_UNIT_DUMPS_H
#define TESTS_UNIT_DUMPS_H

#include <stddef.h>

const char *dumps_dir(void);

/* Whether the folder exists at all: without it, dump tests skip. */
int dumps_present(void);

/* The whole file, malloc'd (free it); NULL when it cannot be read. */
unsigned char *dumps_load(const char *name, size_t *size);

#endif
