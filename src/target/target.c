#include <stdio.h>
#include <string.h>

#include "target/target.h"

#define RESET_US 100000
#define RELEASE_US 5000
#define RUN_LEN 250
#define SHORT_FLUSH 32
#define LONG_FLUSH 4096
/* The entry's clocks on programmers that can go fast: no chip is known to
 * take the 0xD2 run faster than a CH341A clocks it (the Raspberry Pi
 * flasher runs it at 30 kHz), so the first attempts run at 1.875 MHz and
 * the later ones at 468.75 kHz; the data clock comes back afterwards.
 *
 * From SLOW_FROM_ATTEMPT on, a programmer that can bit-bang a slow run
 * (the CH341A, whose stream clock is fixed) clocks the run that way, for
 * chips that only recognise a run at tens of kHz. A chip that takes a fast
 * run takes a slow one too, so a flaky contact loses no retries by the
 * switch, and the total stays BK_ENTRY_ATTEMPTS CEN pulses (about 1.2 s
 * when all fail): a healthy chip still enters on the first, fast attempt,
 * and a slow-only chip costs the four fast ones before its first slow. */
#define ENTRY_HZ 1875000u
#define SLOW_ENTRY_HZ 468750u
#define SLOW_FROM_ATTEMPT 5
#define PLAIN_FLASH 2   /* attempt(): a flash answered with no entry */

/* What MISO did across every attempt, to name the likely wire. */
struct seen {
	size_t bytes, zeros, ones;
	int echo;
	uint8_t last_id[4];
};

static void tally(struct seen *s, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		s->zeros += b[i] == 0x00;
		s->ones += b[i] == 0xFF;
	}
	s->bytes += n;
}

static int id_valid(const uint8_t id[4])
{
	uint32_t v = (uint32_t)id[1] << 16 | (uint32_t)id[2] << 8 | id[3];
	return v != 0 && v != 0xFFFFFF;
}

/* CEN low long enough to reset the chip, then high again. */
static int pulse_cen(struct bk_prog *p)
{
	int r = bk_prog_set_cen(p, 0);
	if (r)
		return r;
	bk_prog_sleep_us(p, RESET_US);
	return bk_prog_set_cen(p, 1);
}

/* One attempt: the run, an echo probe, a short flush and the JEDEC read in
 * a single USB stream (with `slow`, the run is bit-banged first, in its own
 * CS frame, and MISO is not read during it); then, for chips of the other
 * reply style, a long flush and a second JEDEC read. Returns 1 when the
 * flash answered. */
static int attempt(struct bk_prog *p, struct seen *s, struct bk_entry *rep, int slow)
{
	static const uint8_t jedec[4] = { 0x9F };
	uint8_t run[RUN_LEN], run_rx[RUN_LEN], probe[4], flush[LONG_FLUSH], id[4];
	memset(run, 0xD2, sizeof run);
	int r = pulse_cen(p);
	if (r)
		return r;
	bk_prog_sleep_us(p, RELEASE_US);
	struct bk_spi_frame fr[] = {
		{ .tx = run, .tx_len = RUN_LEN, .len = RUN_LEN, .rx = run_rx },
		{ .tx = jedec, .tx_len = 4, .len = 4, .rx = probe },
		{ .len = SHORT_FLUSH, .rx = flush },
		{ .tx = jedec, .tx_len = 1, .len = 4, .rx = id },
	};
	if (slow)
		r = bk_prog_slow_run(p, 0xD2, RUN_LEN);
	if (!r)
		r = slow ? bk_prog_frames(p, fr + 1, 3) : bk_prog_frames(p, fr, 4);
	if (r)
		return r;
	if (!slow)
		tally(s, run_rx, RUN_LEN);
	tally(s, probe, 4);
	tally(s, flush, SHORT_FLUSH);
	tally(s, id, 4);
	/* Right after the run a Beken chip answers 0xD2 or zeros; a flash that
	 * gives its ID here was never behind the entry at all. */
	if (id_valid(probe)) {
		memcpy(s->last_id, probe, 4);
		return PLAIN_FLASH;
	}
	rep->echo = probe[0] == 0xD2;
	s->echo |= rep->echo;
	if (id_valid(id))
		return 1;
	struct bk_spi_frame more[] = {
		{ .len = LONG_FLUSH, .rx = flush },
		{ .tx = jedec, .tx_len = 1, .len = 4, .rx = id },
	};
	r = bk_prog_frames(p, more, 2);
	if (r)
		return r;
	tally(s, flush, LONG_FLUSH);
	tally(s, id, 4);
	memcpy(s->last_id, id, 4);
	rep->long_flush = 1;
	return id_valid(id);
}

