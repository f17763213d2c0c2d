/* CH341A protocol: 32-byte OUT packets, each a whole command. Chip select
 * and CEN go through UIO packets, data through 0xA8 packets of up to 31
 * bytes, bit-reversed because the CH341A shifts LSB first. */
#include <stdlib.h>
#include <string.h>

#include "prog/prog.h"
#include "usb/usb.h"

#define PACKET 32
#define SPI_PER_PACKET 31

#define CMD_SPI_STREAM 0xA8
#define CMD_UIO_STREAM 0xAB
#define CMD_I2C_STREAM 0xAA
#define UIO_OUT 0x80
#define UIO_DIR 0x40
#define UIO_US 0xC0
#define UIO_END 0x20
#define I2C_SET 0x60
#define I2C_END 0x00
#define I2C_SPEED_100K 0x01

/* D0 = CS#, D2 = CEN; D1, D4 and D5 idle high as in flashrom's driver.
 * D3 (SCK) and D5 (MOSI) are the SPI engine's, driven by hand for the
 * slow run. */
#define PIN_CS 0x01
#define PIN_CEN 0x04
#define PIN_SCK 0x08
#define PIN_MOSI 0x20
#define PINS_IDLE 0x32
#define PINS_OUTPUTS 0x3F

#define VID 0x1a86
#define PID_SPI 0x5512
#define PID_UART 0x5523

struct ch341a {
	struct bk_usb *usb;
	struct bk_err *err;
	int cen_high;
	uint8_t *out, *in;
	uint16_t *out_len, *in_len;
	size_t packets_cap, in_cap;
};

#define R2(n) n, n + 2 * 64, n + 1 * 64, n + 3 * 64
#define R4(n) R2(n), R2(n + 2 * 16), R2(n + 1 * 16), R2(n + 3 * 16)
#define R6(n) R4(n), R4(n + 2 * 4), R4(n + 1 * 4), R4(n + 3 * 4)
static const uint8_t bitrev[256] = { R6(0), R6(2), R6(1), R6(3) };

static uint8_t pins(const struct ch341a *p, int cs_high)
{
	return (uint8_t)(PINS_IDLE | (p->cen_high ? PIN_CEN : 0) | (cs_high ? PIN_CS : 0));
}

/* Buffers grow to the largest stream seen and are reused after that. */
static int reserve(struct ch341a *p, size_t packets, size_t in_bytes)
{
	if (packets > p->packets_cap) {
		uint8_t *o = realloc(p->out, packets * PACKET);
		if (o)
			p->out = o;
		uint16_t *ol = o ? realloc(p->out_len, packets * sizeof *ol) : NULL;
		if (ol)
			p->out_len = ol;
		uint16_t *il = ol ? realloc(p->in_len, packets * sizeof *il) : NULL;
		if (!il)
			return bk_fail(p->err, BK_ENOMEM, "out of memory for a %zu-packet USB stream", packets);
		p->in_len = il;
		p->packets_cap = packets;
	}
	if (in_bytes > p->in_cap) {
		uint8_t *in = realloc(p->in, in_bytes);
		if (!in)
			return bk_fail(p->err, BK_ENOMEM, "out of memory for a %zu-byte USB stream", in_bytes);
		p->in = in;
		p->in_cap = in_bytes;
	}
	return 0;
}

/* A UIO packet that raises CS (ending any frame), then lowers it when
 * `select` is set: one packet per frame, as flashrom does. */
static size_t put_cs(const struct ch341a *p, uint8_t *o, int select)
{
	size_t n = 0;
	memset(o, 0, PACKET);
	o[n++] = CMD_UIO_STREAM;
	o[n++] = UIO_DIR | PINS_OUTPUTS;
	o[n++] = (uint8_t)(UIO_OUT | pins(p, 1));
	if (select) {
		o[n++] = UIO_US | 1;
		o[n++] = (uint8_t)(UIO_OUT | pins(p, 0));
	}
	o[n++] = UIO_END;
	return PACKET;
}

/* OUT transfers are cut after a short packet (it would end the transfer
 * anyway) and at OUT_MAX, so the pipeline has chunks to overlap. */
#define OUT_MAX (128 * PACKET)

struct builder {
	struct ch341a *p;
	uint8_t *o;
	size_t xfer, n_out, n_in;
};

