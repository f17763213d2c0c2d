/* bkspi: the command line. Parses, opens the programmer, gets the flash on
 * the bus, runs one operation, prints the outcome once (text or JSON) and
 * maps errors to small exit codes. */
#include <errno.h>
#include <fcntl.h>
#include <json.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/limits.h"
#include "cli/args.h"
#include "cli/info.h"
#include "cli/progress.h"
#include "core/safety.h"
#include "core/ops.h"
#include "base/outfile.h"
#include "emu/emu.h"
#include "spi/chips.h"
#include "spi/flash.h"
#include "spi/protect.h"
#include "target/target.h"

#define BKSPI_VERSION "0.1.0"
#define EXIT_USAGE 2
#define BACKUP_DIR "backups"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int cancelled(void *user)
{
	(void)user;
	return interrupted;
}

struct app {
	struct bk_opts o;
	struct bk_err err;
	struct bk_emu *emu;        /* -p sim: owned by prog, kept for statistics */
	struct bk_prog *prog;
	struct bk_flash *flash;
	struct bk_entry entry;
	struct bk_progress progress;
	struct bk_hooks hooks;
	struct bk_job job;
	json_object *out;          /* the JSON result, also the source of text output */
	uint64_t t0;
	uint8_t *file_data;
	size_t file_len;
	char backup[4096];         /* the backup this run saved, for messages */
};

static int exit_code(int err)
{
	switch (err) {
	case BK_OK: return 0;
	case BK_EINVAL: case BK_EEXIST: case BK_EREFUSED: return EXIT_USAGE;
	case BK_ENODEV: case BK_EACCESS: case BK_EBUSY: case BK_EUSB: case BK_ETIMEDOUT: case BK_EGONE: return 3;
	case BK_ENOCHIP: return 4;
	case BK_EINTR: return 130;
	default: return 1;
	}
}