/* Names the likely wire in the programmer's own pin names. */
static int diagnose(struct bk_prog *p, const struct seen *s, unsigned attempts, unsigned slow)
{
	const struct bk_prog_driver *d = bk_prog_driver(p);
	const struct bk_prog_pins *w = &d->pins;
	const char *saw;
	char hint[320];
	if (s->ones == s->bytes) {
		saw = "MISO read 0xFF every time, so nothing drove it";
		snprintf(hint, sizeof hint, "check %s <- P23 (SO/TDO), %s -> P21 (CSN/TMS), GND and the board's 3.3 V supply",
			 w->miso, w->cs);
	} else if (s->zeros == s->bytes) {
		saw = "MISO stayed 0x00 and the chip never echoed the 0xD2 run";
		snprintf(hint, sizeof hint,
			 "check %s -> CEN (the reset must reach the chip), %s -> P22 (SI/TDI), %s -> P20 (SCK/TCK), and that %s <- P23 (SO/TDO) is not shorted to GND",
			 w->cen, w->mosi, w->sck, w->miso);
	} else if (s->echo) {
		saw = "the chip echoed the 0xD2 run, so the entry reached it, but its flash never gave a valid ID";
		snprintf(hint, sizeof hint, "check %s <- P23 (SO/TDO) for a loose contact and keep the wires short; then try again",
			 w->miso);
	} else {
		saw = "MISO returned noise and no 0xD2 echo";
		snprintf(hint, sizeof hint, "check GND, the 3.3 V supply and wire lengths; a 5 V %s needs the 3.3 V mod", d->label);
	}
	char how[64] = "";
	if (slow)
		snprintf(how, sizeof how, " (the last %u with the run bit-banged slowly)", slow);
	return bk_fail(bk_prog_err(p), BK_ENOCHIP,
		       "Beken chip did not enter SPI mode after %u attempts%s: %s (last ID %02X-%02X-%02X-%02X); %s",
		       attempts, how, saw, s->last_id[0], s->last_id[1], s->last_id[2], s->last_id[3], hint);
}

static int entry_attempts(struct bk_prog *p, struct bk_entry *rep)
{
	struct seen s = { 0 };
	unsigned slow_runs = 0;
	for (unsigned i = 1; i <= BK_ENTRY_ATTEMPTS; i++) {
		int late = i >= SLOW_FROM_ATTEMPT;
		rep->attempts = i;
		rep->long_flush = 0;
		rep->slow_run = late && bk_prog_has_slow_run(p);
		slow_runs += (unsigned)rep->slow_run;
		int r = bk_prog_set_clock(p, late ? SLOW_ENTRY_HZ : ENTRY_HZ);
		if (!r)
			r = attempt(p, &s, rep, rep->slow_run);
		/* An attempt changes nothing: after a USB hiccup, pulse and retry. */
		if (bk_err_transient(r) && i < BK_ENTRY_ATTEMPTS)
			continue;
		if (r < 0)
			return bk_err_ctx(bk_prog_err(p), r, "entering Beken SPI mode");
		if (r == 1)
			return 0;
		if (r == PLAIN_FLASH)
			return bk_fail(bk_prog_err(p), BK_ENOCHIP,
				       "a flash answered with ID %02X-%02X-%02X before the Beken entry could work (no 0xD2 echo, no reset by CEN): this looks like a plain SPI flash: use -t spi",
				       s.last_id[1], s.last_id[2], s.last_id[3]);
	}
	return diagnose(p, &s, BK_ENTRY_ATTEMPTS, slow_runs);
}

int bk_target_enter(struct bk_prog *p, enum bk_target_kind kind, struct bk_entry *rep)
{
	*rep = (struct bk_entry){ 0 };
	if (kind == BK_TARGET_SPI)
		return 0;
	int r = entry_attempts(p, rep);
	if (r)
		return r;
	/* Setting the clock again changes nothing: a USB hiccup is retried. */
	for (unsigned i = 0; i < BK_ENTRY_ATTEMPTS; i++) {
		r = bk_prog_set_clock(p, 0);
		if (!bk_err_transient(r))
			break;
	}
	return r ? bk_err_ctx(bk_prog_err(p), r, "back to the data clock after the Beken entry") : 0;
}

int bk_target_reset(struct bk_prog *p)
{
	int r = pulse_cen(p);
	return r ? bk_err_ctx(bk_prog_err(p), r, "pulsing CEN") : 0;
}
