/* CH347 protocol (CH347T in mode 1, CH347F): every message either way is
 * [cmd][len lo][len hi][payload], one message a USB transfer, at most 510
 * bytes. Data goes through 0xC2 (write and read), 0xC3 (read only, a u32
 * count answered in 0xC3 chunks) and 0xC4 (write only, acknowledged);
 * chip selects through 0xC1, GPIOs through 0xCC. The chip has no reset
 * pin of its own: CEN is CS1 (moved by the chip-select command) or a GPIO.
 *
 * Learnt from flashrom's ch347_spi.c and WCH's notes; the byte layouts
 * below are described in README 'CH347'. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prog/prog.h"
#include "usb/usb.h"

#define VID 0x1a86
#define PID_T_MODE0 0x55da
#define PID_T_MODE1 0x55db
#define PID_T_MODE2 0x55dc
#define PID_T_MODE3 0x55dd
#define PID_F 0x55de

#define HDR 3
#define MSG_MAX 510
#define DATA_MAX (MSG_MAX - HDR)

#define CMD_SET_CFG 0xC0
#define CMD_CS 0xC1
#define CMD_OUT_IN 0xC2
#define CMD_IN 0xC3
#define CMD_OUT 0xC4
#define CMD_GET_CFG 0xCA
#define CMD_GPIO 0xCC

#define CFG_LEN 26
/* Offsets in the 26-byte configuration (payload of 0xCA/0xC0). */
#define CFG_CPOL 6
#define CFG_CPHA 8
#define CFG_NSS 11
#define CFG_CLOCK 12      /* prescaler in bits 5:3 */
#define CFG_BIT_ORDER 14  /* bit 7 set: LSB first */
#define NSS_SOFTWARE 2

#define CS_LEN 10
#define CS_ASSERT 0x80
#define CS_RELEASE 0xC0
#define GPIO_LOW 0xF0
#define GPIO_HIGH 0xF8
#define ACK_LEN 4

/* 120 MHz / 2^(n+1): the slow clock for the Beken entry and its fallback. */
#define ENTRY_HZ 1875000u
#define CEN_CS1 8

struct ch347 {
	struct bk_usb *usb;
	struct bk_err *err;
	uint16_t pid;
	int cen_line;             /* GPIO number, or CEN_CS1 */
	unsigned data_div, cur_div, entry_div;
	uint8_t cfg[CFG_LEN];
	uint8_t *out, *in;
	uint16_t *out_len, *in_len;
	size_t out_cap, in_cap, nout_cap, nin_cap;
};

static uint32_t div_hz(unsigned div)
{
	return BK_CH347_MAX_HZ >> div;
}

/* The fastest clock not above hz; the slowest when none is. */
static unsigned hz_div(uint32_t hz)
{
	unsigned d = 0;
	while (d < 7 && div_hz(d) > hz)
		d++;
	return d;
}

int bk_ch347_cen_valid(const char *name)
{
	if (!strcmp(name, "cs1"))
		return CEN_CS1;
	if (!strncmp(name, "gpio", 4) && name[4] >= '0' && name[4] <= '7' && !name[5])
		return name[4] - '0';
	return -1;
}

static int grow(void **p, size_t *cap, size_t want, size_t unit, struct bk_err *err)
{
	if (want <= *cap)
		return 0;
	void *n = realloc(*p, want * unit);
	if (!n)
		return bk_fail(err, BK_ENOMEM, "out of memory for a %zu-message USB stream", want);
	*p = n;
	*cap = want;
	return 0;
}

/* A stream being built: messages back to back in p->out, one transfer each. */
struct builder {
	struct ch347 *p;
	size_t out_off, in_off, n_out, n_in;
};

static uint8_t *put_msg(struct builder *b, uint8_t cmd, size_t len, size_t reply_len)
{
	struct ch347 *p = b->p;
	uint8_t *m = p->out + b->out_off;
	m[0] = cmd;
	m[1] = (uint8_t)len;
	m[2] = (uint8_t)(len >> 8);
	p->out_len[b->n_out++] = (uint16_t)(HDR + len);
	b->out_off += HDR + len;
	if (reply_len) {
		p->in_len[b->n_in++] = (uint16_t)reply_len;
		b->in_off += reply_len;
	}
	return m + HDR;
}

