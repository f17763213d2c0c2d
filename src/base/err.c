#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
	int code;
	const char *name;
	const char *text;
} table[] = {
	{ BK_OK, "BK_OK", "success" },
	{ BK_EINVAL, "BK_EINVAL", "invalid argument or input" },
	{ BK_EEXIST, "BK_EEXIST", "output file exists" },
	{ BK_EFILE, "BK_EFILE", "file error" },
	{ BK_ENOMEM, "BK_ENOMEM", "out of memory" },
	{ BK_EREFUSED, "BK_EREFUSED", "refused: unsafe image" },
	{ BK_ENODEV, "BK_ENODEV", "programmer not found" },
	{ BK_EACCESS, "BK_EACCESS", "programmer not accessible" },
	{ BK_EBUSY, "BK_EBUSY", "programmer busy" },
	{ BK_EUSB, "BK_EUSB", "USB transfer failed" },
	{ BK_ETIMEDOUT, "BK_ETIMEDOUT", "USB transfer timed out" },
	{ BK_EGONE, "BK_EGONE", "programmer disconnected" },
	{ BK_ENOUSB, "BK_ENOUSB", "USB unavailable" },
	{ BK_ENOCHIP, "BK_ENOCHIP", "target did not answer" },
	{ BK_EFLASH, "BK_EFLASH", "flash operation failed" },
	{ BK_EPROTECT, "BK_EPROTECT", "flash write-protected" },
	{ BK_EVERIFY, "BK_EVERIFY", "verify mismatch" },
	{ BK_EUNSTABLE, "BK_EUNSTABLE", "reads do not agree" },
	{ BK_EINTR, "BK_EINTR", "interrupted" },
};

static size_t find(int code)
{
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (table[i].code == code)
			return i;
	return 0;
}

int bk_fail(struct bk_err *err, int code, const char *fmt, ...)
{
	if (!err)
		return code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	err->code = code;
	return code;
}

int bk_err_ctx(struct bk_err *err, int code, const char *fmt, ...)
{
	if (!err)
		return code;
	char msg[sizeof err->msg];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	size_t at = n < 0 ? 0 : (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1;
	const char *old = err->msg[0] && err->code == code ? err->msg : bk_strerror(code);
	/* Truncating the tail keeps the context, which names what failed. */
	for (const char *p = ": "; *p && at < sizeof msg - 1; p++)
		msg[at++] = *p;
	size_t left = sizeof msg - 1 - at, len = strlen(old);
	memcpy(msg + at, old, len < left ? len : left);
	msg[at + (len < left ? len : left)] = '\0';
	memcpy(err->msg, msg, sizeof msg);
	err->code = code;
	return code;
}

void bk_err_clear(struct bk_err *err)
{
	err->code = BK_OK;
	err->msg[0] = '\0';
}

const char *bk_err_name(int code)
{
	size_t i = find(code);
	return table[i].code == code ? table[i].name : "BK_E?";
}

const char *bk_strerror(int code)
{
	size_t i = find(code);
	return table[i].code == code ? table[i].text : "unknown error";
}

int bk_err_transient(int code)
{
	return code == BK_EUSB || code == BK_ETIMEDOUT;
}
