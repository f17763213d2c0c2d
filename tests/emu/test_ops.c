/* The operations end to end on the emulated board: what the flash holds
 * afterwards, what was backed up, and how little work was done. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rig.h"
#include "unit/dumps.h"

#define MIB (1u << 20)

static void up(struct rig *r, const char *config)
{
	if (rig_up(r, config, BK_TARGET_BEKEN))
		fail_msg("%s: %s", config ? config : "(default)", r->err.msg);
}

/* Writes `data` (len bytes) at addr through bk_op_write, as the CLI does. */
static int write_at(struct rig *r, uint32_t addr, const uint8_t *data, uint32_t len, const char *backup,
		    struct bk_write_report *rep)
{
	struct bk_write w = { .addr = addr, .len = len, .data = data, .verify = 1, .backup_path = backup };
	return bk_op_write(&r->job, &w, rep);
}

static void write_full_image(void **state)
{
	(void)state;
	struct rig r;
	up(&r, NULL);
	size_t size;
	uint8_t *mem = rig_mem(&r, &size);
	assert_int_equal(bk_emu_synth(mem, size, 1), 0);
	uint8_t *img = malloc(size);
	assert_int_equal(bk_emu_synth(img, size, 2), 0);
	struct bk_write_report rep;
	assert_int_equal(write_at(&r, 0, img, (uint32_t)size, NULL, &rep), 0);
	assert_memory_equal(mem, img, size);
	assert_true(rep.unprotect.changed); /* the board boots protected */
	assert_int_equal(rep.sectors, size / 4096);
	assert_int_equal(rep.verified, size);
	/* both images are 0xFF outside the same regions: those are skipped */
	assert_true(rep.same > 0);
	free(img);
	rig_close(&r);
}

static void rewrite_same_image_does_nothing(void **state)
{
	(void)state;
	struct rig r;
	up(&r, NULL);
	size_t size;
	uint8_t *mem = rig_mem(&r, &size);
	bk_emu_synth(mem, size, 1);
	uint8_t *img = malloc(size);
	memcpy(img, mem, size);
	struct bk_write_report rep;
	assert_int_equal(write_at(&r, 0, img, (uint32_t)size, NULL, &rep), 0);
	assert_int_equal(rep.same, rep.sectors);
	assert_int_equal(rep.erase_ops, 0);
	assert_int_equal(rep.pages, 0);
	assert_false(rep.unprotect.changed); /* nothing to do, nothing unlocked */
	free(img);
	rig_close(&r);
}

static void one_sector_rewrite_erases_one_sector(void **state)
{
	(void)state;
	struct rig r;
	up(&r, NULL);
	size_t size;
	uint8_t *mem = rig_mem(&r, &size);
	rig_fill(mem, size, 11);
	uint8_t *img = malloc(size);
	memcpy(img, mem, size);
	img[0x45123] ^= 0x80;
	img[0x45FFF] = (uint8_t)~mem[0x45FFF];
	struct bk_write_report rep;
	assert_int_equal(write_at(&r, 0, img, (uint32_t)size, NULL, &rep), 0);
	assert_memory_equal(mem, img, size);
	assert_int_equal(rep.erase_ops, 1);
	assert_int_equal(rep.erased, 1);
	assert_int_equal(rep.pages, 16);
	assert_int_equal(rep.read_back, 4096);
	free(img);
	rig_close(&r);
}

static void unaligned_offset_keeps_neighbours(void **state)
{
	(void)state;
	struct rig r;
	up(&r, NULL);
	size_t size;
	uint8_t *mem = rig_mem(&r, &size);
	rig_fill(mem, size, 5);
	uint8_t *before = malloc(size), data[5000];
	memcpy(before, mem, size);
	rig_fill(data, sizeof data, 6);
	struct bk_write_report rep;
	assert_int_equal(write_at(&r, 0x1234, data, sizeof data, NULL, &rep), 0);
	assert_memory_equal(mem + 0x1234, data, sizeof data);
	assert_memory_equal(mem, before, 0x1234);
	assert_memory_equal(mem + 0x1234 + sizeof data, before + 0x1234 + sizeof data, size - 0x1234 - sizeof data);
	free(before);
	rig_close(&r);
}

/* Only clearing bits: programmed in place, no erase. */
static void clearing_bits_needs_no_erase(void **state)
{
	(void)state;
	struct rig r;
	up(&r, NULL);
	size_t size;
	uint8_t *mem = rig_mem(&r, &size);
	uint8_t data[4096];
	rig_fill(data, sizeof data, 8);
	struct bk_write_report rep;
	assert_int_equal(write_at(&r, 0x80000, data, sizeof data, NULL, &rep), 0);
	assert_int_equal(rep.erase_ops, 0);
	assert_int_equal(rep.program_only, 1);
	assert_memory_equal(mem + 0x80000, data, sizeof data);
	rig_close(&r);
}