/* byte 0 moves CS0, byte 5 CS1; 0x00 leaves a line as it is. */
static void put_cs(struct builder *b, uint8_t cs0, uint8_t cs1)
{
	uint8_t *m = put_msg(b, CMD_CS, CS_LEN, 0);
	memset(m, 0, CS_LEN);
	m[0] = cs0;
	m[5] = cs1;
}

static void put_data(struct builder *b, uint8_t cmd, const struct bk_spi_frame *f, size_t from, size_t to)
{
	for (size_t pos = from; pos < to; pos += DATA_MAX) {
		size_t n = to - pos < DATA_MAX ? to - pos : DATA_MAX;
		uint8_t *m = put_msg(b, cmd, n, cmd == CMD_OUT ? ACK_LEN : HDR + n);
		for (size_t k = 0; k < n; k++)
			m[k] = pos + k < f->tx_len ? f->tx[pos + k] : 0x00;
	}
}

/* A read-only command runs to its end whatever the host does, so after a
 * failed stream everything it still owes must be drained: reads go in
 * bursts small enough for bk_usb_drain() to collect. */
#define READ_BURST (16 * DATA_MAX)

static void put_read(struct builder *b, size_t count)
{
	for (size_t burst; count; count -= burst) {
		burst = count < READ_BURST ? count : READ_BURST;
		uint8_t *m = put_msg(b, CMD_IN, 4, 0);
		for (int k = 0; k < 4; k++)
			m[k] = (uint8_t)(burst >> (8 * k));
		for (size_t left = burst; left;) {
			size_t n = left < DATA_MAX ? left : DATA_MAX;
			b->p->in_len[b->n_in++] = (uint16_t)(HDR + n);
			b->in_off += HDR + n;
			left -= n;
		}
	}
}

/* Where the write-and-read part of a frame ends: after it, a read-only
 * command clocks the rest when MOSI does not matter there. */
static size_t duplex_end(const struct bk_spi_frame *f)
{
	if (!f->rx)
		return 0;
	return f->tail_any && f->tx_len < f->len ? f->tx_len : f->len;
}

static size_t chunks(size_t n)
{
	return (n + DATA_MAX - 1) / DATA_MAX;
}

static int reserve(struct ch347 *p, const struct bk_spi_frame *f, size_t n)
{
	/* Room for the lone messages (configuration, CEN) as well. */
	size_t msgs = 2, replies = 1, out = MSG_MAX, in = MSG_MAX;
	for (size_t i = 0; i < n; i++) {
		size_t d = duplex_end(&f[i]), c = f[i].rx ? chunks(d) : chunks(f[i].len);
		size_t tail = f[i].rx ? chunks(f[i].len - d) : 0;
		msgs += 2 + c + (tail + 15) / 16;
		replies += c + tail;
		out += 2 * (HDR + CS_LEN) + (tail + 15) / 16 * (HDR + 4) + c * HDR + (f[i].rx ? d : f[i].len);
		in += (c + tail) * HDR + (f[i].rx ? f[i].len : c * ACK_LEN);
	}
	int r = grow((void **)&p->out, &p->out_cap, out, 1, p->err);
	if (!r)
		r = grow((void **)&p->out_len, &p->nout_cap, msgs, sizeof *p->out_len, p->err);
	if (!r)
		r = grow((void **)&p->in, &p->in_cap, in, 1, p->err);
	if (!r)
		r = grow((void **)&p->in_len, &p->nin_cap, replies, sizeof *p->in_len, p->err);
	return r;
}

/* Runs what the builder holds; on failure leaves nothing stale behind:
 * the replies still owed are drained and CS0 is released, since the
 * release that ended the stream may never have been sent. */
