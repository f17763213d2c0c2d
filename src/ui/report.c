/* The reports of the handle API as text and JSON (see ui.h). */
#include "ui/ui.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LINE_MAX_LEN 1024

/* "label       text": the label column is what a reader scans. */
static void say(const struct bk_ui *ui, const char *label, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(const struct bk_ui *ui, const char *label, const char *fmt, ...)
{
	char buf[LINE_MAX_LEN];
	int n = snprintf(buf, sizeof buf, "%-11s ", label);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
	va_end(ap);
	ui->line(ui->user, buf);
}

static void hex(const struct bk_ui *ui, const char *key, uint32_t v, int digits)
{
	char b[16];
	snprintf(b, sizeof b, "0x%0*X", digits, v);
	ui->str(ui->user, key, b);
}

static void range(const struct bk_ui *ui, const char *key, const struct bkspi_kept *k)
{
	ui->begin(ui->user, key);
	hex(ui, "addr", k->addr, 6);
	ui->num(ui->user, "length", k->len);
	ui->end(ui->user);
}

const char *bk_ui_plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

const char *bk_ui_size(uint64_t n, char *buf, size_t cap)
{
	if (n >= 1024 && n % 1024 == 0)
		snprintf(buf, cap, "%llu KiB", (unsigned long long)(n / 1024));
	else
		snprintf(buf, cap, "%llu byte%s", (unsigned long long)n, bk_ui_plural(n));
	return buf;
}

void bk_ui_mac(const uint8_t m[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

void bk_ui_entry(const struct bk_ui *ui, const struct bkspi_entry *e)
{
	ui->begin(ui->user, "target");
	ui->str(ui->user, "kind", e->beken ? "beken" : "spi");
	if (!e->beken) {
		ui->end(ui->user);
		say(ui, "target", "plain SPI flash (no entry sequence)");
		return;
	}
	const char *style = e->echo ? "0xD2 echo" : e->long_flush ? "no echo, long flush" : "no echo";
	ui->num(ui->user, "attempts", e->attempts);
	ui->str(ui->user, "reply", style);
	ui->str(ui->user, "run", e->slow_run ? "slow" : "stream");
	ui->end(ui->user);
	say(ui, "target", "Beken chip in SPI mode (attempt %u, %s%s)", e->attempts, style, e->slow_run ? ", slow run" : "");
}

void bk_ui_flash(const struct bk_ui *ui, const struct bkspi_flash *in)
{
	char id[16], reply[16];
	snprintf(id, sizeof id, "%06X", in->jedec);
	snprintf(reply, sizeof reply, "%02X-%02X-%02X-%02X", in->reply[0], in->reply[1], in->reply[2], in->reply[3]);
	ui->begin(ui->user, "flash");
	ui->str(ui->user, "jedec", id);
	ui->str(ui->user, "reply", reply);
	ui->str(ui->user, "vendor", in->vendor);
	ui->str(ui->user, "part", in->part);
	ui->num(ui->user, "size", in->size);
	ui->str(ui->user, "size_from", in->size_from);
	ui->end(ui->user);
	say(ui, "flash", "%s %s, JEDEC ID %06X (reply %s), %u KiB (size from %s)", in->vendor, in->part, in->jedec,
	    reply, in->size / 1024, in->size_from);
}

void bk_ui_status(const struct bk_ui *ui, const struct bkspi_status_regs *s)
{
	ui->begin(ui->user, "status");
	hex(ui, "sr1", s->sr1, 2);
	if (s->has_sr2)
		hex(ui, "sr2", s->sr2, 2);
	ui->num(ui->user, "bp", s->bp);
	ui->num(ui->user, "tb", s->tb);
	ui->num(ui->user, "sec", s->sec);
	ui->num(ui->user, "cmp", s->cmp);
	ui->num(ui->user, "srp", s->srp);
	ui->str(ui->user, "protected", s->protected_desc);
	ui->end(ui->user);
	char sr2[16] = "";
	if (s->has_sr2)
		snprintf(sr2, sizeof sr2, " SR2=0x%02X", s->sr2);
	say(ui, "status", "SR1=0x%02X%s  BP=%u TB=%u SEC=%u CMP=%u SRP=%u", s->sr1, sr2, s->bp, s->tb, s->sec, s->cmp,
	    s->srp);
	say(ui, "protected", "%s", s->protected_desc);
}

void bk_ui_confirm(const struct bk_ui *ui, const struct bkspi_confirm_report *c)
{
	if (!c->sectors)
		return;
	ui->begin(ui->user, "confirmed");
	ui->num(ui->user, "sectors", c->sectors);
	ui->num(ui->user, "by_crc", c->by_crc);
	ui->num(ui->user, "by_reread", c->by_reread);
	ui->num(ui->user, "corrected", c->corrected);
	ui->end(ui->user);
	char more[96] = "";
	if (c->corrected)
		snprintf(more, sizeof more, "; %u misread at first and read again until two reads agreed", c->corrected);
	say(ui, "confirmed", "%u sector%s: %u by their CRC-16 blocks, %u by a second read%s", c->sectors,
	    bk_ui_plural(c->sectors), c->by_crc, c->by_reread, more);
}

static const char *const kept_what[] = { "RF calibration and MAC", "Tuya key-value store" };

void bk_ui_plan(const struct bk_ui *ui, const struct bkspi_plan_report *p)
{
	ui->begin(ui->user, "plan");
	if (p->image_kind) {
		int known = strcmp(p->image_family, "unknown") != 0;
		ui->begin(ui->user, "image");
		ui->str(ui->user, "kind", p->image_kind);
		ui->str(ui->user, "family", p->image_family);
		ui->str(ui->user, "chip_family", p->chip_family);
		char where[40] = "";
		if (p->belongs_at != UINT32_MAX) {
			hex(ui, "belongs_at", p->belongs_at, 6);
			snprintf(where, sizeof where, ", belongs at 0x%06X", p->belongs_at);
		}
		ui->end(ui->user);
		say(ui, "image", "%s%s%s%s; chip bootloader: %s", p->image_kind, known ? " for " : "",
		    known ? p->image_family : "", where, p->chip_family);
	}
	const struct bkspi_kept *k[] = { &p->kept_rf, &p->kept_tuya };
	static const char *const keys[] = { "keeps_rf", "keeps_tuya" };
	for (size_t i = 0; i < 2; i++) {
		if (!k[i]->kept)
			continue;
		range(ui, keys[i], k[i]);
		say(ui, "keeps", "this device's %s (0x%06X-0x%06X)", kept_what[i], k[i]->addr, k[i]->addr + k[i]->len - 1);
	}
	if (p->destroys[0]) {
		ui->str(ui->user, "destroys", p->destroys);
		say(ui, "destroys", "%s", p->destroys);
	}
	if (p->forced[0]) {
		char w[600];
		ui->str(ui->user, "forced", p->forced);
		snprintf(w, sizeof w, "%s overrides a refusal: %s", ui->force_name, p->forced);
		ui->warn(ui->user, w);
	}
	ui->num(ui->user, "sectors", p->sectors);
	ui->num(ui->user, "unchanged", p->same);
	ui->num(ui->user, "erase", p->erased);
	ui->num(ui->user, "erase_ops", p->erase_ops);
	ui->num(ui->user, "program_in_place", p->program_only);
	ui->num(ui->user, "pages", p->pages);
	ui->end(ui->user);
	say(ui, "plan", "%u sector%s: %u to erase in %u operation%s, %u to program without erase, %u page%s to program, %u unchanged",
	    p->sectors, bk_ui_plural(p->sectors), p->erased, p->erase_ops, bk_ui_plural(p->erase_ops), p->program_only,
	    p->pages, bk_ui_plural(p->pages), p->same);
}

static void kept(const struct bk_ui *ui, const char *key, const char *what, const struct bkspi_kept *k)
{
	if (!k->kept)
		return;
	range(ui, key, k);
	say(ui, "kept", "this device's %s (0x%06X-0x%06X), not the file's", what, k->addr, k->addr + k->len - 1);
}

static void beken(const struct bk_ui *ui, const struct bkspi_write_report *w)
{
	ui->begin(ui->user, "image");
	ui->str(ui->user, "kind", w->image_kind);
	ui->str(ui->user, "family", w->image_family);
	ui->str(ui->user, "chip_family", w->chip_family);
	ui->end(ui->user);
	if (w->forced[0])
		ui->str(ui->user, "forced", w->forced);
	kept(ui, "kept_rf", kept_what[0], &w->kept_rf);
	kept(ui, "kept_tuya", kept_what[1], &w->kept_tuya);
	char before[18], after[18], file[18];
	bk_ui_mac(w->mac_before, before);
	bk_ui_mac(w->mac_after, after);
	if (w->has_mac_before)
		ui->str(ui->user, "mac_before", before);
	if (w->has_mac_after)
		ui->str(ui->user, "mac_after", after);
	if (w->has_mac_before && w->has_mac_after)
		say(ui, "mac", "before %s, after %s", before, after);
	if (w->has_file_mac && !w->kept_rf.kept && w->has_mac_before && memcmp(w->file_mac, w->mac_before, 6)) {
		bk_ui_mac(w->file_mac, file);
		say(ui, "mac", "the file's MAC %s replaced this device's (%s)", file, ui->keep_rf_no_name);
	}
}

void bk_ui_write(const struct bk_ui *ui, const struct bkspi_write_report *w, const char *backup)
{
	ui->begin(ui->user, "write");
	if (backup) {
		ui->str(ui->user, "backup", backup);
		say(ui, "backup", "%s", backup);
	}
	if (w->beken && w->image_kind)
		beken(ui, w);
	if (w->destroys[0])
		ui->str(ui->user, "destroyed", w->destroys);
	if (w->beken && !w->image_kind && w->forced[0])
		ui->str(ui->user, "forced", w->forced);
	bk_ui_confirm(ui, &w->confirm);
	if (w->recovered) {
		ui->num(ui->user, "recovered", w->recovered);
		say(ui, "recovered", "%u operation%s after USB faults (read back and planned again)", w->recovered,
		    bk_ui_plural(w->recovered));
	}
	if (w->unprotect.changed) {
		ui->begin(ui->user, "unprotect");
		hex(ui, "sr1_before", w->unprotect.sr1_before, 2);
		hex(ui, "sr1_after", w->unprotect.sr1_after, 2);
		hex(ui, "sr2_before", w->unprotect.sr2_before, 2);
		hex(ui, "sr2_after", w->unprotect.sr2_after, 2);
		ui->end(ui->user);
		say(ui, "unprotect", "SR1 0x%02X -> 0x%02X, SR2 0x%02X -> 0x%02X", w->unprotect.sr1_before,
		    w->unprotect.sr1_after, w->unprotect.sr2_before, w->unprotect.sr2_after);
	}
	ui->num(ui->user, "sectors", w->sectors);
	ui->num(ui->user, "skipped", w->same);
	ui->num(ui->user, "erased", w->erased);
	ui->num(ui->user, "erase_ops", w->erase_ops);
	ui->num(ui->user, "programmed_in_place", w->program_only);
	ui->num(ui->user, "pages", w->pages);
	ui->num(ui->user, "verified", w->verified);
	ui->num(ui->user, "read_back", w->read_back);
	ui->end(ui->user);
	say(ui, "sectors", "%u: %u unchanged (skipped), %u erased in %u operation%s, %u programmed without erase",
	    w->sectors, w->same, w->erased, w->erase_ops, bk_ui_plural(w->erase_ops), w->program_only);
	say(ui, "pages", "%u programmed", w->pages);
	if (w->verified)
		say(ui, "verify", "OK: %u bytes (%u read back, the rest unchanged)", w->verified, w->read_back);
	else
		say(ui, "verify", "skipped (%s)", ui->no_verify_name);
}

void bk_ui_read(const struct bk_ui *ui, uint32_t addr, uint32_t len, const char *name, double seconds)
{
	char size[32];
	ui->str(ui->user, "file", name);
	hex(ui, "offset", addr, 6);
	ui->num(ui->user, "length", len);
	say(ui, "read", "%s from 0x%06X to %s in %.2f s (%.1f KB/s)", bk_ui_size(len, size, sizeof size), addr, name,
	    seconds, seconds > 0 ? len / seconds / 1000 : 0);
}

void bk_ui_verify(const struct bk_ui *ui, int r, uint32_t addr, uint32_t len, const char *what,
		  const struct bkspi_verify_report *v)
{
	const struct bkspi_kept *skip[] = { &v->skipped_rf, &v->skipped_tuya };
	static const char *const keys[] = { "skipped_rf", "skipped_tuya" };
	for (size_t i = 0; i < 2 && (!r || r == BKSPI_EVERIFY); i++) {
		if (!skip[i]->kept)
			continue;
		range(ui, keys[i], skip[i]);
		say(ui, "skipped", "this device's %s (0x%06X-0x%06X), which write keeps", kept_what[i], skip[i]->addr,
		    skip[i]->addr + skip[i]->len - 1);
	}
	if (r == BKSPI_EVERIFY) {
		ui->begin(ui->user, "mismatch");
		ui->num(ui->user, "bytes", v->mismatched);
		hex(ui, "first", v->first, 6);
		hex(ui, "last", v->last, 6);
		ui->flag(ui->user, "only_rf", v->only_rf);
		ui->end(ui->user);
	}
	if (r)
		return;
	uint32_t compared = len - (v->skipped_rf.kept ? v->skipped_rf.len : 0) -
			    (v->skipped_tuya.kept ? v->skipped_tuya.len : 0);
	ui->num(ui->user, "verified", compared);
	say(ui, "verify", "OK: %u bytes at 0x%06X match %s", compared, addr, what);
}

void bk_ui_done(const struct bk_ui *ui, const char *verb, uint32_t addr, uint32_t len, double seconds)
{
	char size[32];
	hex(ui, "offset", addr, 6);
	ui->num(ui->user, "length", len);
	say(ui, verb, "%s at 0x%06X in %.2f s", bk_ui_size(len, size, sizeof size), addr, seconds);
}

void bk_ui_reset(const struct bk_ui *ui)
{
	say(ui, "reset", "CEN pulsed: the chip boots its firmware");
}

void bk_ui_doctor(const struct bk_ui *ui, const struct bkspi_check *c, size_t n)
{
	static const char *const verdicts[] = { "OK", "WARN", "FAIL" };
	ui->begin_array(ui->user, "checks");
	for (size_t i = 0; i < n; i++) {
		ui->begin(ui->user, NULL);
		ui->str(ui->user, "check", c[i].name);
		ui->str(ui->user, "result", verdicts[c[i].verdict]);
		ui->str(ui->user, "text", c[i].text);
		if (c[i].code)
			ui->str(ui->user, "code", bkspi_errname(c[i].code));
		ui->end(ui->user);
		char line[sizeof c[i].text + 32];
		snprintf(line, sizeof line, "%-5s %-11s %s", verdicts[c[i].verdict], c[i].name, c[i].text);
		ui->line(ui->user, line);
	}
	ui->end(ui->user);
}
