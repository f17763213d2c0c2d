/* Progress on stderr: one line per phase, redrawn in place, with bytes,
 * percent, speed and ETA; the finished line keeps the phase's time. */
#ifndef BK_CLI_PROGRESS_H
#define BK_CLI_PROGRESS_H

#include <stdint.h>

#include "bkspi.h"

struct bk_progress {
	int enabled;
	bkspi *h;                  /* its programmer's clock, virtual on the simulator */
	const char *phase;
	uint64_t phase_start_us, phase_start_done, total;
	double last_draw;          /* wall clock, to draw a few times a second */
	int drawn;
};

/* Enabled when stderr is a terminal (or BKSPI_PROGRESS=1) and not quiet. */
void bk_progress_init(struct bk_progress *p, bkspi *h, int quiet);
void bk_progress_update(void *user, const char *phase, uint64_t done, uint64_t total);
/* Ends the current line so a message can follow. */
void bk_progress_done(struct bk_progress *p);

#endif