static int run(struct ch347 *p, const struct builder *b)
{
	int r = bk_usb_stream(p->usb, p->out, p->out_len, b->n_out, p->in, p->in_len, b->n_in);
	if (r) {
		struct bk_err keep = *p->err;
		if (r == BK_EGONE || bk_usb_drain(p->usb))
			return r;
		static const uint8_t release[HDR + CS_LEN] = { CMD_CS, CS_LEN, 0, CS_RELEASE };
		static const uint16_t len = sizeof release;
		bk_usb_stream(p->usb, release, &len, 1, NULL, NULL, 0);
		*p->err = keep;
	}
	return r;
}

/* A reply whose header is not the one asked for means the two sides are
 * out of step: the stream is thrown away like one that failed. */
static int check_reply(struct ch347 *p, const uint8_t *in, uint8_t cmd, size_t len)
{
	if (in[0] == cmd && in[1] == (uint8_t)len && in[2] == (uint8_t)(len >> 8))
		return 0;
	bk_usb_drain(p->usb);
	return bk_fail(p->err, BK_EUSB, "the CH347 answered %02X %02X %02X to a %02X command: out of step", in[0], in[1],
		       in[2], cmd);
}

static int ch_frames(void *state, const struct bk_spi_frame *f, size_t n)
{
	struct ch347 *p = state;
	int r = reserve(p, f, n);
	if (r)
		return r;
	struct builder b = { .p = p };
	for (size_t i = 0; i < n; i++) {
		put_cs(&b, CS_ASSERT, 0);
		if (!f[i].rx) {
			put_data(&b, CMD_OUT, &f[i], 0, f[i].len);
		} else {
			size_t d = duplex_end(&f[i]);
			put_data(&b, CMD_OUT_IN, &f[i], 0, d);
			if (d < f[i].len)
				put_read(&b, f[i].len - d);
		}
		put_cs(&b, CS_RELEASE, 0);
	}
	r = run(p, &b);
	if (r)
		return r;

	const uint8_t *in = p->in;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		size_t d = f[i].rx ? duplex_end(&f[i]) : f[i].len;
		for (size_t pos = 0; pos < f[i].len; ) {
			size_t len = p->in_len[k++] - HDR;
			uint8_t cmd = !f[i].rx ? CMD_OUT : pos < d ? CMD_OUT_IN : CMD_IN;
			size_t bytes = cmd == CMD_OUT ? (f[i].len - pos < DATA_MAX ? f[i].len - pos : DATA_MAX) : len;
			if ((r = check_reply(p, in, cmd, len)))
				return r;
			if (f[i].rx)
				for (size_t j = 0; j < len; j++)
					if (pos + j >= f[i].rx_skip)
						f[i].rx[pos + j - f[i].rx_skip] = in[HDR + j];
			in += HDR + len;
			pos += bytes;
		}
	}
	return 0;
}

static int send_config(struct ch347 *p, unsigned div)
{
	uint8_t *cfg = p->cfg;
	cfg[CFG_CPOL] = 0;
	cfg[CFG_CPHA] = 0;
	cfg[CFG_NSS] = NSS_SOFTWARE;
	cfg[CFG_CLOCK] = (uint8_t)((cfg[CFG_CLOCK] & ~0x38) | (div << 3));
	cfg[CFG_BIT_ORDER] &= 0x7F;
	struct builder b = { .p = p };
	memcpy(put_msg(&b, CMD_SET_CFG, CFG_LEN, ACK_LEN), cfg, CFG_LEN);
	int r = run(p, &b);
	if (!r)
		r = check_reply(p, p->in, CMD_SET_CFG, 1);
	if (!r && p->in[HDR])
		r = bk_fail(p->err, BK_EUSB, "the CH347 refused the SPI configuration (status 0x%02X)", p->in[HDR]);
	if (!r)
		p->cur_div = div;
	return r;
}

static int ch_set_clock(void *state, uint32_t hz)
{
	struct ch347 *p = state;
	unsigned div = hz ? hz_div(hz) : p->data_div;
	if (hz && div < p->data_div)
		div = p->data_div; /* never faster than the user allowed */
	return div == p->cur_div ? 0 : send_config(p, div);
}

