/* make bench: bkspi against flashrom on the same emulated CH341A.
 *
 *   bench BKSPI LIBFAKEUSB FLASHROM|- DUMPS_DIR
 *
 * Every job runs as its own process on a fresh copy of the same 2 MiB
 * image: bkspi on -p sim, the same bkspi on -p ch341a through the libusb
 * stand-in (a check that the stand-in adds nothing), and flashrom through
 * the stand-in. Virtual seconds and USB counts come from bkspi's --json or
 * from the stand-in's statistics file, peak RSS from wait4(). After each
 * run the flash image must hold exactly what the job should have left:
 * a fast wrong answer fails the bench (exit 1). Missed speed or memory
 * targets are reported, not fatal.
 *
 * Images are copied to a private temporary folder and deleted at the end;
 * nothing here prints a byte of them (the real dumps hold device secrets). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <ftw.h>
#include <json.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "beken/beken.h"
#include "emu/emu.h"

#define FLASH_SIZE (2u << 20)
#define SECTOR 4096u
#define PAGE 256u
/* Outside every CRC-framed region, the RF sector and the Tuya store on both
 * 2 MiB layouts, so the one-sector rewrite is an ordinary data change. */
#define ALMOST_ADDR 0x150000u
#define JEDEC "0xEF4015"           /* W25Q16: in flashrom 1.3's table and bkspi's */
/* 31 data bytes per 0xA8 packet, which costs 32 byte times at 1.5 MHz
 * plus the 69 us a real CH341A loses per packet (src/emu/device.c). */
#define WIRE_BPS (31 / (32 * 8 / 1.5e6 + 69e-6))
#define RSS_TARGET_KIB (8 * 1024)
#define CHILD_LIMIT_S 300

extern char **environ;

/* Ctrl-C or a closed pipe must still remove the copies of the dumps. */
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

enum img { IMG_START, IMG_OTHER, IMG_ALMOST, IMG_BLANK, IMG_COUNT };
static const char *const img_files[IMG_COUNT] = { "start.bin", "other.bin", "almost.bin", NULL };

enum tool { BKSPI, BKSPI_LIBUSB, FLASHROM, CH347_15, CH347_30, TOOLS };
static const char *const tool_names[TOOLS] = { "bkspi", "bkspi/libusb", "flashrom", "bkspi ch347 15M",
					       "bkspi ch347 30M" };
static const char *const ch347_clock[TOOLS] = { [CH347_15] = "15M", [CH347_30] = "30M" };
static const double ch347_hz[TOOLS] = { [CH347_15] = 15e6, [CH347_30] = 30e6 };

/* The CH347 rows' floor: on a fast programmer the flash, not USB, is the
 * limit, so the floor is the job's SPI data at the clock plus the flash's
 * own busy time (the emulator's: 64 KiB erase 150 ms, 4 KiB 45 ms, page
 * 0.4 ms) plus the fixed waits every Beken job has: two 100 ms CEN pulses
 * (entry, closing reset), the 5 ms release and the entry's ~300 bytes at
 * 1.875 MHz. Targets: read within 10 %, the other jobs within 15 %. */
#define BEKEN_FIXED_S 0.207
#define PAGE_S 0.0004
#define ERASE_64K_S 0.150
#define ERASE_4K_S 0.045

struct job {
	const char *name, *slug;
	const char *bk[6];        /* bkspi arguments after the common ones */
	const char *fr[3];        /* flashrom's, NULL when it has no equivalent */
	enum img want;            /* what the flash must hold afterwards */
	const char *out;          /* a file the job writes, which must equal the start image */
	int backup;               /* bkspi saves a backup that must equal the start image */
	double target_s;
	uint64_t payload;         /* bytes the job cannot avoid moving over SPI */
	double busy_s;            /* the flash's own erase and program time */
};

struct result {
	int ran, ok;
	double seconds;
	uint64_t round_trips, out_bytes, in_bytes, packets;
	long rss_kib;
	double real_s;
};

struct bench {
	const char *bkspi, *fakeusb, *flashrom;
	char dir[PATH_MAX];
	char source[512];         /* where the images came from, for the footnote */
	int failures;
};

