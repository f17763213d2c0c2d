/* The page's C glue: a few exported calls over the handle API
 * (include/bkspi.h), each returning its report as a JSON string and
 * sending the same log lines the command line prints to the page. The
 * page never runs a step itself; it only collects files and clicks.
 *
 * The programmer is the CH341A driver; in the web build its USB opener
 * goes through WebUSB (src/usb/webusb.c). */
#include <emscripten.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "web/api.h"
#include "bkspi.h"
#include "ui/ui.h"

#define BACKUP_DIR "/backups"

struct web {
	bkspi *h;
	int target;
	uint64_t started_us;
	char *json;          /* the last report */
	size_t json_len, json_cap;
	uint8_t *data;       /* what the last read brought back */
	uint32_t data_len;
	char backup[256];    /* the last backup's path in the in-memory file system */
	char hint[320];      /* how to finish a job a fault stopped; ends the message */
	volatile sig_atomic_t cancel;
	struct bk_ui ui;
	char closers[16];    /* '}' or ']' for each JSON level the renderer opened */
	int depth;
};

/* clang-format off */
EM_JS(void, page_line, (const char *text), {
	if (Module.bkLine) Module.bkLine(UTF8ToString(text));
});

EM_JS(void, page_progress, (const char *phase, double done, double total, double now_us), {
	if (Module.bkProgress) Module.bkProgress(UTF8ToString(phase), done, total, now_us);
});
/* clang-format on */

static void line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void line(const char *fmt, ...)
{
	char buf[640];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	page_line(buf);
}

/* ---- JSON ------------------------------------------------------------ */

static void json_reset(struct web *w)
{
	w->json_len = 0;
	if (w->json)
		w->json[0] = 0;
}

