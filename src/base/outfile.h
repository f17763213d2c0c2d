/* Output files (dumps, backups, templates).
 *
 * A file appears under its final name only when complete: it is written to
 * <name>.partial, created exclusively and private (0600), synced, then
 * linked or renamed into place. No name is ever followed if it is a
 * symlink, and nothing but a regular file is ever replaced, so a link or a
 * device node planted at the name is refused instead of written through.
 * Every problem with the path itself is BK_EINVAL or BK_EEXIST (exit 2)
 * and names the path and the fix. */
#ifndef BK_BASE_OUTFILE_H
#define BK_BASE_OUTFILE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

enum bk_out_flags {
	BK_OUT_REPLACE = 1,  /* an existing regular file may be replaced (--force) */
	BK_OUT_UNIQUE = 2,   /* a taken name becomes <stem>_2<ext>, _3, ... instead of failing */
	BK_OUT_PRIVATE = 4,  /* the folder must be the user's own: no symlink, not writable by others */
};

/* Everything that can be known before the work: the folder exists (or can
 * be made), is a folder, can be written; the name and its ".partial" fit
 * NAME_MAX; whatever is at path is a regular file the flags allow to be
 * replaced. Nothing is created. */
int bk_outfile_check(const char *path, int flags, struct bk_err *err);

/* The same for a folder that will receive files whose names are at most
 * name_len bytes. With BK_OUT_PRIVATE an existing folder must not be a
 * symlink, must belong to the user and not be writable by group or others. */
int bk_outdir_check(const char *dir, size_t name_len, int flags, struct bk_err *err);

/* Creates dir (0700, parents as needed) and checks it as above. */
int bk_outdir_make(const char *dir, int flags, struct bk_err *err);

/* Writes data to path through path.partial. */
int bk_outfile_write(const char *path, const uint8_t *data, size_t len, int flags, struct bk_err *err);

/* The same with BK_OUT_UNIQUE: path (a buffer of cap bytes) may change to
 * the name really used, even when another process took it meanwhile. */
int bk_outfile_write_unique(char *path, size_t cap, const uint8_t *data, size_t len, int flags,
			    struct bk_err *err);

/* Creates a directory and its parents (0755: for folders that hold no
 * secrets, like the simulator's state). */
int bk_mkdirs(const char *dir, struct bk_err *err);

#endif
