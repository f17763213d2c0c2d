/* The page's calls into the core (web/api.c). Each report is a JSON
 * string owned by the session and valid until its next call: "ok", and on
 * failure "error" with "name" (BKSPI_E...), "code" and the one-line
 * "message" naming the fix. Log lines go to Module.bkLine, progress to
 * Module.bkProgress(phase, done, total, now_us). Offsets and lengths are
 * text in the command line's number forms; blank means 0 and the rest of
 * the flash. */
#ifndef BK_WEB_API_H
#define BK_WEB_API_H

#include <stdint.h>

struct web;

struct web *bkw_new(void);
int bkw_set_target(struct web *w, int target);   /* 0 Beken, 1 generic SPI */
const char *bkw_connect(struct web *w);
const char *bkw_detect(struct web *w);
const char *bkw_read(struct web *w, const char *offset, const char *length);
uint8_t *bkw_data(struct web *w);                 /* the last read */
uint32_t bkw_data_len(struct web *w);
const char *bkw_backup_path(struct web *w);       /* "" before a backup */
const char *bkw_verify(struct web *w, const uint8_t *data, uint32_t size, const char *offset, int flags);
const char *bkw_write_check(struct web *w, const uint8_t *data, uint32_t size, const char *offset);
/* flags: 1 force, 2 keep RF/MAC, 4 keep the Tuya store, 8 no verify */
const char *bkw_write(struct web *w, const uint8_t *data, uint32_t size, const char *offset, int flags);
const char *bkw_erase(struct web *w, const char *offset, const char *length);
const char *bkw_reset(struct web *w);
const char *bkw_info(struct web *w, const char *name, const uint8_t *img, uint32_t len);

#endif
