#include "spi/flash.h"

#include <stdlib.h>
#include <string.h>

#include "spi/chips.h"
#include "spi/protect.h"
#include "spi/sfdp.h"

#define OP_WREN 0x06
#define OP_RDSR1 0x05
#define OP_RDSR2 0x35
#define OP_WRSR 0x01
#define OP_WRSR2 0x31
#define OP_READ 0x03
#define OP_PP 0x02
#define OP_JEDEC 0x9F
#define OP_SFDP 0x5A
#define SR1_WIP 0x01
#define SR2_CMP 0x40

#define READ_FRAME (64u * 1024)
#define BATCH_PAGES 16
#define READ_TRIES 4
/* Status bytes a page program's poll may clock: the batch buffer holds
 * this many per page. */
#define MAX_POLL 4096

/* Worst cases from common datasheets, with margin: a stuck flash is
 * reported at the operation that stuck. */
#define PAGE_TIMEOUT_US 20000
#define WRSR_TIMEOUT_US 200000

/* The erase sizes the planner knows, in the order of erase_op[], with
 * the standard opcodes for parts that have no SFDP and typical/worst busy
 * times from common datasheets. */
static const struct {
	uint32_t size;
	uint8_t std_op, mask;
	uint32_t typical_us, timeout_us;
} erase_types[] = {
	{ 4096, 0x20, BK_ERASE_4K, 45000, 1000000 },
	{ 32768, 0x52, BK_ERASE_32K, 120000, 2000000 },
	{ 65536, 0xD8, BK_ERASE_64K, 150000, 3000000 },
};
#define N_ERASE (sizeof erase_types / sizeof erase_types[0])

struct bk_flash {
	struct bk_prog *prog;
	struct bk_err *err;
	struct bk_flash_info info;
	uint32_t chunk;       /* bytes one page program sends: the page, at most BK_PAGE */
	size_t poll_len;      /* status bytes clocked after a page program */
	uint8_t *batch;       /* command bytes and poll replies of a page batch */
};

const struct bk_flash_info *bk_flash_info(const struct bk_flash *f)
{
	return &f->info;
}

static int frame(struct bk_flash *f, const uint8_t *tx, size_t tx_len, size_t len, uint8_t *rx, size_t skip)
{
	struct bk_spi_frame fr = { .tx = tx, .tx_len = tx_len, .len = len, .rx = rx, .rx_skip = skip };
	return bk_prog_frames(f->prog, &fr, 1);
}

/* Reads and status reads change nothing, so a transient USB fault is
 * retried; what comes back is as good as an undisturbed read. */
static int frame_retry(struct bk_flash *f, const uint8_t *tx, size_t tx_len, size_t len, uint8_t *rx, size_t skip)
{
	int r = 0;
	for (int i = 0; i < READ_TRIES; i++) {
		r = frame(f, tx, tx_len, len, rx, skip);
		if (!bk_err_transient(r))
			break;
	}
	return r;
}

static void put_addr(uint8_t *b, uint8_t op, uint32_t addr)
{
	b[0] = op;
	b[1] = (uint8_t)(addr >> 16);
	b[2] = (uint8_t)(addr >> 8);
	b[3] = (uint8_t)addr;
}

int bk_flash_read(struct bk_flash *f, uint32_t addr, uint8_t *buf, uint32_t len)
{
	while (len) {
		uint32_t n = len < READ_FRAME ? len : READ_FRAME;
		uint8_t cmd[4];
		put_addr(cmd, OP_READ, addr);
		/* The flash ignores MOSI while it sends data. */
		struct bk_spi_frame fr = { .tx = cmd, .tx_len = 4, .len = 4 + (size_t)n, .rx = buf, .rx_skip = 4,
					   .tail_any = 1 };
		int r = 0;
		for (int i = 0; i < READ_TRIES; i++) {
			r = bk_prog_frames(f->prog, &fr, 1);
			if (!bk_err_transient(r))
				break;
		}
		if (r)
			return bk_err_ctx(f->err, r, "reading flash at 0x%06X", addr);
		addr += n;
		buf += n;
		len -= n;
	}
	return 0;
}

