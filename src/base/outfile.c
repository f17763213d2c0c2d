#include "base/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int bk_outfile_check(const char *path, int force, struct bk_err *err)
{
	struct stat sb;
	if (stat(path, &sb) == 0) {
		if (S_ISDIR(sb.st_mode))
			return bk_fail(err, BK_EINVAL, "%s is a directory; give a file name", path);
		if (!force)
			return bk_fail(err, BK_EEXIST, "%s exists; choose another name or add --force to overwrite it", path);
	}
	/* Fail before a long read, not after it. */
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", path);
	if (access(dirname(dir), W_OK))
		return bk_fail(err, BK_EINVAL, "cannot write %s: %s", path, strerror(errno));
	return 0;
}

static int sync_dir(const char *path)
{
	char copy[PATH_MAX];
	snprintf(copy, sizeof copy, "%s", path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	close(fd);
	return r;
}

int bk_outfile_write(const char *path, const uint8_t *data, size_t len, int force,
		     struct bk_err *err)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s.partial", path) >= (int)sizeof tmp)
		return bk_fail(err, BK_EINVAL, "output path too long: %s", path);
	int r = bk_outfile_check(path, force, err);
	if (r)
		return r;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return bk_fail(err, BK_EFILE, "cannot create %s: %s", tmp, strerror(errno));
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = errno;
			close(fd);
			unlink(tmp);
			return bk_fail(err, BK_EFILE, "writing %s: %s", tmp, n < 0 ? strerror(e) : "short write");
		}
		done += (size_t)n;
	}
	if (fsync(fd) || close(fd)) {
		int e = errno;
		unlink(tmp);
		return bk_fail(err, BK_EFILE, "writing %s: %s", tmp, strerror(e));
	}
	/* Without --force a file that appeared meanwhile must survive: link()
	 * refuses to replace it, rename() would not. */
	if (!force && link(tmp, path) == 0) {
		unlink(tmp);
	} else if (!force && errno == EEXIST) {
		unlink(tmp);
		return bk_fail(err, BK_EEXIST, "%s exists; choose another name or add --force to overwrite it", path);
	} else if (rename(tmp, path)) {
		int e = errno;
		unlink(tmp);
		return bk_fail(err, BK_EFILE, "renaming %s to %s: %s", tmp, path, strerror(e));
	}
	sync_dir(path);
	return 0;
}

int bk_outfile_exists(const char *path)
{
	struct stat sb;
	return lstat(path, &sb) == 0;
}

int bk_mkdirs(const char *dir, struct bk_err *err)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
		return bk_fail(err, BK_EINVAL, "path too long: %s", dir);
	for (char *s = p + 1; ; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST)
			return bk_fail(err, BK_EFILE, "cannot create directory %s: %s", p, strerror(errno));
		if (!c)
			return 0;
		*s = c;
	}
}
