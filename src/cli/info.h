/* Presenting Beken image analysis: `bkspi info` and the summary after a read. */
#ifndef BK_CLI_INFO_H
#define BK_CLI_INFO_H

#include <json.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Analyses img and adds the full report to obj; prints it unless quiet. */
int bk_info_report(const char *name, const uint8_t *img, size_t len, json_object *obj, int print,
		   struct bk_err *err);

/* Whether a read of len bytes from 0 reaches past the bootloader, so the
 * summary has something to say. */
int bk_info_worth_summary(size_t len);

/* One line (family, bootloader, MAC, integrity) for a flash read from 0. */
void bk_info_summary(const uint8_t *img, size_t len, json_object *obj, int print);

void bk_format_mac(const uint8_t mac[6], char out[18]);

#endif
