/* The command line's `info` and OpenBeken template files. */
#ifndef BK_CLI_INFO_H
#define BK_CLI_INFO_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "cli/args.h"
#include "ui/ui.h"

/* `bkspi info FILE`: the analysis through ui; --obk-template writes the
 * template (checked before anything is shown). */
int bk_info_report(const struct bk_ui *ui, const char *name, const uint8_t *img, size_t len, const struct bk_opts *o,
		   struct bk_err *err);

/* read --obk-template: the template from a flash just read and saved as
 * backup; a template name without a directory goes beside the backup. */
int bk_info_read_template(const struct bk_ui *ui, const uint8_t *img, size_t len, const char *backup,
			  const struct bk_opts *o, struct bk_err *err);

#endif
