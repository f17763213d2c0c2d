/* What every front end says about a report: its lines of text and the
 * same facts as JSON members, written once here so that the command line
 * and the web page say exactly the same thing. A front end supplies the
 * sink: where lines go (stdout, the page's log) and how JSON is built
 * (json-c, a string). Nothing here does I/O. */
#ifndef BK_UI_UI_H
#define BK_UI_UI_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "bkspi.h"

struct bk_ui {
	void *user;
	/* One line of text, without its newline: "flash       Winbond ...". */
	void (*line)(void *user, const char *text);
	/* Something the user must see even when lines are not shown. */
	void (*warn)(void *user, const char *text);
	/* JSON: members of the current object; begin opens an object member
	 * (or, with key NULL inside an array, an element), end closes it. */
	void (*begin)(void *user, const char *key);
	void (*begin_array)(void *user, const char *key);
	void (*end)(void *user);
	void (*str)(void *user, const char *key, const char *v);   /* v NULL: null */
	void (*num)(void *user, const char *key, int64_t v);
	void (*flag)(void *user, const char *key, int v);
	/* How this front end names the choices a message refers to. */
	const char *force_name;      /* "--force", "\"Write anyway\"" */
	const char *no_verify_name;  /* "--no-verify", "Verify after writing is off" */
	const char *keep_rf_no_name; /* "--keep-rf no", "Keep RF/MAC is off" */
	const char *show_secrets_name; /* "--show-secrets" */
};

/* Parses a byte count or address: decimal, 0x hex, optional K or M
 * (KiB, MiB) suffix. Rejects signs, garbage and values above max. */
int bk_parse_num(const char *s, uint64_t max, uint64_t *out);
/* Parses a clock: Hz, or k/M (10^3, 10^6) with decimals, "Hz" allowed:
 * "15M", "1.875MHz", "468750". */
int bk_parse_hz(const char *s, uint32_t *out);

/* "12 bytes", "1 byte", "64 KiB": small or odd sizes are not "0 KiB". */
const char *bk_ui_size(uint64_t n, char *buf, size_t cap);
const char *bk_ui_plural(uint64_t n);
void bk_ui_mac(const uint8_t mac[6], char out[18]);

void bk_ui_entry(const struct bk_ui *ui, const struct bkspi_entry *e);
void bk_ui_flash(const struct bk_ui *ui, const struct bkspi_flash *f);
void bk_ui_status(const struct bk_ui *ui, const struct bkspi_status_regs *s);
void bk_ui_confirm(const struct bk_ui *ui, const struct bkspi_confirm_report *c);
void bk_ui_plan(const struct bk_ui *ui, const struct bkspi_plan_report *p);
/* backup: the backup's name as the user should see it, or NULL. */
void bk_ui_write(const struct bk_ui *ui, const struct bkspi_write_report *w, const char *backup);
/* "read  64 KiB from 0x000000 to NAME in 1.00 s (65.5 KB/s)" */
void bk_ui_read(const struct bk_ui *ui, uint32_t addr, uint32_t len, const char *name, double seconds);
/* what: the file's name; skipped regions and the mismatch, then OK unless r. */
void bk_ui_verify(const struct bk_ui *ui, int r, uint32_t addr, uint32_t len, const char *what,
		  const struct bkspi_verify_report *v);
/* "wrote"/"erased LEN at ADDR in S s" */
void bk_ui_done(const struct bk_ui *ui, const char *verb, uint32_t addr, uint32_t len, double seconds);
void bk_ui_reset(const struct bk_ui *ui);
void bk_ui_doctor(const struct bk_ui *ui, const struct bkspi_check *c, size_t n);

/* The offline analysis of a Beken image or dump: what it is, where it
 * belongs, bootloader, integrity, RBL headers, RF/MAC, the Tuya store
 * (keys: 0 no key list, 1 with secrets masked, 2 all). */
int bk_ui_info(const struct bk_ui *ui, const char *name, const uint8_t *img, size_t len, int keys, struct bk_err *err);
/* Whether a read of len bytes from 0 reaches past the bootloader, so the
 * summary after it has something to say. */
int bk_ui_summary_worth(size_t len);
/* One line (family, bootloader, MAC, integrity) for a flash read from 0,
 * and one with the module and pins when it holds a Tuya store. */
void bk_ui_summary(const struct bk_ui *ui, const uint8_t *img, size_t len);

#endif
