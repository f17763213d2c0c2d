#include "cli/info.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beken/beken.h"

void bk_format_mac(const uint8_t mac[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

static void jstr(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void jint(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

/* Addresses in JSON are hex strings like everywhere else, null when absent. */
static void jaddr(json_object *o, const char *k, uint32_t v)
{
	char b[16];
	if (v == BK_BEKEN_NONE) {
		json_object_object_add(o, k, NULL);
		return;
	}
	snprintf(b, sizeof b, "0x%06X", v);
	jstr(o, k, b);
}

static json_object *blocks(json_object *parent, const char *k, const struct bk_beken_blocks *b)
{
	json_object *o = json_object_new_object();
	jint(o, "valid", b->valid);
	jint(o, "erased", b->erased);
	jint(o, "corrupt", b->corrupt);
	jaddr(o, "first_corrupt", b->corrupt ? b->first_corrupt : BK_BEKEN_NONE);
	json_object_object_add(parent, k, o);
	return o;
}

static void print_blocks(const char *what, const struct bk_beken_blocks *b)
{
	printf("%s %u valid, %u erased, %u corrupt", what, b->valid, b->erased, b->corrupt);
	if (b->corrupt)
		printf(" (first at 0x%06X)", b->first_corrupt);
}

static void rbl_json(json_object *parent, const char *k, const struct bk_beken_rbl *r)
{
	if (!r->present) {
		json_object_object_add(parent, k, NULL);
		return;
	}
	json_object *o = json_object_new_object();
	jaddr(o, "addr", r->addr);
	jstr(o, "name", r->name);
	jstr(o, "version", r->version);
	json_object_object_add(o, "header_ok", json_object_new_boolean(r->header_ok));
	json_object_object_add(o, "body_ok", json_object_new_boolean(r->body_ok));
	json_object_object_add(parent, k, o);
}

static void rbl_print(const struct bk_beken_rbl *r)
{
	if (r->present)
		printf("rbl         \"%s\" %s at 0x%06X (header CRC %s, body CRC %s)\n", r->name, r->version, r->addr,
		       r->header_ok ? "ok" : "bad", r->body_ok ? "ok" : "bad or not checked");
}

/* An image that belongs further up the flash (an app-only image at
 * 0x11000) is analysed where it belongs, so its addresses are flash
 * addresses and its blocks are counted as the application's. */
static int analyse_placed(const uint8_t *img, size_t len, const struct bk_beken_class *cls,
			  struct bk_beken_info *in, struct bk_err *err)
{
	uint32_t at = cls->flash_offset;
	if (at == BK_BEKEN_NONE || at == 0)
		return bk_beken_analyse(img, len, in, err);
	uint8_t *placed = malloc(at + len);
	if (!placed)
		return bk_fail(err, BK_ENOMEM, "out of memory");
	memset(placed, 0xFF, at);
	memcpy(placed + at, img, len);
	int r = bk_beken_analyse(placed, at + len, in, err);
	free(placed);
	return r;
}

int bk_info_report(const char *name, const uint8_t *img, size_t len, json_object *obj, int print,
		   struct bk_err *err)
{
	struct bk_beken_info in;
	struct bk_beken_class cls;
	int r = bk_beken_classify(img, len, &cls, err);
	if (!r)
		r = analyse_placed(img, len, &cls, &in, err);
	if (r)
		return r;
	/* Without a bootloader in the file there is no fingerprint or
	 * bootloader integrity to speak of. */
	int has_boot = (cls.flash_offset == 0 || cls.flash_offset == BK_BEKEN_NONE) && !in.tuya_kvs_only;

	jstr(obj, "file", name);
	jint(obj, "size", (int64_t)len);
	json_object *image = json_object_new_object();
	jstr(image, "kind", cls.name);
	jaddr(image, "belongs_at", cls.flash_offset);
	json_object_object_add(obj, "image", image);
	jstr(obj, "family", bk_beken_family_name(in.family));
	jstr(obj, "family_evidence", in.family_evidence);
	json_object *boot = json_object_new_object();
	if (in.has_boot_crc && has_boot) {
		char crc[16];
		snprintf(crc, sizeof crc, "0x%08X", in.boot_crc);
		jstr(boot, "crc32", crc);
	} else {
		json_object_object_add(boot, "crc32", NULL);
	}
	jstr(boot, "version", in.boot && has_boot ? in.boot->version : "unknown");
	json_object_object_add(obj, "bootloader", boot);
	jaddr(obj, "rotation", in.rotation);
	json_object *integ = json_object_new_object();
	if (has_boot)
		blocks(integ, "bootloader", &in.boot_blocks);
	else
		json_object_object_add(integ, "bootloader", NULL);
	if (!in.tuya_kvs_only)
		blocks(integ, "application", &in.app_blocks);
	else
		json_object_object_add(integ, "application", NULL);
	json_object_object_add(obj, "integrity", integ);
	jaddr(obj, "partition_table", in.ptable);
	json_object *rbls = json_object_new_object();
	rbl_json(rbls, "bootloader", &in.rbl_boot);
	rbl_json(rbls, "application", &in.rbl_app);
	json_object_object_add(obj, "rbl", rbls);
	jaddr(obj, "rf_sector", in.rf_addr);
	char mac[18] = "";
	if (in.has_mac) {
		bk_format_mac(in.mac, mac);
		jstr(obj, "mac", mac);
	} else {
		json_object_object_add(obj, "mac", NULL);
	}
	jaddr(obj, "tuya_store", in.tuya_kvs);
	jaddr(obj, "openbeken_config", in.obk_config);

	if (!print)
		return 0;
	printf("file        %s, %zu bytes\n", name, len);
	if (cls.flash_offset != BK_BEKEN_NONE)
		printf("image       %s, belongs at 0x%06X\n", cls.name, cls.flash_offset);
	else
		printf("image       %s, not for SPI writing\n", cls.name);
	printf("family      %s (%s)\n", bk_beken_family_name(in.family), in.family_evidence);
	if (in.tuya_kvs_only) {
		/* A bare store has no bootloader or CRC blocks to speak of. */
		printf("contents    a bare Tuya key-value store, which belongs at 0x%06X\n", in.tuya_kvs);
		return 0;
	}
	if (in.has_boot_crc && has_boot)
		printf("bootloader  CRC32 0x%08X: %s%s%s\n", in.boot_crc, in.boot ? bk_beken_family_name(in.boot->family) : "unknown",
		       in.boot ? " " : "", in.boot ? in.boot->version : "");
	else
		printf("bootloader  none in this file\n");
	if (in.rotation)
		printf("rotation    rotated by 0x%X: the file starts with the application\n", in.rotation);
	else
		printf("rotation    none\n");
	if (has_boot) {
		print_blocks("integrity   bootloader", &in.boot_blocks);
		print_blocks("; application", &in.app_blocks);
	} else {
		print_blocks("integrity   application", &in.app_blocks);
	}
	printf(" blocks\n");
	if (in.ptable != BK_BEKEN_NONE)
		printf("partitions  table \"01PE\" at 0x%06X\n", in.ptable);
	rbl_print(&in.rbl_boot);
	rbl_print(&in.rbl_app);
	if (in.rf_addr != BK_BEKEN_NONE)
		printf("rf          calibration sector at 0x%06X, MAC %s\n", in.rf_addr, in.has_mac ? mac : "not found");
	else
		printf("rf          no calibration sector\n");
	if (in.tuya_kvs != BK_BEKEN_NONE)
		printf("tuya        key-value store at 0x%06X%s\n", in.tuya_kvs, in.tuya_kvs_only ? " (the whole file)" : "");
	else
		printf("tuya        no key-value store\n");
	if (in.obk_config != BK_BEKEN_NONE)
		printf("openbeken   config version %u at 0x%06X\n", in.obk_version, in.obk_config);
	else
		printf("openbeken   no config\n");
	return 0;
}

int bk_info_worth_summary(size_t len)
{
	return len >= BK_BEKEN_APP_START;
}

void bk_info_summary(const uint8_t *img, size_t len, json_object *obj, int print)
{
	struct bk_beken_info in;
	if (bk_beken_analyse(img, len, &in, NULL))
		return;
	char mac[18] = "none";
	if (in.has_mac)
		bk_format_mac(in.mac, mac);
	uint32_t corrupt = in.boot_blocks.corrupt + in.app_blocks.corrupt;
	json_object *o = json_object_new_object();
	jstr(o, "family", bk_beken_family_name(in.family));
	jstr(o, "bootloader", in.boot ? in.boot->version : "unknown");
	jstr(o, "mac", mac);
	jint(o, "corrupt_blocks", corrupt);
	json_object_object_add(obj, "beken", o);
	if (print)
		printf("beken       %s, bootloader %s, MAC %s, %s\n", bk_beken_family_name(in.family),
		       in.boot ? in.boot->version : "unknown", mac,
		       corrupt ? "CRC-16 blocks CORRUPT (see bkspi info)" : "CRC-16 blocks intact");
}