static void failf(struct bench *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void failf(struct bench *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("FAIL ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	b->failures++;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Paths are built here: a truncated one would name the wrong file, so it
 * aborts the bench instead. */
static void pathf(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void pathf(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out, cap, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap) {
		fprintf(stderr, "bench: path too long: %s\n", out);
		exit(2);
	}
}

/* Big buffers are mapped and unmapped explicitly: a forked child's peak RSS
 * starts at the parent's RSS at fork time, which must stay small. */
static uint8_t *big_alloc(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void big_free(uint8_t *p, size_t n)
{
	if (p)
		munmap(p, n);
}

static int load(const char *path, uint8_t *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	char extra;
	int more = read(fd, &extra, 1) > 0;
	close(fd);
	return got == n && !more ? 0 : -1;
}

static int save(const char *path, const uint8_t *buf, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	size_t put = 0;
	while (put < n) {
		ssize_t r = write(fd, buf + put, n - put);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		put += (size_t)r;
	}
	return close(fd) == 0 && put == n ? 0 : -1;
}

static int copy_file(const char *from, const char *to)
{
	uint8_t *buf = big_alloc(FLASH_SIZE);
	int r = buf && load(from, buf, FLASH_SIZE) == 0 && save(to, buf, FLASH_SIZE) == 0 ? 0 : -1;
	big_free(buf, FLASH_SIZE);
	return r;
}

/* 0 when `path` holds exactly the bytes of `ref` (NULL: FLASH_SIZE bytes of
 * 0xFF), 1 with the first differing offset when not, -1 when unreadable.
 * Streamed, so the bench's own RSS stays small. */
static int same_as(const char *path, const char *ref, uint32_t *first_diff)
{
	enum { CHUNK = 65536 };
	static uint8_t a[CHUNK], r[CHUNK];
	FILE *f = fopen(path, "rb"), *g = ref ? fopen(ref, "rb") : NULL;
	int result = 0;
	if (!f || (ref && !g)) {
		result = -1;
		goto out;
	}
	if (!ref)
		memset(r, 0xFF, CHUNK);
	for (uint32_t off = 0;; off += CHUNK) {
		size_t n = fread(a, 1, CHUNK, f);
		size_t m = ref ? fread(r, 1, CHUNK, g) : (off < FLASH_SIZE ? CHUNK : 0);
		if (n != m) {
			*first_diff = off + (uint32_t)(n < m ? n : m);
			result = 1;
			break;
		}
		if (n == 0)
			break;
		for (size_t i = 0; i < n; i++)
			if (a[i] != r[i]) {
				*first_diff = off + (uint32_t)i;
				result = 1;
				goto out;
			}
	}
out:
	if (f)
		fclose(f);
	if (g)
		fclose(g);
	return result;
}

/* ---- images ------------------------------------------------------------- */

/* A dump fit for the jobs: chip-sized, unrotated, of a known family. */
static enum bk_beken_family usable(const uint8_t *img)
{
	struct bk_beken_info info;
	struct bk_err err = { 0 };
	if (bk_beken_analyse(img, FLASH_SIZE, &info, &err) || info.rotation || !info.has_bootloader)
		return BK_BEKEN_FAMILY_UNKNOWN;
	return info.family;
}

static int cmp_names(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Two real dumps of the same family (bkspi refuses a cross-family write,
 * rightly); 0 when the folder has no such pair. */
static int pick_dumps(struct bench *b, const char *dir, uint8_t *start, uint8_t *other)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	char *names[64];
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 64) {
		size_t len = strlen(e->d_name);
		if (len > 4 && !strcmp(e->d_name + len - 4, ".bin"))
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof names[0], cmp_names);
	enum bk_beken_family fam[64];
	char path[PATH_MAX];
	int found = 0;
	for (size_t i = 0; i < n && !found; i++) {
		fam[i] = BK_BEKEN_FAMILY_UNKNOWN;
		if (!names[i])
			continue;
		pathf(path, sizeof path, "%s/%s", dir, names[i]);
		struct stat sb;
		if (stat(path, &sb) || sb.st_size != FLASH_SIZE || load(path, start, FLASH_SIZE))
			continue;
		fam[i] = usable(start);
		for (size_t j = 0; j < i && fam[i] != BK_BEKEN_FAMILY_UNKNOWN; j++) {
			if (fam[j] != fam[i])
				continue;
			pathf(path, sizeof path, "%s/%s", dir, names[j]);
			if (load(path, other, FLASH_SIZE))
				continue;
			/* The earlier one (by name) is the flash, the later the new image. */
			memcpy(start, other, FLASH_SIZE);
			pathf(path, sizeof path, "%s/%s", dir, names[i]);
			if (load(path, other, FLASH_SIZE))
				continue;
			snprintf(b->source, sizeof b->source, "real %s dumps: flash %s, new image %s",
				 bk_beken_family_name(fam[i]), names[j], names[i]);
			found = 1;
			break;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	return found;
}

static int is_blank(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0xFF)
			return 0;
	return 1;
}

/* What a perfect tool must move to turn `from` into `to`: read the whole
 * flash first (backup and plan), program the pages of every changed sector
 * that are not blank, read those sectors back. */
static uint64_t rewrite_payload(const uint8_t *from, const uint8_t *to)
{
	uint64_t bytes = FLASH_SIZE;
	for (uint32_t s = 0; s < FLASH_SIZE; s += SECTOR) {
		if (!memcmp(from + s, to + s, SECTOR))
			continue;
		bytes += SECTOR;
		for (uint32_t p = s; p < s + SECTOR; p += PAGE)
			if (!is_blank(to + p, PAGE))
				bytes += PAGE;
	}
	return bytes;
}

/* The least erase and program time turning `from` into `to` can take: per
 * 64 KiB block, one block erase or its changed sectors one by one,
 * whichever is shorter, and every non-blank page of a changed sector. */
static double rewrite_busy(const uint8_t *from, const uint8_t *to)
{
	double s = 0;
	for (uint32_t blk = 0; blk < FLASH_SIZE; blk += 16 * SECTOR) {
		unsigned changed = 0;
		for (uint32_t sec = blk; sec < blk + 16 * SECTOR; sec += SECTOR) {
			if (!memcmp(from + sec, to + sec, SECTOR))
				continue;
			changed++;
			for (uint32_t pg = sec; pg < sec + SECTOR; pg += PAGE)
				s += is_blank(to + pg, PAGE) ? 0 : PAGE_S;
		}
		s += changed * ERASE_4K_S < ERASE_64K_S ? changed * ERASE_4K_S : changed ? ERASE_64K_S : 0;
	}
	return s;
}

static int prepare(struct bench *b, const char *dumps, struct job *jobs, size_t n_jobs)
{
	uint8_t *start = big_alloc(FLASH_SIZE), *other = big_alloc(FLASH_SIZE), *almost = big_alloc(FLASH_SIZE);
	int r = -1;
	if (!start || !other || !almost)
		goto out;
	if (!pick_dumps(b, dumps, start, other)) {
		if (bk_emu_synth(start, FLASH_SIZE, 1) || bk_emu_synth(other, FLASH_SIZE, 2))
			goto out;
		snprintf(b->source, sizeof b->source,
			 "synthetic BK7231N images (seeds 1 and 2): no two same-family 2 MiB dumps in %s", dumps);
	}
	memcpy(almost, start, FLASH_SIZE);
	uint32_t x = 0x2545F491u;
	for (uint32_t i = 0; i < SECTOR; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		almost[ALMOST_ADDR + i] = (uint8_t)x;
	}
	if (!memcmp(almost + ALMOST_ADDR, start + ALMOST_ADDR, SECTOR) || !memcmp(start, other, FLASH_SIZE))
		goto out;
	const uint8_t *imgs[IMG_COUNT] = { start, other, almost, NULL };
	char path[PATH_MAX];
	for (int i = 0; i < IMG_BLANK; i++) {
		pathf(path, sizeof path, "%s/%s", b->dir, img_files[i]);
		if (save(path, imgs[i], FLASH_SIZE))
			goto out;
	}
	for (size_t j = 0; j < n_jobs; j++) {
		struct job *jb = &jobs[j];
		if (jb->want == IMG_OTHER || jb->want == IMG_ALMOST) {
			jb->payload = rewrite_payload(start, imgs[jb->want]);
			jb->busy_s = rewrite_busy(start, imgs[jb->want]);
		}
	}
	r = 0;
out:
	big_free(start, FLASH_SIZE);
	big_free(other, FLASH_SIZE);
	big_free(almost, FLASH_SIZE);
	return r;
}

/* ---- running one job ----------------------------------------------------------- */

/* The parent's environment without anything that would steer the child
 * (a preload, stand-in settings, forced progress output), plus `add`. */
static char **child_env(char *const *add)
{
	size_t n = 0, k = 0;
	while (environ[n])
		n++;
	for (char *const *a = add; a && *a; a++)
		k++;
	char **env = calloc(n + k + 1, sizeof *env);
	if (!env)
		return NULL;
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "LD_PRELOAD=", 11) && strncmp(environ[i], "BKSPI_FAKEUSB", 13) &&
		    strncmp(environ[i], "BKSPI_PROGRESS=", 15))
			env[m++] = environ[i];
	for (size_t i = 0; i < k; i++)
		env[m++] = add[i];
	return env;
}

/* Runs argv in dir with stdout/stderr to files; exit status and rusage. */
/* ru_maxrss of a forked child counts the parent's pages it inherited until
 * exec, so the tool runs under a small launcher (this program re-executed
 * fresh) that measures only the tool and writes its peak RSS to a file. */
static int launch(char **argv)
{
	const char *rss_file = argv[2];
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execv(argv[3], argv + 3);
		_exit(127);
	}
	int status;
	struct rusage ru;
	if (pid < 0 || wait4(pid, &status, 0, &ru) != pid)
		return 126;
	FILE *f = fopen(rss_file, "w");
	if (f) {
		fprintf(f, "%ld\n", ru.ru_maxrss);
		fclose(f);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int spawn(const char *dir, char *const *argv, char *const *add_env, const char *out, const char *err,
		 struct rusage *ru, double *real_s)
{
	char **env = child_env(add_env);
	if (!env)
		return -1;
	fflush(NULL);
	double t0 = now_s();
	pid_t pid = fork();
	if (pid == 0) {
		int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int fe = err ? open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600) : fo;
		int fi = open("/dev/null", O_RDONLY);
		if (fo < 0 || fe < 0 || fi < 0 || chdir(dir))
			_exit(126);
		dup2(fi, 0);
		dup2(fo, 1);
		dup2(fe, 2);
		char rss_file[PATH_MAX], *largv[32] = { "bench", "--launch", rss_file };
		pathf(rss_file, sizeof rss_file, "%s.rss", out);
		size_t n = 3;
		for (size_t i = 0; argv[i] && n < 31; i++)
			largv[n++] = argv[i];
		largv[n] = NULL;
		execve("/proc/self/exe", largv, env);
		_exit(127);
	}
	free(env);
	if (pid < 0)
		return -1;
	int status = 0;
	for (;;) {
		pid_t w = wait4(pid, &status, WNOHANG, ru);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return -1;
		if (stop || now_s() - t0 > CHILD_LIMIT_S) {
			kill(pid, SIGKILL);
			wait4(pid, &status, 0, ru);
			*real_s = now_s() - t0;
			return -2;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 2000000 }, NULL);
	}
	*real_s = now_s() - t0;
	char rss_file[PATH_MAX];
	pathf(rss_file, sizeof rss_file, "%s.rss", out);
	FILE *f = fopen(rss_file, "r");
	long kib = -1;
	if (f) {
		if (fscanf(f, "%ld", &kib) != 1)
			kib = -1;
		fclose(f);
	}
	ru->ru_maxrss = kib;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int read_stats(const char *path, struct result *res)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[128];
	int have = 0;
	while (fgets(line, sizeof line, f)) {
		char key[64];
		double v;
		if (sscanf(line, "%63[a-z_]=%lf", key, &v) != 2)
			continue;
		if (!strcmp(key, "seconds"))
			res->seconds = v, have |= 1;
		else if (!strcmp(key, "round_trips"))
			res->round_trips = (uint64_t)v, have |= 2;
		else if (!strcmp(key, "out_bytes"))
			res->out_bytes = (uint64_t)v;
		else if (!strcmp(key, "in_bytes"))
			res->in_bytes = (uint64_t)v;
		else if (!strcmp(key, "packets"))
			res->packets = (uint64_t)v;
	}
	fclose(f);
	return have == 3 ? 0 : -1;
}

static int64_t jint(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : -1;
}

static int read_json(const char *path, struct result *res)
{
	json_object *o = json_object_from_file(path), *v, *usb;
	if (!o)
		return -1;
	int r = -1;
	if (json_object_object_get_ex(o, "ok", &v) && json_object_get_boolean(v) &&
	    json_object_object_get_ex(o, "seconds", &v)) {
		res->seconds = json_object_get_double(v);
		r = 0;
		if (json_object_object_get_ex(o, "usb", &usb)) {
			res->round_trips = (uint64_t)jint(usb, "round_trips");
			res->out_bytes = (uint64_t)jint(usb, "out_bytes");
			res->in_bytes = (uint64_t)jint(usb, "in_bytes");
			res->packets = (uint64_t)jint(usb, "packets");
		} else {
			r = -1;
		}
	}
	json_object_put(o);
	return r;
}

/* The single file bkspi saved in backups/, or "" */
static void backup_file(const char *run, char *path, size_t cap)
{
	char dir[PATH_MAX];
	pathf(dir, sizeof dir, "%s/backups", run);
	path[0] = 0;
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			pathf(path, cap, "%s/%s", dir, e->d_name);
			n++;
		}
	closedir(d);
	if (n != 1)
		path[0] = 0;
}

