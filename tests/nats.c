/*
 * NATS JetStream for the tests and the replica benchmark (issue #17):
 * nats-server on loopback ports, annals-nats, primaries and replicas
 * (annalsd --follow), each in a directory of the test's.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "../client/annals.h"
#include "../proto/proto.h"
#include "harness.h"
#include "nats.h"
#include "test.h"

void
need_nats(void)
{
#ifndef HAVE_NATS
	T_SKIP("built without libnats: the NATS parts are not built "
	    "(install libnats-dev and nats-server, or run make deps as root)");
#endif
	if (system("command -v nats-server >/dev/null 2>&1") != 0)
		T_SKIP("no nats-server on PATH (Debian package nats-server)");
}

pid_t
spawn(const char *log, const char *const *argv)
{
	pid_t	pid;
	int	fd;

	T_ASSERT((pid = fork()) != -1);
	if (pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	return (pid);
}

static int
port_open(int port)
{
	int	fd = th_tcp_connect(port);

	if (fd == -1)
		return (0);
	close(fd);
	return (1);
}

void
nats_start(struct nsrv *s)
{
	char		 port[16], cluster[64], log[160];
	const char	*argv[20];
	int		 i = 0, waited;

	snprintf(port, sizeof port, "%d", s->port);
	snprintf(log, sizeof log, "%s.log", s->dir);
	argv[i++] = "nats-server";
	argv[i++] = "-js";
	argv[i++] = "-a";
	argv[i++] = "127.0.0.1";
	argv[i++] = "-p";
	argv[i++] = port;
	argv[i++] = "-sd";
	argv[i++] = s->dir;
	if (s->cport != 0) {
		snprintf(cluster, sizeof cluster, "nats://127.0.0.1:%d",
		    s->cport);
		argv[i++] = "-n";
		argv[i++] = s->name;
		argv[i++] = "--cluster_name";
		argv[i++] = "annals";
		argv[i++] = "--cluster";
		argv[i++] = cluster;
		argv[i++] = "--routes";
		argv[i++] = s->routes;
	}
	argv[i] = NULL;
	s->pid = spawn(log, argv);
	for (waited = 0; waited < 10000 && !port_open(s->port); waited += 20)
		usleep(20000);
	T_ASSERTF(port_open(s->port), "nats-server on %d did not start",
	    s->port);
}

void
proc_stop(pid_t *pid, int sig)
{
	int	status, waited;

	if (*pid <= 0)
		return;
	kill(*pid, sig);
	for (waited = 0; waited < 15000; waited += 10) {
		if (waitpid(*pid, &status, WNOHANG) == *pid) {
			*pid = 0;
			return;
		}
		usleep(10000);
	}
	kill(*pid, SIGKILL);
	waitpid(*pid, &status, 0);
	*pid = 0;
}

void
nats_one(struct nsrv *s, const char *name)
{
	memset(s, 0, sizeof *s);
	s->port = th_free_port();
	snprintf(s->dir, sizeof s->dir, "%s/%s", t_dir(), name);
}

/* Run annals-nats ARGS to its end; its exit status. */
int
annals_nats(const char *log, const char *const *args)
{
	char		 bin[4200];
	const char	*argv[24];
	int		 i = 0, status;
	pid_t		 pid;

	snprintf(bin, sizeof bin, "%s/annals-nats", t_bindir());
	argv[i++] = bin;
	while (*args != NULL && i < 23)
		argv[i++] = *args++;
	argv[i] = NULL;
	pid = spawn(log, argv);
	T_EQ_INT(waitpid(pid, &status, 0), pid);
	return (WIFEXITED(status) ? WEXITSTATUS(status) : 128 +
	    WTERMSIG(status));
}

pid_t
publisher_start(const char *url, const char *stream, const char *sock)
{
	char		 bin[4200], log[160];
	const char	*argv[] = { bin, "publish", "--server", url,
	    "--stream", stream, "--annals", sock, NULL };

	snprintf(bin, sizeof bin, "%s/annals-nats", t_bindir());
	snprintf(log, sizeof log, "%s/publish.log", t_dir());
	return (spawn(log, argv));
}

void
stream_init(const char *url, const char *stream, const char *extra1,
    const char *extra2)
{
	char		 log[160];
	const char	*argv[] = { "init", "--server", url, "--stream", stream,
	    "--quiet", extra1, extra2, NULL };
	int		 i, rc = -1;

	snprintf(log, sizeof log, "%s/init.log", t_dir());
	/* A cluster elects its JetStream leader a moment after it starts. */
	for (i = 0; i < 100 && rc != 0; i++) {
		if ((rc = annals_nats(log, argv)) != 0)
			usleep(100000);
	}
	T_ASSERTF(rc == 0, "annals-nats init: %s", th_slurp(log, NULL));
}

void
replica_start_http(struct th_daemon *d, const char *name, const char *url,
    const char *stream, const char *http)
{
	char		 dir[128];
	const char	*extra[] = { "--follow", url, "--stream", stream,
	    http != NULL ? "--http" : NULL, http, NULL };

	snprintf(dir, sizeof dir, "%s/%s", t_dir(), name);
	mkdir(dir, 0700);
	T_OK(th_daemon_start_in(d, dir, extra));
}

void
replica_start(struct th_daemon *d, const char *name, const char *url,
    const char *stream)
{
	replica_start_http(d, name, url, stream, NULL);
}

/* The raw stats map of the daemon at sock, unpacked into u. */
int
stats_of(const char *sock, msgpack_unpacked *u, void **buf)
{
	annals_ctx	*ctx = annals_connect(sock);
	size_t		 len = 0;
	int		 rc = -1;

	*buf = NULL;
	if (ctx != NULL && annals_errcode(ctx) == 0 &&
	    annals_call(ctx, "stats", NULL, 0, buf, &len) == 0 &&
	    msgpack_unpack_next(u, *buf, len, NULL) == MSGPACK_UNPACK_SUCCESS)
		rc = 0;
	annals_free(ctx);
	return (rc);
}

uint64_t
stat_u64(const msgpack_object *map, const char *key)
{
	const msgpack_object	*v = mp_get(map, key);

	return (v != NULL && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER ?
	    v->via.u64 : UINT64_MAX);
}

uint64_t
last_seq_of(const char *sock)
{
	msgpack_unpacked	 u;
	void			*buf;
	uint64_t		 seq = UINT64_MAX;

	msgpack_unpacked_init(&u);
	if (stats_of(sock, &u, &buf) == 0)
		seq = stat_u64(&u.data, "last_seq");
	msgpack_unpacked_destroy(&u);
	annals_buf_free(buf);
	return (seq);
}

/* Wait (bounded) until the replica at sock has applied up to seq. */
void
wait_applied(const struct th_daemon *r, uint64_t seq, int seconds)
{
	uint64_t	got = 0;
	int		waited;

	for (waited = 0; waited < seconds * 1000; waited += 50) {
		if ((got = last_seq_of(r->sock)) == seq)
			return;
		usleep(50000);
	}
	th_daemon_dump_log(r);
	T_FAIL("replica %s applied up to %llu, not %llu within %d s",
	    r->dir, (unsigned long long)got, (unsigned long long)seq,
	    seconds);
}

