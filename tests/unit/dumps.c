#include "dumps.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

const char *dumps_dir(void)
{
	const char *env = getenv("BKSPI_DUMPS");
	return env && *env ? env : "../shared/dumps";
}

int dumps_present(void)
{
	struct stat st;
	return stat(dumps_dir(), &st) == 0 && S_ISDIR(st.st_mode);
}

unsigned char *dumps_load(const char *name, size_t *size)
{
	char path[4096];
	if (snprintf(path, sizeof path, "%s/%s", dumps_dir(), name) >=
	    (int)sizeof path)
		return NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	unsigned char *buf = NULL;
	long n = -1;
	if (fseek(f, 0, SEEK_END) == 0)
		n = ftell(f);
	if (n > 0 && fseek(f, 0, SEEK_SET) == 0)
		buf = malloc((size_t)n);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf)
		*size = (size_t)n;
	return buf;
}
