/* The libusb backend: the only file that includes libusb.h. */
#include <libusb.h>
#include <stdlib.h>
#include <time.h>

#include "usb/usb.h"

struct lu {
	libusb_context *ctx;
	libusb_device_handle *h;
	int iface, claimed;
	uint8_t ep_out, ep_in;
	unsigned completions;
};

/* What the completion callback needs: the device's counter and our transfer. */
struct lu_xfer {
	struct lu *d;
	struct bk_usb_xfer *x;
};

static int map_status(enum libusb_transfer_status s)
{
	switch (s) {
	case LIBUSB_TRANSFER_COMPLETED: return 0;
	case LIBUSB_TRANSFER_NO_DEVICE: return BK_EGONE;
	case LIBUSB_TRANSFER_TIMED_OUT: return BK_ETIMEDOUT;
	default: return BK_EUSB;
	}
}

static int map_error(int e)
{
	switch (e) {
	case LIBUSB_ERROR_NO_DEVICE: return BK_EGONE;
	case LIBUSB_ERROR_TIMEOUT: return BK_ETIMEDOUT;
	case LIBUSB_ERROR_ACCESS: return BK_EACCESS;
	case LIBUSB_ERROR_BUSY: return BK_EBUSY;
	case LIBUSB_ERROR_NO_MEM: return BK_ENOMEM;
	default: return BK_EUSB;
	}
}

static void LIBUSB_CALL on_done(struct libusb_transfer *t)
{
	struct lu_xfer *w = t->user_data;
	struct bk_usb_xfer *x = w->x;
	x->actual = (size_t)t->actual_length;
	x->status = map_status(t->status);
	x->priv = NULL;
	w->d->completions++;
	free(w);
	libusb_free_transfer(t);
	x->done(x);
}

static int lu_submit(void *dev, struct bk_usb_xfer *x)
{
	struct lu *d = dev;
	struct lu_xfer *w = malloc(sizeof *w);
	struct libusb_transfer *t = w ? libusb_alloc_transfer(0) : NULL;
	if (!t) {
		free(w);
		return BK_ENOMEM;
	}
	*w = (struct lu_xfer){ d, x };
	libusb_fill_bulk_transfer(t, d->h, x->is_in ? d->ep_in : d->ep_out, x->buf, (int)x->length, on_done, w, 0);
	x->priv = t;
	int r = libusb_submit_transfer(t);
	if (r) {
		x->priv = NULL;
		free(w);
		libusb_free_transfer(t);
		return map_error(r);
	}
	return 0;
}

static int lu_wait(void *dev, unsigned timeout_ms)
{
	struct lu *d = dev;
	unsigned before = d->completions;
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct timeval tv = { .tv_sec = 0, .tv_usec = 50000 };
		int r = libusb_handle_events_timeout_completed(d->ctx, &tv, NULL);
		if (r && r != LIBUSB_ERROR_INTERRUPTED)
			return map_error(r);
		if (d->completions != before)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (ms >= (long)timeout_ms)
			return BK_ETIMEDOUT;
	}
}

static void lu_cancel(void *dev, struct bk_usb_xfer *x)
{
	(void)dev;
	if (x->priv)
		libusb_cancel_transfer(x->priv);
}

static void lu_sleep_us(void *dev, uint64_t us)
{
	(void)dev;
	struct timespec ts = { .tv_sec = (time_t)(us / 1000000), .tv_nsec = (long)(us % 1000000) * 1000 };
	while (nanosleep(&ts, &ts))
		;
}

