/* The WebUSB backend: the browser's navigator.usb behind the same seam as
 * libusb, for the web build (Emscripten with ASYNCIFY). Transfers are
 * started as promises at submit time, so as many are queued as the
 * pipeline submits, and wait() awaits the first to settle.
 *
 * The JavaScript half keeps each open device in Module.bkWebUsb.devs and
 * reads the time from Module.bkClock ({ now_us(), sleep_us(us) -> promise })
 * when the page provides one (the emulator's virtual clock in the tests),
 * else from performance.now() and setTimeout. */
#include <emscripten.h>
#include <stdlib.h>

#include "usb/usb.h"

/* What wu_open reports, besides a device number >= 1. */
enum {
	WU_NO_WEBUSB = -1,   /* navigator.usb missing */
	WU_NOT_CHOSEN = -2,  /* the picker was closed with nothing chosen */
	WU_OPEN = -3,        /* open() failed: access denied */
	WU_CLAIM = -4,       /* selectConfiguration/claimInterface failed */
	WU_GONE = -5,        /* unplugged while opening */
};

enum { OS_OTHER, OS_WINDOWS, OS_LINUX, OS_MAC, OS_CHROMEOS, OS_ANDROID };

/* clang-format off */
EM_JS(void, wu_init, (void), {
	if (Module.bkWebUsb)
		return;
	const w = { devs: [null], gone: new Set() };
	w.clock = () => Module.bkClock || {
		now_us: () => Math.round(performance.now() * 1000),
		sleep_us: (us) => new Promise((r) => setTimeout(r, Math.ceil(us / 1000)))
	};
	if (typeof navigator !== "undefined" && navigator.usb)
		navigator.usb.addEventListener("disconnect", (ev) => w.gone.add(ev.device));
	Module.bkWebUsb = w;
});

EM_JS(int, wu_platform, (void), {
	const ua = (typeof navigator !== "undefined" && navigator.userAgent) || "";
	if (/Windows/.test(ua)) return 1;
	if (/Android/.test(ua)) return 5;
	if (/CrOS/.test(ua)) return 4;
	if (/Mac OS X|Macintosh/.test(ua)) return 3;
	if (/Linux/.test(ua)) return 2;
	return 0;
});

EM_ASYNC_JS(int, wu_open, (int vid, int pid, int iface, int ep_out, int ep_in), {
	const w = Module.bkWebUsb;
	if (typeof navigator === "undefined" || !navigator.usb)
		return -1;
	let dev = (await navigator.usb.getDevices()).find((d) => d.vendorId === vid && d.productId === pid);
	if (!dev) {
		try {
			dev = await navigator.usb.requestDevice({ filters: [{ vendorId: vid, productId: pid }] });
		} catch (e) {
			return -2;
		}
	}
	w.gone.delete(dev);
	try {
		if (!dev.opened)
			await dev.open();
	} catch (e) {
		return w.gone.has(dev) ? -5 : -3;
	}
	try {
		if (!dev.configuration || dev.configuration.configurationValue !== 1)
			await dev.selectConfiguration(1);
		await dev.claimInterface(iface);
	} catch (e) {
		dev.close().catch(() => {});
		return w.gone.has(dev) ? -5 : -4;
	}
	/* done: transfers settled and not yet handed to C, in settling order;
	 * orphans: IN transfers whose C side was cancelled but which the
	 * browser still runs; the next IN adopts one, so no reply is lost. */
	const d = { dev, iface, out: ep_out & 0x7f, in: ep_in & 0x7f, live: new Map(), done: [], orphans: [],
		    wake: null };
	w.devs.push(d);
	return w.devs.length - 1;
});

