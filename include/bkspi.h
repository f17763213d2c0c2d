/* bkspi: the one API every front end (the command line, the web page, a
 * future GUI) calls. It reads, writes, verifies and erases the SPI flash
 * of Beken BK72xx chips (through their SPI download mode) or of any plain
 * SPI NOR flash, through a programmer driver.
 *
 * Conventions (libusb's, sqlite's):
 * - A handle (bkspi *) owns everything below it: the programmer, the
 *   flash, and the error of its last failing call. Handles share nothing,
 *   so two of them may be used from two threads.
 * - Every call that can fail returns 0 or a negative BKSPI_E* code; the
 *   one-line message for it, naming the cause and, where known, the fix,
 *   is bkspi_errmsg(handle) until the next call on that handle.
 * - Nothing here prints, installs signal handlers or exits: progress goes
 *   to the config's callback, cancellation comes from a flag the caller
 *   sets (from a signal handler, say), reports come back as structs.
 * - The flash is brought onto the bus (Beken entry, JEDEC/SFDP probe) on
 *   first need; bkspi_detect() does it explicitly and says how it went. */
#ifndef BKSPI_H
#define BKSPI_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors ----------------------------------------------------------- */

enum bkspi_status {
	BKSPI_OK = 0,
	BKSPI_EINVAL = -1,      /* bad argument, option or input file */
	BKSPI_EEXIST = -2,      /* output exists and overwriting was not asked for */
	BKSPI_EFILE = -3,       /* reading or writing a host file failed */
	BKSPI_ENOMEM = -4,
	BKSPI_EREFUSED = -5,    /* the input is not safe to write as asked */
	BKSPI_ENODEV = -10,     /* no programmer found */
	BKSPI_EACCESS = -11,    /* programmer found but not accessible */
	BKSPI_EBUSY = -12,      /* programmer claimed by someone else */
	BKSPI_EUSB = -13,       /* USB transfer failed */
	BKSPI_ETIMEDOUT = -14,  /* USB transfer timed out */
	BKSPI_EGONE = -15,      /* programmer disconnected */
	BKSPI_ENOUSB = -16,     /* USB itself cannot be used here */
	BKSPI_ENOCHIP = -20,    /* target did not answer: entry failed, no flash ID */
	BKSPI_EFLASH = -30,     /* flash operation failed (stuck busy, unsupported) */
	BKSPI_EPROTECT = -31,   /* write protection could not be cleared */
	BKSPI_EVERIFY = -32,    /* read-back differs from what was written */
	BKSPI_EUNSTABLE = -33,  /* two reads of the same range never agreed */
	BKSPI_EINTR = -40,      /* cancelled by the caller */
};

/* "BKSPI_EUSB" and the like; for logs and JSON. */
const char *bkspi_errname(int code);
/* A short generic description of a code. */
const char *bkspi_strerror(int code);

/* ---- opening ---------------------------------------------------------- */

typedef struct bkspi bkspi;

enum bkspi_target {
	BKSPI_TARGET_BEKEN,  /* pulse CEN, clock the 0xD2 run, then the chip's flash */
	BKSPI_TARGET_SPI,    /* a plain SPI NOR flash on the bus */
};

struct bk_prog_driver;   /* a programmer driver: src/prog/prog.h */
struct bkspi_plan_report;

struct bkspi_config {
	/* Driver name ("ch341a"); NULL means "ch341a". */
	const char *programmer;
	/* Drivers the front end brings (NULL-terminated, may be NULL), looked
	 * up before the built-in ones: the simulator registers this way. */
	const struct bk_prog_driver *const *drivers;
	void *driver_arg;                 /* handed to the chosen driver's open */
	uint32_t spi_hz;                  /* data clock; 0: the driver's default */
	/* The programmer line wired to CEN ("cs1", "gpio4": the CH347's);
	 * NULL: the driver's default. */
	const char *cen;
	enum bkspi_target target;
	/* phase: "backup", "read", "erase", "program", "verify". Erase and
	 * program alternate block by block and share one total (bytes erased
	 * plus bytes programmed); a phase's total never changes. */
	void (*progress)(void *user, const char *phase, uint64_t done, uint64_t total);
	/* A write or an erase calls this once, after the flash was read (and
	 * the backup saved) and before anything is unprotected or erased:
	 * what the file is, what is kept, what will be erased and programmed. */
	void (*plan)(void *user, const struct bkspi_plan_report *plan);
	/* Remarks that are not failures ("detached the kernel driver"). */
	void (*note)(void *user, const char *text);
	void *user;
	/* Checked between USB streams; when it becomes non-zero the call in
	 * progress stops at a resumable point and fails with BKSPI_EINTR. */
	const volatile sig_atomic_t *cancel;
};

/* Makes a handle; NULL only when out of memory. Nothing is opened yet. */
bkspi *bkspi_new(const struct bkspi_config *cfg);
/* Opens the programmer. Every operation below also does it on first use. */
int bkspi_connect(bkspi *h);
int bkspi_connected(const bkspi *h);
void bkspi_close(bkspi *h);