/* Text output goes through here so --json and -q silence it in one place. */
static void say(const struct app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct app *a, const char *fmt, ...)
{
	if (a->o.json || a->o.quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

static void jset_int(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static void jset_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void jset_hex(json_object *o, const char *k, uint32_t v, int digits)
{
	char b[16];
	snprintf(b, sizeof b, "0x%0*X", digits, v);
	jset_str(o, k, b);
}

static json_object *jobj(json_object *parent, const char *k)
{
	json_object *o = json_object_new_object();
	json_object_object_add(parent, k, o);
	return o;
}

/* ---- input file --------------------------------------------------- */

static int load_file(struct app *a, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bk_fail(&a->err, BK_EINVAL, "cannot open %s: %s", path, strerror(errno));
	struct stat sb;
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		close(fd);
		return bk_fail(&a->err, BK_EINVAL, "%s is not a regular file", path);
	}
	if (sb.st_size == 0) {
		close(fd);
		return bk_fail(&a->err, BK_EINVAL, "%s is empty", path);
	}
	if (sb.st_size > BK_MAX_FLASH) {
		close(fd);
		return bk_fail(&a->err, BK_EINVAL, "%s is %lld bytes: larger than any flash bkspi handles (16 MiB)",
			       path, (long long)sb.st_size);
	}
	a->file_len = (size_t)sb.st_size;
	a->file_data = malloc(a->file_len);
	if (!a->file_data) {
		close(fd);
		return bk_fail(&a->err, BK_ENOMEM, "out of memory");
	}
	size_t got = 0;
	while (got < a->file_len) {
		ssize_t n = read(fd, a->file_data + got, a->file_len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = errno;
			close(fd);
			return bk_fail(&a->err, BK_EINVAL, "reading %s: %s", path, n ? strerror(e) : "file shrank");
		}
		got += (size_t)n;
	}
	close(fd);
	return 0;
}

/* ---- programmer ----------------------------------------------------- */

static int sim_default_image(struct app *a, char *path, size_t cap)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char dir[4096];
	if (state && *state)
		snprintf(dir, sizeof dir, "%s/bkspi", state);
	else if (home && *home)
		snprintf(dir, sizeof dir, "%s/.local/state/bkspi", home);
	else
		snprintf(dir, sizeof dir, ".");
	if ((size_t)snprintf(path, cap, "%s/sim-flash.bin", dir) >= cap)
		return bk_fail(&a->err, BK_EINVAL, "simulator image path too long");
	if (access(path, F_OK) == 0)
		return 0;
	int r = bk_mkdirs(dir, &a->err);
	uint8_t *img = r ? NULL : malloc(2u << 20);
	if (!r && !img)
		r = bk_fail(&a->err, BK_ENOMEM, "out of memory");
	if (!r)
		r = bk_emu_synth(img, 2u << 20, 1);
	if (!r)
		r = bk_outfile_write(path, img, 2u << 20, 0, &a->err);
	free(img);
	if (!r && !a->o.quiet && !a->o.json)
		fprintf(stderr, "bkspi: created the simulated flash %s (2 MiB synthetic BK7231N image)\n", path);
	return r;
}

static int open_programmer(struct app *a)
{
	struct bk_usb *usb = NULL;
	int r;
	if (!strcmp(a->o.programmer, "sim")) {
		char path[4200], config[8192];
		const char *image = a->o.sim_image;
		if (!image) {
			r = sim_default_image(a, path, sizeof path);
			if (r)
				return r;
			image = path;
		}
		/* -t spi means a bare flash: no Beken chip in front of it. */
		snprintf(config, sizeof config, "%simage=%s%s%s", a->o.target == BK_TARGET_SPI ? "beken=0," : "",
			 image, a->o.sim_config ? "," : "", a->o.sim_config ? a->o.sim_config : "");
		r = bk_emu_new(config, &a->err, &a->emu);
		if (!r)
			r = bk_emu_usb(a->emu, &a->err, &usb);
	} else {
		int detached;
		r = bk_usb_open_libusb(0x1a86, 0x5512, &a->err, &usb, &detached);
		if (!r && detached && !a->o.quiet && !a->o.json)
			fprintf(stderr, "bkspi: note: detached the kernel driver that held the CH341A\n");
	}
	if (!r)
		r = bk_prog_open(usb, &a->err, &a->prog);
	if (!r)
		a->t0 = bk_prog_now_us(a->prog);
	return r;
}

/* ---- reporting -------------------------------------------------------- */

static void report_flash(struct app *a)
{
	const struct bk_flash_info *in = bk_flash_info(a->flash);
	json_object *f = jobj(a->out, "flash");
	char id[16];
	snprintf(id, sizeof id, "%06X", in->jedec);
	jset_str(f, "jedec", id);
	snprintf(id, sizeof id, "%02X-%02X-%02X-%02X", in->id[0], in->id[1], in->id[2], in->id[3]);
	jset_str(f, "reply", id);
	jset_str(f, "vendor", in->vendor);
	jset_str(f, "part", in->part);
	jset_int(f, "size", in->size);
	jset_str(f, "size_from", in->size_from);
	say(a, "flash       %s %s, JEDEC ID %06X (reply %s), %u KiB (size from %s)\n", in->vendor, in->part,
	    in->jedec, id, in->size / 1024, in->size_from);
}

static void report_entry(struct app *a)
{
	json_object *t = jobj(a->out, "target");
	jset_str(t, "kind", a->o.target == BK_TARGET_BEKEN ? "beken" : "spi");
	if (a->o.target != BK_TARGET_BEKEN) {
		say(a, "target      plain SPI flash (no entry sequence)\n");
		return;
	}
	const char *style = a->entry.echo ? "0xD2 echo" : a->entry.long_flush ? "no echo, long flush" : "no echo";
	jset_int(t, "attempts", a->entry.attempts);
	jset_str(t, "reply", style);
	say(a, "target      Beken chip in SPI mode (attempt %u, %s)\n", a->entry.attempts, style);
}

static int report_status(struct app *a)
{
	const struct bk_flash_info *in = bk_flash_info(a->flash);
	uint8_t sr1, sr2;
	int r = bk_flash_status(a->flash, &sr1, &sr2);
	if (r)
		return r;
	struct bk_prot p;
	int has_sr2 = !!(in->flags & BK_CHIP_SR2);
	bk_prot_decode(sr1, sr2, has_sr2, in->size, &p);
	char desc[96];
	bk_prot_describe(&p, in->size, desc, sizeof desc);
	json_object *s = jobj(a->out, "status");
	jset_hex(s, "sr1", sr1, 2);
	if (has_sr2)
		jset_hex(s, "sr2", sr2, 2);
	jset_int(s, "bp", p.bp);
	jset_int(s, "tb", p.tb);
	jset_int(s, "sec", p.sec);
	jset_int(s, "cmp", p.cmp);
	jset_int(s, "srp", p.srp);
	jset_str(s, "protected", desc);
	say(a, "status      SR1=0x%02X", sr1);
	if (has_sr2)
		say(a, " SR2=0x%02X", sr2);
	say(a, "  BP=%u TB=%u SEC=%u CMP=%u SRP=%u\n", p.bp, p.tb, p.sec, p.cmp, p.srp);
	say(a, "protected   %s\n", desc);
	return 0;
}

static double elapsed(const struct app *a)
{
	return a->prog ? (double)(bk_prog_now_us(a->prog) - a->t0) / 1e6 : 0;
}

static void report_stats(struct app *a)
{
	jset_str(a->out, "programmer", a->prog ? bk_prog_name(a->prog) : a->o.programmer);
	json_object_object_add(a->out, "seconds", json_object_new_double(elapsed(a)));
	if (!a->emu)
		return;
	struct bk_emu_stats st;
	bk_emu_stats(a->emu, &st);
	json_object *s = jobj(a->out, "usb");
	jset_int(s, "round_trips", (int64_t)st.round_trips);
	jset_int(s, "wakeups", (int64_t)st.wakeups);
	jset_int(s, "out_bytes", (int64_t)st.out_bytes);
	jset_int(s, "in_bytes", (int64_t)st.in_bytes);
	jset_int(s, "packets", (int64_t)st.packets);
	if (a->o.verbose && !a->o.json && !a->o.quiet)
		fprintf(stderr, "usb: %llu round trips, %llu packets, %llu bytes out, %llu bytes in, %.3f s simulated\n",
			(unsigned long long)st.round_trips, (unsigned long long)st.packets,
			(unsigned long long)st.out_bytes, (unsigned long long)st.in_bytes, elapsed(a));
}

/* ---- commands ------------------------------------------------------- */

static void sanitize(char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_' || *s == '.'))
			*s = '-';
}

/* backups/<part>_<label>_<YYYYmmdd-HHMMSS>.bin, never an existing name. */
static int backup_name(struct app *a, const char *purpose, char *path, size_t cap)
{
	const struct bk_flash_info *in = bk_flash_info(a->flash);
	char part[64], label[128], stamp[32];
	snprintf(part, sizeof part, "%s", in->part);
	if (!strcmp(in->part, "unknown part"))
		snprintf(part, sizeof part, "%06X", in->jedec);
	if (a->o.label)
		snprintf(label, sizeof label, "%s%s%s", a->o.label, purpose ? "-" : "", purpose ? purpose : "");
	else
		snprintf(label, sizeof label, "%s", purpose ? purpose : "read");
	sanitize(part);
	sanitize(label);
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
	int r = bk_mkdirs(BACKUP_DIR, &a->err);
	for (int n = 1; !r; n++) {
		char suffix[16] = "";
		if (n > 1)
			snprintf(suffix, sizeof suffix, "-%d", n);
		if ((size_t)snprintf(path, cap, "%s/%s_%s_%s%s.bin", BACKUP_DIR, part, label, stamp, suffix) >= cap)
			return bk_fail(&a->err, BK_EINVAL, "backup name too long");
		if (access(path, F_OK))
			return 0;
	}
	return r;
}

static int range(struct app *a, uint32_t *addr, uint32_t *len, uint64_t default_len)
{
	uint32_t size = bk_flash_info(a->flash)->size;
	uint64_t off = a->o.offset;
	uint64_t n = a->o.has_length ? a->o.length : default_len;
	if (off >= size)
		return bk_fail(&a->err, BK_EINVAL, "--offset 0x%llX is past the end of the %u KiB flash",
			       (unsigned long long)off, size / 1024);
	if (!a->o.has_length && !default_len)
		n = size - off;
	if (n == 0)
		return bk_fail(&a->err, BK_EINVAL, "--length 0 covers nothing; give a length of at least 1");
	if (off + n > size)
		return bk_fail(&a->err, BK_EINVAL, "0x%llX bytes at 0x%llX end past the %u KiB flash (it ends at 0x%X)",
			       (unsigned long long)n, (unsigned long long)off, size / 1024, size);
	*addr = (uint32_t)off;
	*len = (uint32_t)n;
	return 0;
}

static void report_confirm(struct app *a, json_object *parent, const struct bk_confirm *c)
{
	if (!c->sectors)
		return;
	json_object *o = jobj(parent, "confirmed");
	jset_int(o, "sectors", c->sectors);
	jset_int(o, "by_crc", c->by_crc);
	jset_int(o, "by_reread", c->by_reread);
	jset_int(o, "corrected", c->corrected);
	say(a, "confirmed   %u sectors: %u by their CRC-16 blocks, %u by a second read", c->sectors, c->by_crc,
	    c->by_reread);
	if (c->corrected)
		say(a, "; %u misread at first and read again until two reads agreed", c->corrected);
	say(a, "\n");
}

static int cmd_read(struct app *a)
{
	uint32_t addr, len;
	char path[4096];
	int r = range(a, &addr, &len, 0);
	if (!r && a->o.file) {
		/* Checked before USB was touched; the final write checks again. */
		snprintf(path, sizeof path, "%s", a->o.file);
	} else if (!r) {
		r = backup_name(a, NULL, path, sizeof path);
		if (!r)
			r = bk_outfile_check(path, a->o.force, &a->err);
	}
	uint8_t *buf = r ? NULL : malloc(len);
	if (!r && !buf)
		r = bk_fail(&a->err, BK_ENOMEM, "out of memory");
	struct bk_confirm conf = { 0 };
	if (!r)
		r = a->o.confirm ? bk_op_read_confirmed(&a->job, addr, buf, len, &conf)
				 : bk_op_read(&a->job, "read", addr, buf, len);
	bk_progress_done(&a->progress);
	if (!r && a->o.confirm)
		report_confirm(a, a->out, &conf);
	if (!r)
		r = bk_outfile_write(path, buf, len, a->o.force, &a->err);
	if (r) {
		free(buf);
		return r;
	}
	jset_str(a->out, "file", path);
	jset_hex(a->out, "offset", addr, 6);
	jset_int(a->out, "length", len);
	double s = elapsed(a);
	say(a, "read        %u KiB from 0x%06X to %s in %.2f s (%.1f KB/s)\n", len / 1024, addr, path, s,
	    s > 0 ? len / s / 1000 : 0);
	/* What a Beken flash holds, so a bad read or a foreign dump shows at once. */
	if (a->o.target == BK_TARGET_BEKEN && addr == 0 && len >= BK_BEKEN_APP_START)
		bk_info_summary(buf, len, a->out, !a->o.json && !a->o.quiet);
	r = a->o.obk_template ? bk_info_read_template(buf, len, path, &a->o, a->out, &a->err) : 0;
	free(buf);
	return r;
}

static int file_range(struct app *a, uint32_t *addr)
{
	uint32_t size = bk_flash_info(a->flash)->size;
	if (a->o.has_length)
		return bk_fail(&a->err, BK_EINVAL, "--length does not apply to %s: the file's size is used", a->o.cmd_name);
	if (a->o.offset + a->file_len > size)
		return bk_fail(&a->err, BK_EINVAL,
			       "%s is %zu bytes: at offset 0x%llX it would end at 0x%llX, past the end of the %u KiB flash; nothing was changed",
			       a->o.file, a->file_len, (unsigned long long)a->o.offset,
			       (unsigned long long)(a->o.offset + a->file_len), size / 1024);
	*addr = (uint32_t)a->o.offset;
	return 0;
}

static int cmd_verify(struct app *a)
{
	uint32_t addr;
	struct bk_mismatch mm;
	int r = file_range(a, &addr);
	if (!r)
		r = bk_op_verify(&a->job, addr, a->file_data, (uint32_t)a->file_len, &mm);
	bk_progress_done(&a->progress);
	if (r == BK_EVERIFY) {
		json_object *m = jobj(a->out, "mismatch");
		jset_int(m, "bytes", mm.count);
		jset_hex(m, "first", mm.first, 6);
		jset_hex(m, "last", mm.last, 6);
	}
	if (r)
		return r;
	jset_int(a->out, "verified", (int64_t)a->file_len);
	say(a, "verify      OK: %zu bytes at 0x%06X match %s\n", a->file_len, addr, a->o.file);
	return 0;
}

static void report_kept(struct app *a, json_object *o, const char *key, const char *what,
			const struct bk_kept *k)
{
	if (!k->kept)
		return;
	json_object *j = jobj(o, key);
	jset_hex(j, "addr", k->addr, 6);
	jset_int(j, "length", k->len);
	say(a, "kept        this device's %s (0x%06X-0x%06X), not the file's\n", what, k->addr, k->addr + k->len - 1);
}

static void report_beken(struct app *a, json_object *o, const struct bk_write_report *w)
{
	const struct bk_safety *s = &w->safety;
	json_object *img = jobj(o, "image");
	jset_str(img, "kind", s->file.name);
	jset_str(img, "family", bk_beken_family_name(s->file.family));
	jset_str(img, "chip_family", bk_beken_family_name(s->chip));
	say(a, "image       %s%s%s; chip bootloader: %s\n", s->file.name, s->file.family ? " for " : "",
	    s->file.family ? bk_beken_family_name(s->file.family) : "", bk_beken_family_name(s->chip));
	if (s->overridden[0]) {
		jset_str(o, "forced", s->overridden);
		if (!a->o.quiet && !a->o.json)
			fprintf(stderr, "bkspi: warning: --force overrides a refusal: %s\n", s->overridden);
	}
	report_kept(a, o, "kept_rf", "RF calibration and MAC", &w->rf);
	report_kept(a, o, "kept_tuya", "Tuya key-value store", &w->tuya);
	char before[18], after[18], file[18];
	if (w->has_mac_before) {
		bk_format_mac(w->mac_before, before);
		jset_str(o, "mac_before", before);
	}
	if (w->has_mac_after) {
		bk_format_mac(w->mac_after, after);
		jset_str(o, "mac_after", after);
	}
	if (w->has_mac_before && w->has_mac_after)
		say(a, "mac         before %s, after %s\n", before, after);
	if (w->has_file_mac && !w->rf.kept && w->has_mac_before && memcmp(w->file_mac, w->mac_before, 6)) {
		bk_format_mac(w->file_mac, file);
		say(a, "mac         the file's MAC %s replaced this device's (--keep-rf no)\n", file);
	}
}

static void report_write(struct app *a, const struct bk_write_report *w, const char *backup, int beken)
{
	json_object *o = jobj(a->out, "write");
	if (backup) {
		jset_str(o, "backup", backup);
		say(a, "backup      %s\n", backup);
	}
	if (beken)
		report_beken(a, o, w);
	report_confirm(a, o, &w->confirm);
	if (w->recovered) {
		jset_int(o, "recovered", w->recovered);
		say(a, "recovered   %u operations after USB faults (read back and planned again)\n", w->recovered);
	}
	if (w->unprotect.changed) {
		json_object *u = jobj(o, "unprotect");
		jset_hex(u, "sr1_before", w->unprotect.sr1_before, 2);
		jset_hex(u, "sr1_after", w->unprotect.sr1_after, 2);
		jset_hex(u, "sr2_before", w->unprotect.sr2_before, 2);
		jset_hex(u, "sr2_after", w->unprotect.sr2_after, 2);
		say(a, "unprotect   SR1 0x%02X -> 0x%02X, SR2 0x%02X -> 0x%02X\n", w->unprotect.sr1_before,
		    w->unprotect.sr1_after, w->unprotect.sr2_before, w->unprotect.sr2_after);
	}
	jset_int(o, "sectors", w->sectors);
	jset_int(o, "skipped", w->same);
	jset_int(o, "erased", w->erased);
	jset_int(o, "erase_ops", w->erase_ops);
	jset_int(o, "programmed_in_place", w->program_only);
	jset_int(o, "pages", w->pages);
	jset_int(o, "verified", w->verified);
	jset_int(o, "read_back", w->read_back);
	say(a, "sectors     %u: %u unchanged (skipped), %u erased in %u operations, %u programmed without erase\n",
	    w->sectors, w->same, w->erased, w->erase_ops, w->program_only);
	say(a, "pages       %u programmed\n", w->pages);
	if (w->verified)
		say(a, "verify      OK: %u bytes (%u read back, the rest unchanged)\n", w->verified, w->read_back);
	else
		say(a, "verify      skipped (--no-verify)\n");
}

static int cmd_write_or_erase(struct app *a)
{
	int erase = a->o.cmd == CMD_ERASE;
	uint32_t addr, len;
	int r = erase ? range(a, &addr, &len, 0) : file_range(a, &addr);
	if (r)
		return r;
	if (erase && ((addr | len) & (BK_SECTOR - 1)))
		return bk_fail(&a->err, BK_EINVAL,
			       "erase works on whole 4 KiB sectors: --offset 0x%X and --length 0x%X must be multiples of 0x1000",
			       addr, len);
	if (!erase)
		len = (uint32_t)a->file_len;

	struct bk_beken_rules rules = { .force = a->o.force, .keep_rf = a->o.keep_rf, .keep_tuya = a->o.keep_tuya };
	int beken = !erase && a->o.target == BK_TARGET_BEKEN;
	struct bk_write w = { .verify = !a->o.no_verify, .confirm_all = a->o.confirm, .beken = beken ? &rules : NULL };
	bk_plan_span(addr, len, &w.base, &w.span);
	if (!a->o.no_backup) {
		r = backup_name(a, erase ? "before-erase" : "before-write", a->backup, sizeof a->backup);
		if (r)
			return r;
		w.backup_path = a->backup;
	}
	if (!erase) {
		w.want = malloc(w.span);
		if (!w.want)
			return bk_fail(&a->err, BK_ENOMEM, "out of memory");
		w.data_off = addr - w.base;
		w.data_len = len;
		memcpy(w.want + w.data_off, a->file_data, len);
		/* The file buffer is no longer needed: keep peak memory low. */
		free(a->file_data);
		a->file_data = NULL;
	}
	struct bk_write_report rep;
	r = bk_op_write(&a->job, &w, &rep);
	bk_progress_done(&a->progress);
	free(w.want);
	if (r == BK_EREFUSED)
		bk_err_ctx(&a->err, "nothing was erased");
	if (r)
		return r;
	report_write(a, &rep, w.backup_path, beken);
	jset_hex(a->out, "offset", addr, 6);
	jset_int(a->out, "length", len);
	say(a, "%-11s %u KiB at 0x%06X in %.2f s\n", erase ? "erased" : "wrote", len / 1024, addr, elapsed(a));
	return 0;
}

static int cmd_info(struct app *a)
{
	return bk_info_report(a->o.file, a->file_data, a->file_len, &a->o, a->out, &a->err);
}

/* Refusals that need only the file come before any USB traffic; the
 * family check comes later, once the chip's bootloader has been read. */
static int preflight(struct app *a)
{
	if (a->o.cmd != CMD_WRITE || a->o.target != BK_TARGET_BEKEN)
		return 0;
	struct bk_safety s;
	return bk_safety_check(a->file_data, a->file_len, (uint32_t)a->o.offset, NULL, 0, a->o.force, &s, &a->err);
}

static int run(struct app *a)
{
	if (a->o.cmd == CMD_INFO)
		return cmd_info(a);
	int r = preflight(a);
	if (r)
		return r;
	r = open_programmer(a);
	if (r)
		return r;
	bk_progress_init(&a->progress, a->prog, a->o.quiet || a->o.json);
	a->hooks = (struct bk_hooks){ .progress = bk_progress_update, .cancelled = cancelled, .user = &a->progress };

	if (a->o.cmd == CMD_RESET) {
		r = bk_target_reset(a->prog, &a->err);
		if (!r)
			say(a, "reset       CEN pulsed: the chip boots its firmware\n");
		return r;
	}
	r = bk_target_enter(a->prog, a->o.target, &a->err, &a->entry);
	if (r)
		return r;
	report_entry(a);
	r = bk_flash_probe(a->prog, &a->err, &a->flash);
	if (r)
		return r;
	a->job = (struct bk_job){ .flash = a->flash, .hooks = &a->hooks, .err = &a->err };
	report_flash(a);

	switch (a->o.cmd) {
	case CMD_DETECT:
	case CMD_ENTER:
		r = report_status(a);
		break;
	case CMD_READ:
		r = cmd_read(a);
		break;
	case CMD_VERIFY:
		r = cmd_verify(a);
		break;
	default:
		r = cmd_write_or_erase(a);
		break;
	}
	if (r)
		return r;
	if (a->o.cmd == CMD_ENTER) {
		say(a, "entered     the chip stays in SPI mode: use flashrom -p ch341a_spi, then bkspi reset\n");
	} else if (a->o.target == BK_TARGET_BEKEN && !a->o.no_reset) {
		r = bk_target_reset(a->prog, &a->err);
		if (!r)
			say(a, "reset       CEN pulsed: the chip boots its firmware\n");
	}
	return r;
}

/* After a fault mid-job, the one line also says how to finish the job. */
static void add_resume_hint(struct app *a, int r)
{
	if (!a->flash || (exit_code(r) != 3 && r != BK_EINTR) || a->o.cmd == CMD_DETECT)
		return;
	/* An erase without a backup reads nothing first, so it redoes it all. */
	int changes = a->o.cmd == CMD_WRITE || (a->o.cmd == CMD_ERASE && !a->o.no_backup);
	int saved = a->backup[0] && access(a->backup, F_OK) == 0;
	char hint[sizeof a->err.msg];
	snprintf(hint, sizeof hint, "; %srun the same command again%s%s%.200s",
		 r == BK_EINTR ? "" : "reconnect the CH341A and ",
		 changes ? ": it redoes only what still differs, then verifies" : "",
		 saved ? "; the backup is " : "", saved ? a->backup : "");
	size_t n = strlen(a->err.msg);
	snprintf(a->err.msg + n, sizeof a->err.msg - n, "%s", hint);
}

int main(int argc, char **argv)
{
	struct app a = { 0 };
	/* Keeps stdout and stderr lines in order when both go to one pipe. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	int r = bk_args_parse(argc, argv, &a.o, &a.err);
	if (!r && a.o.help) {
		fputs(bk_usage, stdout);
		return 0;
	}
	if (!r && a.o.version) {
		printf("bkspi %s\n", BKSPI_VERSION);
		return 0;
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	a.out = json_object_new_object();
	jset_str(a.out, "command", a.o.cmd_name ? a.o.cmd_name : "");
	if (!r && a.o.file && (a.o.cmd == CMD_WRITE || a.o.cmd == CMD_VERIFY || a.o.cmd == CMD_INFO))
		r = load_file(&a, a.o.file);
	if (!r && a.o.file && a.o.cmd == CMD_READ)
		r = bk_outfile_check(a.o.file, a.o.force, &a.err);
	if (!r)
		r = run(&a);
	bk_progress_done(&a.progress);
	report_stats(&a);

	int code = exit_code(r);
	if (r)
		add_resume_hint(&a, r);
	json_object_object_add(a.out, "ok", json_object_new_boolean(r == 0));
	jset_int(a.out, "exit", code);
	if (r) {
		json_object *e = jobj(a.out, "error");
		jset_str(e, "code", bk_err_name(r));
		jset_str(e, "message", a.err.msg[0] ? a.err.msg : bk_strerror(r));
		fprintf(stderr, "bkspi: %s\n", a.err.msg[0] ? a.err.msg : bk_strerror(r));
	}
	if (a.o.json)
		printf("%s\n", json_object_to_json_string_ext(a.out, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(a.out);
	bk_flash_free(a.flash);
	bk_prog_close(a.prog);
	free(a.file_data);
	return code;
}
