#include "cli/info.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/outfile.h"
#include "beken/beken.h"
#include "beken/tuya.h"

void bk_format_mac(const uint8_t mac[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

static void jstr(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void jint(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

/* Addresses in JSON are hex strings like everywhere else, null when absent. */
static void jaddr(json_object *o, const char *k, uint32_t v)
{
	char b[16];
	if (v == BK_BEKEN_NONE) {
		json_object_object_add(o, k, NULL);
		return;
	}
	snprintf(b, sizeof b, "0x%06X", v);
	jstr(o, k, b);
}

static json_object *blocks(json_object *parent, const char *k, const struct bk_beken_blocks *b)
{
	json_object *o = json_object_new_object();
	jint(o, "valid", b->valid);
	jint(o, "erased", b->erased);
	jint(o, "corrupt", b->corrupt);
	jaddr(o, "first_corrupt", b->corrupt ? b->first_corrupt : BK_BEKEN_NONE);
	json_object_object_add(parent, k, o);
	return o;
}

static void print_blocks(const char *what, const struct bk_beken_blocks *b)
{
	printf("%s %u valid, %u erased, %u corrupt", what, b->valid, b->erased, b->corrupt);
	if (b->corrupt)
		printf(" (first at 0x%06X)", b->first_corrupt);
}

static void rbl_json(json_object *parent, const char *k, const struct bk_beken_rbl *r)
{
	if (!r->present) {
		json_object_object_add(parent, k, NULL);
		return;
	}
	json_object *o = json_object_new_object();
	jaddr(o, "addr", r->addr);
	jstr(o, "name", r->name);
	jstr(o, "version", r->version);
	json_object_object_add(o, "header_ok", json_object_new_boolean(r->header_ok));
	json_object_object_add(o, "body_ok", json_object_new_boolean(r->body_ok));
	json_object_object_add(parent, k, o);
}

static void rbl_print(const struct bk_beken_rbl *r)
{
	if (r->present)
		printf("rbl         \"%s\" %s at 0x%06X (header CRC %s, body CRC %s)\n", r->name, r->version, r->addr,
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
static void tuya_json(json_object *obj, const struct bk_tuya_store *st, const struct bk_err *why, int keys)
{
	json_object *t = json_object_new_object();
	json_object_object_add(obj, "tuya", t);
	json_object_object_add(t, "found", json_object_new_boolean(st != NULL));
	if (!st) {
		json_object_object_add(t, "offset", NULL);
		jint(t, "pages", 0);
		jint(t, "entries", 0);
		jint(t, "entries_good", 0);
		json_object_object_add(t, "module", NULL);
		json_object_object_add(t, "pins", json_object_new_array());
		jstr(t, "error", why->msg[0] ? why->msg : "no Tuya key-value store");
		return;
	}
	jint(t, "offset", st->offset);
	jint(t, "pages", st->pages);
	jint(t, "pages_bad", st->pages_bad);
	jint(t, "entries", st->n_entries);
	jint(t, "entries_good", st->n_good);
	if (st->module[0])
		jstr(t, "module", st->module);
	else
		json_object_object_add(t, "module", NULL);
	json_object *pins = json_object_new_array();
	for (uint32_t i = 0; i < st->n_pins; i++) {
		const struct bk_tuya_pin *p = &st->pins[i];
		json_object *o = json_object_new_object();
		jint(o, "gpio", p->gpio);
		jstr(o, "key", p->key);
		jstr(o, "role", p->role);
		jint(o, "channel", p->channel);
		if (p->level >= 0)
			jint(o, "level", p->level);
		else
			json_object_object_add(o, "level", NULL);
		json_object_array_add(pins, o);
	}
	json_object_object_add(t, "pins", pins);
	if (!keys)
		return;
	json_object *list = json_object_new_array();
	for (uint32_t i = 0; i < st->n_entries; i++) {
		const struct bk_tuya_entry *e = &st->entries[i];
		int secret = bk_tuya_is_secret_key(e->name);
		json_object *o = json_object_new_object();
		jstr(o, "name", e->name);
		jint(o, "length", e->length);
		json_object_object_add(o, "good", json_object_new_boolean(e->good));
		json_object_object_add(o, "secret", json_object_new_boolean(secret));
		char *v = secret && keys < 2 ? NULL : render_value(st->values + e->value, e->have, keys < 2);
		if (v)
			jstr(o, "value", v);
		else
			json_object_object_add(o, "value", NULL);
		free(v);
		json_object_array_add(list, o);
	}
	json_object_object_add(t, "keys", list);
}

static void tuya_print(const struct bk_tuya_store *st, const struct bk_beken_info *in, const struct bk_err *why,
		       int keys)
{
	if (!st) {
		if (in->tuya_kvs != BK_BEKEN_NONE)
			printf("tuya        key-value store at 0x%06X, but %s\n", in->tuya_kvs, why->msg);
		else
			printf("tuya        no key-value store\n");
		return;
	}
	/* The flash address where the analysis knows it, and the file offset
	 * when that differs (rotated dumps, bare stores). */
	if (in->tuya_kvs != BK_BEKEN_NONE && in->tuya_kvs != st->offset)
		printf("tuya        key-value store at 0x%06X (file offset 0x%06X)", in->tuya_kvs, st->offset);
	else
		printf("tuya        key-value store at 0x%06X", st->offset);
	printf(": %u pages, %u keys (%u with a good checksum)\n", st->pages, st->n_entries, st->n_good);
	if (st->pages_bad || st->index_bad || st->keys_dropped)
		printf("tuya        DAMAGED: %u pages with a bad magic or checksum, %u unreadable index slots%s\n",
		       st->pages_bad, st->index_bad, st->keys_dropped ? ", more keys than bkspi lists" : "");
	printf("module      %s\n", st->module[0] ? st->module : st->has_config ? "not named" : "no device configuration");
	if (st->n_pins) {
		printf("pins        GPIO  role          ch  level  key\n");
		for (uint32_t i = 0; i < st->n_pins; i++) {
			const struct bk_tuya_pin *p = &st->pins[i];
			char lv[16] = "-";
			if (p->level >= 0)
				snprintf(lv, sizeof lv, "%d", p->level);
			printf("            P%-4u %-13s %2u  %-5s  %s\n", p->gpio, p->role, p->channel, lv, p->key);
		}
	} else if (st->has_config) {
		printf("pins        none named in %s\n", st->config_key);
	}
	for (uint32_t i = 0; keys && i < st->n_entries; i++) {
		const struct bk_tuya_entry *e = &st->entries[i];
		printf("tuya key    %-16s %5u bytes  %-4s  ", e->name, e->length, e->good ? "good" : "BAD");
		if (bk_tuya_is_secret_key(e->name) && keys < 2) {
			printf("(secret: --show-secrets prints it)\n");
			continue;
		}
		char *v = render_value(st->values + e->value, e->have, keys < 2);
		printf("%s\n", v ? v : "(out of memory)");
		free(v);
	}
}

/* OpenBeken's device template: the shape of its templates repository
 * (vendor, name, model, chip, board, flags, keywords, pins, command, image,
 * wiki), pins as GPIO -> "Role;channel". */
static char *obk_template(const struct bk_tuya_store *st, const char *name, enum bk_beken_family family)
{
	const char *chip = family == BK_BEKEN_FAMILY_UNKNOWN ? "unknown" : bk_beken_family_name(family);
	const char *module = st->module[0] ? st->module : "unknown";
	json_object *t = json_object_new_object();
	jstr(t, "vendor", "Tuya");
	jstr(t, "bDetailed", "0");
	char title[160];
	snprintf(title, sizeof title, "%s device (from %s)", module, name);
	jstr(t, "name", title);
	jstr(t, "model", module);
	jstr(t, "chip", chip);
	jstr(t, "board", module);
	jstr(t, "flags", "0");
	json_object *kw = json_object_new_array();
	json_object_array_add(kw, json_object_new_string(module));
	json_object_array_add(kw, json_object_new_string(chip));
	json_object_object_add(t, "keywords", kw);
	json_object *pins = json_object_new_object();
	int bl0937 = 0;
	for (uint32_t i = 0; i < st->n_pins; i++) {
		const struct bk_tuya_pin *p = &st->pins[i];
		char gpio[8], role[48];
		snprintf(gpio, sizeof gpio, "%u", p->gpio);
		if (!p->obk_role || json_object_object_get_ex(pins, gpio, NULL))
			continue;
		/* Status LEDs, meters and buses have no channel. */
		int chan = strstr(p->obk_role, "WifiLED") || strstr(p->obk_role, "BL0937") ||
				   strstr(p->obk_role, "CLK") || strstr(p->obk_role, "DAT") ||
				   strstr(p->obk_role, "IR")
			   ? 0
			   : (int)p->channel;
		bl0937 |= strstr(p->obk_role, "BL0937") != NULL;
		snprintf(role, sizeof role, "%s;%d", p->obk_role, chan);
		json_object_object_add(pins, gpio, json_object_new_string(role));
	}
	json_object_object_add(t, "pins", pins);
	const char *light = bk_tuya_obk_driver(st);
	char cmd[96] = "";
	if (light && bl0937)
		snprintf(cmd, sizeof cmd, "backlog startDriver %s; startDriver BL0937", light);
	else if (light || bl0937)
		snprintf(cmd, sizeof cmd, "startDriver %s", light ? light : "BL0937");
	jstr(t, "command", cmd);
	jstr(t, "image", "");
	jstr(t, "wiki", "");
	const char *text = json_object_to_json_string_ext(t, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
								      JSON_C_TO_STRING_NOSLASHESCAPE);
	char *copy = malloc(strlen(text) + 2);
	if (copy) {
		strcpy(copy, text);
		strcat(copy, "\n");
	}
	json_object_put(t);
	return copy;
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');
	return b ? b + 1 : path;
}

static int write_template(const char *path, const char *name, const struct bk_tuya_store *st,
			  enum bk_beken_family family, int force, json_object *obj, int print, struct bk_err *err)
{
	if (!st || !st->n_pins)
		return bk_fail(err, BK_EINVAL, "%s has no Tuya pin configuration: no OpenBeken template written",
			       base_name(name));
	char *text = obk_template(st, base_name(name), family);
	if (!text)
		return bk_fail(err, BK_ENOMEM, "out of memory");
	int r = bk_outfile_write(path, (const uint8_t *)text, strlen(text), force ? BK_OUT_REPLACE : 0, err);
	free(text);
	if (r)
		return r;
	jstr(obj, "obk_template", path);
	if (print)
		printf("template    OpenBeken device template written to %s\n", path);
	return 0;
}

static void print_image(const char *name, size_t len, const struct bk_beken_class *clsp,
			const struct bk_beken_info *inp, int has_boot, const char *mac);

int bk_info_report(const char *name, const uint8_t *img, size_t len, const struct bk_opts *o, json_object *obj,
		   struct bk_err *err)
{
	int print = !o->json && !o->quiet;
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

	jstr(obj, "file", name);
	jint(obj, "size", (int64_t)len);
	json_object *image = json_object_new_object();
	jstr(image, "kind", cls.name);
	jaddr(image, "belongs_at", cls.flash_offset);
	json_object_object_add(obj, "image", image);
	jstr(obj, "family", bk_beken_family_name(in.family));
	jstr(obj, "family_evidence", in.family_evidence);
	json_object *boot = json_object_new_object();
	if (in.has_boot_crc && has_boot) {
		char crc[16];
		snprintf(crc, sizeof crc, "0x%08X", in.boot_crc);
		jstr(boot, "crc32", crc);
	} else {
		json_object_object_add(boot, "crc32", NULL);
	}
	jstr(boot, "version", in.boot && has_boot ? in.boot->version : "unknown");
	json_object_object_add(obj, "bootloader", boot);
	jaddr(obj, "rotation", in.rotation);
	json_object *integ = json_object_new_object();
	if (has_boot)
		blocks(integ, "bootloader", &in.boot_blocks);
	else
		json_object_object_add(integ, "bootloader", NULL);
	if (!in.tuya_kvs_only)
		blocks(integ, "application", &in.app_blocks);
	else
		json_object_object_add(integ, "application", NULL);
	json_object_object_add(obj, "integrity", integ);
	jaddr(obj, "partition_table", in.ptable);
	json_object *rbls = json_object_new_object();
	rbl_json(rbls, "bootloader", &in.rbl_boot);
	rbl_json(rbls, "application", &in.rbl_app);
	json_object_object_add(obj, "rbl", rbls);
	jaddr(obj, "rf_sector", in.rf_addr);
	char mac[18] = "";
	if (in.has_mac) {
		bk_format_mac(in.mac, mac);
		jstr(obj, "mac", mac);
	} else {
		json_object_object_add(obj, "mac", NULL);
	}
	jaddr(obj, "tuya_store", in.tuya_kvs);
	jaddr(obj, "openbeken_config", in.obk_config);

	struct bk_tuya_store *st = malloc(sizeof *st);
	if (!st)
		return bk_fail(err, BK_ENOMEM, "out of memory");
	struct bk_err terr = { 0 };
	int found = !bk_tuya_read(img, len, st, &terr);
	tuya_json(obj, found ? st : NULL, &terr, o->tuya_keys ? o->show_secrets + 1 : 0);
	/* A template that cannot be written fails before the report. */
	if (o->obk_template && (!found || !st->n_pins))
		r = bk_fail(err, BK_EINVAL, "%s has no Tuya pin configuration: no OpenBeken template written",
			    base_name(name));
	else if (o->obk_template)
		r = bk_outfile_check(o->obk_template, o->force ? BK_OUT_REPLACE : 0, err);
	if (r) {
		free(st);
		return r;
	}
	if (print)
		print_image(name, len, &cls, &in, has_boot, mac);
	if (print)
		tuya_print(found ? st : NULL, &in, &terr, o->tuya_keys ? o->show_secrets + 1 : 0);
	if (o->obk_template)
		r = write_template(o->obk_template, name, found ? st : NULL, in.family, o->force, obj, print, err);
	free(st);
	return r;
}

static void print_image(const char *name, size_t len, const struct bk_beken_class *clsp,
			const struct bk_beken_info *inp, int has_boot, const char *mac)
{
	const struct bk_beken_class cls = *clsp;
	const struct bk_beken_info in = *inp;
	printf("file        %s, %zu bytes\n", name, len);
	if (cls.flash_offset != BK_BEKEN_NONE)
		printf("image       %s, belongs at 0x%06X\n", cls.name, cls.flash_offset);
	else
		printf("image       %s, not for SPI writing\n", cls.name);
	printf("family      %s (%s)\n", bk_beken_family_name(in.family), in.family_evidence);
	if (in.tuya_kvs_only) {
		/* A bare store has no bootloader or CRC blocks to speak of. */
		printf("contents    a bare Tuya key-value store, which belongs at 0x%06X\n", in.tuya_kvs);
		return;
	}
	if (in.has_boot_crc && has_boot)
		printf("bootloader  CRC32 0x%08X: %s%s%s\n", in.boot_crc, in.boot ? bk_beken_family_name(in.boot->family) : "unknown",
		       in.boot ? " " : "", in.boot ? in.boot->version : "");
	else
		printf("bootloader  none in this file\n");
	if (in.rotation)
		printf("rotation    rotated by 0x%X: the file starts with the application\n", in.rotation);
	else
		printf("rotation    none\n");
	if (has_boot) {
		print_blocks("integrity   bootloader", &in.boot_blocks);
		print_blocks("; application", &in.app_blocks);
	} else {
		print_blocks("integrity   application", &in.app_blocks);
	}
	printf(" blocks\n");
	if (in.ptable != BK_BEKEN_NONE)
		printf("partitions  table \"01PE\" at 0x%06X\n", in.ptable);
	rbl_print(&in.rbl_boot);
	rbl_print(&in.rbl_app);
	if (in.rf_addr != BK_BEKEN_NONE)
		printf("rf          calibration sector at 0x%06X, MAC %s\n", in.rf_addr, in.has_mac ? mac : "not found");
	else
		printf("rf          no calibration sector\n");
	if (in.obk_config != BK_BEKEN_NONE)
		printf("openbeken   config version %u at 0x%06X\n", in.obk_version, in.obk_config);
	else
		printf("openbeken   no config\n");
}

int bk_info_worth_summary(size_t len)
{
	return len >= BK_BEKEN_APP_START;
}

static void tuya_summary(const uint8_t *img, size_t len, json_object *obj, int print);

void bk_info_summary(const uint8_t *img, size_t len, json_object *obj, int print)
{
	struct bk_beken_info in;
	if (bk_beken_analyse(img, len, &in, NULL))
		return;
	char mac[18] = "none";
	if (in.has_mac)
		bk_format_mac(in.mac, mac);
	uint32_t corrupt = in.boot_blocks.corrupt + in.app_blocks.corrupt;
	json_object *o = json_object_new_object();
	jstr(o, "family", bk_beken_family_name(in.family));
	jstr(o, "bootloader", in.boot ? in.boot->version : "unknown");
	jstr(o, "mac", mac);
	jint(o, "corrupt_blocks", corrupt);
	json_object_object_add(obj, "beken", o);
	if (print)
		printf("beken       %s, bootloader %s, MAC %s, %s\n", bk_beken_family_name(in.family),
		       in.boot ? in.boot->version : "unknown", mac,
		       corrupt ? "CRC-16 blocks CORRUPT (see bkspi info)" : "CRC-16 blocks intact");
	tuya_summary(img, len, obj, print);
}

/* The Tuya part of a read's summary: one line when the flash holds a
 * store with a device configuration. */
static void tuya_summary(const uint8_t *img, size_t len, json_object *obj, int print)
{
	struct bk_tuya_store *st = malloc(sizeof *st);
	if (!st || bk_tuya_read(img, len, st, NULL) || !st->has_config) {
		free(st);
		return;
	}
	tuya_json(obj, st, NULL, 0);
	if (print) {
		printf("tuya        module %s;", st->module[0] ? st->module : "not named");
		for (uint32_t i = 0; i < st->n_pins; i++)
			printf(st->pins[i].channel ? "%s P%u %s %u" : "%s P%u %s", i ? "," : "", st->pins[i].gpio,
			       st->pins[i].role, st->pins[i].channel);
		if (!st->n_pins)
			printf(" no pins named");
		printf("\n");
	}
	free(st);
}

int bk_info_read_template(const uint8_t *img, size_t len, const char *backup, const struct bk_opts *o,
			  json_object *obj, struct bk_err *err)
{
	/* A bare name goes beside the backup; a path is taken as it is. */
	char path[4096];
	const char *slash = strrchr(backup, '/');
	if (!strchr(o->obk_template, '/') && slash)
		snprintf(path, sizeof path, "%.*s/%s", (int)(slash - backup), backup, o->obk_template);
	else
		snprintf(path, sizeof path, "%s", o->obk_template);
	struct bk_beken_info in;
	int r = bk_beken_analyse(img, len, &in, err);
	if (r)
		return bk_err_ctx(err, r, "the backup is saved as %s", backup);
	struct bk_tuya_store *st = malloc(sizeof *st);
	if (!st)
		return bk_fail(err, BK_ENOMEM, "out of memory");
	int found = !bk_tuya_read(img, len, st, NULL);
	r = write_template(path, backup, found ? st : NULL, in.family, o->force, obj, !o->json && !o->quiet, err);
	free(st);
	if (r)
		bk_err_ctx(err, r, "the backup is saved as %s", backup);
	return r;
}