const char *bkspi_errmsg(const bkspi *h);   /* "" when the last call succeeded */
int bkspi_errcode(const bkspi *h);
/* The programmer's driver name ("ch341a", "sim"); the config's before connect. */
const char *bkspi_programmer(const bkspi *h);
/* What the programmer's USB pipeline moved since connect. */
struct bkspi_stats {
	int has_usb;               /* 0: a programmer without USB statistics */
	uint64_t streams, out_transfers, in_transfers, out_bytes, in_bytes, waits;
};
void bkspi_stats(bkspi *h, struct bkspi_stats *st);

/* Microseconds on the programmer's clock (virtual on the simulator); 0
 * before connect. */
uint64_t bkspi_now_us(bkspi *h);

/* ---- reports ---------------------------------------------------------- */

struct bkspi_entry {
	int beken;             /* the Beken entry ran (else a plain SPI flash) */
	unsigned attempts;
	int echo;              /* the chip echoed 0xD2 after the run */
	int long_flush;        /* its flash answered only after the long flush */
	int slow_run;          /* it entered only on a run bit-banged at tens of kHz */
};

struct bkspi_flash {
	uint8_t reply[4];      /* MISO during 9F and the three ID bytes */
	uint32_t jedec;
	const char *vendor, *part;
	uint32_t size;
	const char *size_from; /* "SFDP", "chip table" or "ID capacity byte" */
	uint32_t page_size;
	uint32_t erase_sizes;  /* bit n set: a 2^n-byte erase exists */
};

struct bkspi_status_regs {
	uint8_t sr1, sr2;
	int has_sr2;
	unsigned bp, tb, sec, cmp, srp;
	uint32_t prot_start, prot_len;   /* len 0: nothing protected */
	char protected_desc[96];         /* "none", "all", "0x1F0000-0x1FFFFF (upper 64 KiB)" */
};

struct bkspi_detect_report {
	struct bkspi_entry entry;
	struct bkspi_flash flash;
	struct bkspi_status_regs status;
	/* What the driver says about the programmer (CH347: variant, mode,
	 * clock, CEN line); "" when it has nothing to add. */
	char programmer[192];
};

struct bkspi_confirm_report {
	uint32_t sectors;      /* sectors confirmed */
	uint32_t by_crc;       /* ... by their own Beken CRC-16 blocks */
	uint32_t by_reread;    /* ... by a second read that agreed */
	uint32_t corrected;    /* sectors whose first read was wrong */
};

/* Brings the flash onto the bus (once per handle) and reads its status. */
int bkspi_detect(bkspi *h, struct bkspi_detect_report *rep);
/* Only the entry and probe: for `enter`, which leaves the chip in SPI mode. */
int bkspi_enter(bkspi *h, struct bkspi_entry *entry, struct bkspi_flash *flash);
/* Pulses CEN so a Beken chip leaves SPI mode and boots its firmware. */
int bkspi_reset(bkspi *h);

/* ---- operations ------------------------------------------------------- */

struct bkspi_read_req {
	uint32_t addr, len;
	int confirm;           /* confirm every sector (CRC-16 or a second read) */
};

struct bkspi_read_report {
	struct bkspi_confirm_report confirm;
};

int bkspi_read(bkspi *h, const struct bkspi_read_req *req, uint8_t *buf, struct bkspi_read_report *rep);

struct bkspi_verify_req {
	uint32_t addr;
	const uint8_t *data;
	uint32_t len;
	/* Beken targets: skip what a write with the same settings keeps */
	int keep_rf;
	int keep_tuya;
};

struct bkspi_kept {
	int kept;
	uint32_t addr, len;
};

struct bkspi_verify_report {
	uint32_t mismatched;   /* bytes that differ, each seen by two agreeing reads */
	uint32_t first, last;
	struct bkspi_kept skipped_rf, skipped_tuya;  /* not compared: the device's own */
	/* With keep_rf off: every mismatch lies in the device's RF sector,
	 * which a write keeps by default. */
	int only_rf;
	uint32_t rf_addr;
};

/* Compares the flash at addr with data; on a Beken target the device's
 * RF sector and Tuya store are skipped as a write with the same keep
 * settings keeps them. */
int bkspi_verify(bkspi *h, const struct bkspi_verify_req *req, struct bkspi_verify_report *rep);

