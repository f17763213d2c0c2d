/* Writes the fuzz seeds (tests/fuzz/seeds/NAME/) and the regression inputs
 * built by hand (tests/fuzz/regress/NAME/): `make fuzz-seeds`, or
 * build-fuzz/gen_seeds tests/fuzz. Everything is synthetic: no byte of a
 * real dump goes in. The wire seeds for fuzz_replies are recorded from the
 * emulator running the same steps as the harness (replies.h), so they
 * reach the flash operations instead of failing at the entry. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "beken/beken.h"
#include "emu/emu.h"
#include "fuzz.h"
#include "image.h"
#include "replies.h"
#include "spi/chips.h"
#include "spi/sfdp.h"
#include "usb/usb.h"

static const char *top;

/* ---- output -------------------------------------------------------- */

struct buf {
	uint8_t *p;
	size_t n, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->n + n)
			cap *= 2;
		uint8_t *q = realloc(b->p, cap);
		if (!q) {
			perror("realloc");
			exit(1);
		}
		b->p = q;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void put8(struct buf *b, unsigned v)
{
	uint8_t c = (uint8_t)v;
	put(b, &c, 1);
}

static void put_le(uint8_t *p, uint32_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void mkdirs(const char *path)
{
	char tmp[1024];
	snprintf(tmp, sizeof tmp, "%s", path);
	for (char *s = tmp + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			mkdir(tmp, 0755);
			*s = '/';
		}
	mkdir(tmp, 0755);
}

static void write_file(const char *kind, const char *name, const char *file, const void *p, size_t n)
{
	char dir[1024], path[1200];
	snprintf(dir, sizeof dir, "%s/%s/%s", top, kind, name);
	mkdirs(dir);
	snprintf(path, sizeof path, "%s/%s", dir, file);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
		fprintf(stderr, "gen_seeds: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	if (n > 64 * 1024) {
		fprintf(stderr, "gen_seeds: %s is %zu bytes, over the 64 KiB seed limit\n", path, n);
		exit(1);
	}
	printf("%s (%zu bytes)\n", path, n);
}

static void seed(const char *name, const char *file, const void *p, size_t n)
{
	write_file("seeds", name, file, p, n);
}

static void seed_buf(const char *name, const char *file, struct buf *b)
{
	seed(name, file, b->p, b->n);
	free(b->p);
	*b = (struct buf){ 0 };
}

/* Strings with embedded NULs, for argv seeds: "a\0b" of length n. */
static void seed_str(const char *name, const char *file, const char *s, size_t n)
{
	seed(name, file, s, n);
}
#define SEED_LIT(name, file, lit) seed_str(name, file, lit, sizeof lit - 1)

/* ---- fuzz_num, fuzz_simconfig ----------------------------------------- */

static void text_seeds(void)
{
	SEED_LIT("num", "hex", "0x11000");
	SEED_LIT("num", "mib", "16M");
	SEED_LIT("num", "kib-hex", "0x10K");
	SEED_LIT("num", "decimal", "1183600");
	SEED_LIT("num", "argv-read", "-p\0sim\0--offset\0" "0x11000\0--length\0" "4K\0read\0app.bin");
	SEED_LIT("num", "argv-write", "-t\0spi\0--no-backup\0--no-verify\0--force\0write\0img.bin");
	SEED_LIT("num", "argv-sim", "--sim-config=style=flush,entry-fails=2\0--sim-image\0x.bin\0-qv\0detect");
	SEED_LIT("num", "argv-bad-cluster", "-qZ\0read");
	SEED_LIT("num", "argv-missing", "read\0--length");
	SEED_LIT("num", "argv-json", "--json\0--label\0kitchen\0erase\0--offset=0x1D0000\0--length=4K");
	SEED_LIT("num", "argv-keep", "--keep-rf=no\0--keep-tuya-config\0yes\0--confirm\0info\0dump.bin");

	SEED_LIT("simconfig", "faults", "wire=miso-open,entry-fails=3,usb-error-at=10,usb-timeout-at=20");
	SEED_LIT("simconfig", "flash", "jedec=0xEF4016,sfdp=0,sr2=1,wrsr31=0,protect=0x1C,protect-sr2=0x40");
	SEED_LIT("simconfig", "bools", "beken=0,wp-locked=1,stuck-wip,style=echo,size=65536");
	SEED_LIT("simconfig", "numbers", "bad-byte=0x1000,flip-ppm=100,seed=42,unplug-after=1000,size=16777216");
	SEED_LIT("simconfig", "image", "image=/nonexistent/x.bin,style=flush");
}

/* ---- fuzz_sfdp --------------------------------------------------------- */

static void sfdp_seeds(void)
{
	uint8_t img[256];
	size_t n = bk_emu_sfdp_build(img, sizeof img, 2u << 20, BK_ERASE_4K | BK_ERASE_32K | BK_ERASE_64K);
	seed("sfdp", "2m-all-erase", img, n);
	n = bk_emu_sfdp_build(img, sizeof img, 4u << 20, BK_ERASE_4K);
	seed("sfdp", "4m-4k", img, n);
	n = bk_emu_sfdp_build(img, sizeof img, 16u << 20, BK_ERASE_4K | BK_ERASE_64K);
	seed("sfdp", "16m-4k-64k", img, n);
	n = bk_emu_sfdp_build(img, sizeof img, 64u << 10, BK_ERASE_32K);
	seed("sfdp", "64k-32k", img, n);

	/* Two parameter headers, the second a newer BFPT revision further on
	 * (which wins), and the tables after both headers. */
	uint8_t two[24 + 64 + 64];
	uint8_t one[80];
	n = bk_emu_sfdp_build(one, sizeof one, 8u << 20, BK_ERASE_4K | BK_ERASE_64K);
	memset(two, 0xFF, sizeof two);
	memcpy(two, one, 16);
	two[6] = 1; /* two parameter headers */
	two[8 + 4] = 24;
	memcpy(two + 16, one + 8, 8);
	two[16 + 1] = 9; /* minor revision 9 */
	two[16 + 4] = 24 + 64;
	memcpy(two + 24, one + 16, 64);
	memcpy(two + 24 + 64, one + 16, 64);
	put_le(two + 24 + 64 + 4, 0x80000000u | 27, 4); /* 2^27 bits: 16 MiB */
	seed("sfdp", "two-headers", two, sizeof two);
}

/* ---- fuzz_beken, fuzz_classify -------------------------------------------- */

/* A record of image.h's format. */
static void rec(struct buf *b, unsigned op, const void *p, size_t n)
{
	put8(b, op);
	put8(b, n & 0xFF);
	put8(b, n >> 8);
	put(b, p, n);
}

static void rec_at(struct buf *b, unsigned flags, uint32_t addr, const void *p, size_t n)
{
	put8(b, flags | FUZZ_SLOT_EXPLICIT);
	put8(b, addr & 0xFF);
	put8(b, (addr >> 8) & 0xFF);
	put8(b, addr >> 16);
	put8(b, n & 0xFF);
	put8(b, n >> 8);
	put(b, p, n);
}

static void rec_repeat(struct buf *b, unsigned op, const void *p, size_t n, unsigned times)
{
	rec(b, op | 0x20u, p, n);
	put8(b, times & 0xFF);
	put8(b, times >> 8);
}

static unsigned slot_of(uint32_t addr)
{
	for (unsigned i = 0; i < FUZZ_N_SLOTS; i++)
		if (fuzz_slots[i] == addr)
			return i;
	fprintf(stderr, "gen_seeds: no slot for 0x%X\n", addr);
	exit(1);
}

static void pseudo(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

/* An RBL header whose CRCs match a body of raw bytes plus pad bytes of
 * value pad (algo 0). */
static void rbl_header(uint8_t h[96], const uint8_t *body, uint32_t raw, uint32_t pad)
{
	memset(h, 0, 96);
	memcpy(h, "RBL", 4);
	put_le(h + 8, 1700000000u, 4);
	memcpy(h + 12, "app", 3);
	memcpy(h + 28, "1.0.0-fuzz", 10);
	memcpy(h + 52, "0123456789", 10);
	uint32_t crc = (uint32_t)crc32(0, body, raw);
	uint8_t p[255];
	memset(p, (int)pad, pad);
	crc = (uint32_t)crc32(crc, p, pad);
	put_le(h + 76, crc, 4);
	put_le(h + 84, raw, 4);
	put_le(h + 88, raw + pad, 4);
	put_le(h + 92, (uint32_t)crc32(0, h, 92), 4);
}

static uint8_t tiny_crc8(const uint8_t *p, size_t n)
{
	uint8_t crc = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t x = p[i];
		for (int bit = 0; bit < 8; bit++) {
			int sum = (crc ^ x) & 1;
			crc >>= 1;
			if (sum)
				crc ^= 0x8C;
			x >>= 1;
		}
	}
	return crc;
}

/* A 2 or 4 MiB image description: framed bootloader (with the BK7231N text
 * marker and an RBL header), framed app (with its RBL header), partition
 * table, RF sector with a made-up MAC, an OpenBeken config and a Tuya key
 * page. */
static void beken_image(struct buf *b, unsigned flags, uint32_t rf, uint32_t app_end, int marker)
{
	put8(b, FUZZ_IMAGE_FLAG | flags);

	uint8_t boot[512];
	pseudo(boot, sizeof boot, 1);
	if (marker)
		memcpy(boot + 256, "BK7231", 6); /* block 8 = flash 0x110 */
	rec(b, 0x40u | slot_of(0), boot, sizeof boot);
	uint8_t h[96];
	rbl_header(h, boot, sizeof boot, 16);
	rec(b, 0x40u | slot_of(FUZZ_RBL_BLOCKS_AT(BK_BEKEN_BOOT_END)), h, sizeof h);

	uint8_t app[320];
	static const uint8_t start[8] = { 0x2F, 0x07, 0xB5, 0x94, 0x35, 0xFF, 0x2A, 0x9B };
	pseudo(app, sizeof app, 2);
	memcpy(app, start, sizeof start);
	rec(b, 0x40u | slot_of(BK_BEKEN_APP_START), app, sizeof app);
	rbl_header(h, app, sizeof app, 0);
	rec(b, 0x40u | slot_of(FUZZ_RBL_BLOCKS_AT(app_end)), h, sizeof h);

	rec(b, slot_of(0xF7F0), "01PE", 4);

	uint8_t tlv[0x40];
	memset(tlv, 0, sizeof tlv);
	memcpy(tlv, "TLV", 4);
	put_le(tlv + 4, 0x400, 4);
	put_le(tlv + 0x1C, 0x11111102u, 4);
	put_le(tlv + 0x20, 6, 4);
	static const uint8_t mac[6] = { 0x02, 0x00, 0x5E, 0x10, 0x20, 0x30 }; /* locally administered */
	memcpy(tlv + 0x24, mac, 6);
	rec(b, slot_of(rf), tlv, sizeof tlv);

	static uint8_t cfg[3584];
	memset(cfg, 0, sizeof cfg);
	memcpy(cfg, "CFG", 3);
	put_le(cfg + 4, 5, 4);
	memcpy(cfg + 8, "fuzz-device", 11);
	cfg[3] = tiny_crc8(cfg + 4, sizeof cfg - 4);
	rec(b, slot_of(rf + 0x1000), cfg, sizeof cfg);

	uint8_t kvs[16];
	pseudo(kvs, sizeof kvs, 3);
	rec_repeat(b, slot_of(0x1EE000), kvs, sizeof kvs, 250);
}

static void beken_seeds(void)
{
	struct buf b = { 0 };
	beken_image(&b, 0, 0x1D0000, BK_BEKEN_APP_END_2M, 1);
	seed_buf("beken", "image-2m-n", &b);
	beken_image(&b, 8, 0x1E0000, BK_BEKEN_APP_END_2M, 0);
	seed_buf("beken", "image-2m-t-rotated", &b);
	beken_image(&b, 1, 0x3FE000, 0x1CB000, 0);
	seed_buf("beken", "image-4m-7252", &b);

	/* A Tuya store saved on its own: 72 KiB, key page first. */
	put8(&b, FUZZ_IMAGE_FLAG | 3);
	put8(&b, 0xFF);
	put8(&b, 0x1F);
	put8(&b, 0x01); /* 0x11FFF + 1 = 72 KiB */
	uint8_t kvs[16];
	pseudo(kvs, sizeof kvs, 4);
	rec_repeat(&b, slot_of(0), kvs, sizeof kvs, 256);
	uint8_t junk[256];
	pseudo(junk, sizeof junk, 5);
	rec_at(&b, 0, 0x1000, junk, sizeof junk);
	seed_buf("beken", "store-72k", &b);

	/* Plain files. */
	uint8_t body[200];
	pseudo(body, sizeof body, 6);
	uint8_t h[96];
	rbl_header(h, body, 190, 10);
	put(&b, h, sizeof h);
	put(&b, body, 190);
	memset(body, 10, 10);
	put(&b, body, 10);
	seed_buf("beken", "file-rbl", &b);

	uint8_t blocks[4 * BK_BEKEN_BLOCK];
	uint8_t app[4 * BK_BEKEN_BLOCK_DATA];
	pseudo(app, sizeof app, 7);
	static const uint8_t start[8] = { 0x2F, 0x07, 0xB5, 0x94, 0x35, 0xFF, 0x2A, 0x9B };
	memcpy(app, start, sizeof start);
	uint8_t tmp[4 * BK_BEKEN_BLOCK];
	fuzz_put_framed(tmp, sizeof tmp, 0, app, sizeof app);
	memcpy(blocks, tmp, sizeof blocks);
	seed("beken", "file-framed-app", blocks, sizeof blocks);
	seed("classify", "file-framed-app", blocks, sizeof blocks);

	/* classify: containers by magic, and images. */
	uint8_t uf2[512];
	memset(uf2, 0, sizeof uf2);
	put_le(uf2, 0x0A324655u, 4);
	put_le(uf2 + 4, 0x9E5D5157u, 4);
	put_le(uf2 + 8, 0x2000, 4);
	put_le(uf2 + 12, 0x11000, 4);
	put_le(uf2 + 16, 256, 4);
	put_le(uf2 + 24, 1, 4);
	put_le(uf2 + 28, 0x7B3EF230u, 4);
	put_le(uf2 + 508, 0x0AB16F30u, 4);
	seed("classify", "uf2-n", uf2, sizeof uf2);
	uint8_t ug[64];
	pseudo(ug, sizeof ug, 8);
	memcpy(ug, "\x55\xAA\x55\xAA", 4);
	seed("classify", "ug", ug, sizeof ug);
	put(&b, h, sizeof h);
	seed_buf("classify", "rbl-header", &b);
	beken_image(&b, 0, 0x1D0000, BK_BEKEN_APP_END_2M, 1);
	seed_buf("classify", "image-2m-full", &b);
	beken_image(&b, 8, 0x1E0000, BK_BEKEN_APP_END_2M, 0);
	seed_buf("classify", "image-2m-rotated", &b);
	beken_image(&b, 2, 0x1D0000, BK_BEKEN_APP_END_2M, 1); /* 0x130000: QIO */
	seed_buf("classify", "image-qio", &b);
	/* app only: 8 KiB from the app's first block */
	put8(&b, FUZZ_IMAGE_FLAG | 3);
	put8(&b, 0xFF);
	put8(&b, 0x1F);
	put8(&b, 0x00);
	rec(&b, 0x40u | slot_of(0), app, sizeof app);
	seed_buf("classify", "image-ua", &b);
}

/* ---- fuzz_replies ------------------------------------------------------------ */

static const struct bk_usb_backend *emu_be;
static bk_usb_done_fn inner_done;
static struct buf wire;

static void rec_done(struct bk_usb_xfer *x)
{
	if (x->is_in && x->status == 0)
		put(&wire, x->buf, x->actual);
	x->done = inner_done;
	x->done(x);
}

static int rec_submit(void *dev, struct bk_usb_xfer *x)
{
	inner_done = x->done;
	x->done = rec_done;
	return emu_be->submit(dev, x);
}

static int rec_wait(void *dev, unsigned ms) { return emu_be->wait(dev, ms); }
static void rec_cancel(void *dev, struct bk_usb_xfer *x) { emu_be->cancel(dev, x); }
static void rec_sleep(void *dev, uint64_t us) { emu_be->sleep_us(dev, us); }
static uint64_t rec_now(void *dev) { return emu_be->now_us(dev); }
static void rec_close(void *dev) { emu_be->close(dev); }

static const struct bk_usb_backend recorder = {
	.name = "recorder", .submit = rec_submit, .wait = rec_wait, .cancel = rec_cancel,
	.sleep_us = rec_sleep, .now_us = rec_now, .close = rec_close,
};

/* Runs replies_run on the emulator and saves plan + recorded IN bytes. */
static void record(const char *file, const char *config, const struct replies_plan *pl)
{
	struct bk_err err = { 0 };
	struct bk_emu *emu;
	struct bk_usb *usb;
	struct bk_prog *prog;
	emu_be = bk_emu_backend();
	struct bk_prog_config pc = { 0 };
	if (bk_emu_new(config, &err, &emu) || bk_usb_wrap(&recorder, emu, "recorded CH341A", &err, &usb) ||
	    (pc.usb = usb, bk_prog_open(&bk_prog_ch341a, &pc, &err, &prog))) {
		fprintf(stderr, "gen_seeds: %s: %s\n", file, err.msg);
		exit(1);
	}
	struct buf out = { 0 };
	uint8_t h[5 + REPLIES_MAX_PROGRAMS];
	put(&out, h, replies_plan_put(pl, h));
	wire.n = 0;
	replies_run(prog, pl, &err);
	if (err.code)
		printf("  (%s ended: %s)\n", file, err.msg);
	put(&out, wire.p, wire.n);
	seed_buf("replies", file, &out);
}

static const uint8_t rev[256] = {
#define R2(n) n, n + 2 * 64, n + 1 * 64, n + 3 * 64
#define R4(n) R2(n), R2(n + 2 * 16), R2(n + 1 * 16), R2(n + 3 * 16)
#define R6(n) R4(n), R4(n + 2 * 4), R4(n + 1 * 4), R4(n + 3 * 4)
	R6(0), R6(2), R6(1), R6(3)
};

static void fill(struct buf *b, uint8_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(b, v);
}

/* bk_flash_program's status polls grow past the 16 x 4096 bytes it
 * allocated for them: six one-page programs whose polls read busy (the
 * fifth leaves poll_len at 4096, the sixth makes it 4095 + 4095/4 + 8 =
 * 5126), then a 16-page batch writes 16 x 5126 poll bytes. */
static void regress_poll_overflow(void)
{
	struct replies_plan pl = { .flags = REPLIES_SPI, .n_programs = 7,
				   .programs = { 1, 1, 1, 1, 1, 1, 16 } };
	struct buf b = { 0 };
	uint8_t h[5 + REPLIES_MAX_PROGRAMS];
	put(&b, h, replies_plan_put(&pl, h));
	/* JEDEC EF4016 (W25Q32, 4 MiB, in the chip table); SFDP reads zeros. */
	put8(&b, 0x00);
	put8(&b, rev[0xEF]);
	put8(&b, rev[0x40]);
	put8(&b, rev[0x16]);
	fill(&b, 0x00, 5 + 64);
	const uint8_t busy = rev[0x01], ready = rev[0x00];
	size_t poll = 128;
	for (int i = 0; i < 5; i++) {
		fill(&b, 0x00, 1 + 260 + 1); /* WREN, page program, the poll's opcode */
		fill(&b, busy, poll);        /* busy to the end: poll_len doubles */
		fill(&b, ready, 3);          /* wait_ready's status read: ready */
		poll *= 2;
	}
	fill(&b, 0x00, 1 + 260 + 1);
	fill(&b, busy, poll - 1);
	fill(&b, ready, 1);
	/* The 16-page batch needs nothing: the exhausted wire reads 0x00. */
	write_file("regress", "replies", "poll-len-overflow", b.p, b.n);
	free(b.p);
}

/* bk_args_parse called twice: the second call reads through glibc getopt's
 * pointer into the first call's argv ("-v"), freed by then. */
static void regress_args_reparse(void)
{
	static const char in[] = "-v\0read";
	write_file("regress", "num", "args-reparse-stale-getopt", in, sizeof in - 1);
}

static void replies_seeds(void)
{
	struct replies_plan pl;
	pl = (struct replies_plan){ .flags = REPLIES_READ | REPLIES_UNPROTECT | REPLIES_ERASE | REPLIES_RESET,
				    .n_programs = 2, .programs = { 2, 0x21 } };
	record("beken-echo-all", "", &pl);
	pl = (struct replies_plan){ .flags = REPLIES_READ | REPLIES_WAIT_IDLE };
	record("beken-flush-read", "style=flush", &pl);
	pl = (struct replies_plan){ .flags = REPLIES_READ };
	record("beken-entry-retry", "entry-fails=1", &pl);
	pl = (struct replies_plan){ .flags = REPLIES_SPI | REPLIES_READ | REPLIES_UNPROTECT | REPLIES_ERASE_BIG,
				    .n_programs = 1, .programs = { 17 } };
	record("spi-no-sfdp-w25q32", "beken=0,sfdp=0,jedec=0xEF4016", &pl);
	pl = (struct replies_plan){ .flags = REPLIES_SPI | REPLIES_UNPROTECT };
	record("spi-cmp-protect", "beken=0,protect=0x1C,protect-sr2=0x40", &pl);
	pl = (struct replies_plan){ .flags = REPLIES_SPI | REPLIES_UNPROTECT, .fault_at = 3,
				    .fault = REPLIES_FAULT_ERROR };
	record("spi-fault-error", "beken=0", &pl);
	pl = (struct replies_plan){ .flags = REPLIES_SPI, .fault_at = 2, .fault = REPLIES_FAULT_STUCK };
	record("spi-fault-stuck", "beken=0", &pl);
	pl = (struct replies_plan){ .flags = REPLIES_SPI | REPLIES_UNPROTECT };
	record("spi-unknown-id", "beken=0,sfdp=1,jedec=0x1C7015", &pl);

	/* Dead wires: nothing recorded, the fill byte is all MISO reads. */
	uint8_t dead[5] = { REPLIES_FILL_FF, 0, 0, 0, 0 };
	seed("replies", "miso-ff", dead, sizeof dead);
	dead[0] = 0;
	seed("replies", "miso-00", dead, sizeof dead);
}

int main(int argc, char **argv)
{
	top = argc > 1 ? argv[1] : "tests/fuzz";
	text_seeds();
	sfdp_seeds();
	beken_seeds();
	replies_seeds();
	regress_poll_overflow();
	regress_args_reparse();
	return 0;
}
