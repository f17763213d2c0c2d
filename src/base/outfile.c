#include "base/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PARTIAL ".partial"

/* path split at its last '/': the folder ("." when none) and the name. */
struct where {
	char dir[PATH_MAX];
	const char *name;
};

static int split(const char *path, struct where *w, struct bk_err *err)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 1;
	if (n >= sizeof w->dir)
		return bk_fail(err, BK_EINVAL, "%s: path too long; choose a shorter one", path);
	if (!slash)
		memcpy(w->dir, ".", 2);
	else if (n == 0)
		memcpy(w->dir, "/", 2);
	else {
		memcpy(w->dir, path, n);
		w->dir[n] = '\0';
	}
	w->name = slash ? slash + 1 : path;
	if (!*w->name || !strcmp(w->name, ".") || !strcmp(w->name, ".."))
		return bk_fail(err, BK_EINVAL, "%s names a folder; give a file name", path);
	return 0;
}

static const char *kind(mode_t m)
{
	return S_ISDIR(m) ? "a folder" : S_ISLNK(m) ? "a symlink" : S_ISFIFO(m) ? "a FIFO" : S_ISSOCK(m) ? "a socket"
	       : S_ISCHR(m) || S_ISBLK(m) ? "a device node" : "not a regular file";
}

/* What is already at the name, seen without following a link: nothing, or
 * a regular file when one may stay there. */
static int check_existing(int dirfd, const char *name, const char *path, int may_exist, struct bk_err *err)
{
	struct stat sb;
	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW)) {
		if (errno == ENOENT)
			return 0;
		return bk_fail(err, BK_EINVAL, "cannot look at %s: %s; choose another name", path, strerror(errno));
	}
	if (!S_ISREG(sb.st_mode))
		return bk_fail(err, BK_EINVAL, "%s is %s, which bkspi never replaces; give the name of a new or regular file",
			       path, kind(sb.st_mode));
	if (!may_exist)
		return bk_fail(err, BK_EEXIST, "%s exists; choose another name or add --force to overwrite it", path);
	return 0;
}

/* A folder opened without following a symlink at its last component when
 * it must be private, and checked on the open descriptor, so it cannot be
 * swapped between the check and the use. */
static int check_dirfd(int fd, const char *dir, int flags, struct bk_err *err)
{
	struct stat sb;
	if (fstat(fd, &sb))
		return bk_fail(err, BK_EINVAL, "cannot look at folder %s: %s", dir, strerror(errno));
	if (!(flags & BK_OUT_PRIVATE))
		return 0;
	if (sb.st_uid != geteuid())
		return bk_fail(err, BK_EINVAL,
			       "folder %s belongs to another user (uid %u), so it could read or swap the backups: "
			       "use a folder of your own (--backup-dir)", dir, (unsigned)sb.st_uid);
	if (sb.st_mode & (S_IWGRP | S_IWOTH))
		return bk_fail(err, BK_EINVAL,
			       "folder %s is writable by others, who could read or swap the backups: "
			       "chmod 700 %s, or use another folder (--backup-dir)", dir, dir);
	return 0;
}

static int open_dir(const char *dir, int flags, struct bk_err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (flags & BK_OUT_PRIVATE ? O_NOFOLLOW : 0));
	if (fd < 0) {
		struct stat sb;
		if ((errno == ELOOP || errno == ENOTDIR) && !lstat(dir, &sb) && S_ISLNK(sb.st_mode))
			return bk_fail(err, BK_EINVAL,
				       "folder %s is a symlink, which could point anywhere: remove it or use a real folder (--backup-dir)",
				       dir);
		if (errno == ENOTDIR)
			return bk_fail(err, BK_EINVAL, "%s is not a folder (or a part of its path is not); choose another one",
				       dir);
		return bk_fail(err, BK_EINVAL, "cannot use folder %s: %s; create it or choose another one", dir,
			       strerror(errno));
	}
	int r = check_dirfd(fd, dir, flags, err);
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}

static int name_fits(const char *path, size_t name_len, struct bk_err *err)
{
	if (name_len + strlen(PARTIAL) > NAME_MAX)
		return bk_fail(err, BK_EINVAL, "%s: the file name is too long (at most %zu bytes); choose a shorter one",
			       path, (size_t)NAME_MAX - strlen(PARTIAL));
	return 0;
}