/* A write or an erase. Owned by the caller and never modified. */
struct bkspi_write_req {
	uint32_t addr;
	const uint8_t *data;   /* write: len bytes at addr; bkspi_erase ignores it */
	uint32_t len;          /* erase: whole 4 KiB sectors */
	/* Optional: when addr and len are whole 4 KiB sectors, a buffer of len
	 * bytes the call may use as its working copy instead of allocating one
	 * (it may be data itself, which the call then changes: a caller that
	 * no longer needs its file saves the flash's size in memory). */
	uint8_t *work;
	/* The whole flash is saved here first (NULL: no backup), in a folder
	 * that must be the user's own and not writable by others; the file is
	 * 0600. A name another run took meanwhile becomes <name>_2.bin... */
	const char *backup_path;
	int force_backup;      /* overwrite an existing backup file instead */
	int no_verify;
	int confirm_all;       /* confirm the whole backup, not only the sectors that change */
	/* Beken targets */
	int force;             /* write an image the Beken rules refuse */
	int keep_rf;           /* keep the device's RF calibration and MAC */
	int keep_tuya;         /* keep the device's Tuya key-value store */
};

struct bkspi_write_report {
	/* The Beken rules, when they ran. */
	int beken;
	const char *image_kind;        /* "full flash dump", ... */
	const char *image_family;      /* "BK7231N", "unknown" */
	const char *chip_family;
	char forced[480];              /* with force: what would have been refused */
	char destroys[320];            /* erase: what of the device's own it destroyed */
	struct bkspi_kept kept_rf, kept_tuya;
	int has_mac_before, has_mac_after, has_file_mac;
	uint8_t mac_before[6], mac_after[6], file_mac[6];

	struct {
		int changed;
		uint8_t sr1_before, sr2_before, sr1_after, sr2_after;
	} unprotect;
	uint32_t sectors, same, erased, erase_ops, program_only, pages;
	uint32_t verified, read_back;
	uint32_t recovered;            /* operations redone after a USB fault */
	struct bkspi_confirm_report confirm;
	char backup[4096];             /* the backup saved (set on failure too); "" when none */
};

/* What a write or erase is about to do (bkspi_config.plan). */
struct bkspi_plan_report {
	int erase;                     /* an erase, else a write */
	uint32_t addr, len;
	/* Beken targets */
	int beken;
	const char *image_kind;        /* write: "full flash dump", ... */
	const char *image_family;      /* "BK7231N", "unknown" */
	const char *chip_family;
	uint32_t belongs_at;           /* where the file belongs; UINT32_MAX: not a flash image */
	struct bkspi_kept kept_rf, kept_tuya;
	char destroys[320];            /* erase: what of the device's own goes, "" if nothing */
	char forced[480];              /* with force: what would have been refused */
	/* every target */
	uint32_t sectors, same, erased, erase_ops, program_only, pages;
};

/* The refusals that need only the file (Beken targets: OTA packages,
 * app-only at 0, full image elsewhere, rotated dumps), before any USB
 * traffic; bkspi_write checks again, with the chip's bootloader. */
int bkspi_write_check(bkspi *h, const struct bkspi_write_req *req, struct bkspi_write_report *rep);
/* Backup (when asked), confirm, unprotect, erase and program only what
 * differs, verify. A failure after the backup leaves the flash resumable:
 * the same call again does only what still differs. */
int bkspi_write(bkspi *h, const struct bkspi_write_req *req, struct bkspi_write_report *rep);
int bkspi_erase(bkspi *h, const struct bkspi_write_req *req, struct bkspi_write_report *rep);

/* ---- pre-flight ------------------------------------------------------- */

enum bkspi_verdict { BKSPI_PASS, BKSPI_WARN, BKSPI_FAIL };

struct bkspi_check {
	const char *name;          /* "libusb", "programmer", "permission", "interface", "entry", "flash", "protection", "wire" */
	enum bkspi_verdict verdict;
	int code;                  /* the failure's BKSPI_E* code; 0 otherwise */
	char text[480];            /* what was found and, unless it passed, what to do */
};

#define BKSPI_DOCTOR_MAX 8

/* Checks the setup in the order a person debugs it: USB, the programmer,
 * permission, the interface (kernel driver, another program), then the
 * target: the Beken entry, the flash's ID and size, its protection, and a
 * short read done twice (a marginal wire). Stops after the first failure.
 * Returns that failure's code, or 0. */
int bkspi_doctor(bkspi *h, struct bkspi_check out[BKSPI_DOCTOR_MAX], size_t *n);

/* ---- files ------------------------------------------------------------ */

/* A backup name in dir (created 0700 if missing; refused when it is a
 * symlink, another user's or writable by others):
 * <dir>/<part>_<label>[-<purpose>]_<YYYYmmdd-HHMMSS>.bin; label NULL means
 * "read" (or just the purpose). It may be taken (runs in the same second):
 * bkspi_write saves the backup as <name>_2.bin, _3... then, and reports
 * the name used. Needs the flash detected. */
int bkspi_backup_name(bkspi *h, const char *dir, const char *label, const char *purpose, char *path, size_t cap);

/* Writes data to path (0600) through an exclusive temporary file linked
 * into place when complete; never follows a symlink, never replaces
 * anything but a regular file (and that only with overwrite). */
int bkspi_save(bkspi *h, const char *path, const uint8_t *data, size_t len, int overwrite);

#ifdef __cplusplus
}
#endif

#endif
