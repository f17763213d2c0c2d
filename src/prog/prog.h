/* Programmers: anything that can clock chip-select frames at a SPI flash
 * and, where it has one, drive the target's reset (CEN) line. flashrom's
 * spi_master in spirit: the layers above speak only in CS frames, so a
 * new programmer is one driver struct and nothing else changes.
 *
 * Drivers are data: the product's own (ch341a) are listed by
 * bk_prog_builtin(); a front end adds its own (the simulator) by passing
 * them to bk_prog_find(). No registry is global state. */
#ifndef BK_PROG_PROG_H
#define BK_PROG_PROG_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "usb/usb.h"

/* One chip-select frame: `len` bytes are clocked, the first tx_len taken
 * from tx and the rest 0x00. MISO of bytes [rx_skip, len) lands in rx. */
struct bk_spi_frame {
	const uint8_t *tx;
	size_t tx_len;
	size_t len;
	uint8_t *rx;
	size_t rx_skip;
	/* What MOSI carries after tx_len does not matter (a flash read's data
	 * phase): a programmer may clock those bytes with a read-only command
	 * instead of sending the zeros. */
	int tail_any;
};

/* What the board calls each line, for wiring hints ("D7" on a CH341A). */
struct bk_prog_pins {
	const char *cs, *sck, *mosi, *miso, *cen;
};

/* How to open a programmer. Fields a driver does not use are ignored. */
struct bk_prog_config {
	/* An open transport to use instead of finding the device (the
	 * simulator, a replay); the driver owns it from then on. */
	struct bk_usb *usb;
	uint32_t spi_hz;           /* data clock; 0: the driver's default */
	/* Which programmer line drives the target's CEN ("cs1", "gpio4");
	 * NULL: the driver's default. Only programmers without a fixed reset
	 * pin look at it. */
	const char *cen;
	/* With usb: the device's USB product ID, for drivers whose variants
	 * differ (CH347T, CH347F); 0 when unknown. */
	uint16_t usb_pid;
	/* Things worth telling the user that are not failures ("detached the
	 * kernel driver"); may be NULL. */
	void (*note)(void *user, const char *text);
	void *note_user;
	void *driver_arg;          /* for a front end's own driver */
};

struct bk_prog_driver {
	const char *name;          /* what -p takes: "ch341a" */
	const char *label;         /* what messages call the device: "CH341A" */
	struct bk_prog_pins pins;
	/* Opens the programmer with CS released and, where there is one, the
	 * reset line high (chip running). Failures are recorded in err, which
	 * the driver keeps for every later call. */
	int (*open)(const struct bk_prog_config *cfg, struct bk_err *err, void **state);
	/* Runs the frames back to back, as one stream where the hardware can. */
	int (*frames)(void *state, const struct bk_spi_frame *f, size_t n);
	/* Drives CEN; NULL when the programmer has no reset line. */
	int (*set_cen)(void *state, int high);
	/* Runs later frames at a clock of at most hz (the Beken entry's slow
	 * clock), or back at the data clock when hz is 0. NULL: the programmer
	 * has one clock, slow enough for the entry. */
	int (*set_clock)(void *state, uint32_t hz);
	/* Clocks `count` copies of `byte` (MSB first, SPI mode 0) in one CS
	 * frame by driving SCK and MOSI itself, at a few tens of kHz: the
	 * Beken 0xD2 run for chips that miss it at any clock the hardware
	 * shifts. MISO is not read. NULL: no such mode (a programmer whose
	 * set_clock already goes that slow needs none). */
	int (*slow_run)(void *state, uint8_t byte, size_t count);
	/* One line on what was opened (variant, mode, clock, CEN line) for
	 * detect; NULL when there is nothing beyond the driver's label. */
	void (*describe)(void *state, char *buf, size_t cap);
	/* What its USB pipeline moved; NULL when it has no USB. */
	const struct bk_usb_stats *(*usb_stats)(void *state);
	/* Time as the programmer sees it: virtual on the simulator. */
	void (*sleep_us)(void *state, uint64_t us);
	uint64_t (*now_us)(void *state);
	void (*close)(void *state);
};

/* The product's drivers, NULL-terminated. */
const struct bk_prog_driver *const *bk_prog_builtin(void);

/* The driver called name among extra (NULL-terminated, may be NULL) and
 * the built-in ones; NULL when there is none. */
const struct bk_prog_driver *bk_prog_find(const char *name, const struct bk_prog_driver *const *extra);

struct bk_prog;

int bk_prog_open(const struct bk_prog_driver *drv, const struct bk_prog_config *cfg, struct bk_err *err,
		 struct bk_prog **out);
void bk_prog_close(struct bk_prog *p);

int bk_prog_frames(struct bk_prog *p, const struct bk_spi_frame *f, size_t n);
/* BK_EINVAL naming the programmer when it has no reset line. */
int bk_prog_set_cen(struct bk_prog *p, int high);
int bk_prog_has_cen(const struct bk_prog *p);
/* No-ops on programmers without set_clock / describe ("" then). */
int bk_prog_set_clock(struct bk_prog *p, uint32_t hz);
void bk_prog_describe(struct bk_prog *p, char *buf, size_t cap);
int bk_prog_has_slow_run(const struct bk_prog *p);
/* NULL on programmers without USB statistics. */
const struct bk_usb_stats *bk_prog_usb_stats(struct bk_prog *p);
/* BK_EINVAL naming the programmer when it has no slow run. */
int bk_prog_slow_run(struct bk_prog *p, uint8_t byte, size_t count);

void bk_prog_sleep_us(struct bk_prog *p, uint64_t us);
uint64_t bk_prog_now_us(struct bk_prog *p);
const struct bk_prog_driver *bk_prog_driver(const struct bk_prog *p);
struct bk_err *bk_prog_err(struct bk_prog *p);

/* The CH341A driver. Its open uses cfg->usb when set, so another driver
 * can run the same protocol over another transport (the simulator). */
extern const struct bk_prog_driver bk_prog_ch341a;
/* The CH347 driver (CH347T, CH347F); cfg->usb works the same way. */
extern const struct bk_prog_driver bk_prog_ch347;

/* The CH347's clocks: 120 MHz / 2^(n+1) for prescaler n = 0..7. */
#define BK_CH347_MAX_HZ 60000000u
#define BK_CH347_MIN_HZ 468750u
#define BK_CH347_DEFAULT_HZ 15000000u
/* The CEN lines --cen offers, for the front end's checks. */
int bk_ch347_cen_valid(const char *name);

#endif