static int read_reg(struct bk_flash *f, uint8_t op, uint8_t *v)
{
	uint8_t rx[2];
	int r = frame_retry(f, &op, 1, 3, rx, 1);
	if (r)
		return r;
	*v = rx[1]; /* the second copy: the first is clocked right at CS fall */
	return 0;
}

int bk_flash_status(struct bk_flash *f, uint8_t *sr1, uint8_t *sr2)
{
	int r = read_reg(f, OP_RDSR1, sr1);
	if (!r && sr2)
		*sr2 = 0;
	if (!r && sr2 && (f->info.nor.sr_flags & BK_CHIP_SR2))
		r = read_reg(f, OP_RDSR2, sr2);
	return r ? bk_err_ctx(f->err, r, "reading the status registers") : 0;
}

void bk_flash_protection(const struct bk_flash_info *in, uint8_t sr1, uint8_t sr2, struct bk_prot *out)
{
	if (in->nor.prot == BK_PROT_BP4)
		bk_prot_decode_bp4(sr1, in->nor.size, out);
	else
		bk_prot_decode(sr1, sr2, !!(in->nor.sr_flags & BK_CHIP_SR2), in->nor.size, out);
}

static int wait_ready(struct bk_flash *f, uint32_t expect_us, uint32_t timeout_us, const char *what, uint32_t addr)
{
	uint64_t start = bk_prog_now_us(f->prog);
	if (expect_us)
		bk_prog_sleep_us(f->prog, expect_us);
	for (;;) {
		uint8_t sr;
		int r = read_reg(f, OP_RDSR1, &sr);
		if (r)
			return bk_err_ctx(f->err, r, "waiting for %s at 0x%06X", what, addr);
		if (!(sr & SR1_WIP))
			return 0;
		uint64_t waited = bk_prog_now_us(f->prog) - start;
		if (waited > timeout_us)
			return bk_fail(f->err, BK_EFLASH,
				       "flash still busy %llu ms after %s at 0x%06X (WIP never cleared); power-cycle the board and try again",
				       (unsigned long long)(waited / 1000), what, addr);
		uint64_t left = expect_us > waited ? expect_us - waited : 0;
		bk_prog_sleep_us(f->prog, left > 1000 ? 1000 : left + 100);
	}
}

int bk_flash_wait_idle(struct bk_flash *f, uint32_t timeout_us)
{
	return wait_ready(f, 0, timeout_us, "the interrupted operation", 0);
}

static int wren_and(struct bk_flash *f, const uint8_t *cmd, size_t len)
{
	static const uint8_t wren = OP_WREN;
	struct bk_spi_frame fr[2] = {
		{ .tx = &wren, .tx_len = 1, .len = 1 },
		{ .tx = cmd, .tx_len = len, .len = len },
	};
	return bk_prog_frames(f->prog, fr, 2);
}

int bk_flash_erase(struct bk_flash *f, uint32_t addr, uint32_t size)
{
	for (size_t i = 0; i < N_ERASE; i++) {
		if (erase_types[i].size != size || !f->info.nor.erase_op[i])
			continue;
		uint8_t cmd[4];
		put_addr(cmd, f->info.nor.erase_op[i], addr);
		int r = wren_and(f, cmd, 4);
		if (r)
			return bk_err_ctx(f->err, r, "erasing %u KiB at 0x%06X", size / 1024, addr);
		return wait_ready(f, erase_types[i].typical_us, erase_types[i].timeout_us, "erase", addr);
	}
	return bk_fail(f->err, BK_EINVAL, "no %u-byte erase", size);
}

/* Frames per page: write enable, page program, then a status poll long
 * enough to cover the program time, so a batch needs no round trip. */
