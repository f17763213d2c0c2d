/* The SPI NOR model. Commands act at CS rise, as on real parts, and a busy
 * flash answers only status reads. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "emu/internal.h"
#include "spi/protect.h"

#define SR1_WIP 0x01
#define SR1_WEL 0x02
#define SR1_SRP 0x80

static const struct {
	uint8_t op;
	uint32_t size;
	uint64_t ns;
} erase_ops[] = {
	{ 0x20, 4096, 45 * EMU_NS_PER_MS },
	{ 0x52, 32768, 120 * EMU_NS_PER_MS },
	{ 0xD8, 65536, 150 * EMU_NS_PER_MS },
};

#define PAGE_NS (400 * EMU_NS_PER_US)
#define CHIP_ERASE_NS (10000 * EMU_NS_PER_MS)
#define WRSR_NS (10 * EMU_NS_PER_MS)

int emu_flash_sync(struct emu_flash *f)
{
	if (f->fd < 0 || !f->win_dirty)
		return 0;
	if (pwrite(f->fd, f->mem, EMU_WINDOW, f->win) != (ssize_t)EMU_WINDOW)
		return f->io_error = errno ? errno : EIO;
	f->win_dirty = 0;
	return 0;
}

/* The cell at addr; for a file, the window holding it is loaded first.
 * An I/O error is kept in io_error (the device then goes away) and a
 * scratch cell is returned so the model can carry on. */
static uint8_t *cell(struct emu_flash *f, uint32_t addr, int write)
{
	if (f->fd >= 0) {
		uint32_t win = addr & ~(EMU_WINDOW - 1);
		if (!f->win_loaded || win != f->win) {
			if (emu_flash_sync(f))
				return &f->scratch;
			if (pread(f->fd, f->mem, EMU_WINDOW, win) != (ssize_t)EMU_WINDOW) {
				f->io_error = errno ? errno : EIO;
				f->win_loaded = 0;
				return &f->scratch;
			}
			f->win = win;
			f->win_loaded = 1;
		}
		f->win_dirty |= write;
		addr -= win;
	}
	return &f->mem[addr];
}

static void fill_ff(struct emu_flash *f, uint32_t base, uint32_t len)
{
	for (uint32_t a = base; a < base + len;) {
		uint32_t n = EMU_WINDOW - (a & (EMU_WINDOW - 1));
		if (n > base + len - a)
			n = base + len - a;
		memset(cell(f, a, 1), 0xFF, n);
		a += n;
	}
}

int emu_flash_busy(const struct emu_flash *f, uint64_t t)
{
	return f->busy_forever || t < f->busy_until;
}

static void start_busy(struct emu_flash *f, uint64_t t, uint64_t ns)
{
	f->busy_until = t + ns;
	if (f->stuck_wip)
		f->busy_forever = 1;
	f->sr1 &= (uint8_t)~SR1_WEL;
}

static int protected(const struct emu_flash *f, uint32_t addr, uint32_t len)
{
	struct bk_prot p;
	bk_prot_decode(f->sr1, f->sr2, f->has_sr2, (uint32_t)f->size, &p);
	return bk_prot_covers(&p, addr, len);
}

void emu_flash_select(struct emu_flash *f)
{
	f->selected = 1;
	f->n = 0;
	f->op = 0;
	f->addr = 0;
	f->ignore = 0;
	memset(f->page, 0xFF, sizeof f->page);
}

static uint8_t status(const struct emu_flash *f, uint8_t op, uint64_t t)
{
	switch (op) {
	case 0x05:
		return (uint8_t)(f->sr1 | (emu_flash_busy(f, t) ? SR1_WIP : 0));
	case 0x35:
		return f->has_sr2 ? f->sr2 : 0xFF;
	default:
		return f->sr3;
	}
}

