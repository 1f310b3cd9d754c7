/*
 * The harness starts build/annalsd the way systemd does: it passes a
 * NOTIFY_SOCKET of its own and waits for READY=1 with a deadline, checking
 * that the daemon is still alive, so no test sleeps or scrapes a log.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <msgpack.h>

#include "harness.h"
#include "test.h"
#include "../client/annals.h"
#include "../proto/proto.h"

extern char **environ;

static int
bind_notify(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

void
th_daemon_dump_log(const struct th_daemon *d)
{
	char	 buf[4096];
	size_t	 n;
	FILE	*f;

	if ((f = fopen(d->log, "r")) == NULL)
		return;
	fprintf(stderr, "--- annalsd log ---\n");
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		fwrite(buf, 1, n, stderr);
	fclose(f);
}

char *
th_slurp(const char *path, size_t *lenp)
{
	FILE	*fp;
	char	*buf;
	long	 len;

	T_ASSERTF((fp = fopen(path, "r")) != NULL, "%s: %s", path,
	    strerror(errno));
	T_OK(fseek(fp, 0, SEEK_END));
	len = ftell(fp);
	rewind(fp);
	T_ASSERT((buf = malloc(len + 1)) != NULL);
	T_EQ_INT(fread(buf, 1, len, fp), len);
	buf[len] = '\0';
	fclose(fp);
	if (lenp != NULL)
		*lenp = len;
	return (buf);
}

void
th_write(const char *path, const void *data, size_t len)
{
	FILE	*fp;

	T_ASSERTF((fp = fopen(path, "w")) != NULL, "%s: %s", path,
	    strerror(errno));
	T_EQ_INT(fwrite(data, 1, len, fp), len);
	T_OK(fclose(fp));
}

int
th_spawn(const char *const *argv, const char *in, const char *out,
    const char *err, int merge)
{
	posix_spawn_file_actions_t	 fa;
	pid_t				 pid;
	int				 status;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, in != NULL ? in :
	    "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out,
	    O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, err,
	    O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (merge)
		posix_spawn_file_actions_adddup2(&fa, 1, 2);
	T_EQ_INT(posix_spawnp(&pid, argv[0], &fa, NULL, (char **)argv,
	    environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	T_EQ_INT(waitpid(pid, &status, 0), pid);
	return (WIFEXITED(status) ? WEXITSTATUS(status) :
	    128 + WTERMSIG(status));
}

void
th_annals(struct th_run *r, const char *sock, const char *in,
    const char **args)
{
	const char	*argv[64], *p;
	char		 bin[4200], out[256], err[256];
	int		 i = 0;

	memset(r, 0, sizeof *r);
	snprintf(bin, sizeof bin, "%s/annals", t_bindir());
	snprintf(out, sizeof out, "%s/annals.out", t_dir());
	snprintf(err, sizeof err, "%s/annals.err", t_dir());
	argv[i++] = bin;
	argv[i++] = "-s";
	argv[i++] = sock;
	while (*args != NULL && i < 63)
		argv[i++] = *args++;
	argv[i] = NULL;
	r->status = th_spawn(argv, in, out, err, 0);
	r->out = th_slurp(out, NULL);
	r->err = th_slurp(err, NULL);
	if ((p = strstr(r->err, "added ")) != NULL)
		sscanf(p, "added %" SCNu64 ", updated %" SCNu64 ", unchanged %"
		    SCNu64 ", rejected %" SCNu64 " (%" SCNu64, &r->added,
		    &r->updated, &r->unchanged, &r->rejected, &r->rows);
}

void
th_run_free(struct th_run *r)
{
	free(r->out);
	free(r->err);
}

json_t *
th_export(const char *sock, const char *source)
{
	struct th_run	 r;
	json_t		*all, *o;
	const char	*p, *nl;

	if (source != NULL)
		TH_ANNALS(&r, sock, NULL, 0, "export", "--source", source);
	else
		TH_ANNALS(&r, sock, NULL, 0, "export");
	T_ASSERT((all = json_array()) != NULL);
	for (p = r.out; *p != '\0'; p = nl + 1) {
		T_ASSERT((nl = strchr(p, '\n')) != NULL);
		T_ASSERT((o = json_loadb(p, nl - p, 0, NULL)) != NULL);
		T_OK(json_array_append_new(all, o));
	}
	th_run_free(&r);
	return (all);
}

uint64_t
th_event_count(const char *sock)
{
	struct annals_stats	 st;
	annals_ctx		*ctx;

	T_ASSERT((ctx = annals_connect(sock)) != NULL);
	T_OK(annals_stats(ctx, &st));
	annals_free(ctx);
	return (st.events);
}

int
th_call(int fd, uint32_t msgid, const char *method, const void *params,
    size_t plen, unsigned char *buf, size_t size, int ms, char *msg,
    size_t msgsize)
{
	msgpack_unpacked	u;
	struct msg		m;
	struct aerr		err;
	ssize_t			n;
	int			code;

	T_OK(th_send_request(fd, msgid, method, params, plen));
	n = th_read_frame(fd, buf, size, ms);
	T_ASSERTF(n > 0, "%s: no response", method);
	msgpack_unpacked_init(&u);
	T_ASSERT(msgpack_unpack_next(&u, (const char *)buf, (size_t)n, NULL) ==
	    MSGPACK_UNPACK_SUCCESS);
	T_OK(msg_parse(&u.data, &m, &err));
	T_EQ_INT(m.msgid, msgid);
	aerr_clear(&err);
	code = msg_error(m.error, &err) == 0 ? 0 : err.code;
	if (msg != NULL)
		snprintf(msg, msgsize, "%s", err.msg);
	msgpack_unpacked_destroy(&u);
	return (code);
}

int
th_daemon_start(struct th_daemon *d, const char **extra)
{
	return (th_daemon_start_in(d, t_dir(), extra));
}

int
th_daemon_start_gated(struct th_daemon *d, const char *dir, const char *gate,
    const char **extra)
{
	char		 preload[4200], asan[600];
	const char	*old_asan = getenv("ASAN_OPTIONS");
	struct stat	 sb;
	int		 rc;

	snprintf(preload, sizeof preload, "%s/gate-write.so", t_bindir());
	if (stat(preload, &sb) != 0) {
		fprintf(stderr, "harness: %s is not built\n", preload);
		return (-1);
	}
	/* The shim is not instrumented; ASan must not insist on going
	 * first in the sanitizer build. */
	snprintf(asan, sizeof asan, "%s%sverify_asan_link_order=0",
	    old_asan != NULL ? old_asan : "", old_asan != NULL ? ":" : "");
	setenv("ANNALS_GATE", gate, 1);
	setenv("LD_PRELOAD", preload, 1);
	setenv("ASAN_OPTIONS", asan, 1);
	rc = th_daemon_start_in(d, dir, extra);
	unsetenv("LD_PRELOAD");
	unsetenv("ANNALS_GATE");
	if (old_asan != NULL)
		setenv("ASAN_OPTIONS", old_asan, 1);
	else
		unsetenv("ASAN_OPTIONS");
	return (rc);
}

