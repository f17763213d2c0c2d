#include "cli/args.h"

#include "base/limits.h"

#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "prog/prog.h"

const char bk_usage[] =
	"usage: bkspi [options] COMMAND [FILE]\n"
	"\n"
	"Reads, writes and rescues the flash of Beken BK72xx chips (BK7231T/U/N,\n"
	"BK7252, BK7238) over a CH341A, and any SPI NOR flash up to 16 MiB.\n"
	"\n"
	"commands:\n"
	"  detect        programmer, Beken entry, flash ID, name, size, status/protection\n"
	"  read [FILE]   flash (or --offset/--length) to FILE; default backups/<part>_<label>_<time>.bin\n"
	"  write FILE    program FILE at --offset: backup, unprotect, erase and program only\n"
	"                what differs, verify, then pulse CEN so the chip boots\n"
	"  verify FILE   compare the flash at --offset with FILE\n"
	"  erase         erase --offset/--length (4 KiB aligned) or the whole chip, after a backup\n"
	"  enter         put a Beken chip in SPI mode and leave it there (for flashrom etc.)\n"
	"  reset         pulse CEN so the chip boots normally\n"
	"  info FILE     analyse a Beken flash dump or image offline: family, bootloader,\n"
	"                rotation, CRC-16 integrity, partitions, RF/MAC, where it belongs,\n"
	"                and the Tuya configuration: module and pins (GPIO, role, level)\n"
	"  doctor        check the setup step by step (USB, programmer, permission, kernel\n"
	"                driver, Beken entry, flash, protection, a read done twice), each\n"
	"                line OK/WARN/FAIL with the fix\n"
	"\n"
	"options:\n"
	"  -p, --programmer NAME  ch341a (default), ch347, or sim / sim347 (the built-in\n"
	"                         simulated CH341A / CH347)\n"
	"      --spi-clock HZ     ch347: SPI data clock, 60M 30M 15M (default) 7.5M 3.75M\n"
	"                         1.875M 937.5k 468.75k; lower it when long wires fail verify\n"
	"      --cen LINE         ch347: the line wired to CEN: cs1 (default) or gpio0..gpio7\n"
	"  -t, --target NAME      beken (default: CEN pulse + 0xD2 entry) or spi (plain flash)\n"
	"      --offset N         start address (decimal, 0x hex, K/M suffix)\n"
	"      --length N         byte count (same forms)\n"
	"      --label NAME       name part of backup files\n"
	"      --backup-dir DIR   where backups go (default ./backups; made 0700)\n"
	"      --confirm          confirm every sector read (Beken CRC-16 or a second read):\n"
	"                         the whole read, or the whole backup of a write/erase\n"
	"                         (without it a write confirms the sectors it changes)\n"
	"      --no-backup        do not save the flash before write/erase\n"
	"      --no-verify        do not read back after write/erase\n"
	"      --no-reset         leave the chip in SPI mode after the command\n"
	"      --force            overwrite output files; write an image bkspi would refuse\n"
	"                         (app-only at 0, full at 0x11000, OTA/UF2, other family)\n"
	"      --keep-rf yes|no   keep the chip's RF calibration and MAC when a full image\n"
	"                         covers them (default yes)\n"
	"      --keep-tuya-config yes|no  keep the chip's Tuya key-value store (default no)\n"
	"      --tuya-keys        info: list every key of the Tuya store with its value;\n"
	"                         secrets (Wi-Fi, keys, device identity) are masked\n"
	"      --show-secrets     info --tuya-keys: print the secret values too\n"
	"      --obk-template FILE  info, read: write an OpenBeken device template (module,\n"
	"                         pins) from the Tuya configuration; after a read, a FILE\n"
	"                         without a directory goes next to the backup\n"
	"      --json             print one JSON object on stdout\n"
	"  -q, --quiet            errors only\n"
	"  -v, --verbose          more detail (USB statistics)\n"
	"      --sim-image FILE   flash image behind -p sim (default ~/.local/state/bkspi/sim-flash.bin)\n"
	"      --sim-config K=V,... simulator settings and faults (README 'Simulator')\n"
	"  -h, --help             this text\n"
	"  -V, --version          version\n"
	"\n"
	"exit codes: 0 ok, 1 operation failed, 2 usage or bad input, 3 programmer/USB,\n"
	"4 target did not answer; stopped by a signal (128+signal): 130 Ctrl-C,\n"
	"143 SIGTERM, 129 SIGHUP, 131 SIGQUIT.\n"
	"\n"
	"Wiring (CH341A -> Beken): D0->P21 CSN, D3->P20 SCK, D5->P22 SI, D7<-P23 SO,\n"
	"D2->CEN, GND, 3.3 V. Many black CH341A boards put 5 V on the data lines:\n"
	"use a 3.3 V-modded board for BK chips. Set the jumper to I2C/SPI.\n"
	"Wiring (CH347 -> Beken): CS0->P21, SCK->P20, MOSI->P22, MISO<-P23, CS1 (or the\n"
	"--cen GPIO)->CEN, GND, 3.3 V. A CH347T's mode switch must be on mode 1.\n";