uint8_t emu_flash_byte(struct emu_flash *f, uint8_t mosi, uint64_t t)
{
	if (!f->selected)
		return 0xFF;
	size_t i = f->n++;
	if (i == 0) {
		f->op = mosi;
		/* A busy flash only answers status reads; the rest is ignored. */
		f->ignore = emu_flash_busy(f, t) && mosi != 0x05 && mosi != 0x35 && mosi != 0x15;
		return 0xFF;
	}
	if (f->ignore)
		return 0xFF;
	switch (f->op) {
	case 0x9F:
		return i <= 3 ? (uint8_t)(f->jedec >> (8 * (3 - i))) : 0x00;
	case 0x05:
	case 0x35:
	case 0x15:
		return status(f, f->op, t);
	case 0x03:
	case 0x0B:
	case 0x5A:
	case 0x02:
	case 0x20:
	case 0x52:
	case 0xD8: {
		if (i <= 3) {
			f->addr = (f->addr << 8) | mosi;
			return 0xFF;
		}
		if (f->op == 0x02) {
			/* Bytes past the page end wrap to its start, as on real parts. */
			f->page[(f->addr + (i - 4)) & 0xFF] = mosi;
			return 0xFF;
		}
		size_t dummy = f->op == 0x03 ? 0 : 1;
		if (i < 4 + dummy)
			return 0xFF;
		uint32_t a = f->addr + (uint32_t)(i - 4 - dummy);
		if (f->op == 0x5A)
			return a < f->sfdp_len ? f->sfdp[a] : 0xFF;
		return *cell(f, (uint32_t)(a % f->size), 0);
	}
	case 0x01:
	case 0x31:
		if (i <= 2)
			f->arg[i - 1] = mosi;
		return 0xFF;
	default:
		return 0xFF;
	}
}

static void program(struct emu_flash *f, uint64_t t)
{
	uint32_t base = f->addr & ~0xFFu & (uint32_t)(f->size - 1);
	if (!(f->sr1 & SR1_WEL) || protected(f, base, 256)) {
		f->sr1 &= (uint8_t)~SR1_WEL;
		return;
	}
	/* Unclocked bytes of the buffer are 0xFF, which programs nothing. */
	for (uint32_t off = 0; off < 256; off++) {
		uint8_t *c = cell(f, base + off, 1);
		uint8_t v = *c & f->page[off];
		if ((int64_t)(base + off) == f->bad_byte)
			v |= (uint8_t)(*c & 0x01);
		*c = v;
	}
	start_busy(f, t, PAGE_NS);
}

static void erase(struct emu_flash *f, uint32_t size, uint64_t ns, uint64_t t)
{
	uint32_t base = f->addr & ~(size - 1) & (uint32_t)(f->size - 1);
	if (!(f->sr1 & SR1_WEL) || protected(f, base, size)) {
		f->sr1 &= (uint8_t)~SR1_WEL;
		return;
	}
	fill_ff(f, base, size);
	start_busy(f, t, ns);
}

static void write_status(struct emu_flash *f, uint64_t t)
{
	if (!(f->sr1 & SR1_WEL) || ((f->sr1 & SR1_SRP) && f->wp_low)) {
		f->sr1 &= (uint8_t)~SR1_WEL;
		return;
	}
	/* WIP and WEL are read-only. */
	if (f->op == 0x01) {
		f->sr1 = (uint8_t)((f->arg[0] & 0xFC) | (f->sr1 & 0x03));
		if (f->n >= 3 && f->has_sr2 && f->wrsr_2byte)
			f->sr2 = f->arg[1];
	} else if (f->has_sr2 && f->wrsr2_31) {
		f->sr2 = f->arg[0];
	} else {
		f->sr1 &= (uint8_t)~SR1_WEL;
		return;
	}
	start_busy(f, t, WRSR_NS);
	f->busy_forever = 0;
}

void emu_flash_deselect(struct emu_flash *f, uint64_t t)
{
	if (!f->selected)
		return;
	f->selected = 0;
	if (f->ignore || f->n == 0)
		return;
	switch (f->op) {
	case 0x06:
		f->sr1 |= SR1_WEL;
		break;
	case 0x04:
		f->sr1 &= (uint8_t)~SR1_WEL;
		break;
	case 0x02:
		if (f->n > 4)
			program(f, t);
		break;
	case 0x01:
	case 0x31:
		if (f->n >= 2)
			write_status(f, t);
		break;
	case 0xC7:
	case 0x60: {
		struct bk_prot p;
		bk_prot_decode(f->sr1, f->sr2, f->has_sr2, (uint32_t)f->size, &p);
		if (!(f->sr1 & SR1_WEL) || p.len) {
			f->sr1 &= (uint8_t)~SR1_WEL;
			break;
		}
		fill_ff(f, 0, (uint32_t)f->size);
		start_busy(f, t, CHIP_ERASE_NS);
		break;
	}
	default:
		for (size_t k = 0; k < sizeof erase_ops / sizeof erase_ops[0]; k++)
			if (f->op == erase_ops[k].op && f->n == 4)
				erase(f, erase_ops[k].size, erase_ops[k].ns, t);
		break;
	}
}
