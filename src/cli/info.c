/* The command line's part of `info`: the report comes from the shared
 * renderer (src/ui); the OpenBeken template is a file, which only the
 * command line writes. */
#include "cli/info.h"

#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/outfile.h"
#include "beken/beken.h"
#include "beken/tuya.h"

static void jstr(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
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

static int write_template(const struct bk_ui *ui, const char *path, const char *name, const struct bk_tuya_store *st,
			  enum bk_beken_family family, int force, struct bk_err *err)
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
	ui->str(ui->user, "obk_template", path);
	char line[4200];
	snprintf(line, sizeof line, "template    OpenBeken device template written to %s", path);
	ui->line(ui->user, line);
	return 0;
}

int bk_info_report(const struct bk_ui *ui, const char *name, const uint8_t *img, size_t len, const struct bk_opts *o,
		   struct bk_err *err)
{
	struct bk_tuya_store *st = NULL;
	struct bk_beken_info in = { .family = BK_BEKEN_FAMILY_UNKNOWN };
	int r = 0;
	/* A template that cannot be written fails before the report. */
	if (o->obk_template) {
		st = malloc(sizeof *st);
		if (!st)
			return bk_fail(err, BK_ENOMEM, "out of memory");
		if (bk_tuya_read(img, len, st, NULL) || !st->n_pins)
			r = bk_fail(err, BK_EINVAL, "%s has no Tuya pin configuration: no OpenBeken template written",
				    base_name(name));
		else
			r = bk_outfile_check(o->obk_template, o->force ? BK_OUT_REPLACE : 0, err);
		if (!r)
			bk_beken_analyse(img, len, &in, NULL);
	}
	if (!r)
		r = bk_ui_info(ui, name, img, len, o->tuya_keys ? o->show_secrets + 1 : 0, err);
	if (!r && st)
		r = write_template(ui, o->obk_template, name, st, in.family, o->force, err);
	free(st);
	return r;
}

int bk_info_read_template(const struct bk_ui *ui, const uint8_t *img, size_t len, const char *backup,
			  const struct bk_opts *o, struct bk_err *err)
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
	r = write_template(ui, path, backup, found ? st : NULL, in.family, o->force, err);
	free(st);
	if (r)
		bk_err_ctx(err, r, "the backup is saved as %s", backup);
	return r;
}
