/* The CH347 personality (CH347T in mode 1, CH347F): every message either
 * way is [cmd][len lo][len hi][payload], one a USB transfer. 0xC2 clocks
 * its payload and answers with MISO, 0xC3 clocks a u32 count and answers
 * in chunks of at most 507 bytes, 0xC4 clocks its payload and acknowledges,
 * 0xC1 moves CS0 (payload byte 0) and CS1 (byte 5), 0xCC sets GPIOs (one
 * byte each: 0xF0 low, 0xF8 high, 0x00 leave), 0xCA/0xC0 read and write
 * the 26-byte SPI configuration (clock prescaler in byte 12 bits 5:3,
 * LSB first in byte 14 bit 7).
 *
 * Timing model, and where each figure comes from:
 * - SPI at the configured clock, 120 MHz / 2^(n+1) (WCH datasheet; the
 *   clocks flashrom's ch347_spi.c offers);
 * - 2 us of firmware time a message: not published, an assumption, small
 *   against the 135 us a full 507-byte chunk takes at 30 MHz;
 * - USB high-speed bulk, 512-byte packets: 8.5 us a packet on the bus,
 *   hidden behind SPI by the endpoints' double buffering, so not charged;
 * - four 512-byte IN packets buffered (the chip's 2 KiB of endpoint RAM
 *   is our reading of the datasheet): past that it stops clocking SPI
 *   until the host reads, and a host that waits pays the 125 us
 *   turnaround the engine charges (device.c).
 * What MOSI carries during 0xC3 is not documented: the model drives 0xFF,
 * so a driver that counts on zeros there fails its tests. */
#include <string.h>

#include "emu/internal.h"

#define HDR 3
#define DATA_MAX 507
#define CMD_NS (2 * EMU_NS_PER_US)
#define REPLY_DEPTH 4
#define BASE_HZ 120000000ull
#define WIRE_FLIP_PPM 1000

#define CFG_LEN 26
#define CFG_CLOCK 12
#define CFG_BIT_ORDER 14

/* The configuration a CH347 reports at power-up: master, mode 0, MSB
 * first, software chip select, 7.5 MHz. */
static const uint8_t power_up_cfg[CFG_LEN] = { [2] = 4, [3] = 1, [11] = 2, [12] = 3 << 3, [16] = 7 };

static void apply_cfg(struct emu_ch347_state *c)
{
	c->hz = (uint32_t)(BASE_HZ >> (((c->cfg[CFG_CLOCK] >> 3) & 7) + 1));
	c->lsb_first = !!(c->cfg[CFG_BIT_ORDER] & 0x80);
}

static uint8_t bitrev(uint8_t b)
{
	b = (uint8_t)((b & 0xF0) >> 4 | (b & 0x0F) << 4);
	b = (uint8_t)((b & 0xCC) >> 2 | (b & 0x33) << 2);
	return (uint8_t)((b & 0xAA) >> 1 | (b & 0x55) << 1);
}

static void lines(struct bk_emu *e, uint64_t t)
{
	const struct emu_ch347_state *c = &e->chip.ch347;
	int line = e->cfg.cen_line, cen_high;
	if (line == EMU_CEN_CS1)
		cen_high = !c->cs1_low;
	else /* an undriven GPIO leaves CEN to the chip's pull-up */
		cen_high = !(c->gpio_out >> line & 1) || (c->gpio_level >> line & 1);
	emu_set_lines(e, c->cs0_low, cen_high, t);
}

static void ch347_init(struct bk_emu *e)
{
	struct emu_ch347_state *c = &e->chip.ch347;
	memcpy(c->cfg, power_up_cfg, CFG_LEN);
	apply_cfg(c);
}

static size_t ch347_unit(const uint8_t *p, size_t left)
{
	if (left < HDR)
		return left;
	size_t want = HDR + (size_t)(p[1] | p[2] << 8);
	return want < left ? want : left;
}

static size_t payload_len(size_t len)
{
	return len < HDR ? 0 : len - HDR;
}

static int ch347_replies(const uint8_t *p, size_t len)
{
	if (len < HDR)
		return 0;
	switch (p[0]) {
	case 0xC0: case 0xC2: case 0xC4: case 0xCA: case 0xCC:
		return 1;
	default:
		return 0;
	}
}

static uint64_t spi_ns(const struct emu_ch347_state *c, size_t n)
{
	return (n * 8 * 1000000000ull + c->hz - 1) / c->hz;
}