static const struct {
	const char *name;
	enum bk_cmd cmd;
	int file;   /* 0 none, 1 optional, 2 required */
} commands[] = {
	{ "detect", CMD_DETECT, 0 }, { "read", CMD_READ, 1 },   { "write", CMD_WRITE, 2 },
	{ "verify", CMD_VERIFY, 2 }, { "erase", CMD_ERASE, 0 }, { "enter", CMD_ENTER, 0 },
	{ "reset", CMD_RESET, 0 },   { "info", CMD_INFO, 2 },     { "doctor", CMD_DOCTOR, 0 },
};

enum { O_OFFSET = 256, O_LENGTH, O_LABEL, O_NO_BACKUP, O_NO_VERIFY, O_NO_RESET, O_FORCE, O_JSON,
       O_SIM_IMAGE, O_SIM_CONFIG, O_KEEP_RF, O_KEEP_TUYA, O_CONFIRM, O_TUYA_KEYS, O_SHOW_SECRETS,
       O_OBK_TEMPLATE, O_CEN, O_SPI_CLOCK, O_BACKUP_DIR };

static const struct option long_opts[] = {
	{ "programmer", required_argument, NULL, 'p' },
	{ "target", required_argument, NULL, 't' },
	{ "cen", required_argument, NULL, O_CEN },
	{ "spi-clock", required_argument, NULL, O_SPI_CLOCK },
	{ "offset", required_argument, NULL, O_OFFSET },
	{ "length", required_argument, NULL, O_LENGTH },
	{ "label", required_argument, NULL, O_LABEL },
	{ "backup-dir", required_argument, NULL, O_BACKUP_DIR },
	{ "no-backup", no_argument, NULL, O_NO_BACKUP },
	{ "no-verify", no_argument, NULL, O_NO_VERIFY },
	{ "no-reset", no_argument, NULL, O_NO_RESET },
	{ "force", no_argument, NULL, O_FORCE },
	{ "json", no_argument, NULL, O_JSON },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "confirm", no_argument, NULL, O_CONFIRM },
	{ "keep-rf", required_argument, NULL, O_KEEP_RF },
	{ "keep-tuya-config", required_argument, NULL, O_KEEP_TUYA },
	{ "tuya-keys", no_argument, NULL, O_TUYA_KEYS },
	{ "show-secrets", no_argument, NULL, O_SHOW_SECRETS },
	{ "obk-template", required_argument, NULL, O_OBK_TEMPLATE },
	{ "sim-image", required_argument, NULL, O_SIM_IMAGE },
	{ "sim-config", required_argument, NULL, O_SIM_CONFIG },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

#define MAX_ADDR ((uint64_t)BK_MAX_FLASH)

static int yes_no(const char *name, const char *val, int *out, struct bk_err *err)
{
	if (!strcmp(val, "yes") || !strcmp(val, "no")) {
		*out = !strcmp(val, "yes");
		return 0;
	}
	return bk_fail(err, BK_EINVAL, "--%s takes yes or no, not '%s'", name, val);
}

static int num_arg(const char *name, const char *val, uint64_t *out, int *has, struct bk_err *err)
{
	if (bk_parse_num(val, MAX_ADDR, out))
		return bk_fail(err, BK_EINVAL,
			       "--%s '%s' is not a byte count from 0 to 16M (use decimal, 0x hex, or a K/M suffix)",
			       name, val);
	*has = 1;
	return 0;
}

/* The CH347 has the clock and the CEN choice; the CH341A has neither. */
static int ch347_opts(const struct bk_opts *o, struct bk_err *err)
{
	int ch347 = !strcmp(o->programmer, "ch347") || !strcmp(o->programmer, "sim347");
	if ((o->cen || o->spi_hz) && !ch347)
		return bk_fail(err, BK_EINVAL, "--%s applies to -p ch347 (or sim347) only: the %s has a fixed %s",
			       o->cen ? "cen" : "spi-clock", o->programmer,
			       o->cen ? "CEN pin (D2)" : "SPI clock (about 1.5 MHz)");
	return 0;
}

static int clock_arg(const char *val, uint32_t *hz, struct bk_err *err)
{
	if (bk_parse_hz(val, hz) || *hz > BK_CH347_MAX_HZ || *hz < BK_CH347_MIN_HZ)
		return bk_fail(err, BK_EINVAL,
			       "--spi-clock '%s' is not a clock from 468.75k to 60M (Hz, or a k/M suffix: 30M, 1.875M)", val);
	return 0;
}