int bk_outdir_check(const char *dir, size_t name_len, int flags, struct bk_err *err)
{
	int r = name_fits(dir, name_len, err);
	if (r)
		return r;
	struct stat sb;
	if (lstat(dir, &sb) == 0 || errno != ENOENT) {
		int fd = open_dir(dir, flags, err);
		if (fd < 0)
			return fd;
		close(fd);
		if (access(dir, W_OK | X_OK))
			return bk_fail(err, BK_EINVAL, "cannot write in folder %s: %s; choose another one", dir,
				       strerror(errno));
		return 0;
	}
	/* Missing: the nearest folder above it must let it be made. */
	char up[PATH_MAX];
	if (snprintf(up, sizeof up, "%s", dir) >= (int)sizeof up)
		return bk_fail(err, BK_EINVAL, "%s: path too long; choose a shorter one", dir);
	for (;;) {
		char *slash = strrchr(up, '/');
		while (slash && slash > up && slash[1] == '\0') {
			*slash = '\0';
			slash = strrchr(up, '/');
		}
		if (!slash)
			snprintf(up, sizeof up, ".");
		else if (slash == up)
			up[1] = '\0';
		else
			*slash = '\0';
		if (stat(up, &sb) == 0)
			break;
		if (errno != ENOENT)
			return bk_fail(err, BK_EINVAL, "cannot create folder %s: %s: %s", dir, up, strerror(errno));
	}
	if (!S_ISDIR(sb.st_mode))
		return bk_fail(err, BK_EINVAL, "cannot create folder %s: %s is not a folder; choose another one", dir, up);
	if (access(up, W_OK | X_OK))
		return bk_fail(err, BK_EINVAL, "cannot create folder %s: %s: %s; choose another one", dir, up,
			       strerror(errno));
	return 0;
}

int bk_outfile_check(const char *path, int flags, struct bk_err *err)
{
	struct where w;
	int r = split(path, &w, err);
	if (!r)
		r = name_fits(path, strlen(w.name), err);
	if (r)
		return r;
	int fd = open_dir(w.dir, flags, err);
	if (fd < 0)
		return bk_err_ctx(err, fd, "cannot write %s", path);
	r = check_existing(fd, w.name, path, flags & (BK_OUT_REPLACE | BK_OUT_UNIQUE), err);
	close(fd);
	if (!r && access(w.dir, W_OK | X_OK))
		r = bk_fail(err, BK_EINVAL, "cannot write %s: %s; choose another folder", path, strerror(errno));
	return r;
}

static int mkdir_one(const char *p, mode_t mode, struct bk_err *err)
{
	if (mkdir(p, mode) && errno != EEXIST)
		return bk_fail(err, BK_EINVAL, "cannot create folder %s: %s; create it or choose another one", p,
			       strerror(errno));
	return 0;
}

static int make_dirs(const char *dir, mode_t last_mode, struct bk_err *err)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
		return bk_fail(err, BK_EINVAL, "%s: path too long; choose a shorter one", dir);
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		int r = mkdir_one(p, 0755, err);
		*s = '/';
		if (r)
			return r;
	}
	return mkdir_one(p, last_mode, err);
}

int bk_mkdirs(const char *dir, struct bk_err *err)
{
	return make_dirs(dir, 0755, err);
}

int bk_outdir_make(const char *dir, int flags, struct bk_err *err)
{
	int r = make_dirs(dir, 0700, err);
	if (r)
		return r;
	int fd = open_dir(dir, flags, err);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* name, or <stem>_<n><ext> for n > 1, the extension being what follows
 * the last dot (not a leading one). */
static int numbered(const char *name, unsigned n, char *out, size_t cap)
{
	if (n <= 1)
		return snprintf(out, cap, "%s", name) < (int)cap ? 0 : -1;
	const char *dot = strrchr(name, '.');
	size_t stem = dot && dot != name ? (size_t)(dot - name) : strlen(name);
	return snprintf(out, cap, "%.*s_%u%s", (int)stem, name, n, name + stem) < (int)cap ? 0 : -1;
}

#define MAX_NUMBER 1000

static int set_path(char *path, size_t cap, const struct where *w, const char *name, struct bk_err *err)
{
	/* A bare name stays bare: "x.bin" is not turned into "./x.bin". */
	int bare = w->name == path;
	if ((size_t)(bare ? snprintf(path, cap, "%s", name) : snprintf(path, cap, "%s/%s", w->dir, name)) >= cap)
		return bk_fail(err, BK_EINVAL, "%s/%s: path too long; choose a shorter one", w->dir, name);
	return 0;
}

static int write_all(int fd, const uint8_t *data, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return EIO;
		done += (size_t)n;
	}
	return fsync(fd) ? errno : 0;
}

/* One line for a write that failed, with what to do about it. */
static int write_failed(const char *path, size_t len, int e, struct bk_err *err)
{
	if (e == EFBIG)
		return bk_fail(err, BK_EFILE,
			       "cannot save %s: %zu bytes exceed this shell's file size limit (ulimit -f); raise it (ulimit -f unlimited) and run again",
			       path, len);
	if (e == ENOSPC || e == EDQUOT)
		return bk_fail(err, BK_EFILE,
			       "cannot save %s: no space left on its disk (%zu KiB needed); free some space or save elsewhere, and run again",
			       path, (len + 1023) / 1024);
	return bk_fail(err, BK_EFILE, "cannot save %s: %s; save elsewhere and run again", path, strerror(e));
}

