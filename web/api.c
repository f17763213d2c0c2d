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
#include "beken/beken.h"
#include "bkspi.h"
#include "cli/args.h"

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

static void flash_lines(struct web *w, const struct bkspi_entry *e, const struct bkspi_flash *f)
{
	jraw(w, "\"jedec\":\"%06X\",", f->jedec);
	jstr(w, "vendor", f->vendor);
	jstr(w, "part", f->part);
	jnum(w, "size", f->size);
	line("flash       %s %s, JEDEC ID %06X (reply %02X-%02X-%02X-%02X), %u KiB (size from %s)", f->vendor, f->part,
	     f->jedec, f->reply[0], f->reply[1], f->reply[2], f->reply[3], f->size / 1024, f->size_from);
	if (!e->beken)
		line("target      plain SPI flash (no entry sequence)");
	else
		line("target      Beken chip in SPI mode (attempt %u, %s%s)", e->attempts,
		     e->echo ? "echo reply" : e->long_flush ? "long flush" : "no echo", e->slow_run ? ", slow run" : "");
}

EMSCRIPTEN_KEEPALIVE const char *bkw_detect(struct web *w)
{
	begin(w);
	struct bkspi_detect_report d;
	int r = bkspi_detect(w->h, &d);
	if (!r) {
		flash_lines(w, &d.entry, &d.flash);
		struct bkspi_status_regs *s = &d.status;
		char sr2[16] = "";
		if (s->has_sr2)
			snprintf(sr2, sizeof sr2, " SR2=0x%02X", s->sr2);
		line("status      SR1=0x%02X%s  BP=%u TB=%u SEC=%u CMP=%u SRP=%u", s->sr1, sr2, s->bp, s->tb, s->sec,
		     s->cmp, s->srp);
		line("protected   %s", s->protected_desc);
		jstr(w, "protected", s->protected_desc);
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
	const char *name = strrchr(path, '/') + 1;
	double s = seconds(w);
	line("read        %u KiB from 0x%06X to %s in %.2f s (%.1f KB/s)", len / 1024, addr, name, s,
	     s > 0 ? len / 1000.0 / s : 0.0);
	jstr(w, "file", name);
	jnum(w, "addr", addr);
	jnum(w, "length", len);
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
	if (!r)
		line("verify      OK: %u bytes at 0x%06X match the file", size, addr);
	if (r == BKSPI_EVERIFY) {
		jnum(w, "mismatched", rep.mismatched);
		jnum(w, "first", rep.first);
	}
	return finish(w, r);
}

static void kept_line(const char *what, const struct bkspi_kept *k)
{
	if (k->kept)
		line("kept        this device's %s (0x%06X-0x%06X), not the file's", what, k->addr, k->addr + k->len - 1);
}

static void mac_text(const uint8_t m[6], char out[18])
{
	snprintf(out, 18, "%02X:%02X:%02X:%02X:%02X:%02X", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void write_lines(struct web *w, const struct bkspi_write_report *rep)
{
	if (rep->beken) {
		int known = strcmp(rep->image_family, "unknown") != 0;
		line("image       %s%s%s; chip bootloader: %s", rep->image_kind, known ? " for " : "",
		     known ? rep->image_family : "", rep->chip_family);
		if (rep->forced[0])
			line("warning     \"Write anyway\" overrides a refusal: %s", rep->forced);
		kept_line("RF calibration and MAC", &rep->kept_rf);
		kept_line("Tuya key-value store", &rep->kept_tuya);
		char before[18], after[18];
		mac_text(rep->mac_before, before);
		mac_text(rep->mac_after, after);
		if (rep->has_mac_before && rep->has_mac_after) {
			line("mac         before %s, after %s", before, after);
			jstr(w, "mac_before", before);
			jstr(w, "mac_after", after);
		}
		jraw(w, "\"kept_rf\":%s,", rep->kept_rf.kept ? "true" : "false");
	}
	if (rep->recovered)
		line("recovered   %u operations after USB faults (read back and planned again)", rep->recovered);
	if (rep->unprotect.changed)
		line("unprotect   SR1 0x%02X -> 0x%02X, SR2 0x%02X -> 0x%02X", rep->unprotect.sr1_before,
		     rep->unprotect.sr1_after, rep->unprotect.sr2_before, rep->unprotect.sr2_after);
	line("sectors     %u: %u unchanged (skipped), %u erased in %u operations, %u programmed without erase",
	     rep->sectors, rep->same, rep->erased, rep->erase_ops, rep->program_only);
	line("pages       %u programmed", rep->pages);
	if (rep->verified)
		line("verify      OK: %u bytes (%u read back, the rest unchanged)", rep->verified, rep->read_back);
	else
		line("verify      skipped (Verify after writing is off)");
	jnum(w, "sectors", rep->sectors);
	jnum(w, "skipped", rep->same);
	jnum(w, "erased", rep->erased);
	jnum(w, "pages", rep->pages);
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
		line("backup      %s", strrchr(w->backup, '/') + 1);
		write_lines(w, &rep);
		line("wrote       %u KiB at 0x%06X in %.2f s", size / 1024, addr, seconds(w));
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
		line("backup      %s", strrchr(w->backup, '/') + 1);
		write_lines(w, &rep);
		line("erased      %u KiB at 0x%06X in %.2f s", len / 1024, addr, seconds(w));
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
		line("reset       CEN pulsed: the chip boots its firmware");
	return finish(w, r);
}

/* ---- a dropped file --------------------------------------------------- */

static void jaddr(struct web *w, const char *key, uint32_t v)
{
	if (v == BK_BEKEN_NONE)
		jraw(w, "\"%s\":null,", key);
	else
		jraw(w, "\"%s\":\"0x%06X\",", key, v);
}

static void blocks_line(const char *what, const struct bk_beken_blocks *b)
{
	line("integrity   %s: %u valid, %u erased, %u corrupt blocks", what, b->valid, b->erased, b->corrupt);
}

/* The command line's `info` (without the Tuya section, which needs
 * nettle): what the file is, where it belongs, its MAC and integrity. */
EMSCRIPTEN_KEEPALIVE const char *bkw_info(struct web *w, const char *name, const uint8_t *img, uint32_t len)
{
	begin(w);
	struct bk_err err = { 0 };
	struct bk_beken_class cls;
	struct bk_beken_info in;
	uint8_t *placed = NULL;
	int r = bk_beken_classify(img, len, &cls, &err);
	if (!r && cls.flash_offset != BK_BEKEN_NONE && cls.flash_offset) {
		/* Analysed where it belongs, so every address is a flash address. */
		placed = malloc((size_t)cls.flash_offset + len);
		if (!placed)
			r = BKSPI_ENOMEM;
		else {
			memset(placed, 0xFF, cls.flash_offset);
			memcpy(placed + cls.flash_offset, img, len);
		}
	}
	if (!r)
		r = placed ? bk_beken_analyse(placed, (size_t)cls.flash_offset + len, &in, &err)
			   : bk_beken_analyse(img, len, &in, &err);
	free(placed);
	if (r) {
		jraw(w, "\"error\":{");
		jstr(w, "message", err.msg);
		w->json_len--;
		jraw(w, "},\"ok\":false}");
		return w->json;
	}
	int has_boot = (cls.flash_offset == 0 || cls.flash_offset == BK_BEKEN_NONE) && !in.tuya_kvs_only;
	char mac[18] = "";
	if (in.has_mac)
		mac_text(in.mac, mac);
	line("file        %s, %u bytes", name, len);
	if (cls.flash_offset != BK_BEKEN_NONE)
		line("image       %s, belongs at 0x%06X", cls.name, cls.flash_offset);
	else
		line("image       %s, not for SPI writing", cls.name);
	line("family      %s (%s)", bk_beken_family_name(in.family), in.family_evidence);
	if (in.has_boot_crc && has_boot)
		line("bootloader  CRC32 0x%08X: %s%s%s", in.boot_crc,
		     in.boot ? bk_beken_family_name(in.boot->family) : "unknown", in.boot ? " " : "",
		     in.boot ? in.boot->version : "");
	else
		line("bootloader  none in this file");
	if (has_boot)
		blocks_line("bootloader", &in.boot_blocks);
	if (!in.tuya_kvs_only)
		blocks_line("application", &in.app_blocks);
	if (in.rf_addr != BK_BEKEN_NONE)
		line("rf          calibration sector at 0x%06X, MAC %s", in.rf_addr, in.has_mac ? mac : "not found");
	else
		line("rf          no calibration sector");
	jstr(w, "file", name);
	jnum(w, "size", len);
	jstr(w, "kind", cls.name);
	jaddr(w, "belongs_at", cls.flash_offset);
	jstr(w, "family", bk_beken_family_name(in.family));
	jstr(w, "bootloader", has_boot && in.boot ? in.boot->version : "unknown");
	jstr(w, "mac", mac);
	jnum(w, "corrupt_blocks", (has_boot ? in.boot_blocks.corrupt : 0) + in.app_blocks.corrupt);
	jraw(w, "\"ok\":true}");
	return w->json;
}
