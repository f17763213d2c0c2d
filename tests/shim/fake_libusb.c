/* A libusb-1.0 stand-in backed by the emulated CH341A (src/emu).
 *
 * Preloaded (LD_PRELOAD) into bkspi or flashrom, it answers their real
 * libusb calls, so both tools' own USB code drives the same emulated
 * device in the same virtual time, and bkspi's libusb backend can be
 * tested against absent, denied, busy or driver-held programmers. The
 * types come from libusb's public header; libusb itself is not linked.
 *
 * Environment:
 *   BKSPI_FAKEUSB          emulator settings, as --sim-config (image=PATH,...)
 *   BKSPI_FAKEUSB_DEVICE   ok | none | uart | denied | busy | driver | driver-stuck
 *   BKSPI_FAKEUSB_STATS    file that gets the emulator's statistics (key=value)
 *
 * Time: while an emulated device is open, CLOCK_MONOTONIC and the sleep
 * calls are served from the emulator's virtual clock. flashrom times its
 * flash polls with clock_gettime busy loops and nanosleep; left on the real
 * clock they would cost nothing in virtual time (an erase would look free
 * and take hours of polling), so both tools are billed for their waits the
 * way real hardware would bill them. */
#include <errno.h>
#include <libusb.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "emu/emu.h"
#include "usb/usb.h"

#define VID 0x1a86
#define PID_SPI 0x5512
#define PID_UART 0x5523
#define EP_OUT 0x02
#define EP_IN 0x82
#define EP_INT 0x81
#define MAX_PACKET 32
#define BUS 3
#define ADDRESS 7

enum mode { MODE_OK, MODE_NONE, MODE_UART, MODE_DENIED, MODE_BUSY, MODE_DRIVER, MODE_DRIVER_STUCK };

static const char *const mode_names[] = { "ok", "none", "uart", "denied", "busy", "driver", "driver-stuck" };

struct fx;

struct libusb_device {
	struct libusb_context *ctx;
	uint16_t pid;
	int refs;
	int driver_bound;          /* a kernel driver holds interface 0 */
	int claimed;
	struct bk_emu *emu;        /* powered up at the first open, off at libusb_exit */
	struct fx *inflight;       /* submitted transfers, for timeouts and close */
};

struct libusb_device_handle {
	struct libusb_device *dev;
	struct libusb_device_handle *next;
	int claimed, auto_detach, auto_detached;
};

struct libusb_context {
	struct libusb_context *next;
	int refs;                   /* libusb_init(NULL) counts users of the default */
	enum mode mode;
	int has_dev;
	struct libusb_device dev;   /* the one device on the emulated bus */
	struct libusb_device_handle *handles;
	char *config, *stats_path;
	int stats_written;
	/* The virtual clock: real time at power-up plus the emulator's. */
	uint64_t clock_base_ns;
	uint64_t activity, clock_seen;
};

/* libusb's API has a default context (NULL) and the clock calls have no
 * context at all, so the live contexts are process-wide by necessity. */
static struct libusb_context *default_ctx;
static struct libusb_context *live;

/* A transfer's private part, placed before the public struct the way libusb
 * itself does it, so alloc/free stay one allocation. */
struct fx {
	struct bk_usb_xfer x;
	struct libusb_device *dev;       /* while in flight */
	struct fx *prev, *next;
	uint64_t deadline_us;            /* 0: no timeout */
	enum libusb_transfer_status why; /* set by cancel or timeout */
	int in_flight, cancelling, orphan;
};

#define FX_SPACE ((sizeof(struct fx) + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1))

static struct fx *fx_of(struct libusb_transfer *t)
{
	return (struct fx *)(void *)((char *)t - FX_SPACE);
}

static struct libusb_transfer *tr_of(struct fx *f)
{
	return (struct libusb_transfer *)(void *)((char *)f + FX_SPACE);
}

static const struct bk_usb_backend *be(void)
{
	return bk_emu_backend();
}

/* ---- real time, for when no emulated device is open ------------------ */

static int real_clock_gettime(clockid_t id, struct timespec *ts)
{
	return (int)syscall(SYS_clock_gettime, id, ts);
}

static int real_nanosleep(const struct timespec *req, struct timespec *rem)
{
	return (int)syscall(SYS_nanosleep, req, rem);
}

static uint64_t real_ns(void)
{
	struct timespec ts;
	real_clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- contexts ----------------------------------------------------------- */

static struct libusb_context *resolve(struct libusb_context *ctx)
{
	return ctx ? ctx : default_ctx;
}

static int parse_mode(const char *s, enum mode *m)
{
	if (!s || !*s) {
		*m = MODE_OK;
		return 0;
	}
	for (size_t i = 0; i < sizeof mode_names / sizeof mode_names[0]; i++)
		if (!strcmp(s, mode_names[i])) {
			*m = (enum mode)i;
			return 0;
		}
	return -1;
}

static char *dup_env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? strdup(v) : NULL;
}

