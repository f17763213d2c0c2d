/* The offline analysis of a file (`bkspi info`, the page's dropped file)
 * and the summary after a read, as text and JSON (see ui.h). */
#include "ui/ui.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beken/beken.h"
#ifndef BK_UI_NO_TUYA
#include "beken/tuya.h"
#endif

#define LINE_LEN 1024

/* Lines are built in pieces (a table row, a list of pins): append, then
 * emit once. */
struct text {
	char b[LINE_LEN];
	size_t n;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct text *t, const char *fmt, ...)
{
	if (t->n >= sizeof t->b - 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(t->b + t->n, sizeof t->b - t->n, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->n = t->n + (size_t)n < sizeof t->b ? t->n + (size_t)n : sizeof t->b - 1;
}

static void emit(const struct bk_ui *ui, struct text *t)
{
	ui->line(ui->user, t->b);
	t->n = 0;
	t->b[0] = '\0';
}

static void say(const struct bk_ui *ui, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct bk_ui *ui, const char *fmt, ...)
{
	char b[LINE_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b, sizeof b, fmt, ap);
	va_end(ap);
	ui->line(ui->user, b);
}

/* Addresses in JSON are hex strings like everywhere else, null when absent. */
static void addr(const struct bk_ui *ui, const char *k, uint32_t v)
{
	char b[16];
	snprintf(b, sizeof b, "0x%06X", v);
	ui->str(ui->user, k, v == BK_BEKEN_NONE ? NULL : b);
}

static void blocks_json(const struct bk_ui *ui, const char *k, const struct bk_beken_blocks *b)
{
	ui->begin(ui->user, k);
	ui->num(ui->user, "valid", b->valid);
	ui->num(ui->user, "erased", b->erased);
	ui->num(ui->user, "corrupt", b->corrupt);
	addr(ui, "first_corrupt", b->corrupt ? b->first_corrupt : BK_BEKEN_NONE);
	ui->end(ui->user);
}

static void blocks_text(struct text *t, const char *what, const struct bk_beken_blocks *b)
{
	add(t, "%s %u valid, %u erased, %u corrupt", what, b->valid, b->erased, b->corrupt);
	if (b->corrupt)
		add(t, " (first at 0x%06X)", b->first_corrupt);
}

static void rbl_json(const struct bk_ui *ui, const char *k, const struct bk_beken_rbl *r)
{
	if (!r->present) {
		ui->str(ui->user, k, NULL);
		return;
	}
	ui->begin(ui->user, k);
	addr(ui, "addr", r->addr);
	ui->str(ui->user, "name", r->name);
	ui->str(ui->user, "version", r->version);
	ui->flag(ui->user, "header_ok", r->header_ok);
	ui->flag(ui->user, "body_ok", r->body_ok);
	ui->end(ui->user);
}

static void rbl_text(const struct bk_ui *ui, const struct bk_beken_rbl *r)
{
	if (r->present)
		say(ui, "rbl         \"%s\" %s at 0x%06X (header CRC %s, body CRC %s)", r->name, r->version, r->addr,
		    r->header_ok ? "ok" : "bad", r->body_ok ? "ok" : "bad or not checked");
}

/* An image that belongs further up the flash (an app-only image at
 * 0x11000) is analysed where it belongs, so its addresses are flash
 * addresses and its blocks are counted as the application's. */
static int analyse_placed(const uint8_t *img, size_t len, const struct bk_beken_class *cls,
			  struct bk_beken_info *in, struct bk_err *err)
{
	uint32_t at = cls->flash_offset;
	if (at == BK_BEKEN_NONE || at == 0)
		return bk_beken_analyse(img, len, in, err);
	uint8_t *placed = malloc(at + len);
	if (!placed)
		return bk_fail(err, BK_ENOMEM, "out of memory");
	memset(placed, 0xFF, at);
	memcpy(placed + at, img, len);
	int r = bk_beken_analyse(placed, at + len, in, err);
	free(placed);
	return r;
}

#ifndef BK_UI_NO_TUYA
/* ---- the Tuya configuration ------------------------------------------ */

/* A value as printable ASCII: non-printable bytes as \xNN, trailing NULs
 * dropped. With mask, the value of every field whose name names a secret
 * (see bk_tuya_is_secret_field) becomes "***". malloc'd; NULL on ENOMEM. */
static char *render_value(const uint8_t *v, size_t n, int mask)
{
	while (n && !v[n - 1])
		n--;
	char *out = malloc(4 * n + 1);
	if (!out)
		return NULL;
	size_t j = 0, tok = 0;
	int hiding = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = v[i];
		int sep = c == ',' || c == '{' || c == '}' || c == '[' || c == ']';
		if (sep) {
			hiding = 0;
			tok = i + 1;
		} else if (hiding) {
			continue;
		} else if (c == ':' && mask && bk_tuya_is_secret_field((const char *)v + tok, i - tok)) {
			memcpy(out + j, ":***", 4);
			j += 4;
			hiding = 1;
			continue;
		}
		if (c >= 0x20 && c < 0x7F && c != '\\')
			out[j++] = (char)c;
		else
			j += (size_t)sprintf(out + j, "\\x%02X", c);
	}
	out[j] = '\0';
	return out;
}

/* keys: 0 no key list, 1 with secrets masked, 2 unmasked. */
static void tuya_json(const struct bk_ui *ui, const struct bk_tuya_store *st, const struct bk_err *why, int keys)
{
	ui->begin(ui->user, "tuya");
	ui->flag(ui->user, "found", st != NULL);
	if (!st) {
		ui->str(ui->user, "offset", NULL);
		ui->num(ui->user, "pages", 0);
		ui->num(ui->user, "entries", 0);
		ui->num(ui->user, "entries_good", 0);
		ui->str(ui->user, "module", NULL);
		ui->begin_array(ui->user, "pins");
		ui->end(ui->user);
		ui->str(ui->user, "error", why && why->msg[0] ? why->msg : "no Tuya key-value store");
		ui->end(ui->user);
		return;
	}
	ui->num(ui->user, "offset", st->offset);
	ui->num(ui->user, "pages", st->pages);
	ui->num(ui->user, "pages_bad", st->pages_bad);
	ui->num(ui->user, "entries", st->n_entries);
	ui->num(ui->user, "entries_good", st->n_good);
	ui->str(ui->user, "module", st->module[0] ? st->module : NULL);
	ui->begin_array(ui->user, "pins");
	for (uint32_t i = 0; i < st->n_pins; i++) {
		const struct bk_tuya_pin *p = &st->pins[i];
		ui->begin(ui->user, NULL);
		ui->num(ui->user, "gpio", p->gpio);
		ui->str(ui->user, "key", p->key);
		ui->str(ui->user, "role", p->role);
		ui->num(ui->user, "channel", p->channel);
		if (p->level >= 0)
			ui->num(ui->user, "level", p->level);
		else
			ui->str(ui->user, "level", NULL);
		ui->end(ui->user);
	}
	ui->end(ui->user);
	if (keys) {
		ui->begin_array(ui->user, "keys");
		for (uint32_t i = 0; i < st->n_entries; i++) {
			const struct bk_tuya_entry *e = &st->entries[i];
			int secret = bk_tuya_is_secret_key(e->name);
			ui->begin(ui->user, NULL);
			ui->str(ui->user, "name", e->name);
			ui->num(ui->user, "length", e->length);
			ui->flag(ui->user, "good", e->good);
			ui->flag(ui->user, "secret", secret);
			char *v = secret && keys < 2 ? NULL : render_value(st->values + e->value, e->have, keys < 2);
			ui->str(ui->user, "value", v);
			free(v);
			ui->end(ui->user);
		}
		ui->end(ui->user);
	}
	ui->end(ui->user);
}

static void tuya_text(const struct bk_ui *ui, const struct bk_tuya_store *st, const struct bk_beken_info *in,
		      const struct bk_err *why, int keys)
{
	if (!st) {
		if (in->tuya_kvs != BK_BEKEN_NONE)
			say(ui, "tuya        key-value store at 0x%06X, but %s", in->tuya_kvs, why->msg);
		else
			say(ui, "tuya        no key-value store");
		return;
	}
	struct text t = { .n = 0 };
	/* The flash address where the analysis knows it, and the file offset
	 * when that differs (rotated dumps, bare stores). */
	if (in->tuya_kvs != BK_BEKEN_NONE && in->tuya_kvs != st->offset)
		add(&t, "tuya        key-value store at 0x%06X (file offset 0x%06X)", in->tuya_kvs, st->offset);
	else
		add(&t, "tuya        key-value store at 0x%06X", st->offset);
	add(&t, ": %u pages, %u keys (%u with a good checksum)", st->pages, st->n_entries, st->n_good);
	emit(ui, &t);
	if (st->pages_bad || st->index_bad || st->keys_dropped)
		say(ui, "tuya        DAMAGED: %u pages with a bad magic or checksum, %u unreadable index slots%s",
		    st->pages_bad, st->index_bad, st->keys_dropped ? ", more keys than bkspi lists" : "");
	say(ui, "module      %s", st->module[0] ? st->module : st->has_config ? "not named" : "no device configuration");
	if (st->n_pins) {
		say(ui, "pins        GPIO  role          ch  level  key");
		for (uint32_t i = 0; i < st->n_pins; i++) {
			const struct bk_tuya_pin *p = &st->pins[i];
			char lv[16] = "-";
			if (p->level >= 0)
				snprintf(lv, sizeof lv, "%d", p->level);
			say(ui, "            P%-4u %-13s %2u  %-5s  %s", p->gpio, p->role, p->channel, lv, p->key);
		}
	} else if (st->has_config) {
		say(ui, "pins        none named in %s", st->config_key);
	}
	for (uint32_t i = 0; keys && i < st->n_entries; i++) {
		const struct bk_tuya_entry *e = &st->entries[i];
		add(&t, "tuya key    %-16s %5u bytes  %-4s  ", e->name, e->length, e->good ? "good" : "BAD");
		if (bk_tuya_is_secret_key(e->name) && keys < 2) {
			add(&t, "(secret: %s prints it)", ui->show_secrets_name);
			emit(ui, &t);
			continue;
		}
		char *v = render_value(st->values + e->value, e->have, keys < 2);
		add(&t, "%s", v ? v : "(out of memory)");
		emit(ui, &t);
		free(v);
	}
}

/* Both renderings of the store, or of its absence. */
static int tuya(const struct bk_ui *ui, const uint8_t *img, size_t len, const struct bk_beken_info *in, int keys,
		int text)
{
	struct bk_tuya_store *st = malloc(sizeof *st);
	if (!st)
		return BK_ENOMEM;
	struct bk_err terr = { 0 };
	int found = !bk_tuya_read(img, len, st, &terr);
	tuya_json(ui, found ? st : NULL, &terr, keys);
	if (text)
		tuya_text(ui, found ? st : NULL, in, &terr, keys);
	free(st);
	return 0;
}
#else
/* This build has no AES (the web page): say so rather than "no store". */
static int tuya(const struct bk_ui *ui, const uint8_t *img, size_t len, const struct bk_beken_info *in, int keys,
		int text)
{
	(void)img;
	(void)len;
	(void)keys;
	ui->begin(ui->user, "tuya");
	ui->flag(ui->user, "found", 0);
	ui->str(ui->user, "error", "this build cannot decrypt the Tuya store");
	ui->end(ui->user);
	if (text && in->tuya_kvs != BK_BEKEN_NONE)
		say(ui, "tuya        key-value store at 0x%06X (decoding it needs the command line's bkspi info)",
		    in->tuya_kvs);
	return 0;
}
#endif

static void image_text(const struct bk_ui *ui, const char *name, size_t len, const struct bk_beken_class *cls,
		       const struct bk_beken_info *in, int has_boot, const char *mac)
{
	say(ui, "file        %s, %zu bytes", name, len);
	if (cls->flash_offset != BK_BEKEN_NONE)
		say(ui, "image       %s, belongs at 0x%06X", cls->name, cls->flash_offset);
	else
		say(ui, "image       %s, not for SPI writing", cls->name);
	say(ui, "family      %s (%s)", bk_beken_family_name(in->family), in->family_evidence);
	if (in->tuya_kvs_only) {
		/* A bare store has no bootloader or CRC blocks to speak of. */
		say(ui, "contents    a bare Tuya key-value store, which belongs at 0x%06X", in->tuya_kvs);
		return;
	}
	if (in->has_boot_crc && has_boot)
		say(ui, "bootloader  CRC32 0x%08X: %s%s%s", in->boot_crc,
		    in->boot ? bk_beken_family_name(in->boot->family) : "unknown", in->boot ? " " : "",
		    in->boot ? in->boot->version : "");
	else
		say(ui, "bootloader  none in this file");
	if (in->rotation)
		say(ui, "rotation    rotated by 0x%X: the file starts with the application", in->rotation);
	else
		say(ui, "rotation    none");
	struct text t = { .n = 0 };
	if (has_boot) {
		blocks_text(&t, "integrity   bootloader", &in->boot_blocks);
		blocks_text(&t, "; application", &in->app_blocks);
	} else {
		blocks_text(&t, "integrity   application", &in->app_blocks);
	}
	add(&t, " blocks");
	emit(ui, &t);
	if (in->ptable != BK_BEKEN_NONE)
		say(ui, "partitions  table \"01PE\" at 0x%06X", in->ptable);
	rbl_text(ui, &in->rbl_boot);
	rbl_text(ui, &in->rbl_app);
	if (in->rf_addr != BK_BEKEN_NONE)
		say(ui, "rf          calibration sector at 0x%06X, MAC %s", in->rf_addr, in->has_mac ? mac : "not found");
	else
		say(ui, "rf          no calibration sector");
	if (in->obk_config != BK_BEKEN_NONE)
		say(ui, "openbeken   config version %u at 0x%06X", in->obk_version, in->obk_config);
	else
		say(ui, "openbeken   no config");
}

int bk_ui_info(const struct bk_ui *ui, const char *name, const uint8_t *img, size_t len, int keys, struct bk_err *err)
{
	struct bk_beken_info in;
	struct bk_beken_class cls;
	int r = bk_beken_classify(img, len, &cls, err);
	if (!r)
		r = analyse_placed(img, len, &cls, &in, err);
	if (r)
		return r;
	/* Without a bootloader in the file there is no fingerprint or
	 * bootloader integrity to speak of. */
	int has_boot = (cls.flash_offset == 0 || cls.flash_offset == BK_BEKEN_NONE) && !in.tuya_kvs_only;

	ui->str(ui->user, "file", name);
	ui->num(ui->user, "size", (int64_t)len);
	ui->begin(ui->user, "image");
	ui->str(ui->user, "kind", cls.name);
	addr(ui, "belongs_at", cls.flash_offset);
	ui->end(ui->user);
	ui->str(ui->user, "family", bk_beken_family_name(in.family));
	ui->str(ui->user, "family_evidence", in.family_evidence);
	ui->begin(ui->user, "bootloader");
	char crc[16];
	snprintf(crc, sizeof crc, "0x%08X", in.boot_crc);
	ui->str(ui->user, "crc32", in.has_boot_crc && has_boot ? crc : NULL);
	ui->str(ui->user, "version", in.boot && has_boot ? in.boot->version : "unknown");
	ui->end(ui->user);
	addr(ui, "rotation", in.rotation);
	ui->begin(ui->user, "integrity");
	if (has_boot)
		blocks_json(ui, "bootloader", &in.boot_blocks);
	else
		ui->str(ui->user, "bootloader", NULL);
	if (!in.tuya_kvs_only)
		blocks_json(ui, "application", &in.app_blocks);
	else
		ui->str(ui->user, "application", NULL);
	ui->end(ui->user);
	addr(ui, "partition_table", in.ptable);
	ui->begin(ui->user, "rbl");
	rbl_json(ui, "bootloader", &in.rbl_boot);
	rbl_json(ui, "application", &in.rbl_app);
	ui->end(ui->user);
	addr(ui, "rf_sector", in.rf_addr);
	char mac[18] = "";
	if (in.has_mac)
		bk_ui_mac(in.mac, mac);
	ui->str(ui->user, "mac", in.has_mac ? mac : NULL);
	addr(ui, "tuya_store", in.tuya_kvs);
	addr(ui, "openbeken_config", in.obk_config);
	image_text(ui, name, len, &cls, &in, has_boot, mac);
	r = tuya(ui, img, len, &in, keys, 1);
	return r ? bk_fail(err, r, "out of memory") : 0;
}

int bk_ui_summary_worth(size_t len)
{
	return len >= BK_BEKEN_APP_START;
}

#ifndef BK_UI_NO_TUYA
/* The Tuya part of a read's summary: one line when the flash holds a
 * store with a device configuration. */
static void tuya_summary(const struct bk_ui *ui, const uint8_t *img, size_t len)
{
	struct bk_tuya_store *st = malloc(sizeof *st);
	if (!st || bk_tuya_read(img, len, st, NULL) || !st->has_config) {
		free(st);
		return;
	}
	tuya_json(ui, st, NULL, 0);
	struct text t = { .n = 0 };
	add(&t, "tuya        module %s;", st->module[0] ? st->module : "not named");
	for (uint32_t i = 0; i < st->n_pins; i++)
		add(&t, st->pins[i].channel ? "%s P%u %s %u" : "%s P%u %s", i ? "," : "", st->pins[i].gpio, st->pins[i].role,
		    st->pins[i].channel);
	if (!st->n_pins)
		add(&t, " no pins named");
	emit(ui, &t);
	free(st);
}
#endif

void bk_ui_summary(const struct bk_ui *ui, const uint8_t *img, size_t len)
{
	struct bk_beken_info in;
	if (bk_beken_analyse(img, len, &in, NULL))
		return;
	char mac[18] = "none";
	if (in.has_mac)
		bk_ui_mac(in.mac, mac);
	uint32_t corrupt = in.boot_blocks.corrupt + in.app_blocks.corrupt;
	ui->begin(ui->user, "beken");
	ui->str(ui->user, "family", bk_beken_family_name(in.family));
	ui->str(ui->user, "bootloader", in.boot ? in.boot->version : "unknown");
	ui->str(ui->user, "mac", mac);
	ui->num(ui->user, "corrupt_blocks", corrupt);
	ui->end(ui->user);
	say(ui, "beken       %s, bootloader %s, MAC %s, %s", bk_beken_family_name(in.family),
	    in.boot ? in.boot->version : "unknown", mac,
	    corrupt ? "CRC-16 blocks CORRUPT (see bkspi info)" : "CRC-16 blocks intact");
#ifndef BK_UI_NO_TUYA
	tuya_summary(ui, img, len);
#endif
}
