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

void bk_progress_update(void *user, const char *phase, uint64_t done, uint64_t total)
{
	struct bk_progress *p = user;
	if (!p->enabled)
		return;
	uint64_t now = bkspi_now_us(p->h);
	if (!p->phase || strcmp(p->phase, phase)) {
		bk_progress_done(p);
		p->phase = phase;
		p->phase_start_us = now;
		p->last_draw = 0;
	}
	double w = wall();
	if (done < total && w - p->last_draw < 0.2)
		return;
	p->last_draw = w;
	double secs = (double)(now - p->phase_start_us) / 1e6;
	double rate = secs > 0 ? (double)done / secs : 0;
	double eta = rate > 0 ? (double)(total - done) / rate : 0;
	fprintf(stderr, "\r%-8s %7.1f / %.1f KiB %3u%%  %6.1f KB/s  ETA %4.0f s ",
		phase, (double)done / 1024, (double)total / 1024,
		total ? (unsigned)(done * 100 / total) : 100, rate / 1000, eta);
	p->drawn = 1;
}
