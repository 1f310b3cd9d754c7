/*
 * The echo floor as a benchmarked system: bench-echo answers each raw
 * ping frame with the same 14 bytes annalsd would send, so only the
 * daemon's own work separates the two.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"

static pid_t	b_echo_pid;
static char	b_echo_sock[256];

static int
b_echo_start(const char *dir)
{
	char		 bin[4200], log[300];
	const char	*argv[3];

	snprintf(bin, sizeof bin, "%s/bench-echo", bench_bindir());
	snprintf(b_echo_sock, sizeof b_echo_sock, "%s/echo.sock", dir);
	snprintf(log, sizeof log, "%s/echo.log", dir);
	argv[0] = bin;
	argv[1] = b_echo_sock;
	argv[2] = NULL;
	if ((b_echo_pid = bench_spawn(argv, log)) <= 0)
		return (-1);
	if (bench_wait_socket(b_echo_sock, b_echo_pid, 10000) != 0) {
		bench_kill(&b_echo_pid);
		return (-1);
	}
	return (0);
}

static void
b_echo_stop(void)
{
	bench_kill(&b_echo_pid);
}

static pid_t
b_echo_server_pid(void)
{
	return (b_echo_pid);
}

static void *
b_echo_connect(char *err, size_t len)
{
	int	*fd;

	if ((fd = malloc(sizeof *fd)) == NULL)
		return (NULL);
	if ((*fd = bench_unix_connect(b_echo_sock)) == -1) {
		snprintf(err, len, "connect %s failed", b_echo_sock);
		free(fd);
		return (NULL);
	}
	return (fd);
}

static void
b_echo_disconnect(void *conn)
{
	int	*fd = conn;

	if (fd == NULL)
		return;
	close(*fd);
	free(fd);
}

static int
b_echo_run(void *conn, const struct bench_task *t, struct bench_out *out,
    struct bench_lat *lat, struct bench_lat *lat2)
{
	uint32_t	depth = t->kind == W_PING_PIPE ? t->depth : 1;
	uint64_t	t0;
	int		fd = *(int *)conn;

	(void)lat2;
	while (bench_now() < t->deadline) {
		t0 = bench_now();
		if (bench_raw_ping(fd, depth) != 0) {
			bench_fail(out, "echo failed");
			return (-1);
		}
		bench_lat_add(lat, bench_now() - t0);
		out->ops += depth;
	}
	return (0);
}

static int
b_echo_supports(int kind)
{
	return (kind == W_PING || kind == W_PING_RAW || kind == W_PING_PIPE);
}

const struct bench_sys bench_echo = {
	"echo",
	b_echo_start,
	b_echo_stop,
	b_echo_server_pid,
	b_echo_connect,
	b_echo_disconnect,
	b_echo_run,
	b_echo_supports,
	NULL,
	NULL,
	NULL,
	NULL,
	NULL,
};
