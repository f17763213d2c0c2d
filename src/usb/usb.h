/* The USB transfer seam. Only src/usb includes libusb.h; nothing here
 * knows which device is on the other end: a USB programmer driver names
 * its IDs, interface, endpoints and the words for its messages.
 *
 * A bk_usb is an opened, claimed device with one bulk OUT and one bulk IN
 * endpoint. Transfers are asynchronous: submit as many as you like, then
 * wait; completions arrive in submission order per endpoint. Two backends
 * implement it: libusb (real hardware) and the emulator (src/emu), which
 * also owns the clock, so everything above this line runs unchanged against
 * either and is timed in the emulator's virtual time. */
#ifndef BK_USB_USB_H
#define BK_USB_USB_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct bk_usb_xfer;
typedef void (*bk_usb_done_fn)(struct bk_usb_xfer *x);

struct bk_usb_xfer {
	int is_in;             /* 1: bulk IN, 0: bulk OUT */
	uint8_t *buf;
	size_t length;
	size_t actual;         /* bytes moved, valid in done() */
	int status;            /* 0 or BK_E*, valid in done() */
	bk_usb_done_fn done;   /* called from bk_usb_wait() */
	void *user;
	void *priv;            /* the backend's */
};

/* What a backend provides. `dev` is the backend's own state. */
struct bk_usb_backend {
	const char *name;
	int (*submit)(void *dev, struct bk_usb_xfer *x);
	/* Completes at least one submitted transfer (calling its done()) or
	 * fails with BK_ETIMEDOUT after timeout_ms; BK_EGONE once unplugged. */
	int (*wait)(void *dev, unsigned timeout_ms);
	/* Asks a pending transfer to finish early; its done() still runs. */
	void (*cancel)(void *dev, struct bk_usb_xfer *x);
	void (*sleep_us)(void *dev, uint64_t us);
	uint64_t (*now_us)(void *dev);
	void (*close)(void *dev);
};

struct bk_usb;

/* Wraps a backend; takes ownership of dev (closed by bk_usb_close). name
 * ("CH341A") is what messages call the device; it must outlive the handle.
 * Failures are recorded in err, the owning handle's error object. */
int bk_usb_wrap(const struct bk_usb_backend *be, void *dev, const char *name,
		struct bk_err *err, struct bk_usb **out);

/* A device ID that is the programmer in a mode without SPI: found instead
 * of the wanted one, its hint is the error ("move the jumper to ..."). */
struct bk_usb_wrong_mode {
	uint16_t vid, pid;
	const char *hint;
};

/* What a USB programmer driver tells the backend about its device. */
struct bk_usb_match {
	const char *name;            /* "CH341A" */
	uint16_t vid, pid;
	/* Other product IDs of the same programmer (the CH347F beside the
	 * CH347T); may be NULL. */
	const uint16_t *more_pids;
	size_t n_more_pids;
	int iface;                   /* -1: the first vendor-class (0xFF) interface */
	uint8_t ep_out, ep_in;
	const struct bk_usb_wrong_mode *wrong;  /* may be NULL */
	size_t n_wrong;
};

/* What opening found: whether a kernel driver was detached, which of the
 * product IDs answered and on which interface. */
struct bk_usb_opened {
	int detached;
	uint16_t pid;
	int iface;
};

/* Opens the first matching device through the platform's USB (libusb.c
 * natively, webusb.c in the browser), detaching a bound kernel driver
 * where there is one, and claims the interface. Errors name the fix (udev
 * rule, jumper, mode switch, browser). */
int bk_usb_open(const struct bk_usb_match *m, struct bk_err *err,
		       struct bk_usb **out, struct bk_usb_opened *info);

void bk_usb_close(struct bk_usb *u);

/* Sends `out` as n_out bulk OUT transfers of out_len[i] bytes each (a
 * short packet can only end a transfer) while collecting n_in IN transfers
 * of in_len[i] bytes each, back to back, into `in`. Keeps many transfers
 * queued both ways so the device never waits for the host. On failure
 * every transfer still pending is cancelled and reaped before returning. */
int bk_usb_stream(struct bk_usb *u, const uint8_t *out, const uint16_t *out_len, size_t n_out,
		  uint8_t *in, const uint16_t *in_len, size_t n_in);

/* Reads and drops whatever the device still holds after a failed stream,
 * so the next stream's replies line up with its requests. */
int bk_usb_drain(struct bk_usb *u);

void bk_usb_sleep_us(struct bk_usb *u, uint64_t us);
uint64_t bk_usb_now_us(struct bk_usb *u);
const char *bk_usb_backend_name(const struct bk_usb *u);
/* What the pipeline moved, for -v on any programmer. */
struct bk_usb_stats {
	uint64_t streams;        /* bk_usb_stream calls */
	uint64_t out_transfers, in_transfers;
	uint64_t out_bytes, in_bytes;
	uint64_t waits;          /* times the host waited for a completion */
};
const struct bk_usb_stats *bk_usb_stats(const struct bk_usb *u);

/* The error object failures are recorded in. */
struct bk_err *bk_usb_err(struct bk_usb *u);

#endif