static int ch_set_cen(void *state, int high)
{
	struct ch347 *p = state;
	struct builder b = { .p = p };
	if (p->cen_line == CEN_CS1) {
		put_cs(&b, 0, high ? CS_RELEASE : CS_ASSERT);
	} else {
		uint8_t *m = put_msg(&b, CMD_GPIO, 8, HDR + 8);
		memset(m, 0, 8);
		m[p->cen_line] = high ? GPIO_HIGH : GPIO_LOW;
	}
	int r = run(p, &b);
	if (!r && p->cen_line != CEN_CS1)
		r = check_reply(p, p->in, CMD_GPIO, 8);
	return r;
}

static const char *variant(uint16_t pid)
{
	return pid == PID_F ? "CH347F" : pid == PID_T_MODE1 ? "CH347T" : "CH347";
}

static void ch_describe(void *state, char *buf, size_t cap)
{
	struct ch347 *p = state;
	char cen[8] = "CS1";
	if (p->cen_line != CEN_CS1)
		snprintf(cen, sizeof cen, "GPIO%d", p->cen_line);
	const char *mode = p->pid == PID_F ? "UART + SPI/I2C/GPIO"
			   : p->pid == PID_T_MODE1 ? "mode 1: UART + SPI/I2C/GPIO" : "SPI mode";
	double mhz = div_hz(p->data_div) / 1e6, entry = div_hz(p->entry_div) / 1e6;
	if (p->pid)
		snprintf(buf, cap, "%s (USB %04x:%04x, %s), SPI %g MHz (Beken entry at %g MHz), CEN on %s", variant(p->pid),
			 VID, p->pid, mode, mhz, entry, cen);
	else
		snprintf(buf, cap, "CH347, SPI %g MHz (Beken entry at %g MHz), CEN on %s", mhz, entry, cen);
}

static void ch_close(void *state)
{
	struct ch347 *p = state;
	if (!p)
		return;
	bk_usb_close(p->usb);
	free(p->out);
	free(p->out_len);
	free(p->in);
	free(p->in_len);
	free(p);
}

static const struct bk_usb_wrong_mode other_modes[] = {
	{ VID, PID_T_MODE0,
	  "the CH347T is in mode 0 (USB 1a86:55da, two UARTs, no SPI): set its mode switch to mode 1 (UART + SPI/I2C) and plug it in again" },
	{ VID, PID_T_MODE2,
	  "the CH347T is in mode 2 (USB 1a86:55dc, HID: no vendor SPI interface): set its mode switch to mode 1 (UART + SPI/I2C) and plug it in again" },
	{ VID, PID_T_MODE3,
	  "the CH347T is in mode 3 (USB 1a86:55dd, UART + JTAG): set its mode switch to mode 1 (UART + SPI/I2C) and plug it in again" },
};

static const uint16_t ch347f[] = { PID_F };

static const struct bk_usb_match match = {
	.name = "CH347", .vid = VID, .pid = PID_T_MODE1, .more_pids = ch347f, .n_more_pids = 1,
	.iface = -1, .ep_out = 0x06, .ep_in = 0x86,
	.wrong = other_modes, .n_wrong = sizeof other_modes / sizeof other_modes[0],
};

static int setup(struct ch347 *p)
{
	struct builder b = { .p = p };
	int r = reserve(p, NULL, 0);
	if (r)
		return r;
	put_msg(&b, CMD_GET_CFG, 1, HDR + CFG_LEN)[0] = 0x01;
	r = run(p, &b);
	if (!r)
		r = check_reply(p, p->in, CMD_GET_CFG, CFG_LEN);
	if (!r)
		memcpy(p->cfg, p->in + HDR, CFG_LEN);
	if (!r)
		r = send_config(p, p->data_div);
	if (!r) {
		struct builder cs = { .p = p };
		put_cs(&cs, CS_RELEASE, 0);
		r = run(p, &cs);
	}
	if (!r)
		r = ch_set_cen(p, 1);
	return r;
}