static void check_file(struct bench *b, const struct job *jb, enum tool t, const char *what, const char *path,
		       const char *ref)
{
	uint32_t at = 0;
	int r = same_as(path, ref, &at);
	if (r < 0)
		failf(b, "%s, %s: %s is missing or unreadable", jb->name, tool_names[t], what);
	else if (r > 0)
		failf(b, "%s, %s: %s differs from what it should hold, first at 0x%06X", jb->name, tool_names[t], what,
		      at);
}

static void run_job(struct bench *b, const struct job *jb, enum tool t, struct result *res)
{
	char run[PATH_MAX], flash[PATH_MAX], out[PATH_MAX], err[PATH_MAX], stats[PATH_MAX], cfg[64], ref[PATH_MAX];
	pathf(run, sizeof run, "%s/%s-%s", b->dir, jb->slug,
	      t == BKSPI ? "bkspi" : t == BKSPI_LIBUSB ? "libusb" : t == FLASHROM ? "flashrom" : t == CH347_15 ? "ch347-15" : "ch347-30");
	pathf(flash, sizeof flash, "%s/flash.bin", run);
	pathf(out, sizeof out, "%s/stdout.txt", run);
	pathf(err, sizeof err, "%s/stderr.txt", run);
	pathf(stats, sizeof stats, "%s/stats.txt", run);
	pathf(ref, sizeof ref, "%s/%s", b->dir, img_files[IMG_START]);
	*res = (struct result){ .ran = 1 };
	if (mkdir(run, 0700) || copy_file(ref, flash)) {
		failf(b, "%s, %s: cannot set up %s", jb->name, tool_names[t], run);
		return;
	}

	char *argv[24];
	size_t n = 0;
	char *env[4] = { NULL };
	char env_preload[PATH_MAX + 16], env_cfg[PATH_MAX + 64], env_stats[PATH_MAX + 32];
	pathf(env_preload, sizeof env_preload, "LD_PRELOAD=%s", b->fakeusb);
	pathf(env_stats, sizeof env_stats, "BKSPI_FAKEUSB_STATS=%s", stats);
	if (t == FLASHROM) {
		/* flashrom cannot do the Beken entry: a bare flash for it. */
		pathf(env_cfg, sizeof env_cfg, "BKSPI_FAKEUSB=image=%s,beken=0,jedec=" JEDEC, flash);
		argv[n++] = (char *)b->flashrom;
		argv[n++] = "-p";
		argv[n++] = "ch341a_spi";
		for (size_t i = 0; i < 3 && jb->fr[i]; i++)
			argv[n++] = (char *)jb->fr[i];
	} else {
		pathf(env_cfg, sizeof env_cfg, "BKSPI_FAKEUSB=image=%s,jedec=" JEDEC, flash);
		snprintf(cfg, sizeof cfg, "jedec=" JEDEC);
		argv[n++] = (char *)b->bkspi;
		argv[n++] = "-p";
		argv[n++] = t == BKSPI ? "sim" : t == BKSPI_LIBUSB ? "ch341a" : "sim347";
		if (ch347_clock[t]) {
			argv[n++] = "--spi-clock";
			argv[n++] = (char *)ch347_clock[t];
		}
		if (t != BKSPI_LIBUSB) {
			argv[n++] = "--sim-image";
			argv[n++] = "flash.bin";
			argv[n++] = "--sim-config";
			argv[n++] = cfg;
		}
		argv[n++] = "--json";
		for (size_t i = 0; i < 6 && jb->bk[i]; i++)
			argv[n++] = (char *)jb->bk[i];
	}
	argv[n] = NULL;
	int simulated = t == BKSPI || ch347_clock[t];
	if (!simulated) {
		env[0] = env_preload;
		env[1] = env_cfg;
		env[2] = env_stats;
	}

	struct rusage ru;
	int rc = spawn(run, argv, env, out, t == FLASHROM ? NULL : err, &ru, &res->real_s);
	res->rss_kib = ru.ru_maxrss;
	if (rc == -2) {
		failf(b, "%s, %s: still running after %d s, killed", jb->name, tool_names[t], CHILD_LIMIT_S);
		return;
	}
	if (rc) {
		failf(b, "%s, %s: exit %d (see %s)", jb->name, tool_names[t], rc, t == FLASHROM ? "flashrom -V" : "its --json");
		return;
	}
	int parsed = simulated ? read_json(out, res) : read_stats(stats, res);
	if (parsed) {
		failf(b, "%s, %s: no timing in its %s", jb->name, tool_names[t], simulated ? "--json" : "statistics file");
		return;
	}

	int before = b->failures;
	char want[PATH_MAX], path[PATH_MAX];
	pathf(want, sizeof want, "%s/%s", b->dir, jb->want == IMG_BLANK ? "" : img_files[jb->want]);
	check_file(b, jb, t, "the flash", flash, jb->want == IMG_BLANK ? NULL : want);
	if (jb->out) {
		pathf(path, sizeof path, "%s/%s", run, jb->out);
		check_file(b, jb, t, jb->out, path, ref);
	}
	if (jb->backup && t != FLASHROM) {
		backup_file(run, path, sizeof path);
		if (!path[0])
			failf(b, "%s, %s: no single backup file in backups/", jb->name, tool_names[t]);
		else
			check_file(b, jb, t, "the backup", path, ref);
	}
	res->ok = b->failures == before;
}

