/* bkspi: the command line. Parses arguments, runs one operation through
 * the handle API (include/bkspi.h), renders its report once (text or
 * JSON), and owns what only a terminal program has: signals, the input
 * file, exit codes. */
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

struct app {
	struct bk_opts o;
	struct bk_err err;         /* the CLI's own failures (arguments, files) */
	bkspi *h;
	struct bk_emu_sim sim;     /* -p sim: sim.emu is the emulator, for statistics */
	struct bkspi_flash flash;
	int have_flash;
	struct bk_progress progress;
	json_object *out;          /* the JSON result */
	uint64_t t0;
	uint8_t *file_data;
	size_t file_len;
	char backup[4096];         /* the backup this run saved, for messages */
};

/* A failure of the handle becomes the CLI's, message included. */
static int hfail(struct app *a, int r)
{
	if (r)
		bk_fail(&a->err, r, "%s", bkspi_errmsg(a->h));
	return r;
}

static int exit_code(int err)
{
	switch (err) {
	case BK_OK: return 0;
	case BK_EINVAL: case BK_EEXIST: case BK_EREFUSED: return EXIT_USAGE;
	case BK_ENODEV: case BK_EACCESS: case BK_EBUSY: case BK_EUSB: case BK_ETIMEDOUT: case BK_EGONE: case BK_ENOUSB: return 3;
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

static void on_note(void *user, const char *text)
{
	struct app *a = user;
	if (!a->o.quiet && !a->o.json)
		fprintf(stderr, "bkspi: note: %s\n", text);
}

static void on_progress(void *user, const char *phase, uint64_t done, uint64_t total)
{
	struct app *a = user;
	bk_progress_update(&a->progress, phase, done, total);
}

static const char *plural(uint32_t n)
{
	return n == 1 ? "" : "s";
}

/* Before the first erase: what the file is, what is kept, what will be
 * erased and programmed (text and JSON from the same struct). */
static void on_plan(void *user, const struct bkspi_plan_report *p)
{
	struct app *a = user;
	bk_progress_done(&a->progress);
	json_object *o = jobj(a->out, "plan");
	if (p->image_kind) {
		int known = strcmp(p->image_family, "unknown") != 0;
		json_object *img = jobj(o, "image");
		jset_str(img, "kind", p->image_kind);
		jset_str(img, "family", p->image_family);
		jset_str(img, "chip_family", p->chip_family);
		if (p->belongs_at != UINT32_MAX)
			jset_hex(img, "belongs_at", p->belongs_at, 6);
		char where[40] = "";
		if (p->belongs_at != UINT32_MAX)
			snprintf(where, sizeof where, ", belongs at 0x%06X", p->belongs_at);
		say(a, "image       %s%s%s%s; chip bootloader: %s\n", p->image_kind, known ? " for " : "",
		    known ? p->image_family : "", where, p->chip_family);
	}
	const struct bkspi_kept *k[] = { &p->kept_rf, &p->kept_tuya };
	static const char *const keys[] = { "keeps_rf", "keeps_tuya" };
	static const char *const what[] = { "RF calibration and MAC", "Tuya key-value store" };
	for (size_t i = 0; i < 2; i++) {
		if (!k[i]->kept)
			continue;
		json_object *j = jobj(o, keys[i]);
		jset_hex(j, "addr", k[i]->addr, 6);
		jset_int(j, "length", k[i]->len);
		say(a, "keeps       this device's %s (0x%06X-0x%06X)\n", what[i], k[i]->addr, k[i]->addr + k[i]->len - 1);
	}
	if (p->destroys[0]) {
		jset_str(o, "destroys", p->destroys);
		say(a, "destroys    %s\n", p->destroys);
	}
	if (p->forced[0]) {
		jset_str(o, "forced", p->forced);
		if (!a->o.quiet && !a->o.json)
			fprintf(stderr, "bkspi: warning: --force overrides a refusal: %s\n", p->forced);
	}
	jset_int(o, "sectors", p->sectors);
	jset_int(o, "unchanged", p->same);
	jset_int(o, "erase", p->erased);
	jset_int(o, "erase_ops", p->erase_ops);
	jset_int(o, "program_in_place", p->program_only);
	jset_int(o, "pages", p->pages);
	say(a, "plan        %u sector%s: %u to erase in %u operation%s, %u to program without erase, %u page%s to program, %u unchanged\n",
	    p->sectors, plural(p->sectors), p->erased, p->erase_ops, plural(p->erase_ops), p->program_only, p->pages,
	    plural(p->pages), p->same);
}

static const struct bk_prog_driver *const cli_drivers[] = { &bk_emu_driver, &bk_emu_driver_ch347, NULL };

static int open_programmer(struct app *a)
{
	static char image[4200];
	if (!strncmp(a->o.programmer, "sim", 3)) {
		const char *path = a->o.sim_image;
		if (!path) {
			int r = sim_default_image(a, image, sizeof image);
			if (r)
				return r;
			path = image;
		}
		/* -t spi means a bare flash: no Beken chip in front of it. */
		a->sim = (struct bk_emu_sim){ .image = path, .config = a->o.sim_config };
		if (a->o.target == BKSPI_TARGET_SPI) {
			size_t n = strlen("beken=0,") + (a->o.sim_config ? strlen(a->o.sim_config) : 0) + 1;
			char *c = malloc(n);
			if (!c)
				return bk_fail(&a->err, BK_ENOMEM, "out of memory");
			snprintf(c, n, "beken=0%s%s", a->o.sim_config ? "," : "", a->o.sim_config ? a->o.sim_config : "");
			a->sim.config = c;
		}
	}
	struct bkspi_config cfg = {
		.programmer = a->o.programmer, .drivers = cli_drivers, .driver_arg = &a->sim,
		.target = a->o.target, .spi_hz = a->o.spi_hz, .cen = a->o.cen,
		.progress = on_progress, .plan = on_plan, .note = on_note, .user = a,
		.cancel = &interrupted,
	};
	a->h = bkspi_new(&cfg);
	if (!a->h)
		return bk_fail(&a->err, BK_ENOMEM, "out of memory");
	bk_progress_init(&a->progress, a->h, a->o.quiet || a->o.json);
	/* doctor opens the programmer itself, to tell each step apart. */
	int r = a->o.cmd == CMD_DOCTOR ? 0 : hfail(a, bkspi_connect(a->h));
	if (!r)
		a->t0 = bkspi_now_us(a->h);
	return r;
}

/* ---- reporting: every report is rendered from its struct ------------ */

static void report_flash(struct app *a, const struct bkspi_flash *in)
{
	a->flash = *in;
	a->have_flash = 1;
	json_object *f = jobj(a->out, "flash");
	char id[16];
	snprintf(id, sizeof id, "%06X", in->jedec);
	jset_str(f, "jedec", id);
	snprintf(id, sizeof id, "%02X-%02X-%02X-%02X", in->reply[0], in->reply[1], in->reply[2], in->reply[3]);
	jset_str(f, "reply", id);
	jset_str(f, "vendor", in->vendor);
	jset_str(f, "part", in->part);
	jset_int(f, "size", in->size);
	jset_str(f, "size_from", in->size_from);
	say(a, "flash       %s %s, JEDEC ID %06X (reply %s), %u KiB (size from %s)\n", in->vendor, in->part,
	    in->jedec, id, in->size / 1024, in->size_from);
}

static void report_entry(struct app *a, const struct bkspi_entry *e)
{
	json_object *t = jobj(a->out, "target");
	jset_str(t, "kind", e->beken ? "beken" : "spi");
	if (!e->beken) {
		say(a, "target      plain SPI flash (no entry sequence)\n");
		return;
	}
	const char *style = e->echo ? "0xD2 echo" : e->long_flush ? "no echo, long flush" : "no echo";
	jset_int(t, "attempts", e->attempts);
	jset_str(t, "reply", style);
	jset_str(t, "run", e->slow_run ? "slow" : "stream");
	say(a, "target      Beken chip in SPI mode (attempt %u, %s%s)\n", e->attempts, style,
	    e->slow_run ? ", slow run" : "");
}

static void report_status(struct app *a, const struct bkspi_status_regs *s)
{
	json_object *o = jobj(a->out, "status");
	jset_hex(o, "sr1", s->sr1, 2);
	if (s->has_sr2)
		jset_hex(o, "sr2", s->sr2, 2);
	jset_int(o, "bp", s->bp);
	jset_int(o, "tb", s->tb);
	jset_int(o, "sec", s->sec);
	jset_int(o, "cmp", s->cmp);
	jset_int(o, "srp", s->srp);
	jset_str(o, "protected", s->protected_desc);
	say(a, "status      SR1=0x%02X", s->sr1);
	if (s->has_sr2)
		say(a, " SR2=0x%02X", s->sr2);
	say(a, "  BP=%u TB=%u SEC=%u CMP=%u SRP=%u\n", s->bp, s->tb, s->sec, s->cmp, s->srp);
	say(a, "protected   %s\n", s->protected_desc);
}

static double elapsed(const struct app *a)
{
	return a->h ? (double)(bkspi_now_us(a->h) - a->t0) / 1e6 : 0;
}

static void report_stats(struct app *a)
{
	jset_str(a->out, "programmer", a->h ? bkspi_programmer(a->h) : a->o.programmer);
	json_object_object_add(a->out, "seconds", json_object_new_double(elapsed(a)));
	if (!a->sim.emu)
		return;
	struct bk_emu_stats st;
	bk_emu_stats(a->sim.emu, &st);
	json_object *s = jobj(a->out, "usb");
	jset_int(s, "round_trips", (int64_t)st.round_trips);
	jset_int(s, "wakeups", (int64_t)st.wakeups);
	jset_int(s, "out_bytes", (int64_t)st.out_bytes);
	jset_int(s, "in_bytes", (int64_t)st.in_bytes);
	jset_int(s, "packets", (int64_t)st.packets);
	jset_str(s, "chip", bk_emu_chip_name(bk_emu_chip_state(a->sim.emu)));
	if (a->o.verbose && !a->o.json && !a->o.quiet)
		fprintf(stderr, "usb: %llu round trips, %llu packets, %llu bytes out, %llu bytes in, %.3f s simulated\n",
			(unsigned long long)st.round_trips, (unsigned long long)st.packets,
			(unsigned long long)st.out_bytes, (unsigned long long)st.in_bytes, elapsed(a));
}

/* ---- commands ------------------------------------------------------- */

static int range(struct app *a, uint32_t *addr, uint32_t *len, uint64_t default_len)
{
	uint32_t size = a->flash.size;
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

static void report_confirm(struct app *a, json_object *parent, const struct bkspi_confirm_report *c)
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

static int backup_name(struct app *a, const char *purpose, char *path, size_t cap)
{
	return hfail(a, bkspi_backup_name(a->h, BACKUP_DIR, a->o.label, purpose, path, cap));
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
	struct bkspi_read_req req = { .addr = addr, .len = len, .confirm = a->o.confirm };
	struct bkspi_read_report rep;
	if (!r)
		r = hfail(a, bkspi_read(a->h, &req, buf, &rep));
	bk_progress_done(&a->progress);
	if (!r && a->o.confirm)
		report_confirm(a, a->out, &rep.confirm);
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
	if (a->o.target == BKSPI_TARGET_BEKEN && addr == 0 && bk_info_worth_summary(len))
		bk_info_summary(buf, len, a->out, !a->o.json && !a->o.quiet);
	r = a->o.obk_template ? bk_info_read_template(buf, len, path, &a->o, a->out, &a->err) : 0;
	free(buf);
	return r;
}

static int file_range(struct app *a, uint32_t *addr)
{
	uint32_t size = a->flash.size;
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
	struct bkspi_verify_report mm;
	int r = file_range(a, &addr);
	struct bkspi_verify_req req = { .addr = addr, .data = a->file_data, .len = (uint32_t)a->file_len,
					.keep_rf = a->o.keep_rf, .keep_tuya = a->o.keep_tuya };
	if (!r)
		r = hfail(a, bkspi_verify(a->h, &req, &mm));
	bk_progress_done(&a->progress);
	const struct bkspi_kept *skip[] = { &mm.skipped_rf, &mm.skipped_tuya };
	static const char *const keys[] = { "skipped_rf", "skipped_tuya" };
	static const char *const what[] = { "RF calibration and MAC", "Tuya key-value store" };
	for (size_t i = 0; i < 2 && (!r || r == BK_EVERIFY); i++) {
		if (!skip[i]->kept)
			continue;
		json_object *j = jobj(a->out, keys[i]);
		jset_hex(j, "addr", skip[i]->addr, 6);
		jset_int(j, "length", skip[i]->len);
		say(a, "skipped     this device's %s (0x%06X-0x%06X), which write keeps\n", what[i], skip[i]->addr,
		    skip[i]->addr + skip[i]->len - 1);
	}
	if (r == BK_EVERIFY) {
		json_object *m = jobj(a->out, "mismatch");
		jset_int(m, "bytes", mm.mismatched);
		jset_hex(m, "first", mm.first, 6);
		jset_hex(m, "last", mm.last, 6);
		json_object_object_add(m, "only_rf", json_object_new_boolean(mm.only_rf));
	}
	if (r)
		return r;
	uint32_t compared = (uint32_t)a->file_len - (mm.skipped_rf.kept ? mm.skipped_rf.len : 0) -
			    (mm.skipped_tuya.kept ? mm.skipped_tuya.len : 0);
	jset_int(a->out, "verified", compared);
	say(a, "verify      OK: %u bytes at 0x%06X match %s\n", compared, addr, a->o.file);
	return 0;
}

static void report_kept(struct app *a, json_object *o, const char *key, const char *what, const struct bkspi_kept *k)
{
	if (!k->kept)
		return;
	json_object *j = jobj(o, key);
	jset_hex(j, "addr", k->addr, 6);
	jset_int(j, "length", k->len);
	say(a, "kept        this device's %s (0x%06X-0x%06X), not the file's\n", what, k->addr, k->addr + k->len - 1);
}

static void report_beken(struct app *a, json_object *o, const struct bkspi_write_report *w)
{
	json_object *img = jobj(o, "image");
	jset_str(img, "kind", w->image_kind);
	jset_str(img, "family", w->image_family);
	jset_str(img, "chip_family", w->chip_family);
	if (w->forced[0])
		jset_str(o, "forced", w->forced);
	report_kept(a, o, "kept_rf", "RF calibration and MAC", &w->kept_rf);
	report_kept(a, o, "kept_tuya", "Tuya key-value store", &w->kept_tuya);
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
	if (w->has_file_mac && !w->kept_rf.kept && w->has_mac_before && memcmp(w->file_mac, w->mac_before, 6)) {
		bk_format_mac(w->file_mac, file);
		say(a, "mac         the file's MAC %s replaced this device's (--keep-rf no)\n", file);
	}
}

static void report_write(struct app *a, const struct bkspi_write_report *w, const char *backup)
{
	json_object *o = jobj(a->out, "write");
	if (backup) {
		jset_str(o, "backup", backup);
		say(a, "backup      %s\n", backup);
	}
	if (w->beken && w->image_kind)
		report_beken(a, o, w);
	if (w->destroys[0])
		jset_str(o, "destroyed", w->destroys);
	if (w->beken && !w->image_kind && w->forced[0])
		jset_str(o, "forced", w->forced);
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

static struct bkspi_write_req write_req(const struct app *a)
{
	return (struct bkspi_write_req){
		.addr = (uint32_t)a->o.offset, .data = a->file_data, .len = (uint32_t)a->file_len,
		.no_verify = a->o.no_verify, .confirm_all = a->o.confirm,
		.force = a->o.force, .keep_rf = a->o.keep_rf, .keep_tuya = a->o.keep_tuya,
	};
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
	struct bkspi_write_req req = write_req(a);
	if (erase) {
		req.addr = addr;
		req.len = len;
		req.data = NULL;
	}
	if (!a->o.no_backup) {
		r = backup_name(a, erase ? "before-erase" : "before-write", a->backup, sizeof a->backup);
		if (r)
			return r;
		req.backup_path = a->backup;
	}
	struct bkspi_write_report rep;
	r = hfail(a, erase ? bkspi_erase(a->h, &req, &rep) : bkspi_write(a->h, &req, &rep));
	bk_progress_done(&a->progress);
	if (r)
		return r;
	report_write(a, &rep, req.backup_path);
	jset_hex(a->out, "offset", req.addr, 6);
	jset_int(a->out, "length", req.len);
	say(a, "%-11s %u KiB at 0x%06X in %.2f s\n", erase ? "erased" : "wrote", req.len / 1024, req.addr, elapsed(a));
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
	if (a->o.cmd != CMD_WRITE)
		return 0;
	struct bkspi_write_req req = write_req(a);
	struct bkspi_write_report rep;
	return hfail(a, bkspi_write_check(a->h, &req, &rep));
}

static int reset(struct app *a)
{
	int r = hfail(a, bkspi_reset(a->h));
	if (!r)
		say(a, "reset       CEN pulsed: the chip boots its firmware\n");
	return r;
}

static int cmd_doctor(struct app *a)
{
	static const char *const verdicts[] = { "OK", "WARN", "FAIL" };
	struct bkspi_check c[BKSPI_DOCTOR_MAX];
	size_t n;
	int r = bkspi_doctor(a->h, c, &n);
	json_object *arr = json_object_new_array();
	json_object_object_add(a->out, "checks", arr);
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_new_object();
		jset_str(o, "check", c[i].name);
		jset_str(o, "result", verdicts[c[i].verdict]);
		jset_str(o, "text", c[i].text);
		if (c[i].code)
			jset_str(o, "code", bk_err_name(c[i].code));
		json_object_array_add(arr, o);
		say(a, "%-5s %-11s %s\n", verdicts[c[i].verdict], c[i].name, c[i].text);
	}
	if (r)
		bk_fail(&a->err, r, "doctor: the %s check failed; fix that first (the line above says how)",
			c[n - 1].name);
	return r;
}

static int run(struct app *a)
{
	if (a->o.cmd == CMD_INFO)
		return cmd_info(a);
	if (a->o.cmd == CMD_DOCTOR) {
		int r = open_programmer(a);
		if (!r)
			r = cmd_doctor(a);
		/* The entry check left the chip in SPI mode: let it boot. */
		if (!r && a->o.target == BKSPI_TARGET_BEKEN && !a->o.no_reset)
			r = hfail(a, bkspi_reset(a->h));
		return r;
	}
	struct bkspi_config offline = { .programmer = a->o.programmer, .target = a->o.target };
	a->h = bkspi_new(&offline);
	if (!a->h)
		return bk_fail(&a->err, BK_ENOMEM, "out of memory");
	int r = preflight(a);
	bkspi_close(a->h);
	a->h = NULL;
	if (!r)
		r = open_programmer(a);
	if (r)
		return r;
	if (a->o.cmd == CMD_RESET)
		return reset(a);

	struct bkspi_detect_report d;
	if (a->o.cmd == CMD_DETECT || a->o.cmd == CMD_ENTER) {
		r = hfail(a, bkspi_detect(a->h, &d));
	} else {
		memset(&d, 0, sizeof d);
		r = hfail(a, bkspi_enter(a->h, &d.entry, &d.flash));
	}
	if (r)
		return r;
	if (d.programmer[0]) {
		jset_str(a->out, "programmer_detail", d.programmer);
		say(a, "programmer  %s\n", d.programmer);
	}
	report_entry(a, &d.entry);
	report_flash(a, &d.flash);

	switch (a->o.cmd) {
	case CMD_DETECT:
	case CMD_ENTER:
		report_status(a, &d.status);
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
	} else if (a->o.target == BKSPI_TARGET_BEKEN && !a->o.no_reset && reset(a)) {
		/* The job itself is done (and verified): only the release failed. */
		if (!a->o.quiet && !a->o.json)
			fprintf(stderr, "bkspi: warning: %s finished, but the chip could not be released (%s): power-cycle the board so it boots\n",
				a->o.cmd_name, a->err.msg);
		jset_str(a->out, "warning", "the chip could not be released: power-cycle the board");
		bk_err_clear(&a->err);
	}
	return 0;
}

/* A failed run still lets the chip go, so it boots its firmware; only a
 * programmer that is gone (or was never there) cannot. */
static void release_after_failure(struct app *a, int r)
{
	if (!a->h || a->o.target != BKSPI_TARGET_BEKEN || a->o.no_reset || a->o.cmd == CMD_RESET ||
	    r == BK_ENODEV || r == BK_EACCESS || r == BK_EBUSY || r == BK_EGONE || r == BK_ENOUSB ||
	    !bkspi_connected(a->h))
		return;
	if (bkspi_reset(a->h) == 0)
		return;
	size_t n = strlen(a->err.msg);
	snprintf(a->err.msg + n, sizeof a->err.msg - n, "; the chip is still held in SPI mode: run `bkspi reset`");
}

/* After a fault mid-job, the one line also says how to finish the job. */
static void add_resume_hint(struct app *a, int r)
{
	if (!a->have_flash || (exit_code(r) != 3 && r != BK_EINTR) || a->o.cmd == CMD_DETECT)
		return;
	/* An erase without a backup reads nothing first, so it redoes it all. */
	int changes = a->o.cmd == CMD_WRITE || (a->o.cmd == CMD_ERASE && !a->o.no_backup);
	int saved = a->backup[0] && access(a->backup, F_OK) == 0;
	char hint[sizeof a->err.msg];
	snprintf(hint, sizeof hint, "; %srun the same command again%s%s%.200s",
		 r == BK_EINTR ? "" : strstr(a->o.programmer, "347") ? "reconnect the CH347 and " : "reconnect the CH341A and ",
		 changes ? ": it redoes only what still differs, then verifies" : "",
		 saved ? "; the backup is " : "", saved ? a->backup : "");
	size_t n = strlen(a->err.msg);
	snprintf(a->err.msg + n, sizeof a->err.msg - n, "%s", hint);
}
/* On a fast programmer, reads that disagree or a verify that fails are
 * most often a clock too fast for the wires. */
static void add_clock_hint(struct app *a, int r)
{
	if ((r != BK_EVERIFY && r != BK_EUNSTABLE) || !strstr(a->o.programmer, "347"))
		return;
	uint32_t hz = a->o.spi_hz ? a->o.spi_hz : BK_CH347_DEFAULT_HZ;
	size_t n = strlen(a->err.msg);
	snprintf(a->err.msg + n, sizeof a->err.msg - n,
		 "; at %g MHz the wiring may be too long for the CH347: run again with a lower --spi-clock (e.g. --spi-clock %gM)",
		 hz / 1e6, hz / 2e6 < 0.46875 ? 0.46875 : hz / 2e6);
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
	if (r)
		release_after_failure(&a, r);
	report_stats(&a);

	int code = exit_code(r);
	if (r) {
		add_resume_hint(&a, r);
		add_clock_hint(&a, r);
	}
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
	bkspi_close(a.h);
	if (a.sim.config != a.o.sim_config)
		free((char *)a.sim.config);
	free(a.file_data);
	return code;
}
