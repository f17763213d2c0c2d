#include "emu/config.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "emu/internal.h"

enum kind { K_BOOL, K_NUM, K_IMAGE, K_STYLE, K_WIRE, K_PROG, K_CEN, K_SIGNAL };

static const struct key {
	const char *name;
	enum kind kind;
	size_t off, width;
	uint64_t max;
} keys[] = {
#define NUM(n, f, m) { n, K_NUM, offsetof(struct emu_config, f), sizeof(((struct emu_config *)0)->f), m }
#define BOOL(n, f) { n, K_BOOL, offsetof(struct emu_config, f), sizeof(int), 1 }
	{ "image", K_IMAGE, 0, 0, 0 },
	{ "programmer", K_PROG, 0, 0, 0 },
	{ "cen", K_CEN, 0, 0, 0 },
	NUM("entry-max-hz", entry_max_hz, UINT32_MAX),
	NUM("wire-max-hz", wire_max_hz, UINT32_MAX),
	NUM("size", size, BK_MAX_FLASH),
	NUM("jedec", jedec, 0xFFFFFF),
	BOOL("sr2", sr2),
	BOOL("wrsr31", wrsr31),
	BOOL("sfdp", sfdp),
	BOOL("beken", beken),
	{ "style", K_STYLE, 0, 0, 0 },
	NUM("entry-fails", entry_fails, 1000),
	NUM("protect", boot_sr1, 0xFF),
	NUM("protect-sr2", boot_sr2, 0xFF),
	BOOL("wp-locked", wp_locked),
	BOOL("stuck-wip", stuck_wip),
	NUM("bad-byte", bad_byte, BK_MAX_FLASH),
	NUM("flip-ppm", flip_ppm, 1000000),
	NUM("seed", seed, UINT64_MAX),
	{ "wire", K_WIRE, 0, 0, 0 },
	NUM("unplug-after", unplug_after, UINT64_MAX),
	NUM("usb-error-at", usb_error_at, UINT64_MAX),
	NUM("usb-out-error-at", usb_out_error_at, UINT64_MAX),
	NUM("usb-timeout-at", usb_timeout_at, UINT64_MAX),
	NUM("interrupt-after", interrupt_after, UINT64_MAX),
	{ "interrupt-signal", K_SIGNAL, 0, 0, 0 },
#undef NUM
#undef BOOL
};

static const char *const programmers[] = { "ch341a", "ch347t", "ch347f" };
static const char *const wires[] = { "ok", "miso-open", "miso-short", "cen-open", "mosi-open", "cs-open" };

static const struct {
	const char *name;
	int sig;
} signals[] = { { "INT", SIGINT }, { "TERM", SIGTERM }, { "HUP", SIGHUP }, { "QUIT", SIGQUIT } };

static void store(void *field, size_t width, uint64_t v)
{
	switch (width) {
	case 1: *(uint8_t *)field = (uint8_t)v; break;
	case 4: *(uint32_t *)field = (uint32_t)v; break;
	default: *(uint64_t *)field = v; break;
	}
}

int emu_config_apply(struct emu_config *c, const char *kv, struct bk_err *err)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
	const char *val = eq ? eq + 1 : "1";
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const struct key *k = &keys[i];
		if (strlen(k->name) != klen || strncmp(k->name, kv, klen))
			continue;
		void *field = (char *)c + k->off;
		switch (k->kind) {
		case K_IMAGE: {
			char *dup = strdup(val);
			if (!dup)
				return bk_fail(err, BK_ENOMEM, "out of memory");
			free(c->image);
			c->image = dup;
			return 0;
		}
		case K_STYLE:
			if (!strcmp(val, "echo") || !strcmp(val, "flush")) {
				c->style = !strcmp(val, "echo") ? STYLE_ECHO : STYLE_FLUSH;
				return 0;
			}
			return bk_fail(err, BK_EINVAL, "simulator: style must be echo or flush, not '%s'", val);
		case K_PROG:
			for (size_t v = 0; v < sizeof programmers / sizeof programmers[0]; v++)
				if (!strcmp(val, programmers[v])) {
					c->programmer = (enum emu_prog)v;
					return 0;
				}
			return bk_fail(err, BK_EINVAL, "simulator: programmer must be ch341a, ch347t or ch347f, not '%s'", val);
		case K_CEN:
			if (!strcmp(val, "cs1")) {
				c->cen_line = EMU_CEN_CS1;
				return 0;
			}
			if (!strncmp(val, "gpio", 4) && val[4] >= '0' && val[4] <= '7' && !val[5]) {
				c->cen_line = val[4] - '0';
				return 0;
			}
			return bk_fail(err, BK_EINVAL, "simulator: cen must be cs1 or gpio0 to gpio7, not '%s'", val);
		case K_WIRE:
			for (size_t w = 0; w < sizeof wires / sizeof wires[0]; w++)
				if (!strcmp(val, wires[w])) {
					c->wire = (enum emu_wire)w;
					return 0;
				}
			return bk_fail(err, BK_EINVAL,
				       "simulator: wire must be ok, miso-open, miso-short, cen-open, mosi-open or cs-open");
		case K_SIGNAL:
			for (size_t s = 0; s < sizeof signals / sizeof signals[0]; s++)
				if (!strcmp(val, signals[s].name)) {
					c->interrupt_signal = signals[s].sig;
					return 0;
				}
			return bk_fail(err, BK_EINVAL, "simulator: interrupt-signal must be INT, TERM, HUP or QUIT");
		case K_BOOL:
		case K_NUM: {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(val, &end, 0);
			/* size=2M: the same K/M suffixes as the command line. */
			unsigned long long unit = *end == 'K' || *end == 'k' ? 1024 : *end == 'M' || *end == 'm' ? 1u << 20 : 1;
			if (unit > 1 && k->kind == K_NUM && end != val)
				end++;
			if (!isdigit((unsigned char)*val) || *end || errno == ERANGE || v > k->max / unit)
				return bk_fail(err, BK_EINVAL, "simulator: bad value '%s' for %s (at most %llu)", val,
					       k->name, (unsigned long long)k->max);
			v *= unit;
			if (k->kind == K_BOOL)
				*(int *)field = (int)v;
			else
				store(field, k->width, v);
			return 0;
		}
		}
	}
	return bk_fail(err, BK_EINVAL, "simulator: unknown setting '%.*s' (see README 'Simulator')",
		       (int)klen, kv);
}

int emu_config_parse(struct emu_config *c, const char *text, struct bk_err *err)
{
	*c = (struct emu_config){
		.size = 2u << 20, .sr2 = 1, .wrsr31 = 1, .sfdp = 1, .beken = 1,
		.style = STYLE_ECHO, .boot_sr1 = 0x1C, .bad_byte = -1, .cen_line = EMU_CEN_CS1,
		.interrupt_signal = SIGINT,
	};
	if (!text)
		return 0;
	char *copy = strdup(text);
	if (!copy)
		return bk_fail(err, BK_ENOMEM, "out of memory");
	int r = 0;
	char *save = NULL;
	for (char *kv = strtok_r(copy, ",", &save); kv && !r; kv = strtok_r(NULL, ",", &save))
		r = emu_config_apply(c, kv, err);
	free(copy);
	if (!r && (c->size < BK_MIN_FLASH || (c->size & (c->size - 1))))
		r = bk_fail(err, BK_EINVAL, "simulator: size must be a power of two from 64 KiB to 16 MiB");
	if (r)
		emu_config_free(c);
	return r;
}

void emu_config_free(struct emu_config *c)
{
	free(c->image);
	c->image = NULL;
}
