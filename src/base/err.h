/* Error codes and the context that travels with them.
 *
 * Every function that can fail returns 0 or a negative BK_E* code. One
 * struct bk_err belongs to each handle (struct bkspi) and every layer of
 * that handle's stack writes into it: the deepest layer that sees a failure
 * records the cause (and, where it knows it, the fix); each layer above may
 * prepend what it was doing. Front ends print the result once. */
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
	BK_ENOUSB = -16,     /* USB itself cannot be used here */
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

/* Prepends "<context>: " to the recorded message and returns code: the
 * caller's own failure, so a message recorded in another object (or none)
 * can never turn a failure into success. */
int bk_err_ctx(struct bk_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void bk_err_clear(struct bk_err *err);

/* "BK_EUSB" and the like, for logs and JSON. */
const char *bk_err_name(int code);

/* A short generic description, used when no message was recorded. */
const char *bk_strerror(int code);

/* True for failures worth retrying on an idempotent operation. */
int bk_err_transient(int code);

#endif
