/* inbound.c: the --inbound file: one write(2) per client message, and
 * rotation to FILE.1 at the size cap. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "inbound.h"
#include "log.h"

struct tf_inbound {
	int fd;
	uint64_t size;		/* bytes in the file now */
	uint64_t max;		/* 0: no limit */
	uint64_t rotations;
	char *path;
	char *old;		/* path.1 */
};

static int
open_file(struct tf_inbound *w, char *err, size_t errlen)
{
	struct stat st;

	w->fd = open(w->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		0644);
	if (w->fd < 0) {
		tf_seterr(err, errlen, "%s: %s", w->path, strerror(errno));
		return -1;
	}
	w->size = fstat(w->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	return 0;
}

struct tf_inbound *
tf_inbound_open(const char *path, uint64_t max, char *err, size_t errlen)
{
	struct tf_inbound *w = calloc(1, sizeof *w);
	size_t n = strlen(path);

	if (!w || !(w->path = strdup(path)) || !(w->old = malloc(n + 3))) {
		tf_seterr(err, errlen, "out of memory");
		goto fail;
	}
	memcpy(w->old, path, n);
	memcpy(w->old + n, ".1", 3);
	w->max = max;
	if (open_file(w, err, errlen) < 0)
		goto fail;
	return w;
fail:
	if (w) {
		free(w->path);
		free(w->old);
	}
	free(w);
	return NULL;
}

/* FILE -> FILE.1, and a new FILE. */
static int
rotate(struct tf_inbound *w, char *err, size_t errlen)
{
	if (rename(w->path, w->old) < 0) {
		tf_seterr(err, errlen, "%s: cannot rotate to %s: %s",
			w->path, w->old, strerror(errno));
		return -1;
	}
	close(w->fd);
	w->rotations++;
	return open_file(w, err, errlen);
}

int
tf_inbound_write(struct tf_inbound *w, const char *line, size_t len,
	char *err, size_t errlen)
{
	struct iovec iov[2] = {
		{ (void *)line, len },
		{ "\n", 1 },
	};
	size_t left = len + 1;
	int i = 0;
	ssize_t n;

	if (w->max && left > w->max)
		return 1;
	if (w->max && w->size + left > w->max && w->size &&
	    rotate(w, err, errlen) < 0)
		return -1;
	/* One writev: with O_APPEND the line lands whole at the end even if
	 * another process appends too. A short write (disk full) is
	 * finished here, else the next line would start mid-line. */
	while (left) {
		while (!iov[i].iov_len)
			i++;
		n = writev(w->fd, iov + i, 2 - i);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			tf_seterr(err, errlen, "%s: %s", w->path,
				n < 0 ? strerror(errno) : "nothing written");
			return -1;
		}
		w->size += (uint64_t)n;
		left -= (size_t)n;
		while (n > 0) {
			size_t k = (size_t)n < iov[i].iov_len ? (size_t)n :
				iov[i].iov_len;

			iov[i].iov_base = (char *)iov[i].iov_base + k;
			iov[i].iov_len -= k;
			n -= (ssize_t)k;
			if (!iov[i].iov_len && i < 1)
				i++;
		}
	}
	return 0;
}

uint64_t
tf_inbound_rotations(const struct tf_inbound *w)
{
	return w->rotations;
}

int
tf_inbound_close(struct tf_inbound *w, char *err, size_t errlen)
{
	int rc = 0;

	if (!w)
		return 0;
	if (w->fd >= 0 && close(w->fd) < 0) {
		tf_seterr(err, errlen, "%s: %s", w->path, strerror(errno));
		rc = -1;
	}
	free(w->path);
	free(w->old);
	free(w);
	return rc;
}
