/* Getting a flash onto the bus: the Beken download-mode entry (CEN pulse,
 * 0xD2 run, echo or flush, JEDEC check, retries, wiring diagnosis) or a
 * plain SPI flash that needs nothing. */
#ifndef BK_TARGET_TARGET_H
#define BK_TARGET_TARGET_H

#include "prog/prog.h"

enum bk_target_kind { BK_TARGET_BEKEN, BK_TARGET_SPI };

struct bk_entry {
	unsigned attempts;
	int echo;         /* the chip echoed 0xD2 after the run */
	int long_flush;   /* the flash answered only after the long zero flush */
	int slow_run;     /* the run that worked was bit-banged slowly */
};

#define BK_ENTRY_ATTEMPTS 8

/* Failures are recorded in the programmer's error object. */
int bk_target_enter(struct bk_prog *p, enum bk_target_kind kind, struct bk_entry *rep);

/* Pulses CEN so the chip leaves SPI mode and boots its firmware. */
int bk_target_reset(struct bk_prog *p);

#endif