static int ch_open(const struct bk_prog_config *cfg, struct bk_err *err, void **state)
{
	int cen = bk_ch347_cen_valid(cfg->cen ? cfg->cen : "cs1");
	uint32_t hz = cfg->spi_hz ? cfg->spi_hz : BK_CH347_DEFAULT_HZ;
	if (cen < 0) {
		bk_usb_close(cfg->usb);
		return bk_fail(err, BK_EINVAL, "--cen '%s': use cs1 or gpio0 to gpio7", cfg->cen);
	}
	if (hz > BK_CH347_MAX_HZ || hz < BK_CH347_MIN_HZ) {
		bk_usb_close(cfg->usb);
		return bk_fail(err, BK_EINVAL, "the CH347 clocks SPI from 468.75 kHz to 60 MHz, not %u Hz", hz);
	}
	struct bk_usb *usb = cfg->usb;
	uint16_t pid = cfg->usb_pid;
	if (!usb) {
		struct bk_usb_opened found;
		int r = bk_usb_open(&match, err, &usb, &found);
		if (r)
			return r;
		pid = found.pid;
		if (found.detached && cfg->note)
			cfg->note(cfg->note_user, "detached the kernel driver that held the CH347");
	}
	struct ch347 *p = calloc(1, sizeof *p);
	if (!p) {
		bk_usb_close(usb);
		return bk_fail(err, BK_ENOMEM, "out of memory");
	}
	p->usb = usb;
	p->err = err;
	p->pid = pid;
	p->cen_line = cen;
	p->data_div = hz_div(hz);
	p->entry_div = hz_div(ENTRY_HZ) > p->data_div ? hz_div(ENTRY_HZ) : p->data_div;
	p->cur_div = 8; /* unknown until the first configuration */
	if (cfg->note && cen == 4)
		cfg->note(cfg->note_user, "--cen gpio4: on some CH347 boards GPIO4 drives the activity LED, which then loads CEN; check your board");
	if (cfg->note && cen == 6)
		cfg->note(cfg->note_user, "--cen gpio6: on some CH347 boards GPIO6 switches the 1.8/3.3 V rail; check your board before wiring CEN to it");
	if (cfg->note && div_hz(p->data_div) != hz) {
		char text[96];
		snprintf(text, sizeof text, "the CH347 has no %u Hz clock: using %g MHz", hz, div_hz(p->data_div) / 1e6);
		cfg->note(cfg->note_user, text);
	}
	/* Nothing has reached the chip yet: a transient fault is retried. */
	int r = 0;
	for (int tries = 0; tries < 4; tries++) {
		r = setup(p);
		if (!bk_err_transient(r))
			break;
		bk_usb_drain(usb);
	}
	if (r) {
		ch_close(p);
		return bk_err_ctx(err, r, "setting up the CH347");
	}
	*state = p;
	return 0;
}

static const struct bk_usb_stats *ch_usb_stats(void *state)
{
	struct ch347 *p = state;
	return bk_usb_stats(p->usb);
}

static void ch_sleep_us(void *state, uint64_t us)
{
	struct ch347 *p = state;
	bk_usb_sleep_us(p->usb, us);
}

static uint64_t ch_now_us(void *state)
{
	struct ch347 *p = state;
	return bk_usb_now_us(p->usb);
}

const struct bk_prog_driver bk_prog_ch347 = {
	.name = "ch347",
	.label = "CH347",
	.pins = { .cs = "CS0", .sck = "SCK", .mosi = "MOSI", .miso = "MISO", .cen = "the --cen line (CS1 by default)" },
	.open = ch_open,
	.frames = ch_frames,
	.set_cen = ch_set_cen,
	.set_clock = ch_set_clock,
	.describe = ch_describe,
	.usb_stats = ch_usb_stats,
	.sleep_us = ch_sleep_us,
	.now_us = ch_now_us,
	.close = ch_close,
};