int
th_daemon_start_in(struct th_daemon *d, const char *dir, const char **extra)
{
	char		 bin[4200], notify[96], buf[256];
	const char	*argv[64];
	struct pollfd	 pfd;
	int		 nfd, i = 0, status, waited;
	ssize_t		 n;

	memset(d, 0, sizeof *d);
	snprintf(d->dir, sizeof d->dir, "%s", dir);
	snprintf(d->data, sizeof d->data, "%s/data", d->dir);
	snprintf(d->sock, sizeof d->sock, "%s/annalsd.sock", d->dir);
	snprintf(d->log, sizeof d->log, "%s/annalsd.log", d->dir);
	snprintf(notify, sizeof notify, "%s/notify", d->dir);
	snprintf(bin, sizeof bin, "%s/annalsd", t_bindir());
	if ((nfd = bind_notify(notify)) == -1) {
		fprintf(stderr, "harness: bind %s: %s\n", notify,
		    strerror(errno));
		return (-1);
	}
	argv[i++] = bin;
	argv[i++] = "--data";
	argv[i++] = d->data;
	argv[i++] = "--socket";
	argv[i++] = d->sock;
	argv[i++] = "--map-size";
	argv[i++] = "64M";
	while (extra != NULL && *extra != NULL && i < 62)
		argv[i++] = *extra++;
	argv[i] = NULL;

	if ((d->pid = fork()) == -1)
		return (-1);
	if (d->pid == 0) {
		int fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd != -1) {
			dup2(fd, 2);
			close(fd);
		}
		setenv("NOTIFY_SOCKET", notify, 1);
		execv(bin, (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	pfd.fd = nfd;
	pfd.events = POLLIN;
	for (waited = 0; waited < 10000; waited += 50) {
		if (poll(&pfd, 1, 50) == 1) {
			n = recv(nfd, buf, sizeof buf - 1, 0);
			if (n > 0) {
				buf[n] = '\0';
				if (strstr(buf, "READY=1") != NULL) {
					close(nfd);
					return (0);
				}
			}
		}
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			fprintf(stderr, "harness: annalsd exited at start "
			    "(status %d)\n", status);
			th_daemon_dump_log(d);
			d->pid = 0;
			close(nfd);
			return (-1);
		}
	}
	close(nfd);
	fprintf(stderr, "harness: annalsd not ready after 10 s\n");
	th_daemon_dump_log(d);
	return (-1);
}

int
th_daemon_stop(struct th_daemon *d)
{
	int	status, waited;

	if (d->pid <= 0)
		return (-1);
	kill(d->pid, SIGTERM);
	for (waited = 0; waited < 20000; waited += 10) {
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			d->pid = 0;
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				th_daemon_dump_log(d);
			return (WIFEXITED(status) ? WEXITSTATUS(status) :
			    128 + WTERMSIG(status));
		}
		usleep(10000);
	}
	kill(d->pid, SIGKILL);
	waitpid(d->pid, &status, 0);
	d->pid = 0;
	fprintf(stderr, "harness: annalsd ignored SIGTERM for 20 s\n");
	th_daemon_dump_log(d);
	return (-1);
}

