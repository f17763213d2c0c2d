/* Command-line parsing: options, subcommand, numbers with K/M suffixes. */
#ifndef BK_CLI_ARGS_H
#define BK_CLI_ARGS_H

#include <stdint.h>

#include "base/err.h"
#include "bkspi.h"
#include "ui/ui.h"

enum bk_cmd { CMD_NONE, CMD_DETECT, CMD_READ, CMD_WRITE, CMD_VERIFY, CMD_ERASE, CMD_ENTER, CMD_RESET, CMD_INFO, CMD_DOCTOR };

struct bk_opts {
	enum bk_cmd cmd;
	const char *cmd_name;
	const char *file;
	const char *programmer;   /* "ch341a", "ch347", "sim" or "sim347" */
	const char *cen;          /* CH347: the line wired to CEN; NULL: cs1 */
	uint32_t spi_hz;          /* CH347: --spi-clock; 0: the driver's default */
	enum bkspi_target target;
	uint64_t offset, length;
	int has_offset, has_length;
	const char *label;
	const char *backup_dir;   /* where backups go; default "backups" */
	int no_backup, no_verify, no_reset, force, json, quiet, verbose;
	int keep_rf, keep_tuya;   /* yes/no options, default yes and no */
	int confirm;              /* read: confirm every sector */
	int tuya_keys, show_secrets; /* info: list the Tuya store's keys, unmasked */
	const char *obk_template; /* info, read: write an OpenBeken template there */
	int help, version;
	const char *sim_image, *sim_config;
};

int bk_args_parse(int argc, char **argv, struct bk_opts *o, struct bk_err *err);

extern const char bk_usage[];

#endif
