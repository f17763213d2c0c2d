/* Output files appear under their final name only when complete. */
#ifndef BK_BASE_OUTFILE_H
#define BK_BASE_OUTFILE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Fails with BK_EEXIST (naming --force) when path exists and !force. */
int bk_outfile_check(const char *path, int force, struct bk_err *err);

/* Writes path.partial, syncs it and renames it to path. */
int bk_outfile_write(const char *path, const uint8_t *data, size_t len, int force,
		     struct bk_err *err);

/* True when something (even a dangling symlink) is at path. */
int bk_outfile_exists(const char *path);

/* Creates a directory and its parents. */
int bk_mkdirs(const char *dir, struct bk_err *err);

#endif
