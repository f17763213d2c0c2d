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
#include "ui/ui.h"
#include "core/ops.h"
#include "base/outfile.h"
#include "emu/emu.h"
#include "spi/chips.h"
#include "spi/flash.h"
#include "spi/protect.h"
#include "target/target.h"

#define BKSPI_VERSION "0.1.0"
#define EXIT_USAGE 2

/* The signal that asked the job to stop; the handle's cancel flag. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

/* Each of these stops the job the same way: after the USB transfer in
 * flight, the flash left resumable, temp files removed, exit 128+signal. */
static const struct {
	int sig;
	const char *name;
} stop_signals[] = {
	{ SIGINT, "SIGINT (Ctrl-C)" }, { SIGTERM, "SIGTERM" }, { SIGHUP, "SIGHUP" }, { SIGQUIT, "SIGQUIT" },
};

static const char *signal_name(int sig)
{
	for (size_t i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++)
		if (stop_signals[i].sig == sig)
			return stop_signals[i].name;
	return "a signal";
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
	json_object *nest[8];      /* objects the renderer is filling, out first */
	int depth;
	struct bk_ui ui;
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
	case BK_EINTR: return 128 + (interrupted ? interrupted : SIGINT);
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

static json_object *jobj(json_object *parent, const char *k)
{
	json_object *o = json_object_new_object();
	json_object_object_add(parent, k, o);
	return o;
}

/* ---- the renderer's sink (src/ui): stdout and json-c ------------------ */

static void ui_line(void *user, const char *text)
{
	struct app *a = user;
	say(a, "%s\n", text);
}

static void ui_warn(void *user, const char *text)
{
	struct app *a = user;
	if (!a->o.quiet && !a->o.json)
		fprintf(stderr, "bkspi: warning: %s\n", text);
}

static void ui_add(struct app *a, const char *key, json_object *v)
{
	json_object *cur = a->nest[a->depth];
	if (json_object_is_type(cur, json_type_array))
		json_object_array_add(cur, v);
	else
		json_object_object_add(cur, key, v);
}

static void ui_push(struct app *a, const char *key, json_object *v)
{
	ui_add(a, key, v);
	if (a->depth + 1 < (int)(sizeof a->nest / sizeof a->nest[0]))
		a->nest[++a->depth] = v;
}

static void ui_begin(void *user, const char *key)
{
	ui_push(user, key, json_object_new_object());
}

static void ui_begin_array(void *user, const char *key)
{
	ui_push(user, key, json_object_new_array());
}

static void ui_end(void *user)
{
	struct app *a = user;
	if (a->depth)
		a->depth--;
}

static void ui_str(void *user, const char *key, const char *v)
{
	ui_add(user, key, v ? json_object_new_string(v) : NULL);
}

static void ui_num(void *user, const char *key, int64_t v)
{
	ui_add(user, key, json_object_new_int64(v));
}

static void ui_flag(void *user, const char *key, int v)
{
	ui_add(user, key, json_object_new_boolean(v));
}

static void ui_init(struct app *a)
{
	a->nest[0] = a->out;
	a->depth = 0;
	a->ui = (struct bk_ui){ .user = a, .line = ui_line, .warn = ui_warn, .begin = ui_begin,
				.begin_array = ui_begin_array, .end = ui_end, .str = ui_str, .num = ui_num,
				.flag = ui_flag, .force_name = "--force", .no_verify_name = "--no-verify",
				.keep_rf_no_name = "--keep-rf no", .show_secrets_name = "--show-secrets" };
}

/* ---- input file --------------------------------------------------- */

static const char *file_kind(mode_t m)
{
	return S_ISDIR(m) ? "a folder" : S_ISFIFO(m) ? "a FIFO" : S_ISSOCK(m) ? "a socket"
	       : S_ISCHR(m) || S_ISBLK(m) ? "a device node" : "something else";
}

static int load_file(struct app *a, const char *path)
{
	/* Non-blocking, so a FIFO without a writer cannot hang the open. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return bk_fail(&a->err, BK_EINVAL, "cannot open %s: %s; check the file name", path, strerror(errno));
	struct stat sb;
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		close(fd);
		return bk_fail(&a->err, BK_EINVAL, "%s is not a regular file but %s; give an image file", path,
			       file_kind(sb.st_mode));
	}
	if (sb.st_size == 0) {
		close(fd);
		return bk_fail(&a->err, BK_EINVAL, "%s is empty: give the image or dump to use", path);
	}
	if (sb.st_size > BK_MAX_FLASH) {
		close(fd);
		return bk_fail(&a->err, BK_EINVAL, "%s is %lld bytes: larger than any flash bkspi handles (16 MiB); check that it is the right file",
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
			return bk_fail(&a->err, BK_EINVAL, "reading %s: %s", path, n ? strerror(e) : "the file shrank while it was read: leave it alone until bkspi is done");
		}
		got += (size_t)n;
	}
	close(fd);
	return 0;
}

/* Every output path is checked before any USB traffic, so a bad one is
 * found before a long read, not after it. */
static int check_outputs(struct app *a)
{
	enum bk_cmd c = a->o.cmd;
	if (c == CMD_READ && a->o.file)
		return bk_outfile_check(a->o.file, a->o.force ? BK_OUT_REPLACE : 0, &a->err);
	if (c == CMD_READ || ((c == CMD_WRITE || c == CMD_ERASE) && !a->o.no_backup)) {
		/* <part>_<label>-<purpose>_<stamp>_<n>.bin, each part at its longest */
		size_t longest = 63 + 1 + 127 + 1 + 15 + 5 + 4;
		return bk_outdir_check(a->o.backup_dir, longest, BK_OUT_PRIVATE, &a->err);
	}
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

/* Before the first erase: what the file is, what is kept, what will be
 * erased and programmed. */
static void on_plan(void *user, const struct bkspi_plan_report *p)
{
	struct app *a = user;
	bk_progress_done(&a->progress);
	bk_ui_plan(&a->ui, p);
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
	bk_ui_flash(&a->ui, in);
}

static double elapsed(const struct app *a)
{
	return a->h ? (double)(bkspi_now_us(a->h) - a->t0) / 1e6 : 0;
}

static void report_stats(struct app *a)
{
	if (a->backup[0])
		jset_str(a->out, "backup", a->backup);
	/* info never touches a programmer: no programmer, no time. */
	if (a->o.cmd == CMD_INFO)
		return;
	jset_str(a->out, "programmer", a->h ? bkspi_programmer(a->h) : a->o.programmer);
	char secs[32];
	snprintf(secs, sizeof secs, "%.3f", elapsed(a));
	json_object_object_add(a->out, "seconds", json_object_new_double_s(atof(secs), secs));
	struct bkspi_stats us = { 0 };
	if (a->h)
		bkspi_stats(a->h, &us);
	if (!us.has_usb)
		return;
	json_object *s = jobj(a->out, "usb");
	jset_int(s, "streams", (int64_t)us.streams);
	jset_int(s, "out_transfers", (int64_t)us.out_transfers);
	jset_int(s, "in_transfers", (int64_t)us.in_transfers);
	jset_int(s, "out_bytes", (int64_t)us.out_bytes);
	jset_int(s, "in_bytes", (int64_t)us.in_bytes);
	jset_int(s, "waits", (int64_t)us.waits);
	int tell = a->o.verbose && !a->o.json && !a->o.quiet;
	if (!a->sim.emu) {
		if (tell)
			fprintf(stderr, "usb: %llu streams, %llu transfers out (%llu bytes), %llu in (%llu bytes), %llu waits, %.3f s\n",
				(unsigned long long)us.streams, (unsigned long long)us.out_transfers,
				(unsigned long long)us.out_bytes, (unsigned long long)us.in_transfers,
				(unsigned long long)us.in_bytes, (unsigned long long)us.waits, elapsed(a));
		return;
	}
	/* The emulator also knows what the device did: when it sat idle
	 * waiting for the host, and the packets it parsed. */
	struct bk_emu_stats st;
	bk_emu_stats(a->sim.emu, &st);
	jset_int(s, "round_trips", (int64_t)st.round_trips);
	jset_int(s, "wakeups", (int64_t)st.wakeups);
	jset_int(s, "packets", (int64_t)st.packets);
	jset_str(s, "chip", bk_emu_chip_name(bk_emu_chip_state(a->sim.emu)));
	if (tell)
		fprintf(stderr, "usb: %llu round trips, %llu packets, %llu bytes out, %llu bytes in, %.3f s simulated\n",
			(unsigned long long)st.round_trips, (unsigned long long)st.packets,
			(unsigned long long)us.out_bytes, (unsigned long long)us.in_bytes, elapsed(a));
}

/* ---- commands ------------------------------------------------------- */

static int range(struct app *a, uint32_t *addr, uint32_t *len, uint64_t default_len)
{
	uint32_t size = a->flash.size;
	uint64_t off = a->o.offset;
	uint64_t n = a->o.has_length ? a->o.length : default_len;
	if (off >= size)
		return bk_fail(&a->err, BK_EINVAL, "--offset 0x%llX is past the end of the %u KiB flash: give a smaller one",
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

static int backup_name(struct app *a, const char *purpose, char *path, size_t cap)
{
	return hfail(a, bkspi_backup_name(a->h, a->o.backup_dir, a->o.label, purpose, path, cap));
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
		bk_ui_confirm(&a->ui, &rep.confirm);
	if (!r && a->o.file)
		r = bk_outfile_write(path, buf, len, a->o.force ? BK_OUT_REPLACE : 0, &a->err);
	else if (!r)
		r = bk_outfile_write_unique(path, sizeof path, buf, len, BK_OUT_PRIVATE, &a->err);
	if (r) {
		free(buf);
		return r;
	}
	bk_ui_read(&a->ui, addr, len, path, elapsed(a));
	/* -q still names a file bkspi chose, or the user could not find it. */
	if (!a->o.file) {
		snprintf(a->backup, sizeof a->backup, "%s", path);
		if (a->o.quiet && !a->o.json)
			printf("%s\n", path);
	}
	/* What a Beken flash holds, so a bad read or a foreign dump shows at once. */
	if (a->o.target == BKSPI_TARGET_BEKEN && addr == 0 && bk_ui_summary_worth(len))
		bk_ui_summary(&a->ui, buf, len);
	r = a->o.obk_template ? bk_info_read_template(&a->ui, buf, len, path, &a->o, &a->err) : 0;
	free(buf);
	return r;
}

static int file_range(struct app *a, uint32_t *addr)
{
	uint32_t size = a->flash.size;
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
	if (!r || r == BK_EVERIFY)
		bk_ui_verify(&a->ui, r, addr, (uint32_t)a->file_len, a->o.file, &mm);
	return r;
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
	} else if (!((req.addr | req.len) & (BK_SECTOR - 1))) {
		/* The file is not needed afterwards: let the write work in it
		 * rather than hold a second copy of the flash in memory. */
		req.work = a->file_data;
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
	/* The name really used: another run may have taken the planned one. */
	snprintf(a->backup, sizeof a->backup, "%s", rep.backup);
	if (r)
		return r;
	bk_ui_write(&a->ui, &rep, a->backup[0] ? a->backup : NULL);
	bk_ui_done(&a->ui, erase ? "erased" : "wrote", req.addr, req.len, elapsed(a));
	return 0;
}

static int cmd_info(struct app *a)
{
	return bk_info_report(&a->ui, a->o.file, a->file_data, a->file_len, &a->o, &a->err);
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
		bk_ui_reset(&a->ui);
	return r;
}

static int cmd_doctor(struct app *a)
{
	struct bkspi_check c[BKSPI_DOCTOR_MAX];
	size_t n;
	int r = bkspi_doctor(a->h, c, &n);
	bk_ui_doctor(&a->ui, c, n);
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
	bk_ui_entry(&a->ui, &d.entry);
	report_flash(a, &d.flash);

	switch (a->o.cmd) {
	case CMD_DETECT:
	case CMD_ENTER:
		bk_ui_status(&a->ui, &d.status);
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
	/* A transfer that failed before the flash was known (not a missing
	 * or locked programmer: those messages carry their own fix). */
	if ((r == BK_EUSB || r == BK_ETIMEDOUT || r == BK_EGONE) && (!a->have_flash || a->o.cmd == CMD_DETECT)) {
		size_t n = strlen(a->err.msg);
		snprintf(a->err.msg + n, sizeof a->err.msg - n,
			 "; check the cable and try another USB port (bkspi doctor checks each step), then run again");
		return;
	}
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
	for (size_t i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++)
		sigaction(stop_signals[i].sig, &sa, NULL);
	/* A file size limit (ulimit -f) is an error to report, not a death. */
	signal(SIGXFSZ, SIG_IGN);

	a.out = json_object_new_object();
	ui_init(&a);
	jset_str(a.out, "command", a.o.cmd_name ? a.o.cmd_name : "");
	if (!r && a.o.file && (a.o.cmd == CMD_WRITE || a.o.cmd == CMD_VERIFY || a.o.cmd == CMD_INFO))
		r = load_file(&a, a.o.file);
	if (!r)
		r = check_outputs(&a);
	if (!r)
		r = run(&a);
	bk_progress_done(&a.progress);
	if (r)
		release_after_failure(&a, r);
	report_stats(&a);

	int code = exit_code(r);
	if (r == BK_EINTR && interrupted)
		bk_err_ctx(&a.err, r, "stopped by %s", signal_name(interrupted));
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
