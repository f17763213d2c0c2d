/* What the decoded store says about the device: module, pins and their
 * roles, and which keys and fields hold secrets. The tables here are data;
 * their sources are public descriptions of Tuya's user_param_key (the
 * LibreTiny "Tuya pin config" notes, the BK7231 GUI flash tool) and
 * OpenBeken's pin role names. */
#include "beken/tuya.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include "beken/internal.h"

/* ---- pin keys ------------------------------------------------------- */

enum num { NUM_NONE, NUM_OPT, NUM_REQ };
enum bus { BUS_NONE, BUS_SCL, BUS_SDA };

/* A key is <stem><digits?><suffix>; its level is the same key with a
 * trailing "_pin" replaced by "_lv". */
struct pin_rule {
	const char *stem;
	enum num num;
	const char *suffix;
	const char *role;
	unsigned channel;   /* when the key has no number */
	int def_level;      /* the level Tuya assumes when there is no _lv */
	const char *obk_hi; /* OpenBeken role when active high */
	const char *obk_lo; /* when active low */
	enum bus bus;       /* I2C light driver pins: role from dmod */
};

static const struct pin_rule pin_rules[] = {
	/* stem        num      suffix        role          ch lvl obk high        obk low */
	{ "rl",        NUM_REQ, "_pin",       "relay",       1, 1, "Rel",         "Rel_n", BUS_NONE },
	{ "rl_on",     NUM_REQ, "_pin",       "relay_on",    1, 1, NULL,          NULL, BUS_NONE },
	{ "rl_off",    NUM_REQ, "_pin",       "relay_off",   1, 1, NULL,          NULL, BUS_NONE },
	{ "bt",        NUM_REQ, "_pin",       "button",      1, 0, "Btn_n",       "Btn", BUS_NONE },
	{ "total_bt",  NUM_NONE, "_pin",      "button_all",  0, 0, "Btn_Tgl_All_n", "Btn_Tgl_All", BUS_NONE },
	{ "reset",     NUM_NONE, "_pin",      "reset_button", 0, 0, NULL,         NULL, BUS_NONE },
	{ "key",       NUM_NONE, "_pin",      "key",         0, 0, NULL,          NULL, BUS_NONE },
	{ "k",         NUM_REQ, "pin_pin",    "key",         1, 0, NULL,          NULL, BUS_NONE },
	{ "led",       NUM_OPT, "_pin",       "led",         1, 1, "LED",         "LED_n", BUS_NONE },
	{ "netled",    NUM_OPT, "_pin",       "wifi_led",    0, 1, "WifiLED",     "WifiLED_n", BUS_NONE },
	{ "wfst",      NUM_NONE, "_pin",      "wifi_led",    0, 1, "WifiLED",     "WifiLED_n", BUS_NONE },
	{ "r",         NUM_NONE, "_pin",      "pwm_red",     1, 1, "PWM",         "PWM_n", BUS_NONE },
	{ "g",         NUM_NONE, "_pin",      "pwm_green",   2, 1, "PWM",         "PWM_n", BUS_NONE },
	{ "b",         NUM_NONE, "_pin",      "pwm_blue",    3, 1, "PWM",         "PWM_n", BUS_NONE },
	{ "c",         NUM_NONE, "_pin",      "pwm_cold",    4, 1, "PWM",         "PWM_n", BUS_NONE },
	{ "w",         NUM_NONE, "_pin",      "pwm_warm",    5, 1, "PWM",         "PWM_n", BUS_NONE },
	{ "ctrl",      NUM_NONE, "_pin",      "control",     0, 1, NULL,          NULL, BUS_NONE },
	{ "iicscl",    NUM_NONE, "",          "i2c_scl",     0, 1, NULL,          NULL, BUS_SCL },
	{ "iicsda",    NUM_NONE, "",          "i2c_sda",     0, 1, NULL,          NULL, BUS_SDA },
	{ "ele",       NUM_NONE, "_pin",      "power_cf",    0, 1, "BL0937CF",    "BL0937CF", BUS_NONE },
	{ "vi",        NUM_NONE, "_pin",      "power_cf1",   0, 1, "BL0937CF1",   "BL0937CF1", BUS_NONE },
	{ "sel_pin",   NUM_NONE, "_pin",      "power_sel",   0, 1, "BL0937SEL",   "BL0937SEL_n", BUS_NONE },
	{ "infre",     NUM_NONE, "",          "ir_send",     0, 1, "IRSend",      "IRSend", BUS_NONE },
	{ "infrr",     NUM_NONE, "",          "ir_receive",  0, 1, "IRRecv",      "IRRecv", BUS_NONE },
	{ "door",      NUM_REQ, "_magt_pin",  "door",        1, 1, "dInput",      "dInput_n", BUS_NONE },
	{ "pirin",     NUM_NONE, "_pin",      "motion",      1, 1, "dInput",      "dInput_n", BUS_NONE },
};