static void jraw(struct web *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jraw(struct web *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (w->json_len + (size_t)n + 1 > w->json_cap) {
		size_t cap = (w->json_len + (size_t)n + 1) * 2;
		char *j = realloc(w->json, cap);
		if (!j)
			return;
		w->json = j;
		w->json_cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(w->json + w->json_len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	w->json_len += (size_t)n;
}

/* A JSON string member: "key":"value", with the value escaped. */
static void jstr(struct web *w, const char *key, const char *v)
{
	jraw(w, "\"%s\":\"", key);
	for (const unsigned char *p = (const unsigned char *)(v ? v : ""); *p; p++) {
		if (*p == '"' || *p == '\\')
			jraw(w, "\\%c", *p);
		else if (*p < 0x20)
			jraw(w, "\\u%04x", *p);
		else
			jraw(w, "%c", *p);
	}
	jraw(w, "\",");
}

static void jnum(struct web *w, const char *key, double v)
{
	jraw(w, "\"%s\":%.0f,", key, v);
}

/* ---- the renderer's sink (src/ui): the page's log and this JSON ------- */

static void ui_line(void *user, const char *text)
{
	(void)user;
	page_line(text);
}

static void ui_warn(void *user, const char *text)
{
	(void)user;
	line("warning     %s", text);
}

static void ui_open(struct web *w, const char *key, char open, char close)
{
	if (key)
		jraw(w, "\"%s\":%c", key, open);
	else
		jraw(w, "%c", open);
	if (w->depth < (int)sizeof w->closers)
		w->closers[w->depth++] = close;
}

static void ui_begin(void *user, const char *key)
{
	ui_open(user, key, '{', '}');
}

static void ui_begin_array(void *user, const char *key)
{
	ui_open(user, key, '[', ']');
}

static void ui_end(void *user)
{
	struct web *w = user;
	if (!w->depth)
		return;
	if (w->json_len && w->json[w->json_len - 1] == ',')
		w->json_len--;
	jraw(w, "%c,", w->closers[--w->depth]);
}

static void ui_str(void *user, const char *key, const char *v)
{
	struct web *w = user;
	if (!key)
		key = "";
	if (v)
		jstr(w, key, v);
	else
		jraw(w, "\"%s\":null,", key);
}

static void ui_num(void *user, const char *key, int64_t v)
{
	jraw(user, "\"%s\":%lld,", key, (long long)v);
}

static void ui_flag(void *user, const char *key, int v)
{
	jraw(user, "\"%s\":%s,", key, v ? "true" : "false");
}

static void ui_init(struct web *w)
{
	w->ui = (struct bk_ui){ .user = w, .line = ui_line, .warn = ui_warn, .begin = ui_begin,
				.begin_array = ui_begin_array, .end = ui_end, .str = ui_str, .num = ui_num,
				.flag = ui_flag, .force_name = "\"Write anyway\"",
				.no_verify_name = "Verify after writing is off",
				.keep_rf_no_name = "Keep this device's RF calibration and MAC is off",
				.show_secrets_name = "the command line's --show-secrets" };
}

/* Ends the object: the trailing comma goes, the status comes last. */
static const char *jend(struct web *w, int r)
{
	if (r) {
		jraw(w, "\"error\":{");
		jstr(w, "name", bkspi_errname(r));
		char msg[1024];
		snprintf(msg, sizeof msg, "%s%s", bkspi_errmsg(w->h)[0] ? bkspi_errmsg(w->h) : bkspi_strerror(r), w->hint);
		jstr(w, "message", msg);
		jnum(w, "code", r);
		w->json_len--;
		jraw(w, "},");
	}
	jraw(w, "\"ok\":%s}", r ? "false" : "true");
	return w->json ? w->json : "{\"ok\":false}";
}

/* ---- the handle ------------------------------------------------------ */

static void on_progress(void *user, const char *phase, uint64_t done, uint64_t total)
{
	struct web *w = user;
	page_progress(phase, (double)done, (double)total, (double)bkspi_now_us(w->h));
}

static void on_note(void *user, const char *text)
{
	(void)user;
	line("note        %s", text);
}

static int open_handle(struct web *w)
{
	bkspi_close(w->h);
	struct bkspi_config cfg = {
		.programmer = "ch341a",
		.target = w->target ? BKSPI_TARGET_SPI : BKSPI_TARGET_BEKEN,
		.progress = on_progress,
		.note = on_note,
		.user = w,
		.cancel = &w->cancel,
	};
	w->h = bkspi_new(&cfg);
	return w->h ? 0 : BKSPI_ENOMEM;
}

EMSCRIPTEN_KEEPALIVE struct web *bkw_new(void)
{
	struct web *w = calloc(1, sizeof *w);
	if (w)
		ui_init(w);
	if (w && open_handle(w)) {
		free(w);
		return NULL;
	}
	return w;
}

/* Target 0: Beken, 1: generic SPI. A new target is a new handle: the
 * entry differs, so the chip is brought onto the bus again. */
EMSCRIPTEN_KEEPALIVE int bkw_set_target(struct web *w, int target)
{
	if (w->target == target && w->h)
		return 0;
	w->target = target;
	return open_handle(w);
}

/* After an unplug the handle's programmer is gone: the next action opens
 * it again, as a new run of the command line would. */
static void reopen_if_gone(struct web *w, int r)
{
	if (r == BKSPI_EGONE || r == BKSPI_ENODEV || r == BKSPI_EBUSY || r == BKSPI_EACCESS || r == BKSPI_ENOUSB)
		open_handle(w);
}

/* The report, then a fresh handle if the programmer is gone: the message
 * belongs to the old one. */
static const char *finish(struct web *w, int r)
{
	const char *out = jend(w, r);
	reopen_if_gone(w, r);
	return out;
}

static void begin(struct web *w)
{
	json_reset(w);
	jraw(w, "{");
	w->cancel = 0;
	w->backup[0] = 0;
	w->hint[0] = 0;
	w->depth = 0;
	w->started_us = bkspi_now_us(w->h);
}

static double seconds(struct web *w)
{
	return (double)(bkspi_now_us(w->h) - w->started_us) / 1e6;
}

EMSCRIPTEN_KEEPALIVE const char *bkw_connect(struct web *w)
{
	begin(w);
	int r = bkspi_connect(w->h);
	if (!r)
		line("programmer  CH341A over WebUSB");
	return finish(w, r);
}

EMSCRIPTEN_KEEPALIVE const char *bkw_detect(struct web *w)
{
	begin(w);
	struct bkspi_detect_report d;
	int r = bkspi_detect(w->h, &d);
	if (!r) {
		bk_ui_entry(&w->ui, &d.entry);
		bk_ui_flash(&w->ui, &d.flash);
		bk_ui_status(&w->ui, &d.status);
	}
	return finish(w, r);
}

/* Offset and length as the page's fields hold them, in the command
 * line's number forms; a blank length is the rest of the flash. */
static int range(struct web *w, const char *offset, const char *length, uint32_t align, uint32_t *addr,
		 uint32_t *len)
{
	struct bkspi_flash f;
	int r = bkspi_enter(w->h, NULL, &f);
	if (r)
		return r;
	uint64_t a = 0, n = 0;
	if (offset && *offset && bk_parse_num(offset, f.size - 1, &a))
		return BKSPI_EINVAL;
	if (length && *length && (bk_parse_num(length, f.size, &n) || !n))
		return BKSPI_EINVAL;
	if (!(length && *length))
		n = f.size - a;
	if (a + n > f.size || (align && (a % align || n % align)))
		return BKSPI_EINVAL;
	*addr = (uint32_t)a;
	*len = (uint32_t)n;
	return 0;
}

static int range_error(struct web *w, int r, const char *offset, const char *length)
{
	if (r != BKSPI_EINVAL)
		return r;
	/* bkspi_enter succeeded, so the handle's message is empty: say it here. */
	jraw(w, "\"error\":{");
	char msg[200];
	snprintf(msg, sizeof msg,
		 "offset \"%s\" and length \"%s\" do not fit the flash: use decimal, 0x hex or a K/M suffix, "
		 "4 KiB aligned for Erase, and leave Length blank for the rest of the flash",
		 offset ? offset : "", length ? length : "");
	jstr(w, "name", "BKSPI_EINVAL");
	jstr(w, "message", msg);
	jnum(w, "code", r);
	w->json_len--;
	jraw(w, "},");
	return 0;
}

static const char *bad_range(struct web *w)
{
	jraw(w, "\"ok\":false}");
	return w->json;
}

EMSCRIPTEN_KEEPALIVE const char *bkw_read(struct web *w, const char *offset, const char *length)
{
	begin(w);
	uint32_t addr = 0, len = 0;
	int r = range(w, offset, length, 0, &addr, &len);
	if (r == BKSPI_EINVAL && !range_error(w, r, offset, length))
		return bad_range(w);
	uint8_t *buf = r ? NULL : malloc(len ? len : 1);
	if (!r && !buf)
		r = BKSPI_ENOMEM;
	struct bkspi_read_report rep;
	if (!r)
		r = bkspi_read(w->h, &(struct bkspi_read_req){ .addr = addr, .len = len }, buf, &rep);
	char path[256];
	if (!r)
		r = bkspi_backup_name(w->h, BACKUP_DIR, NULL, NULL, path, sizeof path);
	if (r) {
		free(buf);
		return finish(w, r);
	}
	free(w->data);
	w->data = buf;
	w->data_len = len;
	bk_ui_read(&w->ui, addr, len, strrchr(path, '/') + 1, seconds(w));
	if (w->target == 0 && addr == 0 && bk_ui_summary_worth(len))
		bk_ui_summary(&w->ui, buf, len);
	return jend(w, 0);
}

EMSCRIPTEN_KEEPALIVE uint8_t *bkw_data(struct web *w)
{
	return w->data;
}

EMSCRIPTEN_KEEPALIVE uint32_t bkw_data_len(struct web *w)
{
	return w->data_len;
}

/* The last write's or erase's backup, in the in-memory file system. */
EMSCRIPTEN_KEEPALIVE const char *bkw_backup_path(struct web *w)
{
	return w->backup;
}

/* flags as bkw_write's: the keep options skip what a write keeps. */
EMSCRIPTEN_KEEPALIVE const char *bkw_verify(struct web *w, const uint8_t *data, uint32_t size, const char *offset,
					    int flags)
{
	begin(w);
	uint32_t addr = 0, len = 0;
	int r = range(w, offset, NULL, 0, &addr, &len);
	if (!r && size > len)
		r = BKSPI_EINVAL;
	if (r == BKSPI_EINVAL && !range_error(w, r, offset, ""))
		return bad_range(w);
	struct bkspi_verify_report rep;
	struct bkspi_verify_req req = { .addr = addr, .data = data, .len = size, .keep_rf = !!(flags & 2),
					.keep_tuya = !!(flags & 4) };
	if (!r)
		r = bkspi_verify(w->h, &req, &rep);
	if (!r || r == BKSPI_EVERIFY)
		bk_ui_verify(&w->ui, r, addr, size, "the file", &rep);
	return finish(w, r);
}

/* After a fault mid-job the message also says how to finish it, as the
 * command line's does. */
static void resume_hint(struct web *w, int r, const char *action)
{
	if (r != BKSPI_EGONE && r != BKSPI_EUSB && r != BKSPI_ETIMEDOUT)
		return;
	int saved = w->backup[0] && access(w->backup, F_OK) == 0;
	snprintf(w->hint, sizeof w->hint,
		 "; reconnect the CH341A and click %s again: it redoes only what still differs, then verifies%s%s",
		 action, saved ? "; the backup was saved as " : "", saved ? strrchr(w->backup, '/') + 1 : "");
	line("stopped     %s%s", bkspi_errmsg(w->h), w->hint);
	jraw(w, "\"resume\":\"click %s again\",", action);
}

static int start_backup(struct web *w, const char *purpose)
{
	return bkspi_backup_name(w->h, BACKUP_DIR, NULL, purpose, w->backup, sizeof w->backup);
}

/* flags: 1 force, 2 keep RF/MAC, 4 keep the Tuya store, 8 no verify. */
EMSCRIPTEN_KEEPALIVE const char *bkw_write(struct web *w, const uint8_t *data, uint32_t size, const char *offset,
					   int flags)
{
	begin(w);
	uint32_t addr = 0, len = 0;
	int r = range(w, offset, NULL, 0, &addr, &len);
	if (r == BKSPI_EINVAL && !range_error(w, r, offset, ""))
		return bad_range(w);
	if (!r)
		r = start_backup(w, "backup");
	struct bkspi_write_req req = {
		.addr = addr, .data = data, .len = size, .backup_path = w->backup,
		.force = !!(flags & 1), .keep_rf = !!(flags & 2), .keep_tuya = !!(flags & 4), .no_verify = !!(flags & 8),
	};
	struct bkspi_write_report rep;
	if (!r)
		r = bkspi_write(w->h, &req, &rep);
	if (!r) {
		bk_ui_write(&w->ui, &rep, strrchr(w->backup, '/') + 1);
		bk_ui_done(&w->ui, "wrote", addr, size, seconds(w));
	}
	if (r == BKSPI_EREFUSED)
		jraw(w, "\"refused\":true,");
	resume_hint(w, r, "Write");
	return finish(w, r);
}

/* The refusals that need only the file, before any USB traffic. */
EMSCRIPTEN_KEEPALIVE const char *bkw_write_check(struct web *w, const uint8_t *data, uint32_t size,
						 const char *offset)
{
	begin(w);
	uint64_t a = 0;
	if (offset && *offset && bk_parse_num(offset, UINT32_MAX, &a)) {
		range_error(w, BKSPI_EINVAL, offset, "");
		return bad_range(w);
	}
	struct bkspi_write_req req = { .addr = (uint32_t)a, .data = data, .len = size };
	struct bkspi_write_report rep;
	int r = bkspi_write_check(w->h, &req, &rep);
	if (r == BKSPI_EREFUSED)
		jraw(w, "\"refused\":true,");
	return jend(w, r);
}

EMSCRIPTEN_KEEPALIVE const char *bkw_erase(struct web *w, const char *offset, const char *length)
{
	begin(w);
	uint32_t addr = 0, len = 0;
	int r = range(w, offset, length, 4096, &addr, &len);
	if (r == BKSPI_EINVAL && !range_error(w, r, offset, length))
		return bad_range(w);
	if (!r)
		r = start_backup(w, "erase");
	struct bkspi_write_req req = { .addr = addr, .len = len, .backup_path = w->backup };
	struct bkspi_write_report rep;
	if (!r)
		r = bkspi_erase(w->h, &req, &rep);
	if (!r) {
		bk_ui_write(&w->ui, &rep, strrchr(w->backup, '/') + 1);
		bk_ui_done(&w->ui, "erased", addr, len, seconds(w));
	}
	resume_hint(w, r, "Erase");
	return finish(w, r);
}

/* Pulses CEN so the chip boots its firmware, as the command line does
 * after every Beken job. */
EMSCRIPTEN_KEEPALIVE const char *bkw_reset(struct web *w)
{
	begin(w);
	int r = w->target ? 0 : bkspi_reset(w->h);
	if (!r && !w->target)
		bk_ui_reset(&w->ui);
	return finish(w, r);
}

/* ---- a dropped file --------------------------------------------------- */

/* The command line's `info`: what the file is, where it belongs, its MAC
 * and integrity (the Tuya store needs AES, which this build leaves out). */
EMSCRIPTEN_KEEPALIVE const char *bkw_info(struct web *w, const char *name, const uint8_t *img, uint32_t len)
{
	begin(w);
	struct bk_err err = { 0 };
	int r = bk_ui_info(&w->ui, name, img, len, 0, &err);
	if (r) {
		jraw(w, "\"error\":{");
		jstr(w, "message", err.msg);
		w->json_len--;
		jraw(w, "},\"ok\":false}");
		return w->json;
	}
	jraw(w, "\"ok\":true}");
	return w->json;
}
