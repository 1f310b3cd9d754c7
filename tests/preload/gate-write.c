/*
 * A preload library for tests that need a slow disk at one place: a
 * write(2) to a file whose path contains "/gated/" (or what
 * $ANNALS_GATE_PATH says instead) announces itself by
 * creating $ANNALS_GATE/entered, then waits until $ANNALS_GATE/open
 * exists (60 s at most, so that a failed test cannot hang the daemon).
 * The backup copy is written from a thread of its own (by LMDB's write
 * transactions: pwrite(2) and writev(2)), so this holds a backup open
 * for as long as a test wants, on any disk.
 */
#define _GNU_SOURCE
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);

static int
gated(int fd)
{
	const char	*part;
	char		 link[64], path[4096];
	ssize_t		 n;

	if (fd <= 2)
		return (0);
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof path - 1)) <= 0)
		return (0);
	path[n] = '\0';
	if ((part = getenv("ANNALS_GATE_PATH")) == NULL)
		part = "/gated/";
	return (strstr(path, part) != NULL);
}

static void
wait_at_gate(const char *gate)
{
	char		path[4096];
	struct stat	sb;
	int		fd, i;

	snprintf(path, sizeof path, "%s/entered", gate);
	if ((fd = open(path, O_WRONLY | O_CREAT, 0644)) != -1)
		close(fd);
	snprintf(path, sizeof path, "%s/open", gate);
	for (i = 0; i < 6000 && stat(path, &sb) == -1; i++)
		usleep(10000);
}

ssize_t
write(int fd, const void *buf, size_t len)
{
	const char	*gate = getenv("ANNALS_GATE");

	if (real_write == NULL)
		real_write = (ssize_t (*)(int, const void *, size_t))
		    dlsym(RTLD_NEXT, "write");
	if (gate != NULL && gated(fd))
		wait_at_gate(gate);
	return (real_write(fd, buf, len));
}

ssize_t
pwrite(int fd, const void *buf, size_t len, off_t off)
{
	const char	*gate = getenv("ANNALS_GATE");

	if (real_pwrite == NULL)
		real_pwrite = (ssize_t (*)(int, const void *, size_t, off_t))
		    dlsym(RTLD_NEXT, "pwrite");
	if (gate != NULL && gated(fd))
		wait_at_gate(gate);
	return (real_pwrite(fd, buf, len, off));
}

ssize_t
writev(int fd, const struct iovec *iov, int n)
{
	const char	*gate = getenv("ANNALS_GATE");

	if (real_writev == NULL)
		real_writev = (ssize_t (*)(int, const struct iovec *, int))
		    dlsym(RTLD_NEXT, "writev");
	if (gate != NULL && gated(fd))
		wait_at_gate(gate);
	return (real_writev(fd, iov, n));
}