static void end_packet(struct builder *b, size_t len)
{
	b->o += len;
	b->xfer += len;
	if (len < PACKET || b->xfer >= OUT_MAX) {
		b->p->out_len[b->n_out++] = (uint16_t)b->xfer;
		b->xfer = 0;
	}
}

/* Runs the built stream: n_out OUT transfers, n_in IN packets. */
static int send(struct ch341a *p, size_t n_out, size_t n_in)
{
	int r = bk_usb_stream(p->usb, p->out, p->out_len, n_out, p->in, p->in_len, n_in);
	if (r) {
		/* Leave nothing stale behind for the next stream; the original
		 * failure is what the caller needs to hear about. */
		struct bk_err keep = *p->err;
		if (r != BK_EGONE && bk_usb_drain(p->usb) == 0)
			*p->err = keep;
	}
	return r;
}

static int ch_frames(void *state, const struct bk_spi_frame *f, size_t n)
{
	struct ch341a *p = state;
	size_t packets = 1, in_bytes = 0;
	for (size_t i = 0; i < n; i++) {
		packets += 1 + (f[i].len + SPI_PER_PACKET - 1) / SPI_PER_PACKET;
		in_bytes += f[i].len;
	}
	int r = reserve(p, packets, in_bytes);
	if (r)
		return r;

	struct builder b = { .p = p, .o = p->out };
	for (size_t i = 0; i < n; i++) {
		end_packet(&b, put_cs(p, b.o, 1));
		for (size_t pos = 0; pos < f[i].len; pos += SPI_PER_PACKET) {
			size_t m = f[i].len - pos < SPI_PER_PACKET ? f[i].len - pos : SPI_PER_PACKET;
			b.o[0] = CMD_SPI_STREAM;
			for (size_t k = 0; k < m; k++)
				b.o[1 + k] = pos + k < f[i].tx_len ? bitrev[f[i].tx[pos + k]] : 0x00;
			p->in_len[b.n_in++] = (uint16_t)m;
			end_packet(&b, 1 + m);
		}
	}
	end_packet(&b, put_cs(p, b.o, 0));
	if (b.xfer)
		p->out_len[b.n_out++] = (uint16_t)b.xfer;

	r = send(p, b.n_out, b.n_in);
	if (r)
		return r;

	const uint8_t *in = p->in;
	for (size_t i = 0; i < n; i++) {
		if (f[i].rx)
			for (size_t k = f[i].rx_skip; k < f[i].len; k++)
				f[i].rx[k - f[i].rx_skip] = bitrev[in[k]];
		in += f[i].len;
	}
	return 0;
}

/* The slow run: each bit is SCK low with MOSI set, a wait, SCK high (the
 * chip samples MOSI on this edge), a wait; 4 UIO bytes, so 7 bits fit the
 * 30 a packet has between its command byte and the end. 16 us per half
 * period gives about 30 kHz, the clock of the Raspberry Pi flashers that
 * enter chips the 1.5 MHz stream misses, and 250 bytes take about 70 ms:
 * well inside the second the chip listens after its reset. */
#define SLOW_HALF_US 16
#define SLOW_BITS_PER_PACKET 7

static int ch_slow_run(void *state, uint8_t byte, size_t count)
{
	struct ch341a *p = state;
	size_t bits = count * 8;
	size_t packets = 2 + (bits + SLOW_BITS_PER_PACKET - 1) / SLOW_BITS_PER_PACKET;
	int r = reserve(p, packets, 0);
	if (r)
		return r;
	struct builder b = { .p = p, .o = p->out };
	end_packet(&b, put_cs(p, b.o, 1));
	uint8_t selected = pins(p, 0);
	for (size_t bit = 0; bit < bits;) {
		size_t n = 0;
		memset(b.o, 0, PACKET);
		b.o[n++] = CMD_UIO_STREAM;
		for (size_t k = 0; k < SLOW_BITS_PER_PACKET && bit < bits; k++, bit++) {
			uint8_t level = byte & (0x80 >> (bit % 8)) ? PIN_MOSI : 0;
			uint8_t low = (uint8_t)((selected & ~(PIN_SCK | PIN_MOSI)) | level);
			b.o[n++] = (uint8_t)(UIO_OUT | low);
			b.o[n++] = UIO_US | SLOW_HALF_US;
			b.o[n++] = (uint8_t)(UIO_OUT | low | PIN_SCK);
			b.o[n++] = UIO_US | SLOW_HALF_US;
		}
		b.o[n++] = UIO_END;
		end_packet(&b, PACKET);
	}
	/* put_cs leaves SCK low and MOSI at its idle level before CS rises. */
	end_packet(&b, put_cs(p, b.o, 0));
	if (b.xfer)
		p->out_len[b.n_out++] = (uint16_t)b.xfer;
	return send(p, b.n_out, 0);
}

