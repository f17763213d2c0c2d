/* Presenting Beken image analysis: `bkspi info` and the summary after a read. */
#ifndef BK_CLI_INFO_H
#define BK_CLI_INFO_H

#include <json.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "cli/args.h"

/* Analyses img and adds the full report to obj, the Tuya configuration
 * included; prints it unless --json or -q; --tuya-keys lists the store's
 * keys, --obk-template writes an OpenBeken template. */
int bk_info_report(const char *name, const uint8_t *img, size_t len, const struct bk_opts *o, json_object *obj,
		   struct bk_err *err);

/* Whether a read of len bytes from 0 reaches past the bootloader, so the
 * summary has something to say. */
int bk_info_worth_summary(size_t len);

/* One line (family, bootloader, MAC, integrity) for a flash read from 0,
 * and one more with the module and pins when it holds a Tuya store. */
void bk_info_summary(const uint8_t *img, size_t len, json_object *obj, int print);

/* read --obk-template: the template from a flash just read and saved as
 * backup; a template name without a directory goes beside the backup. */
int bk_info_read_template(const uint8_t *img, size_t len, const char *backup, const struct bk_opts *o,
			  json_object *obj, struct bk_err *err);

void bk_format_mac(const uint8_t mac[6], char out[18]);

#endif