EM_JS(void, wu_submit, (int id, int token, int is_in, uint8_t *buf, int len), {
	const w = Module.bkWebUsb, d = w.devs[id];
	const t = { token, is_in, len, status: 0, data: null, settled: false };
	const settle = (status, data) => {
		t.settled = true;
		t.status = status;
		t.data = data;
		if (!d.live.has(token) || d.live.get(token) !== t)
			return;
		d.done.push(t);
		if (d.wake)
			d.wake();
	};
	/* BK_EGONE for an unplugged device, BK_EUSB for anything else. */
	const fail = (e) => settle(w.gone.has(d.dev) || (e && e.name === "NotFoundError") ? -15 : -13, null);
	d.live.set(token, t);
	if (!is_in) {
		const bytes = HEAPU8.slice(buf, buf + len);
		d.dev.transferOut(d.out, bytes).then((r) => settle(r.status === "ok" ? 0 : -13, r.bytesWritten), fail);
		return;
	}
	t.p = d.orphans.length ? d.orphans.shift() : d.dev.transferIn(d.in, len);
	t.p.then((r) => settle(r.status === "ok" ? 0 : -13, r.data), fail);
});

/* Resolves when a transfer has settled, or after timeout_ms. */
EM_ASYNC_JS(int, wu_wait, (int id, int timeout_ms), {
	const d = Module.bkWebUsb.devs[id];
	if (d.done.length)
		return 1;
	let timer;
	await new Promise((resolve) => {
		d.wake = resolve;
		timer = setTimeout(resolve, timeout_ms);
	});
	clearTimeout(timer);
	d.wake = null;
	return d.done.length ? 1 : 0;
});

/* Hands the first settled transfer to C: copies IN data into buf and
 * returns its token, with status and length through the pointers. */
EM_JS(int, wu_take, (int id, int *status, int *actual, uint8_t *buf, int cap), {
	const d = Module.bkWebUsb.devs[id];
	const t = d.done.shift();
	d.live.delete(t.token);
	let n = 0;
	if (t.is_in && t.data) {
		n = t.data.byteLength;
		if (n > cap) {
			n = 0;
			t.status = -13;
		}
		HEAPU8.set(new Uint8Array(t.data.buffer, t.data.byteOffset, n), buf);
	} else if (!t.is_in && typeof t.data === "number") {
		n = t.data;
	}
	HEAP32[status >> 2] = t.status;
	HEAP32[actual >> 2] = n;
	return t.token;
});

EM_JS(int, wu_peek, (int id), {
	const d = Module.bkWebUsb.devs[id];
	return d.done.length ? d.done[0].token : 0;
});

/* WebUSB cannot cancel one transfer: the C side is told at once, and an
 * IN the browser keeps running becomes an orphan the next IN adopts. */
EM_JS(void, wu_cancel, (int id, int token), {
	const d = Module.bkWebUsb.devs[id];
	const t = d.live.get(token);
	if (!t || d.done.includes(t))
		return;
	const c = { token, is_in: t.is_in, len: t.len, status: -13, data: null, settled: true };
	d.live.set(token, c);
	d.done.push(c);
	if (t.is_in && !t.settled)
		d.orphans.push(t.p);
});

EM_ASYNC_JS(void, wu_sleep_us, (double us), {
	await Module.bkWebUsb.clock().sleep_us(us);
});

EM_JS(double, wu_now_us, (void), {
	return Module.bkWebUsb.clock().now_us();
});

EM_JS(void, wu_close, (int id), {
	const w = Module.bkWebUsb, d = w.devs[id];
	w.devs[id] = null;
	d.dev.releaseInterface(d.iface).catch(() => {}).then(() => d.dev.close()).catch(() => {});
});
/* clang-format on */

struct wu {
	int id;
	unsigned pending;
};

static int wu_submit_xfer(void *dev, struct bk_usb_xfer *x)
{
	struct wu *d = dev;
	x->priv = d;
	d->pending++;
	wu_submit(d->id, (int)(intptr_t)x, x->is_in, x->buf, (int)x->length);
	return 0;
}