static int program_batch(struct bk_flash *f, uint32_t addr, const uint8_t *data, size_t pages,
			 size_t *programmed)
{
	static const uint8_t wren = OP_WREN, rdsr = OP_RDSR1;
	struct bk_spi_frame fr[3 * BATCH_PAGES] = { { 0 } };
	uint8_t *cmd = f->batch;
	uint8_t *polls = f->batch + BATCH_PAGES * (4 + BK_PAGE);
	size_t poll_len = f->poll_len, chunk = f->chunk;
	for (size_t i = 0; i < pages; i++) {
		uint8_t *c = cmd + i * (4 + chunk);
		put_addr(c, OP_PP, addr + (uint32_t)(i * chunk));
		memcpy(c + 4, data + i * chunk, chunk);
		fr[3 * i] = (struct bk_spi_frame){ .tx = &wren, .tx_len = 1, .len = 1 };
		fr[3 * i + 1] = (struct bk_spi_frame){ .tx = c, .tx_len = 4 + chunk, .len = 4 + chunk };
		fr[3 * i + 2] = (struct bk_spi_frame){ .tx = &rdsr, .tx_len = 1, .len = 1 + poll_len,
						       .rx = polls + i * poll_len, .rx_skip = 1 };
	}
	int r = bk_prog_frames(f->prog, fr, 3 * pages);
	if (r)
		return r;
	/* The pages after one whose poll ended busy were sent to a busy flash,
	 * which ignored them: stop there and let the caller re-send them. */
	size_t slowest = 0;
	for (size_t i = 0; i < pages; i++) {
		const uint8_t *p = polls + i * poll_len;
		size_t k = 0;
		while (k < poll_len && (p[k] & SR1_WIP))
			k++;
		if (k > slowest)
			slowest = k;
		if (k == poll_len) {
			*programmed = i + 1;
			f->poll_len = poll_len * 2 > MAX_POLL ? MAX_POLL : poll_len * 2;
			return wait_ready(f, 0, PAGE_TIMEOUT_US, "page program", addr + (uint32_t)(i * chunk));
		}
	}
	*programmed = pages;
	/* Poll a quarter longer than the slowest page seen, so the next batch
	 * rarely overruns yet wastes few bytes. */
	f->poll_len = slowest + slowest / 4 + 8;
	if (f->poll_len > MAX_POLL)
		f->poll_len = MAX_POLL;
	return 0;
}

int bk_flash_program(struct bk_flash *f, uint32_t addr, const uint8_t *data, uint32_t len)
{
	uint32_t chunk = f->chunk;
	while (len >= chunk) {
		size_t n = len / chunk < BATCH_PAGES ? len / chunk : BATCH_PAGES, done = 0;
		int r = program_batch(f, addr, data, n, &done);
		if (r)
			return bk_err_ctx(f->err, r, "programming pages from 0x%06X", addr);
		addr += (uint32_t)(done * chunk);
		data += done * chunk;
		len -= (uint32_t)(done * chunk);
	}
	if (!len)
		return 0;
	/* A short tail is padded with 0xFF, which programs nothing. */
	uint8_t page[BK_PAGE];
	size_t done;
	memset(page, 0xFF, sizeof page);
	memcpy(page, data, len);
	int r = program_batch(f, addr, page, 1, &done);
	return r ? bk_err_ctx(f->err, r, "programming page 0x%06X", addr) : 0;
}

/* Writing the same status twice leaves it the same, so a USB fault here
 * is retried once the flash is idle again. */
static int write_status(struct bk_flash *f, uint8_t op, const uint8_t *v, size_t n)
{
	uint8_t cmd[3] = { op, v[0], n > 1 ? v[1] : 0 };
	int r = 0;
	for (int i = 0; i < READ_TRIES; i++) {
		r = wren_and(f, cmd, 1 + n);
		if (!r)
			r = wait_ready(f, 10000, WRSR_TIMEOUT_US, "status write", 0);
		if (!bk_err_transient(r))
			break;
		if (bk_flash_wait_idle(f, WRSR_TIMEOUT_US))
			break;
	}
	return r;
}