/* Clocks n bytes from t (MOSI from tx, or 0xFF without), MISO to rx. */
static uint64_t clock_bytes(struct bk_emu *e, const uint8_t *tx, size_t n, uint8_t *rx, uint64_t t)
{
	const struct emu_ch347_state *c = &e->chip.ch347;
	int garble = emu_entry_too_fast(e, c->hz);
	uint32_t extra = e->cfg.wire_max_hz && c->hz > e->cfg.wire_max_hz ? WIRE_FLIP_PPM : 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t mosi = tx ? tx[i] : 0xFF;
		if (c->lsb_first)
			mosi = bitrev(mosi);
		uint8_t chip = emu_clock(e, mosi, t + spi_ns(c, i + 1), garble);
		uint8_t miso = emu_line_miso(e, chip, extra);
		if (rx)
			rx[i] = c->lsb_first ? bitrev(miso) : miso;
	}
	return spi_ns(c, n);
}

static void reply_hdr(struct emu_reply *r, uint8_t cmd, size_t len)
{
	r->data[0] = cmd;
	r->data[1] = (uint8_t)len;
	r->data[2] = (uint8_t)(len >> 8);
	r->len = HDR + len;
}

static void set_gpio(struct emu_ch347_state *c, const uint8_t *v, size_t n, struct emu_reply *r)
{
	for (size_t i = 0; i < 8 && i < n; i++) {
		uint8_t bit = (uint8_t)(1u << i);
		if ((v[i] & 0xF0) == 0xF0) {
			c->gpio_out |= bit;
			c->gpio_level = (uint8_t)(v[i] & 0x08 ? c->gpio_level | bit : c->gpio_level & ~bit);
		} else if (v[i]) {
			c->gpio_out &= (uint8_t)~bit;
		}
	}
	reply_hdr(r, 0xCC, 8);
	for (size_t i = 0; i < 8; i++)
		r->data[HDR + i] = (uint8_t)((c->gpio_out >> i & 1) << 7 | (c->gpio_level >> i & 1) << 6);
}

static uint64_t ch347_run(struct bk_emu *e, const uint8_t *p, size_t len, uint64_t t, struct emu_reply *r)
{
	struct emu_ch347_state *c = &e->chip.ch347;
	size_t n = payload_len(len);
	const uint8_t *d = p + HDR;
	uint64_t ns = CMD_NS;
	if (len < HDR)
		return ns; /* a torn message: the chip drops it */
	switch (p[0]) {
	case 0xC1:
		if (n > 0 && d[0] & 0x80)
			c->cs0_low = !(d[0] & 0x40);
		if (n > 5 && d[5] & 0x80)
			c->cs1_low = !(d[5] & 0x40);
		lines(e, t + ns);
		break;
	case 0xC2:
		if (n > DATA_MAX)
			n = DATA_MAX;
		reply_hdr(r, 0xC2, n);
		ns += clock_bytes(e, d, n, r->data + HDR, t + ns);
		break;
	case 0xC3:
		if (n >= 4)
			c->read_left = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
		break;
	case 0xC4:
		ns += clock_bytes(e, d, n, NULL, t + ns);
		reply_hdr(r, 0xC4, 1);
		r->data[HDR] = 0;
		break;
	case 0xC0:
		reply_hdr(r, 0xC0, 1);
		r->data[HDR] = n == CFG_LEN ? 0x00 : 0xFF;
		if (n == CFG_LEN) {
			memcpy(c->cfg, d, CFG_LEN);
			apply_cfg(c);
		}
		break;
	case 0xCA:
		reply_hdr(r, 0xCA, CFG_LEN);
		memcpy(r->data + HDR, c->cfg, CFG_LEN);
		break;
	case 0xCC:
		set_gpio(c, d, n, r);
		lines(e, t + ns);
		break;
	default:
		break; /* I2C, JTAG and the rest: not modelled, and ignored */
	}
	return ns;
}

static int ch347_pending(const struct bk_emu *e)
{
	return e->chip.ch347.read_left != 0;
}

static uint64_t ch347_more(struct bk_emu *e, uint64_t t, struct emu_reply *r)
{
	struct emu_ch347_state *c = &e->chip.ch347;
	size_t n = c->read_left < DATA_MAX ? c->read_left : DATA_MAX;
	c->read_left -= (uint32_t)n;
	reply_hdr(r, 0xC3, n);
	return CMD_NS + clock_bytes(e, NULL, n, r->data + HDR, t + CMD_NS);
}

#define CH347(lbl, id) {                                                     \
	.label = lbl, .pid = id, .reply_depth = REPLY_DEPTH, .init = ch347_init, \
	.unit = ch347_unit, .replies = ch347_replies, .run = ch347_run,          \
	.pending = ch347_pending, .more = ch347_more,                            \
}

const struct emu_personality emu_ch347t = CH347("simulated CH347T", 0x55db);
const struct emu_personality emu_ch347f = CH347("simulated CH347F", 0x55de);