int LIBUSB_CALL libusb_init(libusb_context **out)
{
	if (!out && default_ctx) {
		default_ctx->refs++;
		return 0;
	}
	enum mode m;
	const char *ms = getenv("BKSPI_FAKEUSB_DEVICE");
	if (parse_mode(ms, &m)) {
		fprintf(stderr, "fakeusb: BKSPI_FAKEUSB_DEVICE=%s: use ok, none, uart, denied, busy, driver or driver-stuck\n", ms);
		return LIBUSB_ERROR_INVALID_PARAM;
	}
	struct libusb_context *c = calloc(1, sizeof *c);
	if (!c)
		return LIBUSB_ERROR_NO_MEM;
	c->refs = 1;
	c->mode = m;
	c->has_dev = m != MODE_NONE;
	c->dev = (struct libusb_device){ .ctx = c, .pid = m == MODE_UART ? PID_UART : PID_SPI,
					 .driver_bound = m == MODE_DRIVER || m == MODE_DRIVER_STUCK };
	c->config = dup_env("BKSPI_FAKEUSB");
	c->stats_path = dup_env("BKSPI_FAKEUSB_STATS");
	c->next = live;
	live = c;
	if (out)
		*out = c;
	else
		default_ctx = c;
	return 0;
}

static void write_stats(struct libusb_context *c)
{
	if (!c->stats_path || !c->dev.emu)
		return;
	struct bk_emu_stats st;
	bk_emu_stats(c->dev.emu, &st);
	FILE *f = fopen(c->stats_path, "w");
	if (!f) {
		fprintf(stderr, "fakeusb: cannot write %s\n", c->stats_path);
		return;
	}
	fprintf(f, "seconds=%.6f\nround_trips=%llu\nwakeups=%llu\nout_bytes=%llu\nin_bytes=%llu\npackets=%llu\ncen_pulses=%llu\n",
		(double)st.now_ns / 1e9, (unsigned long long)st.round_trips, (unsigned long long)st.wakeups,
		(unsigned long long)st.out_bytes, (unsigned long long)st.in_bytes,
		(unsigned long long)st.packets, (unsigned long long)st.cen_pulses);
	fclose(f);
	c->stats_written = 1;
}

static void unlink_fx(struct fx *f)
{
	if (f->prev)
		f->prev->next = f->next;
	else if (f->dev)
		f->dev->inflight = f->next;
	if (f->next)
		f->next->prev = f->prev;
	f->prev = f->next = NULL;
	f->dev = NULL;
	f->in_flight = 0;
}