/* Tuya's dmod (light driver) -> the OpenBeken driver and its pin roles. */
static const struct light_driver {
	int dmod;
	const char *driver, *clk, *dat;
} light_drivers[] = {
	{ 2, "SM2135", "SM2135CLK", "SM2135DAT" },
	{ 3, "SM2135", "SM2135CLK", "SM2135DAT" },
	{ 4, "SM2135", "SM2135CLK", "SM2135DAT" },
	{ 5, "BP1658CJ", "BP1658CJ_CLK", "BP1658CJ_DAT" },
	{ 6, "BP5758D", "BP5758D_CLK", "BP5758D_DAT" },
	{ 7, "SM2235", "SM2235CLK", "SM2235DAT" },
};

static const struct light_driver *light_driver(int dmod)
{
	for (size_t i = 0; i < sizeof light_drivers / sizeof light_drivers[0]; i++)
		if (light_drivers[i].dmod == dmod)
			return &light_drivers[i];
	return NULL;
}

const char *bk_tuya_obk_driver(const struct bk_tuya_store *st)
{
	for (uint32_t i = 0; st && i < st->n_pins; i++) {
		if (!strncmp(st->pins[i].role, "i2c_", 4)) {
			const struct light_driver *d = light_driver(st->dmod);
			return d ? d->driver : NULL;
		}
	}
	return NULL;
}

/* ---- secrets -------------------------------------------------------- */

/* Entries known to hold nothing secret; every other one is masked. */
static const char *const plain_keys[] = {
	"user_param_key", "baud_cfg", "is_stride", "wf_start_md", "tls_ca_cnt", "timer_arr",
};

/* Field names (substrings, any case) that mark a secret inside a value. */
static const char *const secret_words[] = {
	"pass", "pwd", "psk", "ssid", "key", "token", "secret", "uuid", "auth", "cert",
};

int bk_tuya_is_secret_key(const char *name)
{
	for (size_t i = 0; name && i < sizeof plain_keys / sizeof plain_keys[0]; i++)
		if (!strcmp(name, plain_keys[i]))
			return 0;
	return 1;
}

int bk_tuya_is_secret_field(const char *field, size_t len)
{
	for (size_t w = 0; w < sizeof secret_words / sizeof secret_words[0]; w++) {
		size_t wl = strlen(secret_words[w]);
		for (size_t i = 0; i + wl <= len; i++) {
			size_t k = 0;
			while (k < wl && tolower((unsigned char)field[i + k]) == secret_words[w][k])
				k++;
			if (k == wl)
				return 1;
		}
	}
	return 0;
}

/* ---- user_param_key ------------------------------------------------- */

/* Tuya writes user_param_key as JSON without quotes ({module:CB2S,
 * rl1_pin:26}); others quote. Both read as flat key:value pairs: braces,
 * brackets and commas separate, quotes and blanks around either side go. */
struct pair {
	const char *k, *v;
	size_t kn, vn;
};

#define MAX_PAIRS 512u

static int is_sep(uint8_t c)
{
	return c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == '\0';
}

static void trim(const char **s, size_t *n)
{
	while (*n && (isspace((unsigned char)**s) || **s == '"')) {
		(*s)++;
		(*n)--;
	}
	while (*n && (isspace((unsigned char)(*s)[*n - 1]) || (*s)[*n - 1] == '"'))
		(*n)--;
}

static size_t split_pairs(const uint8_t *p, size_t n, struct pair *out, size_t cap)
{
	size_t count = 0, i = 0;
	while (i < n && count < cap) {
		while (i < n && is_sep(p[i]))
			i++;
		size_t start = i;
		while (i < n && !is_sep(p[i]))
			i++;
		const uint8_t *colon = memchr(p + start, ':', i - start);
		if (!colon)
			continue;
		struct pair *pr = &out[count];
		pr->k = (const char *)p + start;
		pr->kn = (size_t)(colon - (p + start));
		pr->v = (const char *)colon + 1;
		pr->vn = (size_t)(p + i - (colon + 1));
		trim(&pr->k, &pr->kn);
		trim(&pr->v, &pr->vn);
		if (pr->kn)
			count++;
	}
	return count;
}

static const struct pair *lookup(const struct pair *pairs, size_t n, const char *k, size_t kn)
{
	for (size_t i = 0; i < n; i++)
		if (pairs[i].kn == kn && !memcmp(pairs[i].k, k, kn))
			return &pairs[i];
	return NULL;
}

/* A small decimal number (GPIOs, levels, dmod), else -1. */
static long small_num(const struct pair *p)
{
	if (!p || !p->vn || p->vn > 6)
		return -1;
	long v = 0;
	for (size_t i = 0; i < p->vn; i++) {
		if (!isdigit((unsigned char)p->v[i]))
			return -1;
		v = v * 10 + (p->v[i] - '0');
	}
	return v;
}