int bk_flash_unprotect(struct bk_flash *f, struct bk_unprotect *rep)
{
	int has_sr2 = !!(f->info.nor.sr_flags & BK_CHIP_SR2);
	uint8_t sr1, sr2, want1, want2;
	int r = bk_flash_status(f, &sr1, &sr2);
	if (r)
		return r;
	*rep = (struct bk_unprotect){ sr1, sr2, sr1, sr2, 0 };
	bk_prot_cleared(sr1, sr2, &want1, &want2);
	if (f->info.nor.prot == BK_PROT_BP4) {
		/* Parts without SR2 (Macronix, Eon) keep QE in SR1 bit 6. */
		want1 = (uint8_t)(sr1 & ~0x3C);
		want2 = sr2;
	}
	if (want1 == sr1 && want2 == sr2)
		return 0;

	uint8_t v[2] = { want1, want2 };
	int two = has_sr2 && (f->info.nor.sr_flags & BK_CHIP_WRSR_2BYTE);
	r = write_status(f, OP_WRSR, v, two ? 2 : 1);
	if (!r)
		r = bk_flash_status(f, &sr1, &sr2);
	if (!r && has_sr2 && sr2 != want2 && (f->info.nor.sr_flags & BK_CHIP_WRSR2_31)) {
		r = write_status(f, OP_WRSR2, &want2, 1);
		if (!r)
			r = bk_flash_status(f, &sr1, &sr2);
	}
	if (r)
		return bk_err_ctx(f->err, r, "clearing write protection");
	rep->sr1_after = sr1;
	rep->sr2_after = sr2;
	rep->changed = 1;
	if (sr1 != want1 || sr2 != want2) {
		struct bk_prot p;
		bk_flash_protection(&f->info, sr1, sr2, &p);
		return bk_fail(f->err, BK_EPROTECT,
			       "flash stays write-protected (SR1=0x%02X SR2=0x%02X: BP=%u TB=%u SEC=%u CMP=%u SRP=%u)%s",
			       sr1, sr2, p.bp, p.tb, p.sec, p.cmp, p.srp,
			       p.srp ? "; SRP is set, so the WP# pin must be pulled high (to 3.3 V) to unlock" :
				       "; the chip ignored the status write");
	}
	return 0;
}

static int probe_sfdp(struct bk_flash *f, struct bk_sfdp *sfdp)
{
	uint8_t cmd[5] = { OP_SFDP, 0, 0, 0, 0 }, hdr[64], bfpt[256];
	uint32_t at, len;
	struct bk_err quiet = { 0 };
	int r = frame_retry(f, cmd, 5, 5 + sizeof hdr, hdr, 5);
	if (r)
		return r;
	if (bk_sfdp_find_bfpt(hdr, sizeof hdr, &at, &len, &quiet))
		return 1;
	if (len > sizeof bfpt)
		len = sizeof bfpt;
	put_addr(cmd, OP_SFDP, at);
	r = frame_retry(f, cmd, 5, 5 + (size_t)len, bfpt, 5);
	if (r)
		return r;
	return bk_sfdp_parse_bfpt(bfpt, len, sfdp, &quiet) ? 1 : 0;
}

/* SFDP first; the chip table then only removes erase types it knows to be
 * wrong and says how the status registers work; the ID alone is the last
 * resort. */