/* Puts tmp in place as name, never replacing a file. FAT (a USB stick),
 * some network file systems and the browser's in-memory one have no hard
 * links: there a rename that refuses to replace does the same, and where
 * even that is missing, a check right before the rename leaves the
 * smallest window. Fails with errno EEXIST when name is taken. */
static int place(int dirfd, const char *tmp, const char *name)
{
	if (linkat(dirfd, tmp, dirfd, name, 0) == 0)
		return 0;
	if (errno != EPERM && errno != EMLINK && errno != ENOSYS && errno != EOPNOTSUPP)
		return -1;
#ifdef RENAME_NOREPLACE
	if (renameat2(dirfd, tmp, dirfd, name, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
#endif
	struct stat sb;
	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	return renameat(dirfd, tmp, dirfd, name);
}

static int write_at(char *path, size_t cap, const uint8_t *data, size_t len, int flags, struct bk_err *err)
{
	struct where w;
	int r = split(path, &w, err);
	if (!r)
		r = name_fits(path, strlen(w.name), err);
	if (r)
		return r;
	char orig[NAME_MAX + 1], name[NAME_MAX + 1], tmp[NAME_MAX + 1];
	snprintf(orig, sizeof orig, "%s", w.name);
	int dirfd = open_dir(w.dir, flags, err);
	if (dirfd < 0)
		return dirfd;
	int fd = -1;
	unsigned n = 1;
	/* The temporary file: exclusive, so no other run (or planted link)
	 * can share it; a taken one means the next name when allowed. */
	for (;; n++) {
		if (n > MAX_NUMBER) {
			r = bk_fail(err, BK_EEXIST, "no free name like %s: clean up folder %s", path, w.dir);
			break;
		}
		if (numbered(orig, n, name, sizeof name) || strlen(name) + strlen(PARTIAL) > NAME_MAX ||
		    (size_t)snprintf(tmp, sizeof tmp, "%s" PARTIAL, name) >= sizeof tmp) {
			r = bk_fail(err, BK_EINVAL, "%s: the file name is too long; choose a shorter one", path);
			break;
		}
		struct stat sb;
		if ((flags & BK_OUT_UNIQUE) && !fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW))
			continue;
		r = check_existing(dirfd, name, path, flags & BK_OUT_REPLACE, err);
		if (r)
			break;
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0)
			break;
		if (errno == EEXIST && (flags & BK_OUT_UNIQUE))
			continue;
		r = errno == EEXIST
			    ? bk_fail(err, BK_EEXIST,
				      "%s" PARTIAL " exists: another bkspi is writing %s, or one was stopped; remove it when no bkspi runs",
				      path, path)
			    : bk_fail(err, BK_EINVAL, "cannot create %s/%s: %s; choose another folder", w.dir, tmp,
				      strerror(errno));
		break;
	}
	if (r) {
		close(dirfd);
		return r;
	}
	int e = write_all(fd, data, len);
	if (close(fd) && !e)
		e = errno;
	if (e) {
		unlinkat(dirfd, tmp, 0);
		close(dirfd);
		set_path(path, cap, &w, name, err);
		return write_failed(path, len, e, err);
	}
	/* Into place. Without REPLACE a file that appeared meanwhile must
	 * survive: link() refuses to replace anything, rename() would not
	 * (see place() for file systems without hard links). */
	for (;;) {
		if (flags & BK_OUT_REPLACE) {
			r = check_existing(dirfd, name, path, 1, err);
			if (!r && renameat(dirfd, tmp, dirfd, name))
				r = bk_fail(err, BK_EFILE, "renaming %s/%s to %s: %s", w.dir, tmp, name, strerror(errno));
			break;
		}
		if (place(dirfd, tmp, name) == 0)
			break;
		int le = errno;
		if (le != EEXIST || !(flags & BK_OUT_UNIQUE) || ++n > MAX_NUMBER || numbered(orig, n, name, sizeof name)) {
			r = le == EEXIST ? bk_fail(err, BK_EEXIST, "%s exists; choose another name or add --force to overwrite it", path)
					 : bk_fail(err, BK_EFILE, "cannot save %s/%s: %s; save elsewhere and run again", w.dir,
						   name, strerror(le));
			break;
		}
	}
	if (!(flags & BK_OUT_REPLACE) || r)
		unlinkat(dirfd, tmp, 0);
	if (!r)
		r = set_path(path, cap, &w, name, err);
	fsync(dirfd);
	close(dirfd);
	return r;
}

int bk_outfile_write(const char *path, const uint8_t *data, size_t len, int flags, struct bk_err *err)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p)
		return bk_fail(err, BK_EINVAL, "%s: path too long; choose a shorter one", path);
	return write_at(p, sizeof p, data, len, flags & ~BK_OUT_UNIQUE, err);
}

int bk_outfile_write_unique(char *path, size_t cap, const uint8_t *data, size_t len, int flags,
			    struct bk_err *err)
{
	return write_at(path, cap, data, len, flags | BK_OUT_UNIQUE, err);
}