static int wu_wait_xfer(void *dev, unsigned timeout_ms)
{
	struct wu *d = dev;
	if (!wu_wait(d->id, (int)timeout_ms))
		return d->pending ? BK_ETIMEDOUT : 0;
	int gone = 0;
	for (int token; (token = wu_peek(d->id));) {
		struct bk_usb_xfer *x = (struct bk_usb_xfer *)(intptr_t)token;
		int status, actual;
		wu_take(d->id, &status, &actual, x->buf, (int)x->length);
		x->status = status;
		x->actual = (size_t)actual;
		x->priv = NULL;
		d->pending--;
		gone |= status == BK_EGONE;
		x->done(x);
	}
	/* Like libusb: the transfers report the unplug, and so does wait. */
	return gone ? BK_EGONE : 0;
}

static void wu_cancel_xfer(void *dev, struct bk_usb_xfer *x)
{
	struct wu *d = dev;
	if (x->priv == d)
		wu_cancel(d->id, (int)(intptr_t)x);
}

static void wu_sleep(void *dev, uint64_t us)
{
	(void)dev;
	wu_sleep_us((double)us);
}

static uint64_t wu_now(void *dev)
{
	(void)dev;
	return (uint64_t)wu_now_us();
}

static void wu_close_dev(void *dev)
{
	struct wu *d = dev;
	wu_close(d->id);
	free(d);
}

static const struct bk_usb_backend wu_backend = {
	.name = "WebUSB",
	.submit = wu_submit_xfer,
	.wait = wu_wait_xfer,
	.cancel = wu_cancel_xfer,
	.sleep_us = wu_sleep,
	.now_us = wu_now,
	.close = wu_close_dev,
};

/* Where the fix for a device the browser may not claim lives, by system. */
static const char *claim_fix(void)
{
	switch (wu_platform()) {
	case OS_WINDOWS:
		return "Windows has given it to another driver (the vendor's CH341 driver): install WinUSB for "
		       "\"USB-EPP/I2C... CH341A\" (1a86:5512) with Zadig (zadig.akeo.ie), then unplug and replug it; "
		       "the vendor driver can be put back later from Device Manager";
	case OS_LINUX:
	case OS_CHROMEOS:
		return "another program or a kernel driver holds it, or the browser may not open it: close other "
		       "programs using it and install the udev rule from README 'Permissions' "
		       "(contrib/60-bkspi-ch341a.rules), then replug it";
	case OS_ANDROID:
		return "another app holds it: close it, replug the programmer and allow the browser to use it";
	default:
		return "another program holds it: close other programs using it and replug it";
	}
}

/* In the web build the platform's USB is WebUSB, so the drivers run
 * unchanged. Nothing is ever detached. */
int bk_usb_open(const struct bk_usb_match *m, struct bk_err *err, struct bk_usb **out, struct bk_usb_opened *info)
{
	*info = (struct bk_usb_opened){ .pid = m->pid, .iface = m->iface < 0 ? 0 : m->iface };
	wu_init();
	int id = wu_open(m->vid, m->pid, m->iface < 0 ? 0 : m->iface, m->ep_out, m->ep_in);
	switch (id) {
	case WU_NO_WEBUSB:
		return bk_fail(err, BK_ENOUSB,
			       "this browser has no WebUSB: open the page in Chrome, Edge, Opera or another Chromium "
			       "browser (Firefox and Safari do not support WebUSB)");
	case WU_NOT_CHOSEN:
		return bk_fail(err, BK_ENODEV,
			       "no %s was chosen: click Connect and pick \"%s\" (USB %04x:%04x) in the browser's list; "
			       "if it is not listed, check the cable and that its jumper is on I2C/SPI",
			       m->name, m->name, m->vid, m->pid);
	case WU_OPEN:
	case WU_CLAIM:
		return bk_fail(err, id == WU_OPEN ? BK_EACCESS : BK_EBUSY, "the browser cannot claim the %s: %s",
			       m->name, claim_fix());
	case WU_GONE:
		return bk_fail(err, BK_EGONE, "the %s was unplugged while it was being opened: plug it in and "
			       "click Connect again", m->name);
	default:
		break;
	}
	struct wu *d = calloc(1, sizeof *d);
	if (!d) {
		wu_close(id);
		return bk_fail(err, BK_ENOMEM, "out of memory");
	}
	d->id = id;
	return bk_usb_wrap(&wu_backend, d, m->name, err, out);
}