/* Which commands each option means something to: any other use is
 * refused, never silently ignored. */
#define C(x) (1u << CMD_##x)
#define DEVICE (C(DETECT) | C(READ) | C(WRITE) | C(VERIFY) | C(ERASE) | C(ENTER) | C(RESET) | C(DOCTOR))
#define BACKUP (C(READ) | C(WRITE) | C(ERASE))

static const struct applies {
	int opt;
	const char *name;
	unsigned cmds;
} applies[] = {
	{ 'p', "--programmer", DEVICE },
	{ 't', "--target", DEVICE },
	{ O_OFFSET, "--offset", C(READ) | C(WRITE) | C(VERIFY) | C(ERASE) },
	{ O_LENGTH, "--length", C(READ) | C(ERASE) },
	{ O_LABEL, "--label", BACKUP },
	{ O_BACKUP_DIR, "--backup-dir", BACKUP },
	{ O_CONFIRM, "--confirm", BACKUP },
	{ O_NO_BACKUP, "--no-backup", C(WRITE) | C(ERASE) },
	{ O_NO_VERIFY, "--no-verify", C(WRITE) | C(ERASE) },
	{ O_NO_RESET, "--no-reset", C(DETECT) | C(READ) | C(WRITE) | C(VERIFY) | C(ERASE) | C(DOCTOR) },
	{ O_FORCE, "--force", C(READ) | C(WRITE) | C(ERASE) | C(INFO) },
	{ O_KEEP_RF, "--keep-rf", C(WRITE) | C(VERIFY) },
	{ O_KEEP_TUYA, "--keep-tuya-config", C(WRITE) | C(VERIFY) },
	{ O_TUYA_KEYS, "--tuya-keys", C(INFO) },
	{ O_SHOW_SECRETS, "--show-secrets", C(INFO) },
	{ O_OBK_TEMPLATE, "--obk-template", C(INFO) | C(READ) },
	{ O_CEN, "--cen", DEVICE },
	{ O_SPI_CLOCK, "--spi-clock", DEVICE },
	{ O_SIM_IMAGE, "--sim-image", DEVICE },
	{ O_SIM_CONFIG, "--sim-config", DEVICE },
};

#define N_APPLIES (sizeof applies / sizeof applies[0])

static unsigned bit(int opt)
{
	for (size_t i = 0; i < N_APPLIES; i++)
		if (applies[i].opt == opt)
			return 1u << i;
	return 0;
}

static int check_applies(const struct bk_opts *o, unsigned mask, struct bk_err *err)
{
	for (size_t i = 0; i < N_APPLIES; i++) {
		const struct applies *a = &applies[i];
		if (!(mask & (1u << i)) || (a->cmds & (1u << o->cmd)))
			continue;
		char list[160] = "";
		size_t n = 0, count = 0, total = 0;
		for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++)
			total += !!(a->cmds & (1u << commands[c].cmd));
		for (size_t c = 0; c < sizeof commands / sizeof commands[0] && n < sizeof list; c++) {
			if (!(a->cmds & (1u << commands[c].cmd)))
				continue;
			count++;
			n += (size_t)snprintf(list + n, sizeof list - n, "%s%s",
					      count == 1 ? "" : count == total ? " and " : ", ", commands[c].name);
		}
		return bk_fail(err, BK_EINVAL, "%s does not apply to %s (only to %s); leave it out", a->name,
			       o->cmd_name, list);
	}
	if ((o->sim_image || o->sim_config) && strcmp(o->programmer, "sim") && strcmp(o->programmer, "sim347"))
		return bk_fail(err, BK_EINVAL, "%s applies to the simulator only; add -p sim (or sim347) or leave it out",
			       o->sim_image ? "--sim-image" : "--sim-config");
	if (o->no_backup && (mask & (bit(O_LABEL) | bit(O_BACKUP_DIR))))
		return bk_fail(err, BK_EINVAL, "%s names the backup, which --no-backup turns off; leave one out",
			       mask & bit(O_LABEL) ? "--label" : "--backup-dir");
	if (o->show_secrets && !o->tuya_keys)
		return bk_fail(err, BK_EINVAL, "--show-secrets applies to info --tuya-keys only; add --tuya-keys");
	if (o->obk_template && !*o->obk_template)
		return bk_fail(err, BK_EINVAL, "--obk-template needs a file name");
	if (o->backup_dir && !*o->backup_dir)
		return bk_fail(err, BK_EINVAL, "--backup-dir needs a folder name");
	return 0;
}