static void backup_holds_old_contents(void **state)
{
	(void)state;
	struct rig r;
	up(&r, NULL);
	size_t size;
	uint8_t *mem = rig_mem(&r, &size);
	rig_fill(mem, size, 21);
	uint8_t *old = malloc(size), data[8192];
	memcpy(old, mem, size);
	rig_fill(data, sizeof data, 22);
	char path[] = "/tmp/bkspi-test-backup-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	unlink(path);
	struct bk_write_report rep;
	assert_int_equal(write_at(&r, 0x10000, data, sizeof data, path, &rep), 0);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	uint8_t *saved = malloc(size);
	assert_int_equal(fread(saved, 1, size, f), size);
	fclose(f);
	assert_memory_equal(saved, old, size);
	assert_string_equal(rep.backup_path, path);
	/* A second write with the same name must not clobber the first
	 * backup: it saves under <name>_2, 0600. */
	assert_int_equal(write_at(&r, 0x10000, data, sizeof data, path, &rep), 0);
	char second[sizeof path + 8];
	snprintf(second, sizeof second, "%s_2", path);
	assert_string_equal(rep.backup_path, second);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(saved, 1, size, f), size);
	fclose(f);
	assert_memory_equal(saved, old, size);
	struct stat sb;
	assert_int_equal(stat(second, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	unlink(path);
	unlink(second);
	free(saved);
	free(old);
	rig_close(&r);
}

static void erase_range_and_whole_chip(void **state)
{
	(void)state;
	struct rig r;
	up(&r, NULL);
	size_t size;
	uint8_t *mem = rig_mem(&r, &size);
	rig_fill(mem, size, 31);
	uint8_t *before = malloc(size);
	memcpy(before, mem, size);
	struct bk_write w = { .addr = 0x30000, .len = 0x21000, .verify = 1 };
	struct bk_write_report rep;
	assert_int_equal(bk_op_write(&r.job, &w, &rep), 0);
	for (uint32_t a = 0x30000; a < 0x51000; a++)
		if (mem[a] != 0xFF)
			fail_msg("0x%X not erased", a);
	assert_memory_equal(mem, before, 0x30000);
	assert_memory_equal(mem + 0x51000, before + 0x51000, size - 0x51000);
	/* 0x30000 32K + 0x40000 64K + 0x50000 4K: fewest operations */
	assert_int_equal(rep.erase_ops, 3);

	w = (struct bk_write){ .addr = 0, .len = (uint32_t)size, .verify = 1 };
	assert_int_equal(bk_op_write(&r.job, &w, &rep), 0);
	for (size_t a = 0; a < size; a++)
		if (mem[a] != 0xFF)
			fail_msg("0x%zX not erased", a);
	assert_int_equal(rep.erase_ops, size / 65536);
	free(before);
	rig_close(&r);
}

static void stuck_byte_fails_verify_with_address(void **state)
{
	(void)state;
	struct rig r;
	up(&r, "bad-byte=0x2345");
	size_t size;
	uint8_t data[4096];
	rig_mem(&r, &size);
	memset(data, 0x00, sizeof data);
	struct bk_write_report rep;
	assert_int_equal(write_at(&r, 0x2000, data, sizeof data, NULL, &rep), BK_EVERIFY);
	assert_non_null(strstr(r.err.msg, "0x002345"));
	rig_close(&r);
}

static int cancel_now(void *user)
{
	(void)user;
	return 1;
}

static void cancellation_stops_before_erasing(void **state)
{
	(void)state;
	struct rig r;
	up(&r, NULL);
	size_t size;
	uint8_t *mem = rig_mem(&r, &size);
	rig_fill(mem, size, 41);
	uint8_t *before = malloc(size);
	memcpy(before, mem, size);
	struct bk_hooks hooks = { .cancelled = cancel_now };
	r.job.hooks = &hooks;
	struct bk_write w = { .addr = 0, .len = (uint32_t)size, .verify = 1 };
	struct bk_write_report rep;
	assert_int_equal(bk_op_write(&r.job, &w, &rep), BK_EINTR);
	assert_memory_equal(mem, before, size);
	free(before);
	rig_close(&r);
}

/* A real Beken dump written over another device's: byte for byte. */
static void write_real_dump(void **state)
{
	(void)state;
	if (!dumps_present()) {
		print_message("skip: ../shared/dumps not found\n");
		skip();
	}
	size_t n_old, n_new;
	uint8_t *old = dumps_load("bk7231n-moes-wk-us2-tc-outlet.bin", &n_old);
	uint8_t *img = dumps_load("bk7231t-tuya-ds-101jl-4gang-switch.bin", &n_new);
	assert_non_null(old);
	assert_non_null(img);
	struct rig r;
	up(&r, NULL);
	size_t size;
	uint8_t *mem = rig_mem(&r, &size);
	assert_int_equal(size, n_old);
	memcpy(mem, old, size);
	struct bk_write_report rep;
	assert_int_equal(write_at(&r, 0, img, (uint32_t)n_new, NULL, &rep), 0);
	assert_true(memcmp(mem, img, size) == 0);
	assert_int_equal(rep.verified, size);
	free(old);
	free(img);
	rig_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(write_full_image),
		cmocka_unit_test(rewrite_same_image_does_nothing),
		cmocka_unit_test(one_sector_rewrite_erases_one_sector),
		cmocka_unit_test(unaligned_offset_keeps_neighbours),
		cmocka_unit_test(clearing_bits_needs_no_erase),
		cmocka_unit_test(backup_holds_old_contents),
		cmocka_unit_test(erase_range_and_whole_chip),
		cmocka_unit_test(stuck_byte_fails_verify_with_address),
		cmocka_unit_test(cancellation_stops_before_erasing),
		cmocka_unit_test(write_real_dump),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