static void fill_params(struct bk_nor_params *n, const struct bk_chip *chip, const struct bk_sfdp *sfdp,
			uint32_t jedec)
{
	*n = (struct bk_nor_params){ .page_size = BK_PAGE };
	if (sfdp) {
		n->size = sfdp->size;
		n->erase = sfdp->erase;
		memcpy(n->erase_op, sfdp->erase_op, sizeof n->erase_op);
		n->page_size = sfdp->page_size;
		n->size_from = "SFDP";
		if (chip)
			n->erase &= chip->erase;
	} else {
		n->size = chip ? chip->size : bk_chip_size_from_id(jedec);
		n->erase = chip ? chip->erase : BK_ERASE_4K | BK_ERASE_64K;
		n->size_from = chip ? "chip table" : "ID capacity byte";
		for (size_t i = 0; i < N_ERASE; i++)
			n->erase_op[i] = erase_types[i].std_op;
	}
	for (size_t i = 0; i < N_ERASE; i++)
		if (!(n->erase & erase_types[i].mask) || !n->erase_op[i]) {
			n->erase &= (uint8_t)~erase_types[i].mask;
			n->erase_op[i] = 0;
		}
	n->sr_flags = chip ? chip->flags : BK_CHIP_SR2 | BK_CHIP_WRSR_2BYTE;
	n->prot = n->sr_flags & BK_CHIP_SR2 ? BK_PROT_WINBOND : BK_PROT_BP4;
}

int bk_flash_probe(struct bk_prog *p, struct bk_flash **out)
{
	struct bk_err *err = bk_prog_err(p);
	struct bk_flash *f = calloc(1, sizeof *f);
	uint8_t *batch = malloc(BATCH_PAGES * (4 + BK_PAGE) + BATCH_PAGES * MAX_POLL);
	if (!f || !batch) {
		free(f);
		free(batch);
		return bk_fail(err, BK_ENOMEM, "out of memory");
	}
	f->prog = p;
	f->err = err;
	f->batch = batch;
	f->poll_len = 128;

	struct bk_flash_info *in = &f->info;
	uint8_t cmd = OP_JEDEC;
	int r = frame_retry(f, &cmd, 1, 4, in->id, 0);
	if (r)
		goto fail;
	in->jedec = (uint32_t)in->id[1] << 16 | (uint32_t)in->id[2] << 8 | in->id[3];
	if (in->jedec == 0 || in->jedec == 0xFFFFFF) {
		r = bk_fail(err, BK_ENOCHIP, "no flash answered: JEDEC ID reads %02X-%02X-%02X-%02X; check the wiring (README 'Wiring')",
			    in->id[0], in->id[1], in->id[2], in->id[3]);
		goto fail;
	}
	const struct bk_chip *chip = bk_chip_find(in->jedec);
	in->vendor = chip ? chip->vendor : bk_vendor_name(in->id[1]);
	in->part = chip ? chip->part : "unknown part";
	struct bk_sfdp sfdp;
	r = probe_sfdp(f, &sfdp);
	if (r < 0)
		goto fail;
	fill_params(&in->nor, chip, r == 0 ? &sfdp : NULL, in->jedec);
	struct bk_nor_params *n = &in->nor;
	if (!n->size && in->id[3] > 0x18 && in->id[3] <= 0x22)
		n->size = UINT32_MAX; /* 32 MiB and up by the capacity byte: refused below */
	if (!n->size) {
		r = bk_fail(err, BK_EFLASH, "flash %06X is unknown and has no SFDP table: its size cannot be told; report the ID so it joins the chip table (src/spi/chips.c)", in->jedec);
		goto fail;
	}
	if (n->size > BK_MAX_FLASH) {
		r = bk_fail(err, BK_EFLASH, "flash %06X is larger than 16 MiB: that needs 4-byte addressing, which bkspi does not do; use flashrom for it",
			    in->jedec);
		goto fail;
	}
	if (!(n->erase & BK_ERASE_4K)) {
		r = bk_fail(err, BK_EFLASH, "flash %06X has no 4 KiB erase, which bkspi needs; use flashrom for it", in->jedec);
		goto fail;
	}
	f->chunk = n->page_size < BK_PAGE ? n->page_size : BK_PAGE;
	*out = f;
	return 0;
fail:
	bk_flash_free(f);
	return r;
}

void bk_flash_free(struct bk_flash *f)
{
	if (!f)
		return;
	free(f->batch);
	free(f);
}
