#include "cli/progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void bk_progress_init(struct bk_progress *p, bkspi *h, int quiet)
{
	const char *force = getenv("BKSPI_PROGRESS");
	memset(p, 0, sizeof *p);
	p->h = h;
	p->enabled = !quiet && (isatty(STDERR_FILENO) || (force && !strcmp(force, "1")));
}

void bk_progress_done(struct bk_progress *p)
{
	if (p->drawn)
		fputc('\n', stderr);
	p->drawn = 0;
	p->phase = NULL;
}

static int writing(const char *phase)
{
	return !strcmp(phase, "erase") || !strcmp(phase, "program") || !strcmp(phase, "erase+program");
}

/* Below this a rate is noise (the first packets, a USB turnaround). */
#define MIN_RATE_SECS 0.1

void bk_progress_update(void *user, const char *phase, uint64_t done, uint64_t total)
{
	struct bk_progress *p = user;
	if (!p->enabled)
		return;
	uint64_t now = bkspi_now_us(p->h);
	/* Erase and program alternate block by block against one total: one
	 * line for both. */
	int same = p->phase && total == p->total &&
		   (!strcmp(p->phase, phase) || (writing(phase) && writing(p->phase)));
	if (same && strcmp(p->phase, phase))
		p->phase = "erase+program";
	if (!same) {
		bk_progress_done(p);
		p->phase = phase;
		p->phase_start_us = now;
		p->phase_start_done = done;
		p->total = total;
		p->last_draw = 0;
	}
	double w = wall();
	if (done < total && p->drawn && w - p->last_draw < 0.2)
		return;
	p->last_draw = w;
	/* The rate counts only what moved since the phase began, on the
	 * programmer's clock; until it means something it is not shown. */
	double secs = (double)(now - p->phase_start_us) / 1e6;
	uint64_t moved = done - p->phase_start_done;
	char tail[48] = "";
	if (secs >= MIN_RATE_SECS && moved) {
		double rate = (double)moved / secs;
		if (done < total)
			snprintf(tail, sizeof tail, "%7.1f KB/s  ETA %4.0f s", rate / 1000, (double)(total - done) / rate);
		else
			snprintf(tail, sizeof tail, "%7.1f KB/s  in %.1f s", rate / 1000, secs);
	}
	char line[128];
	snprintf(line, sizeof line, "%-13s %7.1f / %.1f KiB %3u%%  %s", p->phase, (double)done / 1024,
		 (double)total / 1024, total ? (unsigned)(done * 100 / total) : 100, tail);
	/* Padded so a shorter line covers the previous one. */
	fprintf(stderr, "\r%-70s", line);
	p->drawn = 1;
}