void LIBUSB_CALL libusb_exit(libusb_context *ctx)
{
	struct libusb_context *c = resolve(ctx);
	if (!c || --c->refs > 0)
		return;
	write_stats(c);
	while (c->handles)
		libusb_close(c->handles);
	/* Transfers still in flight lose their device; the caller owns them. */
	while (c->dev.inflight) {
		struct fx *f = c->dev.inflight;
		unlink_fx(f);
		if (f->orphan)
			free(f);
	}
	if (c->dev.emu)
		bk_emu_free(c->dev.emu);
	for (struct libusb_context **p = &live; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	if (c == default_ctx)
		default_ctx = NULL;
	free(c->config);
	free(c->stats_path);
	free(c);
}

/* A program that never calls libusb_exit still leaves its statistics. */
__attribute__((destructor)) static void fakeusb_fini(void)
{
	for (struct libusb_context *c = live; c; c = c->next)
		if (!c->stats_written)
			write_stats(c);
}

int LIBUSB_CALL libusb_set_option(libusb_context *ctx, enum libusb_option option, ...)
{
	(void)ctx;
	(void)option;
	return 0;
}

void LIBUSB_CALL libusb_set_debug(libusb_context *ctx, int level)
{
	(void)ctx;
	(void)level;
}

/* ---- errors ------------------------------------------------------------- */

const char *LIBUSB_CALL libusb_error_name(int code)
{
	switch (code) {
	case LIBUSB_SUCCESS: return "LIBUSB_SUCCESS / LIBUSB_TRANSFER_COMPLETED";
	case LIBUSB_ERROR_IO: return "LIBUSB_ERROR_IO";
	case LIBUSB_ERROR_INVALID_PARAM: return "LIBUSB_ERROR_INVALID_PARAM";
	case LIBUSB_ERROR_ACCESS: return "LIBUSB_ERROR_ACCESS";
	case LIBUSB_ERROR_NO_DEVICE: return "LIBUSB_ERROR_NO_DEVICE";
	case LIBUSB_ERROR_NOT_FOUND: return "LIBUSB_ERROR_NOT_FOUND";
	case LIBUSB_ERROR_BUSY: return "LIBUSB_ERROR_BUSY";
	case LIBUSB_ERROR_TIMEOUT: return "LIBUSB_ERROR_TIMEOUT";
	case LIBUSB_ERROR_OVERFLOW: return "LIBUSB_ERROR_OVERFLOW";
	case LIBUSB_ERROR_PIPE: return "LIBUSB_ERROR_PIPE";
	case LIBUSB_ERROR_INTERRUPTED: return "LIBUSB_ERROR_INTERRUPTED";
	case LIBUSB_ERROR_NO_MEM: return "LIBUSB_ERROR_NO_MEM";
	case LIBUSB_ERROR_NOT_SUPPORTED: return "LIBUSB_ERROR_NOT_SUPPORTED";
	case LIBUSB_ERROR_OTHER: return "LIBUSB_ERROR_OTHER";
	/* flashrom passes transfer statuses here too, as libusb allows. */
	case LIBUSB_TRANSFER_ERROR: return "LIBUSB_TRANSFER_ERROR";
	case LIBUSB_TRANSFER_TIMED_OUT: return "LIBUSB_TRANSFER_TIMED_OUT";
	case LIBUSB_TRANSFER_CANCELLED: return "LIBUSB_TRANSFER_CANCELLED";
	case LIBUSB_TRANSFER_STALL: return "LIBUSB_TRANSFER_STALL";
	case LIBUSB_TRANSFER_NO_DEVICE: return "LIBUSB_TRANSFER_NO_DEVICE";
	case LIBUSB_TRANSFER_OVERFLOW: return "LIBUSB_TRANSFER_OVERFLOW";
	default: return "**UNKNOWN**";
	}
}

const char *LIBUSB_CALL libusb_strerror(int code)
{
	switch (code) {
	case LIBUSB_SUCCESS: return "Success";
	case LIBUSB_ERROR_IO: return "Input/Output Error";
	case LIBUSB_ERROR_INVALID_PARAM: return "Invalid parameter";
	case LIBUSB_ERROR_ACCESS: return "Access denied (insufficient permissions)";
	case LIBUSB_ERROR_NO_DEVICE: return "No such device (it may have been disconnected)";
	case LIBUSB_ERROR_NOT_FOUND: return "Entity not found";
	case LIBUSB_ERROR_BUSY: return "Resource busy";
	case LIBUSB_ERROR_TIMEOUT: return "Operation timed out";
	case LIBUSB_ERROR_OVERFLOW: return "Overflow";
	case LIBUSB_ERROR_PIPE: return "Pipe error";
	case LIBUSB_ERROR_INTERRUPTED: return "System call interrupted (perhaps due to signal)";
	case LIBUSB_ERROR_NO_MEM: return "Insufficient memory";
	case LIBUSB_ERROR_NOT_SUPPORTED: return "Operation not supported or unimplemented on this platform";
	case LIBUSB_ERROR_OTHER: return "Other error";
	default: return "Unknown error";
	}
}

/* ---- devices and descriptors ------------------------------------------ */

ssize_t LIBUSB_CALL libusb_get_device_list(libusb_context *ctx, libusb_device ***list)
{
	struct libusb_context *c = resolve(ctx);
	if (!c)
		return LIBUSB_ERROR_INVALID_PARAM;
	libusb_device **v = calloc(2, sizeof *v);
	if (!v)
		return LIBUSB_ERROR_NO_MEM;
	ssize_t n = 0;
	if (c->has_dev) {
		c->dev.refs++;
		v[n++] = &c->dev;
	}
	*list = v;
	return n;
}

void LIBUSB_CALL libusb_free_device_list(libusb_device **list, int unref_devices)
{
	if (!list)
		return;
	if (unref_devices)
		for (libusb_device **p = list; *p; p++)
			libusb_unref_device(*p);
	free(list);
}

/* The device lives as long as its context: counts are kept for balance. */
libusb_device *LIBUSB_CALL libusb_ref_device(libusb_device *dev)
{
	dev->refs++;
	return dev;
}

void LIBUSB_CALL libusb_unref_device(libusb_device *dev)
{
	if (dev)
		dev->refs--;
}

int LIBUSB_CALL libusb_get_device_descriptor(libusb_device *dev, struct libusb_device_descriptor *d)
{
	/* As a real CH341A reports itself (lsusb -v). */
	*d = (struct libusb_device_descriptor){
		.bLength = LIBUSB_DT_DEVICE_SIZE, .bDescriptorType = LIBUSB_DT_DEVICE, .bcdUSB = 0x0110,
		.bDeviceClass = 0xFF, .bMaxPacketSize0 = 8, .idVendor = VID, .idProduct = dev->pid,
		.bcdDevice = 0x0304, .bNumConfigurations = 1,
	};
	return 0;
}

struct config_block {
	struct libusb_config_descriptor c;   /* first: the pointer handed out */
	struct libusb_interface i;
	struct libusb_interface_descriptor alt;
	struct libusb_endpoint_descriptor ep[3];
};

int LIBUSB_CALL libusb_get_config_descriptor(libusb_device *dev, uint8_t index, struct libusb_config_descriptor **config)
{
	(void)dev;
	if (index != 0)
		return LIBUSB_ERROR_NOT_FOUND;
	struct config_block *b = calloc(1, sizeof *b);
	if (!b)
		return LIBUSB_ERROR_NO_MEM;
	static const uint8_t eps[3][3] = { { EP_IN, LIBUSB_TRANSFER_TYPE_BULK, MAX_PACKET },
					   { EP_OUT, LIBUSB_TRANSFER_TYPE_BULK, MAX_PACKET },
					   { EP_INT, LIBUSB_TRANSFER_TYPE_INTERRUPT, 8 } };
	for (int k = 0; k < 3; k++)
		b->ep[k] = (struct libusb_endpoint_descriptor){
			.bLength = LIBUSB_DT_ENDPOINT_SIZE, .bDescriptorType = LIBUSB_DT_ENDPOINT,
			.bEndpointAddress = eps[k][0], .bmAttributes = eps[k][1], .wMaxPacketSize = eps[k][2],
			.bInterval = eps[k][1] == LIBUSB_TRANSFER_TYPE_INTERRUPT ? 1 : 0,
		};
	b->alt = (struct libusb_interface_descriptor){
		.bLength = LIBUSB_DT_INTERFACE_SIZE, .bDescriptorType = LIBUSB_DT_INTERFACE,
		.bNumEndpoints = 3, .bInterfaceClass = 0xFF, .bInterfaceSubClass = 0x01,
		.bInterfaceProtocol = 0x02, .endpoint = b->ep,
	};
	b->i = (struct libusb_interface){ .altsetting = &b->alt, .num_altsetting = 1 };
	b->c = (struct libusb_config_descriptor){
		.bLength = LIBUSB_DT_CONFIG_SIZE, .bDescriptorType = LIBUSB_DT_CONFIG,
		.wTotalLength = LIBUSB_DT_CONFIG_SIZE + LIBUSB_DT_INTERFACE_SIZE + 3 * LIBUSB_DT_ENDPOINT_SIZE,
		.bNumInterfaces = 1, .bConfigurationValue = 1, .bmAttributes = 0x80, .MaxPower = 48,
		.interface = &b->i,
	};
	*config = &b->c;
	return 0;
}

int LIBUSB_CALL libusb_get_active_config_descriptor(libusb_device *dev, struct libusb_config_descriptor **config)
{
	return libusb_get_config_descriptor(dev, 0, config);
}

void LIBUSB_CALL libusb_free_config_descriptor(struct libusb_config_descriptor *config)
{
	free(config);
}

uint8_t LIBUSB_CALL libusb_get_bus_number(libusb_device *dev)
{
	(void)dev;
	return BUS;
}

uint8_t LIBUSB_CALL libusb_get_device_address(libusb_device *dev)
{
	(void)dev;
	return ADDRESS;
}

uint8_t LIBUSB_CALL libusb_get_port_number(libusb_device *dev)
{
	(void)dev;
	return 1;
}

/* ---- opening and claiming ------------------------------------------------ */

static int power_up(struct libusb_device *dev)
{
	struct libusb_context *c = dev->ctx;
	if (dev->emu || dev->pid != PID_SPI)
		return 0;
	struct bk_err err = { 0 };
	int r = bk_emu_new(c->config, &err, &dev->emu);
	if (r) {
		fprintf(stderr, "fakeusb: BKSPI_FAKEUSB: %s\n", err.msg[0] ? err.msg : "cannot start the emulator");
		dev->emu = NULL;
		return r == BK_ENOMEM ? LIBUSB_ERROR_NO_MEM : LIBUSB_ERROR_IO;
	}
	c->clock_base_ns = real_ns();
	return 0;
}

int LIBUSB_CALL libusb_open(libusb_device *dev, libusb_device_handle **out)
{
	struct libusb_context *c = dev->ctx;
	c->activity++;
	if (c->mode == MODE_DENIED)
		return LIBUSB_ERROR_ACCESS;
	int r = power_up(dev);
	if (r)
		return r;
	struct libusb_device_handle *h = calloc(1, sizeof *h);
	if (!h)
		return LIBUSB_ERROR_NO_MEM;
	h->dev = libusb_ref_device(dev);
	h->next = c->handles;
	c->handles = h;
	*out = h;
	return 0;
}

libusb_device_handle *LIBUSB_CALL libusb_open_device_with_vid_pid(libusb_context *ctx, uint16_t vid, uint16_t pid)
{
	struct libusb_context *c = resolve(ctx);
	libusb_device_handle *h = NULL;
	if (c && c->has_dev && vid == VID && pid == c->dev.pid && libusb_open(&c->dev, &h))
		h = NULL;
	return h;
}

static void release(libusb_device_handle *h)
{
	if (!h->claimed)
		return;
	h->claimed = 0;
	h->dev->claimed = 0;
	if (h->auto_detached) {
		h->auto_detached = 0;
		h->dev->driver_bound = 1;
	}
}

void LIBUSB_CALL libusb_close(libusb_device_handle *h)
{
	if (!h)
		return;
	struct libusb_device *dev = h->dev;
	struct libusb_context *c = dev->ctx;
	c->activity++;
	/* Transfers still in flight end with the handle, as on a real bus. */
	for (struct fx *f = dev->inflight; f; f = f->next)
		if (tr_of(f)->dev_handle == h && !f->cancelling)
			libusb_cancel_transfer(tr_of(f));
	while (dev->emu && dev->inflight && be()->wait(dev->emu, 1000) == 0)
		;
	release(h);
	for (struct libusb_device_handle **p = &c->handles; *p; p = &(*p)->next)
		if (*p == h) {
			*p = h->next;
			break;
		}
	libusb_unref_device(dev);
	free(h);
}

libusb_device *LIBUSB_CALL libusb_get_device(libusb_device_handle *h)
{
	return h->dev;
}

int LIBUSB_CALL libusb_get_configuration(libusb_device_handle *h, int *config)
{
	(void)h;
	*config = 1;
	return 0;
}

int LIBUSB_CALL libusb_set_configuration(libusb_device_handle *h, int config)
{
	(void)h;
	return config == 1 || config == -1 ? 0 : LIBUSB_ERROR_NOT_FOUND;
}

int LIBUSB_CALL libusb_kernel_driver_active(libusb_device_handle *h, int iface)
{
	if (iface != 0)
		return LIBUSB_ERROR_NOT_FOUND;
	return h->dev->driver_bound;
}

int LIBUSB_CALL libusb_detach_kernel_driver(libusb_device_handle *h, int iface)
{
	if (iface != 0 || !h->dev->driver_bound)
		return LIBUSB_ERROR_NOT_FOUND;
	if (h->dev->ctx->mode == MODE_DRIVER_STUCK)
		return LIBUSB_ERROR_ACCESS;
	h->dev->driver_bound = 0;
	return 0;
}

int LIBUSB_CALL libusb_attach_kernel_driver(libusb_device_handle *h, int iface)
{
	enum mode m = h->dev->ctx->mode;
	if (iface != 0 || (m != MODE_DRIVER && m != MODE_DRIVER_STUCK))
		return LIBUSB_ERROR_NOT_FOUND;
	if (h->claimed)
		return LIBUSB_ERROR_BUSY;
	h->dev->driver_bound = 1;
	return 0;
}

int LIBUSB_CALL libusb_set_auto_detach_kernel_driver(libusb_device_handle *h, int enable)
{
	h->auto_detach = enable;
	return 0;
}

int LIBUSB_CALL libusb_claim_interface(libusb_device_handle *h, int iface)
{
	struct libusb_device *dev = h->dev;
	if (iface != 0)
		return LIBUSB_ERROR_NOT_FOUND;
	if (h->claimed)
		return 0;
	if (dev->ctx->mode == MODE_BUSY || dev->claimed)
		return LIBUSB_ERROR_BUSY;
	if (dev->driver_bound && h->auto_detach) {
		int r = libusb_detach_kernel_driver(h, 0);
		if (r)
			return r;
		h->auto_detached = 1;
	}
	if (dev->driver_bound)
		return LIBUSB_ERROR_BUSY;
	h->claimed = dev->claimed = 1;
	return 0;
}

int LIBUSB_CALL libusb_release_interface(libusb_device_handle *h, int iface)
{
	if (iface != 0 || !h->claimed)
		return LIBUSB_ERROR_NOT_FOUND;
	release(h);
	return 0;
}

int LIBUSB_CALL libusb_set_interface_alt_setting(libusb_device_handle *h, int iface, int alt)
{
	if (iface != 0 || !h->claimed)
		return LIBUSB_ERROR_NOT_FOUND;
	return alt == 0 ? 0 : LIBUSB_ERROR_NOT_FOUND;
}

int LIBUSB_CALL libusb_clear_halt(libusb_device_handle *h, unsigned char endpoint)
{
	(void)h;
	return endpoint == EP_IN || endpoint == EP_OUT ? 0 : LIBUSB_ERROR_NOT_FOUND;
}

int LIBUSB_CALL libusb_reset_device(libusb_device_handle *h)
{
	(void)h;
	return 0;
}

/* The emulated CH341A has no strings, like many clones. */
int LIBUSB_CALL libusb_get_string_descriptor_ascii(libusb_device_handle *h, uint8_t index, unsigned char *data, int length)
{
	(void)h;
	(void)data;
	(void)length;
	return index == 0 ? LIBUSB_ERROR_INVALID_PARAM : LIBUSB_ERROR_PIPE;
}

/* ---- transfers ------------------------------------------------------------ */

struct libusb_transfer *LIBUSB_CALL libusb_alloc_transfer(int iso_packets)
{
	if (iso_packets < 0)
		return NULL;
	size_t size = FX_SPACE + sizeof(struct libusb_transfer) +
		      (size_t)iso_packets * sizeof(struct libusb_iso_packet_descriptor);
	struct fx *f = calloc(1, size);
	if (!f)
		return NULL;
	struct libusb_transfer *t = tr_of(f);
	t->num_iso_packets = iso_packets;
	return t;
}

void LIBUSB_CALL libusb_free_transfer(struct libusb_transfer *t)
{
	if (!t)
		return;
	struct fx *f = fx_of(t);
	if (t->flags & LIBUSB_TRANSFER_FREE_BUFFER) {
		free(t->buffer);
		t->buffer = NULL;
	}
	/* Freeing a transfer in flight is the caller's bug; the emulator still
	 * points at it, so it is freed when it completes instead. */
	if (f->in_flight) {
		f->orphan = 1;
		if (!f->cancelling)
			libusb_cancel_transfer(t);
		return;
	}
	free(f);
}

static enum libusb_transfer_status transfer_status(const struct fx *f, const struct libusb_transfer *t)
{
	if (f->x.status == 0) {
		if ((t->flags & LIBUSB_TRANSFER_SHORT_NOT_OK) && t->actual_length < t->length)
			return LIBUSB_TRANSFER_ERROR;
		return LIBUSB_TRANSFER_COMPLETED;
	}
	if (f->why)
		return f->why;
	switch (f->x.status) {
	case BK_EGONE: return LIBUSB_TRANSFER_NO_DEVICE;
	case BK_ETIMEDOUT: return LIBUSB_TRANSFER_TIMED_OUT;
	default: return LIBUSB_TRANSFER_ERROR;
	}
}

/* Runs inside the emulator's wait, i.e. inside libusb_handle_events*. */
static void on_emu_done(struct bk_usb_xfer *x)
{
	struct fx *f = x->user;
	struct libusb_transfer *t = tr_of(f);
	unlink_fx(f);
	f->cancelling = 0;
	if (f->orphan) {
		free(f);
		return;
	}
	t->actual_length = (int)x->actual;
	t->status = transfer_status(f, t);
	/* Read before the callback, which may free or resubmit the transfer. */
	uint8_t flags = t->flags;
	if (t->callback)
		t->callback(t);
	if (flags & LIBUSB_TRANSFER_FREE_TRANSFER)
		libusb_free_transfer(t);
}

static int map_bk(int r)
{
	switch (r) {
	case 0: return 0;
	case BK_EGONE: return LIBUSB_ERROR_NO_DEVICE;
	case BK_ENOMEM: return LIBUSB_ERROR_NO_MEM;
	case BK_ETIMEDOUT: return LIBUSB_ERROR_TIMEOUT;
	default: return LIBUSB_ERROR_IO;
	}
}

int LIBUSB_CALL libusb_submit_transfer(struct libusb_transfer *t)
{
	struct fx *f = fx_of(t);
	libusb_device_handle *h = t->dev_handle;
	if (!h || t->length < 0 || (t->length && !t->buffer))
		return LIBUSB_ERROR_INVALID_PARAM;
	if (f->in_flight)
		return LIBUSB_ERROR_BUSY;
	struct libusb_device *dev = h->dev;
	dev->ctx->activity++;
	if (!dev->emu)
		return LIBUSB_ERROR_NOT_SUPPORTED; /* the UART-mode chip: nothing behind it */
	if (t->type != LIBUSB_TRANSFER_TYPE_BULK)
		return t->endpoint == EP_INT ? LIBUSB_ERROR_NOT_SUPPORTED : LIBUSB_ERROR_INVALID_PARAM;
	if (t->endpoint != EP_IN && t->endpoint != EP_OUT)
		return LIBUSB_ERROR_NOT_FOUND;
	/* The CH341A parses each OUT packet from its first byte, so an empty
	 * one means nothing to it; neither tool sends one. */
	if (t->length == 0)
		return LIBUSB_ERROR_INVALID_PARAM;
	f->x = (struct bk_usb_xfer){ .is_in = (t->endpoint & 0x80) != 0, .buf = t->buffer,
				     .length = (size_t)t->length, .done = on_emu_done, .user = f };
	f->why = 0;
	f->cancelling = 0;
	t->actual_length = 0;
	int r = be()->submit(dev->emu, &f->x);
	if (r)
		return map_bk(r);
	f->in_flight = 1;
	f->dev = dev;
	f->prev = NULL;
	f->next = dev->inflight;
	if (dev->inflight)
		dev->inflight->prev = f;
	dev->inflight = f;
	f->deadline_us = t->timeout ? be()->now_us(dev->emu) + (uint64_t)t->timeout * 1000 : 0;
	return 0;
}

static int cancel_as(struct fx *f, enum libusb_transfer_status why)
{
	if (!f->in_flight || f->cancelling)
		return LIBUSB_ERROR_NOT_FOUND;
	f->cancelling = 1;
	f->why = why;
	be()->cancel(f->dev->emu, &f->x);
	return 0;
}

int LIBUSB_CALL libusb_cancel_transfer(struct libusb_transfer *t)
{
	struct fx *f = fx_of(t);
	if (f->dev)
		f->dev->ctx->activity++;
	return cancel_as(f, LIBUSB_TRANSFER_CANCELLED);
}

/* Cancels the transfers whose timeout has passed; 1 if there were any. */
static int expire(struct libusb_device *dev)
{
	uint64_t now = be()->now_us(dev->emu);
	int any = 0;
	for (struct fx *f = dev->inflight; f; f = f->next)
		if (f->deadline_us && f->deadline_us <= now && !f->cancelling)
			any |= cancel_as(f, LIBUSB_TRANSFER_TIMED_OUT) == 0;
	return any;
}

int LIBUSB_CALL libusb_handle_events_timeout_completed(libusb_context *ctx, struct timeval *tv, int *completed)
{
	struct libusb_context *c = resolve(ctx);
	if (!c)
		return LIBUSB_ERROR_INVALID_PARAM;
	if (completed && *completed)
		return 0;
	c->activity++;
	struct libusb_device *dev = &c->dev;
	uint64_t budget = tv ? (uint64_t)tv->tv_sec * 1000000 + (uint64_t)tv->tv_usec : 0;
	if (!dev->emu)
		return 0;
	if (!dev->inflight) {
		/* Nothing can complete: a real libusb blocks for the timeout. */
		be()->sleep_us(dev->emu, budget);
		return 0;
	}
	/* Wake up no later than the first transfer timeout, to enforce it. */
	uint64_t now = be()->now_us(dev->emu);
	for (struct fx *f = dev->inflight; f; f = f->next) {
		if (!f->deadline_us || f->cancelling)
			continue;
		uint64_t left = f->deadline_us > now ? f->deadline_us - now : 0;
		if (left < budget)
			budget = left;
	}
	int r = be()->wait(dev->emu, (unsigned)((budget + 999) / 1000));
	if (r == 0 || r == BK_ETIMEDOUT) {
		if (expire(dev))
			r = be()->wait(dev->emu, 0);
		return r == BK_ENOMEM ? LIBUSB_ERROR_NO_MEM : 0;
	}
	/* Unplugged: every transfer has already ended with NO_DEVICE. */
	return r == BK_EGONE ? 0 : map_bk(r);
}

int LIBUSB_CALL libusb_handle_events_timeout(libusb_context *ctx, struct timeval *tv)
{
	return libusb_handle_events_timeout_completed(ctx, tv, NULL);
}

int LIBUSB_CALL libusb_handle_events_completed(libusb_context *ctx, int *completed)
{
	struct timeval tv = { .tv_sec = 60 };
	return libusb_handle_events_timeout_completed(ctx, &tv, completed);
}

int LIBUSB_CALL libusb_handle_events(libusb_context *ctx)
{
	return libusb_handle_events_completed(ctx, NULL);
}

static void LIBUSB_CALL sync_done(struct libusb_transfer *t)
{
	*(int *)t->user_data = 1;
}

static int sync_transfer(libusb_device_handle *h, unsigned char endpoint, unsigned char type,
			 unsigned char *data, int length, int *actual, unsigned int timeout)
{
	struct libusb_transfer *t = libusb_alloc_transfer(0);
	if (!t)
		return LIBUSB_ERROR_NO_MEM;
	int done = 0;
	libusb_fill_bulk_transfer(t, h, endpoint, data, length, sync_done, &done, timeout);
	t->type = type;
	int r = libusb_submit_transfer(t);
	if (r) {
		libusb_free_transfer(t);
		return r;
	}
	/* No timeout means none: a stuck transfer waits forever, as with
	 * libusb on real hardware. */
	while (!done) {
		r = libusb_handle_events_completed(h->dev->ctx, &done);
		if (r && !done) {
			libusb_cancel_transfer(t);
			while (!done && libusb_handle_events_completed(h->dev->ctx, &done) == 0)
				;
			break;
		}
	}
	if (actual)
		*actual = t->actual_length;
	if (!r) {
		switch (t->status) {
		case LIBUSB_TRANSFER_COMPLETED: r = 0; break;
		case LIBUSB_TRANSFER_TIMED_OUT: r = LIBUSB_ERROR_TIMEOUT; break;
		case LIBUSB_TRANSFER_STALL: r = LIBUSB_ERROR_PIPE; break;
		case LIBUSB_TRANSFER_OVERFLOW: r = LIBUSB_ERROR_OVERFLOW; break;
		case LIBUSB_TRANSFER_NO_DEVICE: r = LIBUSB_ERROR_NO_DEVICE; break;
		default: r = LIBUSB_ERROR_IO; break;
		}
	}
	libusb_free_transfer(t);
	return r;
}

int LIBUSB_CALL libusb_bulk_transfer(libusb_device_handle *h, unsigned char endpoint, unsigned char *data,
				     int length, int *actual, unsigned int timeout)
{
	return sync_transfer(h, endpoint, LIBUSB_TRANSFER_TYPE_BULK, data, length, actual, timeout);
}

int LIBUSB_CALL libusb_interrupt_transfer(libusb_device_handle *h, unsigned char endpoint, unsigned char *data,
					  int length, int *actual, unsigned int timeout)
{
	return sync_transfer(h, endpoint, LIBUSB_TRANSFER_TYPE_INTERRUPT, data, length, actual, timeout);
}

/* Standard requests a host may make of the device; the CH341A's vendor
 * requests are not emulated (neither tool uses them in SPI mode). */
int LIBUSB_CALL libusb_control_transfer(libusb_device_handle *h, uint8_t type, uint8_t request, uint16_t value,
					uint16_t index, unsigned char *data, uint16_t length, unsigned int timeout)
{
	(void)index;
	(void)timeout;
	h->dev->ctx->activity++;
	if (type == (LIBUSB_ENDPOINT_IN | LIBUSB_REQUEST_TYPE_STANDARD | LIBUSB_RECIPIENT_DEVICE)) {
		if (request == LIBUSB_REQUEST_GET_CONFIGURATION && length >= 1) {
			data[0] = 1;
			return 1;
		}
		if (request == LIBUSB_REQUEST_GET_DESCRIPTOR && value >> 8 == LIBUSB_DT_DEVICE) {
			struct libusb_device_descriptor d;
			libusb_get_device_descriptor(h->dev, &d);
			uint8_t raw[LIBUSB_DT_DEVICE_SIZE] = {
				d.bLength, d.bDescriptorType, (uint8_t)d.bcdUSB, (uint8_t)(d.bcdUSB >> 8),
				d.bDeviceClass, d.bDeviceSubClass, d.bDeviceProtocol, d.bMaxPacketSize0,
				(uint8_t)d.idVendor, (uint8_t)(d.idVendor >> 8), (uint8_t)d.idProduct,
				(uint8_t)(d.idProduct >> 8), (uint8_t)d.bcdDevice, (uint8_t)(d.bcdDevice >> 8),
				d.iManufacturer, d.iProduct, d.iSerialNumber, d.bNumConfigurations,
			};
			int n = length < sizeof raw ? length : (int)sizeof raw;
			memcpy(data, raw, (size_t)n);
			return n;
		}
	}
	return LIBUSB_ERROR_PIPE;
}

/* ---- the virtual clock ------------------------------------------------------ */

static struct libusb_context *clock_ctx(clockid_t id)
{
	if (id != CLOCK_MONOTONIC && id != CLOCK_MONOTONIC_RAW && id != CLOCK_BOOTTIME)
		return NULL;
	for (struct libusb_context *c = live; c; c = c->next)
		if (c->dev.emu)
			return c;
	return NULL;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
	struct libusb_context *c = clock_ctx(id);
	if (!c)
		return real_clock_gettime(id, ts);
	/* Two reads with nothing done between them are a busy-wait (flashrom's
	 * delay loop): each one costs a microsecond, so the loop ends after the
	 * virtual time it waits for. */
	if (c->activity == c->clock_seen)
		be()->sleep_us(c->dev.emu, 1);
	c->clock_seen = c->activity;
	uint64_t ns = c->clock_base_ns + be()->now_us(c->dev.emu) * 1000;
	ts->tv_sec = (time_t)(ns / 1000000000u);
	ts->tv_nsec = (long)(ns % 1000000000u);
	return 0;
}

static void virtual_sleep(struct libusb_context *c, uint64_t ns)
{
	be()->sleep_us(c->dev.emu, (ns + 999) / 1000);
	c->activity++;
}

int nanosleep(const struct timespec *req, struct timespec *rem)
{
	struct libusb_context *c = clock_ctx(CLOCK_MONOTONIC);
	if (!c)
		return real_nanosleep(req, rem);
	if (req->tv_sec < 0 || req->tv_nsec < 0 || req->tv_nsec >= 1000000000) {
		errno = EINVAL;
		return -1;
	}
	virtual_sleep(c, (uint64_t)req->tv_sec * 1000000000u + (uint64_t)req->tv_nsec);
	return 0;
}

int clock_nanosleep(clockid_t id, int flags, const struct timespec *req, struct timespec *rem)
{
	struct libusb_context *c = clock_ctx(id);
	if (!c) {
		long r = syscall(SYS_clock_nanosleep, id, flags, req, rem);
		return r < 0 ? errno : 0;
	}
	uint64_t want = (uint64_t)req->tv_sec * 1000000000u + (uint64_t)req->tv_nsec;
	if (flags & TIMER_ABSTIME) {
		uint64_t now = c->clock_base_ns + be()->now_us(c->dev.emu) * 1000;
		want = want > now ? want - now : 0;
	}
	virtual_sleep(c, want);
	return 0;
}

int usleep(useconds_t us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000 };
	return nanosleep(&ts, NULL);
}

unsigned int sleep(unsigned int s)
{
	struct timespec ts = { .tv_sec = s };
	return nanosleep(&ts, NULL) ? s : 0;
}