/* ---- the table --------------------------------------------------------------- */

static void fmt_mib(char *s, size_t cap, double bytes)
{
	snprintf(s, cap, "%.2f MiB", bytes / 1048576.0);
}

static void print_row(const struct job *jb, enum tool t, const struct result *r, int first, int *missed)
{
	char secs[32] = "-", pct[32] = "-", rt[32] = "-", wire[48] = "-", rss[32] = "-", met[48] = "-";
	double bps = ch347_hz[t] ? ch347_hz[t] / 8 : WIRE_BPS;
	if (r && r->ran && r->ok) {
		snprintf(secs, sizeof secs, "%.2f", r->seconds);
		if (jb->payload)
			snprintf(pct, sizeof pct, "%.1f %%", 100.0 * ((double)jb->payload / bps) / r->seconds);
		snprintf(rt, sizeof rt, "%llu", (unsigned long long)r->round_trips);
		fmt_mib(wire, sizeof wire, (double)(r->out_bytes + r->in_bytes));
		snprintf(rss, sizeof rss, "%.1f MiB", (double)r->rss_kib / 1024);
		if (t == BKSPI) {
			int ok = r->seconds <= jb->target_s;
			snprintf(met, sizeof met, "%s (<= %.1f s)", ok ? "yes" : "NO", jb->target_s);
			*missed += !ok;
		} else if (ch347_hz[t] && (jb->payload || jb->busy_s)) {
			double floor_s = BEKEN_FIXED_S + (double)jb->payload / bps + jb->busy_s;
			double target = floor_s * (jb->want == IMG_START ? 1.10 : 1.15);
			int ok = r->seconds <= target;
			snprintf(met, sizeof met, "%s (<= %.2f s)", ok ? "yes" : "NO", target);
			*missed += !ok;
		}
	} else if (r && r->ran) {
		snprintf(secs, sizeof secs, "FAILED");
		if (t == BKSPI || ch347_hz[t]) {
			snprintf(met, sizeof met, "no (failed)");
			(*missed)++;
		}
	}
	printf("| %-46s | %-12s | %9s | %9s | %11s | %10s | %9s | %-16s |\n", first ? jb->name : "", tool_names[t], secs,
	       pct, rt, wire, rss, met);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(int argc, char **argv)
{
	if (argc > 3 && !strcmp(argv[1], "--launch"))
		return launch(argv);
	if (argc != 5) {
		fprintf(stderr, "usage: %s BKSPI LIBFAKEUSB FLASHROM|- DUMPS_DIR\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct bench b = { .bkspi = argv[1], .fakeusb = argv[2], .flashrom = strcmp(argv[3], "-") ? argv[3] : NULL };
	char abs_bk[PATH_MAX], abs_so[PATH_MAX];
	if (!realpath(b.bkspi, abs_bk) || !realpath(b.fakeusb, abs_so)) {
		fprintf(stderr, "bench: %s or %s not found (make builds them)\n", b.bkspi, b.fakeusb);
		return 2;
	}
	b.bkspi = abs_bk;
	b.fakeusb = abs_so;

	struct job jobs[] = {
		{ "read whole flash", "read", { "read", "out.bin" }, { "-r", "out.bin" }, IMG_START, "out.bin", 0,
		  17.5, FLASH_SIZE, 0 },
		{ "write a different full image", "write", { "--keep-rf", "no", "write", "../other.bin" },
		  { "-w", "../other.bin" }, IMG_OTHER, NULL, 1, 65, 0, 0 },
		{ "rewrite, one 4 KiB sector differs", "almost", { "write", "../almost.bin" }, { "-w", "../almost.bin" },
		  IMG_ALMOST, NULL, 1, 17.8, 0, 0 },
		{ "erase whole chip (with blank check)", "erase", { "--no-backup", "--force", "erase" }, { "-E" }, IMG_BLANK,
		  NULL, 0, 23, FLASH_SIZE, 0 },
		{ "erase whole chip, no verify", "erase-nv", { "--no-backup", "--no-verify", "--force", "erase" },
		  { NULL }, IMG_BLANK, NULL, 0, 6, 0, 0 },
	};
	enum { N_JOBS = sizeof jobs / sizeof jobs[0] };
	/* The planner erases a whole chip in 64 KiB blocks. */
	jobs[3].busy_s = jobs[4].busy_s = FLASH_SIZE / (16 * SECTOR) * ERASE_64K_S;
	static struct result res[N_JOBS][TOOLS];

	double t0 = now_s();
	pathf(b.dir, sizeof b.dir, "%s/bkspi-bench.XXXXXX", getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(b.dir)) {
		perror("bench: mkdtemp");
		return 2;
	}
	if (prepare(&b, argv[4], jobs, N_JOBS)) {
		fprintf(stderr, "bench: cannot prepare the images in %s\n", b.dir);
		nftw(b.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		return 2;
	}
	printf("bench: %s\n", b.source);
	for (size_t j = 0; j < N_JOBS && !stop; j++)
		for (int t = 0; t < TOOLS && !stop; t++) {
			if (t == FLASHROM && (!b.flashrom || !jobs[j].fr[0]))
				continue;
			run_job(&b, &jobs[j], (enum tool)t, &res[j][t]);
		}
	if (stop) {
		nftw(b.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		fprintf(stderr, "bench: interrupted\n");
		return 130;
	}

	int missed = 0;
	printf("\n| %-46s | %-12s | %9s | %9s | %11s | %10s | %9s | %-16s |\n", "job", "tool", "virtual s",
	       "% of wire", "round trips", "USB bytes", "peak RSS", "target met");
	printf("|%s|%s|%s|%s|%s|%s|%s|%s|\n", "------------------------------------------------", "--------------",
	       "-----------", "-----------", "-------------", "------------", "-----------", "------------------");
	long rss_max[TOOLS] = { 0 };
	for (size_t j = 0; j < N_JOBS; j++) {
		for (int t = 0; t < TOOLS; t++) {
			if (t == FLASHROM && !b.flashrom)
				continue;
			print_row(&jobs[j], (enum tool)t, jobs[j].fr[0] || t != FLASHROM ? &res[j][t] : NULL, t == 0, &missed);
			if (res[j][t].ok && res[j][t].rss_kib > rss_max[t])
				rss_max[t] = res[j][t].rss_kib;
		}
	}
	for (int t = 0; t < TOOLS; t++) {
		if (t == FLASHROM && !b.flashrom)
			continue;
		char rss[32], met[48] = "-";
		snprintf(rss, sizeof rss, "%.1f MiB", (double)rss_max[t] / 1024);
		if (t == BKSPI) {
			int ok = rss_max[t] && rss_max[t] <= RSS_TARGET_KIB;
			snprintf(met, sizeof met, "%s (<= 8 MiB)", ok ? "yes" : "NO");
			missed += !ok;
		}
		printf("| %-46s | %-12s | %9s | %9s | %11s | %10s | %9s | %-16s |\n", t == 0 ? "memory: peak RSS of any job" : "",
		       tool_names[t], "-", "-", "-", "-", rss, met);
	}

	printf("\nImages: %s.\n"
	       "The one-sector rewrite changes the sector at 0x%06X. Every run starts from a fresh\n"
	       "copy of the same image, on a W25Q16 (JEDEC EF4015, known to both tools) whose status\n"
	       "register boots at SR1=0x1C (BP2..0: the whole chip protected, as Tuya firmware leaves it).\n"
	       "flashrom 1.3 clears that itself (\"Some block protection in effect, disabling\") and writes\n"
	       "0x1C back before it exits; bkspi clears it and the firmware sets it again at the CEN reset.\n",
	       b.source, ALMOST_ADDR);
	printf("Tools: bkspi = -p sim; bkspi/libusb = the same binary on -p ch341a through tests/shim\n"
	       "(libfakeusb.so, its real libusb backend); flashrom = /usr/sbin/flashrom -p ch341a_spi\n"
	       "through the same stand-in. bkspi's times include the Beken entry (CEN reset, 0xD2 run) and\n"
	       "the closing CEN pulse; flashrom cannot do the entry, so its emulated board has no Beken chip\n"
	       "(beken=0). flashrom's writes verify the whole chip, its -E reads every erased block back;\n"
	       "it has no erase without verification (\"-\"). bkspi writes with --keep-rf no so both tools\n"
	       "write the same bytes.\n");
	printf("Columns: virtual s = emulated time (README 'Benchmarks'); both tools' waits (flashrom's\n"
	       "clock_gettime delay loops and sleeps, bkspi's sleeps) are billed in it. %% of wire = the\n"
	       "wire ceiling / virtual s, where the wire ceiling is the job's unavoidable SPI data (every\n"
	       "byte read before and after, every non-blank page that must change) at 31 data bytes per\n"
	       "32-byte packet at 1.5 MHz plus 69 us = %.1f KB/s, without command bytes, status polls or erase and\n"
	       "program busy time; ceilings: read %.2f s, write %.2f s, rewrite %.2f s, erase %.2f s,\n"
	       "erase without verify none (\"-\"). USB bytes = bulk OUT + IN. peak RSS = ru_maxrss from\n"
	       "wait4() (includes the emulated 2 MiB flash mapped into the process).\n",
	       WIRE_BPS / 1000, (double)jobs[0].payload / WIRE_BPS, (double)jobs[1].payload / WIRE_BPS,
	       (double)jobs[2].payload / WIRE_BPS, (double)jobs[3].payload / WIRE_BPS);
	printf("CH347 rows: the same bkspi on -p sim347 (the emulated CH347T, 512-byte packets, SPI at\n"
	       "--spi-clock, README 'Benchmarks'): simulated figures, not measured on hardware. %% of wire\n"
	       "is the job's SPI data at the clock; the target is the floor (that data, the flash's erase\n"
	       "and program busy time, and %.3f s of CEN pulses and the slow Beken entry) plus 10 %% for\n"
	       "the read, 15 %% for the others.\n",
	       BEKEN_FIXED_S);
	if (!b.flashrom)
		printf("flashrom is not installed: its rows are left out (as root, make bench installs it).\n");

	if (!getenv("BKSPI_BENCH_KEEP"))
		nftw(b.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	else
		printf("kept %s\n", b.dir);
	printf("\nbench: %zu jobs in %.1f s real; ", (size_t)N_JOBS, now_s() - t0);
	if (missed)
		printf("%d bkspi target%s missed (reported, not a failure); ", missed, missed == 1 ? "" : "s");
	else
		printf("every bkspi target met; ");
	if (b.failures) {
		printf("%d correctness check%s FAILED\n", b.failures, b.failures == 1 ? "" : "s");
		return 1;
	}
	printf("every result byte-exact\n");
	return 0;
}