static int set_pins(struct ch341a *p)
{
	static const uint16_t one = PACKET;
	uint8_t pkt[PACKET];
	put_cs(p, pkt, 0);
	return bk_usb_stream(p->usb, pkt, &one, 1, NULL, NULL, 0);
}

static int ch_set_cen(void *state, int high)
{
	struct ch341a *p = state;
	p->cen_high = high;
	return set_pins(p);
}

static void ch_close(void *state)
{
	struct ch341a *p = state;
	if (!p)
		return;
	bk_usb_close(p->usb);
	free(p->out);
	free(p->out_len);
	free(p->in);
	free(p->in_len);
	free(p);
}

static const struct bk_usb_wrong_mode uart_mode[] = {
	{ VID, PID_UART,
	  "the CH341A is in UART mode (USB 1a86:5523): move its jumper to the I2C/SPI position and plug it in again" },
};

static const struct bk_usb_match match = {
	.name = "CH341A", .vid = VID, .pid = PID_SPI, .iface = 0, .ep_out = 0x02, .ep_in = 0x82,
	.wrong = uart_mode, .n_wrong = 1,
};

static int ch_open(const struct bk_prog_config *cfg, struct bk_err *err, void **state)
{
	struct bk_usb *usb = cfg->usb;
	if (!usb) {
		struct bk_usb_opened found;
		int r = bk_usb_open(&match, err, &usb, &found);
		if (r)
			return r;
		if (found.detached && cfg->note)
			cfg->note(cfg->note_user, "detached the kernel driver that held the CH341A");
	}
	struct ch341a *p = calloc(1, sizeof *p);
	if (!p) {
		bk_usb_close(usb);
		return bk_fail(err, BK_ENOMEM, "out of memory");
	}
	p->usb = usb;
	p->err = err;
	p->cen_high = 1;
	/* The I2C speed register also selects SPI mode; 100 kHz gives the
	 * usual ~1.5 MHz SPI clock. A transient fault here is retried like
	 * any later one: nothing has reached the chip yet. */
	static const uint16_t three = 3;
	static const uint8_t spi_mode[3] = { CMD_I2C_STREAM, I2C_SET | I2C_SPEED_100K, I2C_END };
	int r = 0;
	for (int tries = 0; tries < 4; tries++) {
		r = bk_usb_stream(usb, spi_mode, &three, 1, NULL, NULL, 0);
		if (!r)
			r = set_pins(p);
		if (!bk_err_transient(r))
			break;
		bk_usb_drain(usb);
	}
	if (r) {
		ch_close(p);
		return bk_err_ctx(err, r, "setting up the CH341A");
	}
	*state = p;
	return 0;
}

static const struct bk_usb_stats *ch_usb_stats(void *state)
{
	struct ch341a *p = state;
	return bk_usb_stats(p->usb);
}

static void ch_sleep_us(void *state, uint64_t us)
{
	struct ch341a *p = state;
	bk_usb_sleep_us(p->usb, us);
}

static uint64_t ch_now_us(void *state)
{
	struct ch341a *p = state;
	return bk_usb_now_us(p->usb);
}

const struct bk_prog_driver bk_prog_ch341a = {
	.name = "ch341a",
	.label = "CH341A",
	.pins = { .cs = "D0", .sck = "D3", .mosi = "D5", .miso = "D7", .cen = "D2" },
	.open = ch_open,
	.frames = ch_frames,
	.set_cen = ch_set_cen,
	.slow_run = ch_slow_run,
	.usb_stats = ch_usb_stats,
	.sleep_us = ch_sleep_us,
	.now_us = ch_now_us,
	.close = ch_close,
};
