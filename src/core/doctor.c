/* bkspi_doctor: the pre-flight report. Each step is the real operation a
 * job would do (open, enter, probe, read), so a pass here means the job's
 * own first steps will pass; what fails is named with its fix. */
#include "bkspi.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct report {
	struct bkspi_check *c;
	size_t n;
	int first;
};

static void add(struct report *r, const char *name, enum bkspi_verdict v, int code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void add(struct report *r, const char *name, enum bkspi_verdict v, int code, const char *fmt, ...)
{
	if (r->n == BKSPI_DOCTOR_MAX)
		return;
	struct bkspi_check *c = &r->c[r->n++];
	c->name = name;
	c->verdict = v;
	c->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->text, sizeof c->text, fmt, ap);
	va_end(ap);
	if (v == BKSPI_FAIL && !r->first)
		r->first = code;
}

/* Where the installed rule lives, by distribution and install prefix. */
static int udev_rule_installed(void)
{
	static const char *const dirs[] = { "/etc/udev/rules.d", "/usr/lib/udev/rules.d", "/lib/udev/rules.d",
					    "/usr/local/lib/udev/rules.d" };
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		char p[128];
		snprintf(p, sizeof p, "%s/60-bkspi-ch341a.rules", dirs[i]);
		if (access(p, F_OK) == 0)
			return 1;
	}
	return 0;
}

/* The programmer's open, split into the steps it took: which one failed
 * follows from the code it failed with. */
static int open_steps(bkspi *h, struct report *r, int simulated)
{
	static const struct {
		const char *name;
		int code;
		const char *ok;
	} steps[] = {
		{ "libusb", BKSPI_ENOUSB, "USB can be used" },
		{ "programmer", BKSPI_ENODEV, "found" },
		{ "permission", BKSPI_EACCESS, "it can be opened" },
		{ "interface", BKSPI_EBUSY, "claimed (no kernel driver or other program holds it)" },
	};
	size_t n = sizeof steps / sizeof steps[0], failed = n;
	int rc = bkspi_connect(h);
	for (size_t i = 0; rc && i < n && failed == n; i++)
		if (rc == steps[i].code)
			failed = i;
	if (rc && failed == n)
		failed = n - 1; /* setting it up after claiming it: still the interface */
	for (size_t i = 0; i < n; i++) {
		if (i == failed) {
			add(r, steps[i].name, BKSPI_FAIL, rc, "%s", bkspi_errmsg(h));
			return rc;
		}
		if (simulated) {
			add(r, steps[i].name, BKSPI_PASS, 0, "simulated programmer (%s): no USB involved",
			    bkspi_programmer(h));
			continue;
		}
		if (i == 2 && getuid() != 0 && !udev_rule_installed())
			add(r, steps[i].name, BKSPI_WARN, 0,
			    "%s, but no bkspi udev rule is installed: other users (and you after a relogin) may be denied; see README 'Permissions'",
			    steps[i].ok);
		else
			add(r, steps[i].name, BKSPI_PASS, 0, "%s", steps[i].ok);
	}
	return 0;
}

#define WIRE_BYTES (16u * 1024)

int bkspi_doctor(bkspi *h, struct bkspi_check out[BKSPI_DOCTOR_MAX], size_t *n)
{
	struct report r = { .c = out };
	int rc = open_steps(h, &r, !strncmp(bkspi_programmer(h), "sim", 3));
	struct bkspi_detect_report d;
	if (!rc) {
		rc = bkspi_detect(h, &d);
		if (rc)
			add(&r, "entry", BKSPI_FAIL, rc, "%s", bkspi_errmsg(h));
	}
	if (!rc) {
		if (d.entry.beken)
			add(&r, "entry", BKSPI_PASS, 0, "Beken chip in SPI mode (attempt %u, %s)", d.entry.attempts,
			    d.entry.echo ? "0xD2 echo" : d.entry.long_flush ? "no echo, long flush" : "no echo");
		else
			add(&r, "entry", BKSPI_PASS, 0, "plain SPI flash: no entry needed");
		add(&r, "flash", BKSPI_PASS, 0, "%s %s, JEDEC ID %06X, %u KiB (size from %s)", d.flash.vendor, d.flash.part,
		    d.flash.jedec, d.flash.size / 1024, d.flash.size_from);
		add(&r, "protection", d.status.srp ? BKSPI_WARN : BKSPI_PASS, 0, "SR1=0x%02X%s protects %s%s", d.status.sr1,
		    d.status.has_sr2 ? "" : " (no SR2),", d.status.protected_desc,
		    d.status.srp ? "; SRP is set: if WP# is held low, writes will fail until it is pulled to 3.3 V"
				 : d.status.prot_len ? "; write clears it before erasing" : "");
		uint8_t *a = malloc(2 * WIRE_BYTES);
		struct bkspi_read_req req = { .addr = 0, .len = WIRE_BYTES < d.flash.size ? WIRE_BYTES : d.flash.size };
		struct bkspi_read_report rep;
		if (!a)
			rc = BKSPI_ENOMEM;
		if (!rc)
			rc = bkspi_read(h, &req, a, &rep);
		if (!rc)
			rc = bkspi_read(h, &req, a + WIRE_BYTES, &rep);
		if (rc) {
			add(&r, "wire", BKSPI_FAIL, rc, "%s", rc == BKSPI_ENOMEM ? "out of memory" : bkspi_errmsg(h));
		} else if (memcmp(a, a + WIRE_BYTES, req.len)) {
			uint32_t bad = 0;
			for (uint32_t i = 0; i < req.len; i++)
				bad += a[i] != a[WIRE_BYTES + i];
			rc = BKSPI_EUNSTABLE;
			add(&r, "wire", BKSPI_FAIL, rc,
			    "two reads of the first %u KiB differ in %u bytes: the wire is marginal; shorten the wires, check GND and the 3.3 V supply",
			    req.len / 1024, bad);
		} else {
			add(&r, "wire", BKSPI_PASS, 0, "two reads of the first %u KiB agree", req.len / 1024);
		}
		free(a);
	}
	*n = r.n;
	return r.first;
}