void
th_daemon_kill(struct th_daemon *d)
{
	int	status;

	if (d->pid <= 0)
		return;
	kill(d->pid, SIGKILL);
	waitpid(d->pid, &status, 0);
	d->pid = 0;
}

int
th_raw_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/* 127.0.0.1:port in sin (port 0: any). */
static void
th_loopback(struct sockaddr_in *sin, int port)
{
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = htons((uint16_t)port);
}

/* A loopback TCP port nobody listens on right now, or -1. */
int
th_free_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			fd, port = -1;

	th_loopback(&sin, 0);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	close(fd);
	return (port);
}

/* Connect to a loopback TCP port; -1 with errno set when it fails. */
int
th_tcp_connect(int port)
{
	struct sockaddr_in	sin;
	int			fd;

	th_loopback(&sin, port);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/* Listen on a loopback TCP port, as another server would; -1 if not. */
int
th_tcp_listen(int port)
{
	struct sockaddr_in	sin;
	int			fd;

	th_loopback(&sin, port);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(fd, 1) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

int
th_send_all(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (-1);
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

static int
read_full(int fd, unsigned char *buf, size_t len, int ms)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	size_t		got = 0;
	ssize_t		n;

	while (got < len) {
		if (poll(&pfd, 1, ms) != 1)
			return (-1);
		n = read(fd, buf + got, len - got);
		if (n <= 0)
			return (-1);
		got += (size_t)n;
	}
	return (0);
}

ssize_t
th_read_frame(int fd, unsigned char *buf, size_t size, int ms)
{
	unsigned char	hdr[5];
	uint32_t	len;

	if (read_full(fd, hdr, 5, ms) != 0 || hdr[0] != 0xce)
		return (-1);
	len = (uint32_t)hdr[1] << 24 | (uint32_t)hdr[2] << 16 |
	    (uint32_t)hdr[3] << 8 | hdr[4];
	if (len > size || read_full(fd, buf, len, ms) != 0)
		return (-1);
	return ((ssize_t)len);
}

int
th_send_request(int fd, uint32_t msgid, const char *method,
    const void *params, size_t plen)
{
	msgpack_sbuffer	sb;
	msgpack_packer	pk;
	unsigned char	hdr[5];
	int		rc;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msg_pack_request(&pk, msgid, method);
	if (params != NULL) {
		msgpack_pack_array(&pk, 1);
		msgpack_sbuffer_write(&sb, params, plen);
	} else
		msgpack_pack_array(&pk, 0);
	frame_header(hdr, (uint32_t)sb.size);
	rc = th_send_all(fd, hdr, 5) || th_send_all(fd, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	return (rc ? -1 : 0);
}

int
th_wait_closed(int fd, int ms)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	char		buf[4096];
	struct timespec	start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		int left = ms - (int)((now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0 || poll(&pfd, 1, left) != 1)
			return (0);
		if (read(fd, buf, sizeof buf) <= 0)
			return (1);
	}
}

/* The CPU ticks (user and system) a /proc stat file gives. */
static unsigned long
th_stat_ticks(const char *path)
{
	FILE		*f;
	char		 line[1024], *p;
	unsigned long	 ut, st;

	T_ASSERT((f = fopen(path, "r")) != NULL);
	T_ASSERT(fgets(line, sizeof line, f) != NULL);
	fclose(f);
	/* utime and stime are fields 14 and 15, after "(comm) ". */
	T_ASSERT((p = strrchr(line, ')')) != NULL);
	T_EQ_INT(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%lu %lu", &ut, &st), 2);
	return (ut + st);
}

long
th_status_kb(pid_t pid, const char *field)
{
	char	 path[64], line[256];
	size_t	 len = strlen(field);
	long	 kb = -1;
	FILE	*f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	T_ASSERTF((f = fopen(path, "r")) != NULL, "%s", path);
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, field, len) == 0 && line[len] == ':')
			kb = strtol(line + len + 1, NULL, 10);
	}
	fclose(f);
	T_ASSERTF(kb > 0, "%s: no %s", path, field);
	return (kb);
}

/* CPU ticks the whole of process pid used so far. */
unsigned long
th_process_ticks(pid_t pid)
{
	char	path[64];

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	return (th_stat_ticks(path));
}

/*
 * CPU ticks the threads of pid named comm (as ps -L shows them) used so
 * far; n gets how many there are.
 */
unsigned long
th_thread_ticks(pid_t pid, const char *comm, int *n)
{
	struct dirent	*de;
	DIR		*d;
	FILE		*f;
	char		 path[320], line[1024], *p;
	unsigned long	 sum = 0;

	*n = 0;
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	T_ASSERT((d = opendir(path)) != NULL);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/%d/task/%s/comm", (int)pid,
		    de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		p = fgets(line, sizeof line, f);
		fclose(f);
		if (p == NULL || strncmp(line, comm, strlen(comm)) != 0 ||
		    line[strlen(comm)] != '\n')
			continue;
		snprintf(path, sizeof path, "/proc/%d/task/%s/stat", (int)pid,
		    de->d_name);
		sum += th_stat_ticks(path);
		(*n)++;
	}
	closedir(d);
	return (sum);
}