int bk_args_parse(int argc, char **argv, struct bk_opts *o, struct bk_err *err)
{
	*o = (struct bk_opts){ .programmer = "ch341a", .target = BKSPI_TARGET_BEKEN, .keep_rf = 1,
			       .backup_dir = "backups" };
	optind = 0; /* 0, not 1: glibc then also forgets the previous argv */
	opterr = 0;
	int c, r = 0;
	unsigned mask = 0;
	while (!r && (c = getopt_long(argc, argv, ":p:t:qvhV", long_opts, NULL)) != -1) {
		mask |= bit(c);
		switch (c) {
		case 'p':
			if (strcmp(optarg, "ch341a") && strcmp(optarg, "ch347") && strcmp(optarg, "sim") &&
			    strcmp(optarg, "sim347"))
				r = bk_fail(err, BK_EINVAL, "unknown programmer '%s': use ch341a, ch347, sim or sim347", optarg);
			o->programmer = optarg;
			break;
		case 't':
			if (!strcmp(optarg, "beken"))
				o->target = BKSPI_TARGET_BEKEN;
			else if (!strcmp(optarg, "spi"))
				o->target = BKSPI_TARGET_SPI;
			else
				r = bk_fail(err, BK_EINVAL, "unknown target '%s': use beken or spi", optarg);
			break;
		case O_CEN:
			if (bk_ch347_cen_valid(optarg) < 0)
				r = bk_fail(err, BK_EINVAL, "--cen '%s': use cs1 or gpio0 to gpio7", optarg);
			o->cen = optarg;
			break;
		case O_SPI_CLOCK: r = clock_arg(optarg, &o->spi_hz, err); break;
		case O_OFFSET: r = num_arg("offset", optarg, &o->offset, &o->has_offset, err); break;
		case O_LENGTH: r = num_arg("length", optarg, &o->length, &o->has_length, err); break;
		case O_LABEL: o->label = optarg; break;
		case O_BACKUP_DIR: o->backup_dir = optarg; break;
		case O_NO_BACKUP: o->no_backup = 1; break;
		case O_CONFIRM: o->confirm = 1; break;
		case O_NO_VERIFY: o->no_verify = 1; break;
		case O_NO_RESET: o->no_reset = 1; break;
		case O_FORCE: o->force = 1; break;
		case O_JSON: o->json = 1; break;
		case 'q': o->quiet = 1; break;
		case 'v': o->verbose = 1; break;
		case O_KEEP_RF: r = yes_no("keep-rf", optarg, &o->keep_rf, err); break;
		case O_KEEP_TUYA: r = yes_no("keep-tuya-config", optarg, &o->keep_tuya, err); break;
		case O_TUYA_KEYS: o->tuya_keys = 1; break;
		case O_SHOW_SECRETS: o->show_secrets = 1; break;
		case O_OBK_TEMPLATE: o->obk_template = optarg; break;
		case O_SIM_IMAGE: o->sim_image = optarg; break;
		case O_SIM_CONFIG: o->sim_config = optarg; break;
		case 'h': o->help = 1; break;
		case 'V': o->version = 1; break;
		case ':':
			r = optopt > 0 && optopt < 128
				    ? bk_fail(err, BK_EINVAL, "option -%c needs a value; see bkspi --help", optopt)
				   : bk_fail(err, BK_EINVAL, "option %s needs a value; see bkspi --help", argv[optind - 1]);
			break;
		default:
			/* optopt names a bad short option even inside a cluster (-xq). */
			r = optopt > 0 && optopt < 128
				    ? bk_fail(err, BK_EINVAL, "unknown option '-%c'; see bkspi --help", optopt)
				   : bk_fail(err, BK_EINVAL, "unknown option '%s'; see bkspi --help", argv[optind - 1]);
			break;
		}
	}
	if (r || o->help || o->version)
		return r;
	if (optind >= argc)
		return bk_fail(err, BK_EINVAL, "no command given; try bkspi --help");
	o->cmd_name = argv[optind++];
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(o->cmd_name, commands[i].name))
			continue;
		o->cmd = commands[i].cmd;
		if (optind < argc && commands[i].file)
			o->file = argv[optind++];
		if (commands[i].file == 2 && !o->file)
			return bk_fail(err, BK_EINVAL, "%s needs a FILE; see bkspi --help", o->cmd_name);
		if (optind < argc)
			return bk_fail(err, BK_EINVAL, "unexpected argument '%s' after %s", argv[optind], o->cmd_name);
		if (o->file && !*o->file)
			return bk_fail(err, BK_EINVAL, "empty file name");
		int rc = ch347_opts(o, err);
		return rc ? rc : check_applies(o, mask, err);
	}
	return bk_fail(err, BK_EINVAL, "unknown command '%s'; commands: detect read write verify erase enter reset info doctor",
		       o->cmd_name);
}