static uint64_t lu_now_us(void *dev)
{
	(void)dev;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void lu_close(void *dev)
{
	struct lu *d = dev;
	if (d->claimed)
		libusb_release_interface(d->h, d->iface);
	if (d->h)
		libusb_close(d->h);
	if (d->ctx)
		libusb_exit(d->ctx);
	free(d);
}

static const struct bk_usb_backend lu_backend = {
	.name = "libusb",
	.submit = lu_submit,
	.wait = lu_wait,
	.cancel = lu_cancel,
	.sleep_us = lu_sleep_us,
	.now_us = lu_now_us,
	.close = lu_close,
};

/* Finds the wanted device; remembers a known wrong-mode one, whose fix
 * is a jumper or switch. */
static int find(struct lu *d, const struct bk_usb_match *m, libusb_device **dev, uint16_t *pid,
		const struct bk_usb_wrong_mode **wrong, struct bk_err *err)
{
	libusb_device **list;
	ssize_t n = libusb_get_device_list(d->ctx, &list);
	if (n < 0)
		return bk_fail(err, BK_ENODEV, "cannot list USB devices: %s; run bkspi doctor", libusb_strerror((int)n));
	*dev = NULL;
	for (ssize_t i = 0; i < n && !*dev; i++) {
		struct libusb_device_descriptor desc;
		if (libusb_get_device_descriptor(list[i], &desc))
			continue;
		int wanted = desc.idVendor == m->vid && desc.idProduct == m->pid;
		for (size_t k = 0; k < m->n_more_pids; k++)
			wanted |= desc.idVendor == m->vid && desc.idProduct == m->more_pids[k];
		if (wanted) {
			*dev = libusb_ref_device(list[i]);
			*pid = desc.idProduct;
		}
		for (size_t k = 0; k < m->n_wrong; k++)
			if (desc.idVendor == m->wrong[k].vid && desc.idProduct == m->wrong[k].pid)
				*wrong = &m->wrong[k];
	}
	libusb_free_device_list(list, 1);
	return 0;
}

/* The first vendor-specific interface: where the programmer's bulk
 * endpoints live when the device also offers a UART or HID; -1 if none. */
static int vendor_iface(libusb_device *dev)
{
	struct libusb_config_descriptor *cfg;
	if (libusb_get_active_config_descriptor(dev, &cfg))
		return -1;
	int found = -1;
	for (int i = 0; i < cfg->bNumInterfaces && found < 0; i++)
		if (cfg->interface[i].num_altsetting > 0 &&
		    cfg->interface[i].altsetting[0].bInterfaceClass == LIBUSB_CLASS_VENDOR_SPEC)
			found = cfg->interface[i].altsetting[0].bInterfaceNumber;
	libusb_free_config_descriptor(cfg);
	return found;
}

int bk_usb_open(const struct bk_usb_match *m, struct bk_err *err, struct bk_usb **out,
		       struct bk_usb_opened *info)
{
	*info = (struct bk_usb_opened){ 0 };
	struct lu *d = calloc(1, sizeof *d);
	if (!d)
		return bk_fail(err, BK_ENOMEM, "out of memory");
	d->ep_out = m->ep_out;
	d->ep_in = m->ep_in;
	libusb_device *dev = NULL;
	const struct bk_usb_wrong_mode *wrong = NULL;
	int r = libusb_init(&d->ctx);
	if (r) {
		d->ctx = NULL;
		r = bk_fail(err, BK_ENOUSB, "no %s can be found: USB is not available here (libusb: %s); is /dev/bus/usb present and readable?",
			    m->name, libusb_strerror(r));
		goto fail;
	}
	r = find(d, m, &dev, &info->pid, &wrong, err);
	if (r)
		goto fail;
	if (!dev) {
		r = wrong ? bk_fail(err, BK_ENODEV, "%s", wrong->hint)
			  : bk_fail(err, BK_ENODEV,
				    "no %s found (USB %04x:%04x): is it plugged in? see README 'Permissions' for the udev rule",
				    m->name, m->vid, m->pid);
		goto fail;
	}
	d->iface = m->iface >= 0 ? m->iface : vendor_iface(dev);
	info->iface = d->iface;
	if (d->iface < 0) {
		libusb_unref_device(dev);
		r = bk_fail(err, BK_ENODEV,
			    "the %s (USB %04x:%04x) offers no vendor-class interface, so no SPI in this mode: see README 'CH347' for the mode switch",
			    m->name, m->vid, info->pid);
		goto fail;
	}
	r = libusb_open(dev, &d->h);
	uint8_t bus = libusb_get_bus_number(dev), addr = libusb_get_device_address(dev);
	libusb_unref_device(dev);
	if (r) {
		d->h = NULL;
		r = r == LIBUSB_ERROR_ACCESS
			    ? bk_fail(err, BK_EACCESS,
				      "%s found (bus %u device %u) but access is denied: install the udev rule in README 'Permissions' or run as root",
				      m->name, bus, addr)
			    : bk_fail(err, map_error(r), "cannot open the %s: %s; replug it and run bkspi doctor", m->name, libusb_strerror(r));
		goto fail;
	}
	/* A kernel driver (ch341 or a stray one) must let go of the interface. */
	if (libusb_kernel_driver_active(d->h, d->iface) == 1) {
		r = libusb_detach_kernel_driver(d->h, d->iface);
		if (r) {
			r = bk_fail(err, BK_EBUSY,
				    "a kernel driver holds the %s and could not be detached (%s): run as root or unload it (rmmod ch341)",
				    m->name, libusb_strerror(r));
			goto fail;
		}
		info->detached = 1;
	}
	r = libusb_claim_interface(d->h, d->iface);
	if (r) {
		r = r == LIBUSB_ERROR_BUSY
			    ? bk_fail(err, BK_EBUSY, "the %s is in use by another program (flashrom? another bkspi?): close it and retry", m->name)
			    : bk_fail(err, map_error(r), "cannot claim the %s: %s; replug it and run bkspi doctor", m->name, libusb_strerror(r));
		goto fail;
	}
	d->claimed = 1;
	return bk_usb_wrap(&lu_backend, d, m->name, err, out);
fail:
	lu_close(d);
	return r;
}
