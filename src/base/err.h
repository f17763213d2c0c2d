/* Error codes and the context that travels with them.
 *
 * Every function that can fail returns 0 or a negative BK_E* code. The
 * deepest layer that sees a failure writes the cause (and, where it knows it,
 * the fix) into the caller's struct bk_err; each layer above may prepend
 * what it was doing. The CLI prints the result once, as one line. */
#ifndef BK_BASE_ERR_H
#define BK_BASE_ERR_H

#include <stddef.h>

enum bk_status {
	BK_OK = 0,
	BK_EINVAL = -1,      /* bad argument, option or input file */
	BK_EEXIST = -2,      /* output exists and --force not given */
	BK_EFILE = -3,       /* reading or writing a host file failed */
	BK_ENOMEM = -4,
	BK_EREFUSED = -5,    /* the input is not safe to write as asked */
	BK_ENODEV = -10,     /* no programmer found */
	BK_EACCESS = -11,    /* programmer found but not accessible */
	BK_EBUSY = -12,      /* programmer claimed by someone else */
	BK_EUSB = -13,       /* USB transfer failed */
	BK_ETIMEDOUT = -14,  /* USB transfer timed out */
	BK_EGONE = -15,      /* programmer disconnected */
	BK_ENOCHIP = -20,    /* target did not answer: entry failed, no flash ID */
	BK_EFLASH = -30,     /* flash operation failed (stuck busy, unsupported) */
	BK_EPROTECT = -31,   /* write protection could not be cleared */
	BK_EVERIFY = -32,    /* read-back differs from what was written */
	BK_EUNSTABLE = -33,  /* two reads of the same range never agreed */
	BK_EINTR = -40,      /* interrupted by the user */
};

struct bk_err {
	int code;
	char msg[512];
};

/* Records the cause and returns code, so a failure is one statement:
 *   return bk_fail(err, BK_EUSB, "bulk OUT: %s", why); */
int bk_fail(struct bk_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepends "<context>: " to the recorded message; returns err->code. */
int bk_err_ctx(struct bk_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void bk_err_clear(struct bk_err *err);

/* "BK_EUSB" and the like, for logs and JSON. */
const char *bk_err_name(int code);

/* A short generic description, used when no message was recorded. */
const char *bk_strerror(int code);

/* True for failures worth retrying on an idempotent operation. */
int bk_err_transient(int code);

#endif
