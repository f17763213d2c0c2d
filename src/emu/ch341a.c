/* The CH341A personality: 32-byte OUT packets, each a whole command.
 * 0xA8 clocks up to 31 bytes LSB first and replies with what MISO gave;
 * 0xAB sets the pins (D0 = CS#, D2 = CEN, and D3 = SCK, D5 = MOSI when a
 * host bit-bangs them) and waits; 0xAA sets the speed. */
#include "emu/internal.h"

/* Timing model (README "Benchmarks"). A 0xA8 packet of n bytes clocks its
 * command byte too, so 31 data bytes cost 32 byte times: the wire ceiling. */
#define PACKET 32
#define SPI_HZ 1500000u
#define BYTE_NS 5334ull                 /* 8 bits at SPI_HZ, rounded up */
#define CMD_NS (10 * EMU_NS_PER_US)     /* UIO and I2C packets */
/* What real CH341A boards lose per 0xA8 packet besides the SPI clock: the
 * chip does not start the next packet until it has handed the last one to
 * USB. Published reads with the fastest tools: IMSProg 4 MiB in 34 s,
 * ch341prog 8 MiB in 63 s (field notes, section 6), i.e. 233-250 us per
 * 31-byte packet against the 171 us of 32 byte times: about 69 us more. */
#define PACKET_NS (69 * EMU_NS_PER_US)
#define REPLY_DEPTH 2                   /* IN packets the chip buffers */

#define PIN_CS 0x01
#define PIN_CEN 0x04
#define PIN_SCK 0x08
#define PIN_MOSI 0x20

static uint8_t bitrev(uint8_t b)
{
	b = (uint8_t)((b & 0xF0) >> 4 | (b & 0x0F) << 4);
	b = (uint8_t)((b & 0xCC) >> 2 | (b & 0x33) << 2);
	return (uint8_t)((b & 0xAA) >> 1 | (b & 0x55) << 1);
}

/* A rising SCK edge of a bit-banged frame (SPI mode 0): the chip samples
 * MOSI, and takes the byte on its eighth bit at the rate its fastest bit
 * was clocked. MISO is not modelled here: no host reads D7 through UIO. */
static void rising_edge(struct bk_emu *e, int mosi, uint64_t t)
{
	struct emu_ch341a_state *c = &e->chip.ch341a;
	if (c->bits) {
		uint64_t period = t - c->last_rise;
		if (!c->fastest_ns || period < c->fastest_ns)
			c->fastest_ns = period ? period : 1;
	}
	c->last_rise = t;
	c->shift = (uint8_t)(c->shift << 1 | mosi);
	if (++c->bits < 8)
		return;
	uint64_t hz = c->fastest_ns ? 1000000000ull / c->fastest_ns : UINT64_MAX;
	(void)emu_clock(e, c->shift, t, emu_entry_too_fast(e, hz));
	c->bits = 0;
	c->fastest_ns = 0;
}

static void set_pins(struct bk_emu *e, uint8_t v, uint64_t t)
{
	struct emu_ch341a_state *c = &e->chip.ch341a;
	uint8_t was = c->pins;
	c->pins = v;
	emu_set_lines(e, !(v & PIN_CS), !!(v & PIN_CEN), t);
	if (v & PIN_CS)
		return;
	if (was & PIN_CS) {
		c->bits = 0;
		c->fastest_ns = 0;
	}
	if (!(was & PIN_SCK) && (v & PIN_SCK))
		rising_edge(e, !!(v & PIN_MOSI), t);
}

static void ch341a_init(struct bk_emu *e)
{
	e->chip.ch341a.pins = PIN_CS | PIN_CEN;
}

static size_t ch341a_unit(const uint8_t *p, size_t left)
{
	(void)p;
	return left < PACKET ? left : PACKET;
}

static int ch341a_replies(const uint8_t *p, size_t len)
{
	return p[0] == 0xA8 && len > 1;
}

static uint64_t ch341a_run(struct bk_emu *e, const uint8_t *p, size_t len, uint64_t t, struct emu_reply *r)
{
	if (p[0] == 0xA8) {
		for (size_t i = 1; i < len; i++) {
			uint8_t chip = emu_clock(e, bitrev(p[i]), t + (i + 1) * BYTE_NS, emu_entry_too_fast(e, SPI_HZ));
			r->data[i - 1] = bitrev(emu_line_miso(e, chip, 0));
		}
		r->len = len - 1;
		return len * BYTE_NS + PACKET_NS;
	}
	uint64_t ns = CMD_NS;
	if (p[0] == 0xAB) {
		for (size_t i = 1; i < len && p[i] != 0x20; i++) {
			switch (p[i] & 0xC0) {
			case 0x80:
				set_pins(e, p[i] & 0x3F, t + ns);
				break;
			case 0xC0:
				ns += (p[i] & 0x3F) * EMU_NS_PER_US;
				break;
			default:
				break; /* direction: every pin we use is an output */
			}
		}
	}
	return ns;
}

const struct emu_personality emu_ch341a = {
	.label = "simulated CH341A",
	.pid = 0x5512,
	.reply_depth = REPLY_DEPTH,
	.init = ch341a_init,
	.unit = ch341a_unit,
	.replies = ch341a_replies,
	.run = ch341a_run,
};