/* The rule a key matches, and the number in it. */
static const struct pin_rule *match_rule(const char *k, size_t kn, unsigned *number, int *numbered)
{
	for (size_t r = 0; r < sizeof pin_rules / sizeof pin_rules[0]; r++) {
		const struct pin_rule *pr = &pin_rules[r];
		size_t sl = strlen(pr->stem), xl = strlen(pr->suffix);
		if (kn < sl + xl || memcmp(k, pr->stem, sl) || memcmp(k + kn - xl, pr->suffix, xl))
			continue;
		size_t dn = kn - sl - xl;
		const char *d = k + sl;
		if ((pr->num == NUM_NONE && dn) || (pr->num == NUM_REQ && !dn) || dn > 3)
			continue;
		unsigned v = 0;
		size_t i = 0;
		while (i < dn && isdigit((unsigned char)d[i]))
			v = v * 10 + (unsigned)(d[i++] - '0');
		if (i != dn)
			continue;
		*number = v;
		*numbered = dn > 0;
		return pr;
	}
	return NULL;
}

static void add_pin(struct bk_tuya_store *st, const struct pair *pairs, size_t n, const struct pair *p)
{
	unsigned number;
	int numbered;
	const struct pin_rule *r = match_rule(p->k, p->kn, &number, &numbered);
	long gpio = small_num(p);
	if (!r || gpio < 0 || gpio > 255 || p->kn > BK_TUYA_PIN_KEY_MAX || st->n_pins >= BK_TUYA_MAX_PINS)
		return;
	struct bk_tuya_pin *pin = &st->pins[st->n_pins++];
	memset(pin, 0, sizeof *pin);
	pin->gpio = (unsigned)gpio;
	memcpy(pin->key, p->k, p->kn);
	pin->role = r->role;
	pin->channel = numbered ? number : r->channel;
	pin->level = -1;
	/* "<stem>_lv" for "<stem>_pin". */
	if (p->kn > 4 && !memcmp(p->k + p->kn - 4, "_pin", 4)) {
		char lv[BK_TUYA_PIN_KEY_MAX + 1];
		size_t stem = p->kn - 4;
		memcpy(lv, p->k, stem);
		memcpy(lv + stem, "_lv", 3);
		long l = small_num(lookup(pairs, n, lv, stem + 3));
		if (l >= 0 && l <= 255)
			pin->level = (int)l;
	}
	int level = pin->level >= 0 ? pin->level : r->def_level;
	pin->obk_role = level ? r->obk_hi : r->obk_lo;
	if (r->bus != BUS_NONE) {
		const struct light_driver *d = light_driver(st->dmod);
		pin->obk_role = !d ? NULL : r->bus == BUS_SCL ? d->clk : d->dat;
	}
}

static int config_in(struct bk_tuya_store *st, const struct bk_tuya_entry *e, int need_module)
{
	struct pair pairs[MAX_PAIRS];
	size_t n = split_pairs(st->values + e->value, e->have, pairs, MAX_PAIRS);
	if (!n)
		return 0;
	const struct pair *module = lookup(pairs, n, "module", 6);
	if (need_module && !module)
		return 0;
	st->has_config = 1;
	memcpy(st->config_key, e->name, sizeof st->config_key);
	if (module) {
		size_t mn = module->vn < BK_TUYA_MODULE_MAX ? module->vn : BK_TUYA_MODULE_MAX;
		for (size_t i = 0; i < mn; i++) {
			unsigned char c = (unsigned char)module->v[i];
			st->module[i] = c >= 0x20 && c < 0x7F ? (char)c : '?';
		}
		st->module[mn] = '\0';
	}
	long dmod = small_num(lookup(pairs, n, "dmod", 4));
	st->dmod = dmod >= 0 && dmod < 256 ? (int)dmod : -1;
	for (size_t i = 0; i < n; i++)
		add_pin(st, pairs, n, &pairs[i]);
	/* By GPIO, then key: the order a user reads a board in. */
	for (uint32_t i = 1; i < st->n_pins; i++) {
		struct bk_tuya_pin t = st->pins[i];
		uint32_t j = i;
		while (j && (st->pins[j - 1].gpio > t.gpio ||
			     (st->pins[j - 1].gpio == t.gpio && strcmp(st->pins[j - 1].key, t.key) > 0))) {
			st->pins[j] = st->pins[j - 1];
			j--;
		}
		st->pins[j] = t;
	}
	return 1;
}

/* user_param_key, else the first entry with a module field. */
void bk_tuya_parse_config(struct bk_tuya_store *st)
{
	const struct bk_tuya_entry *upk = bk_tuya_entry(st, "user_param_key");
	if (upk && config_in(st, upk, 0))
		return;
	for (uint32_t i = 0; i < st->n_entries; i++)
		if (&st->entries[i] != upk && config_in(st, &st->entries[i], 1))
			return;
}

int bk_tuya_read(const uint8_t *buf, size_t size, struct bk_tuya_store *st,
		 struct bk_err *err)
{
	uint32_t offset;
	if (!st)
		return bk_fail(err, BK_EINVAL, "tuya: no result struct");
	int r = bk_tuya_find(buf, size, &offset, err);
	if (r) {
		memset(st, 0, offsetof(struct bk_tuya_store, values));
		st->dmod = -1;
		return r;
	}
	r = bk_tuya_decode(buf, size, offset, st, err);
	if (!r)
		bk_tuya_parse_config(st);
	return r;
}
