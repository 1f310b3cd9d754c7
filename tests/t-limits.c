/*
 * Limits, overload, access control and a full disk, each against the
 * real daemon: the client gets an error that names what it hit, other
 * clients go on, and nothing committed is lost.
 */
#define _GNU_SOURCE		/* memmem */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "harness.h"
#include "test.h"
#include "../proto/proto.h"

static unsigned char	buf[1 << 20];

/* Send a request and return the error code of its response (0: ok). */
static int
call(int fd, uint32_t msgid, const char *method, msgpack_sbuffer *params,
    char *msg, size_t size)
{
	return (th_call(fd, msgid, method, params ? params->data : NULL,
	    params ? params->size : 0, buf, sizeof buf, 10000, msg, size));
}

static void
params_begin(msgpack_sbuffer *sb, msgpack_packer *pk, size_t n)
{
	msgpack_sbuffer_init(sb);
	msgpack_packer_init(pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(pk, n);
}

/* {"records": [n small records]} */
static void
put_params(msgpack_sbuffer *sb, size_t n, const char *title)
{
	msgpack_packer	pk;
	size_t		i;

	params_begin(sb, &pk, 1);
	mp_pack_str(&pk, "records");
	msgpack_pack_array(&pk, n);
	for (i = 0; i < n; i++) {
		msgpack_pack_map(&pk, 3);
		mp_pack_kv_str(&pk, "start", "2015-01-26");
		mp_pack_str(&pk, "actors");
		msgpack_pack_array(&pk, 1);
		mp_pack_str(&pk, "RUS");
		mp_pack_kv_str(&pk, "title", title);
	}
}

static int
put(int fd, uint32_t msgid, size_t n, const char *title, char *msg,
    size_t size)
{
	msgpack_sbuffer	sb;
	int		code;

	put_params(&sb, n, title);
	code = call(fd, msgid, "put", &sb, msg, size);
	msgpack_sbuffer_destroy(&sb);
	return (code);
}

TEST(limits_batch_page_and_frame)
{
	struct th_daemon	 d;
	const char		*extra[] = { "--max-frame", "1M", NULL };
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	char			 msg[256];
	int			 fd, other;

	T_OK(th_daemon_start(&d, extra));
	fd = th_raw_connect(d.sock);
	other = th_raw_connect(d.sock);

	/* Counts outside their documented range are invalid (issue #14). */
	T_EQ_INT(put(fd, 1, 10001, "x", msg, sizeof msg), AERR_INVALID);
	T_EQ_STR(msg, "records: 10001 given, at most 10000 allowed");

	params_begin(&sb, &pk, 1);
	mp_pack_kv_uint(&pk, "limit", 20000);
	T_EQ_INT(call(fd, 2, "range", &sb, msg, sizeof msg), AERR_INVALID);
	T_EQ_STR(msg, "limit: 20000 is outside 1 to 10000");
	msgpack_sbuffer_destroy(&sb);

	/* A frame over --max-frame: an error naming it, then hang-up. */
	put_params(&sb, 30000, "a title long enough to make the frame big");
	T_ASSERT(sb.size > (1 << 20));
	/* The daemon may hang up before it has all of it. */
	(void)th_send_request(fd, 3, "put", sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	T_ASSERT(th_read_frame(fd, buf, sizeof buf, 5000) > 0);
	T_ASSERT(memmem(buf, sizeof buf, "exceeds limit", 13) != NULL);
	T_ASSERT(th_wait_closed(fd, 5000));
	close(fd);

	T_EQ_INT(put(other, 4, 1, "fine", NULL, 0), 0);
	close(other);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(limits_max_conns_names_the_limit)
{
	struct th_daemon	 d;
	const char		*extra[] = { "--max-conns", "3", NULL };
	int			 fds[3], extra_fd, i;
	ssize_t			 n;

	T_OK(th_daemon_start(&d, extra));
	for (i = 0; i < 3; i++) {
		fds[i] = th_raw_connect(d.sock);
		T_EQ_INT(call(fds[i], 1, "ping", NULL, NULL, 0), 0);
	}
	extra_fd = th_raw_connect(d.sock);
	n = th_read_frame(extra_fd, buf, sizeof buf, 5000);
	T_ASSERT(n > 0);
	T_ASSERT(memmem(buf, (size_t)n, "max-conns", 9) != NULL);
	T_ASSERT(th_wait_closed(extra_fd, 5000));
	close(extra_fd);

	/* One leaves, and a newcomer is served. */
	close(fds[0]);
	for (i = 0; i < 100; i++) {
		/* Until the daemon has seen the other one go. */
		fds[0] = th_raw_connect(d.sock);
		/* Refused, it may have hung up before the request, which
		 * then fails (EPIPE); its answer is still there to read. */
		(void)th_send_request(fds[0], 2, "stats", NULL, 0);
		n = th_read_frame(fds[0], buf, sizeof buf, 5000);
		T_ASSERT(n > 0);
		if (memmem(buf, (size_t)n, "max-conns", 9) == NULL)
			break;
		close(fds[0]);
		usleep(20000);
	}
	T_ASSERT(i < 100);
	for (i = 0; i < 3; i++)
		close(fds[i]);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(limits_idle_timeout_spares_subscribers)
{
	struct th_daemon	 d;
	const char		*extra[] = { "--idle-timeout", "1", NULL };
	int			 idle, sub;

	T_OK(th_daemon_start(&d, extra));
	idle = th_raw_connect(d.sock);
	sub = th_raw_connect(d.sock);
	T_EQ_INT(call(idle, 1, "ping", NULL, NULL, 0), 0);
	T_EQ_INT(call(sub, 1, "subscribe", NULL, NULL, 0), 0);
	T_ASSERT(th_wait_closed(idle, 5000));
	close(idle);
	/* Still there after the timeout passed twice over. */
	usleep(2500000);
	T_EQ_INT(call(sub, 2, "ping", NULL, NULL, 0), 0);
	close(sub);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(limits_inflight_pipeline_keeps_order)
{
	struct th_daemon	 d;
	const char		*extra[] = { "--max-inflight", "2", NULL };
	msgpack_sbuffer		 sb;
	msgpack_unpacked	 u;
	struct msg		 m;
	struct aerr		 err;
	uint32_t		 i;
	ssize_t			 n;
	int			 fd;

	T_OK(th_daemon_start(&d, extra));
	fd = th_raw_connect(d.sock);
	put_params(&sb, 1, "pipelined");
	for (i = 0; i < 50; i++)
		T_OK(th_send_request(fd, i, i % 5 == 4 ? "ping" : "put",
		    i % 5 == 4 ? NULL : sb.data, i % 5 == 4 ? 0 : sb.size));
	msgpack_sbuffer_destroy(&sb);
	for (i = 0; i < 50; i++) {
		n = th_read_frame(fd, buf, sizeof buf, 10000);
		T_ASSERT(n > 0);
		msgpack_unpacked_init(&u);
		T_ASSERT(msgpack_unpack_next(&u, (const char *)buf, (size_t)n,
		    NULL) == MSGPACK_UNPACK_SUCCESS);
		T_OK(msg_parse(&u.data, &m, &err));
		T_EQ_INT(m.msgid, i);
		T_OK(msg_error(m.error, &err));
		msgpack_unpacked_destroy(&u);
	}
	close(fd);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

static int
hello(int fd, uint32_t msgid, const char *token, char *msg, size_t size)
{
	msgpack_sbuffer	sb;
	msgpack_packer	pk;
	int		code;

	params_begin(&sb, &pk, 1);
	mp_pack_kv_str(&pk, "token", token);
	code = call(fd, msgid, "hello", &sb, msg, size);
	msgpack_sbuffer_destroy(&sb);
	return (code);
}

TEST(auth_tokens_and_scopes)
{
	struct th_daemon	 d;
	const char		*extra[] = { "--auth-file", NULL, NULL };
	char			 path[128], msg[256];
	struct timeval		 t0, t1;
	FILE			*f;
	int			 fd;

	snprintf(path, sizeof path, "%s/tokens", t_dir());
	f = fopen(path, "w");
	T_ASSERT(f != NULL);
	fprintf(f, "# reader and writer\nreadonly-token-0123456789 read\n"
	    "writer-token-abcdefghijkl write\n");
	fclose(f);
	chmod(path, 0600);
	extra[1] = path;
	T_OK(th_daemon_start(&d, extra));

	fd = th_raw_connect(d.sock);
	T_EQ_INT(call(fd, 1, "ping", NULL, NULL, 0), 0);
	T_EQ_INT(call(fd, 2, "range", NULL, msg, sizeof msg),
	    AERR_UNAUTHORIZED);
	T_EQ_STR(msg, "range needs a token: send one in hello first");

	/* A wrong token is refused and the next answer comes later. */
	T_EQ_INT(hello(fd, 3, "writer-token-abcdefghijkX", msg, sizeof msg),
	    AERR_UNAUTHORIZED);
	gettimeofday(&t0, NULL);
	T_EQ_INT(call(fd, 4, "ping", NULL, NULL, 0), 0);
	gettimeofday(&t1, NULL);
	T_ASSERT((t1.tv_sec - t0.tv_sec) * 1000000 +
	    (t1.tv_usec - t0.tv_usec) >= 900000);

	T_EQ_INT(hello(fd, 5, "readonly-token-0123456789", NULL, 0), 0);
	T_EQ_INT(call(fd, 6, "range", NULL, NULL, 0), 0);
	T_EQ_INT(put(fd, 7, 1, "no", msg, sizeof msg), AERR_UNAUTHORIZED);
	T_EQ_STR(msg, "put needs a token with the write scope");
	T_EQ_INT(call(fd, 8, "check", NULL, NULL, 0), AERR_UNAUTHORIZED);
	T_EQ_INT(call(fd, 80, "compact", NULL, msg, sizeof msg),
	    AERR_UNAUTHORIZED);
	T_EQ_STR(msg, "compact needs a token with the write scope");
	T_EQ_INT(call(fd, 81, "backup", NULL, NULL, 0), AERR_UNAUTHORIZED);

	T_EQ_INT(hello(fd, 9, "writer-token-abcdefghijkl", NULL, 0), 0);
	T_EQ_INT(put(fd, 10, 1, "yes", NULL, 0), 0);
	T_EQ_INT(call(fd, 11, "check", NULL, NULL, 0), 0);
	/* Issue #14: a wrong token leaves no scope behind. */
	T_EQ_INT(hello(fd, 12, "writer-token-abcdefghijkX", NULL, 0),
	    AERR_UNAUTHORIZED);
	T_EQ_INT(call(fd, 13, "range", NULL, msg, sizeof msg),
	    AERR_UNAUTHORIZED);
	T_EQ_STR(msg, "range needs a token: send one in hello first");
	close(fd);
	T_EQ_INT(th_daemon_stop(&d), 0);

	/* The log names the peer of the wrong token. */
	f = fopen(d.log, "r");
	T_ASSERT(f != NULL);
	T_ASSERT(fread(buf, 1, sizeof buf - 1, f) > 0);
	fclose(f);
	T_ASSERT(strstr((char *)buf, "wrong token from unix") != NULL);
}

TEST(auth_required_for_remote_tcp)
{
	struct th_daemon	 d;
	const char		*extra[] = { "--listen", "0.0.0.0:1", NULL };
	FILE			*f;

	/* Refused before anything is bound. */
	T_ASSERT(th_daemon_start(&d, extra) != 0);
	f = fopen(d.log, "r");
	T_ASSERT(f != NULL);
	T_ASSERT(fread(buf, 1, sizeof buf - 1, f) > 0);
	fclose(f);
	T_ASSERT(strstr((char *)buf, "not a loopback address") != NULL);
}

TEST(socket_mode_and_user)
{
	struct th_daemon	 d;
	const char		*mode[] = { "--socket-mode", "0600", NULL };
	const char		*user[] = { "--user", "nobody", NULL };
	struct passwd		*pw = getpwnam("nobody");
	struct stat		 sb;
	char			 path[128], line[256];
	FILE			*f;
	unsigned		 uid = 0;

	T_OK(th_daemon_start(&d, NULL));
	T_OK(stat(d.sock, &sb));
	T_EQ_INT(sb.st_mode & 0777, 0660);
	T_EQ_INT(th_daemon_stop(&d), 0);
	T_OK(th_daemon_start(&d, mode));
	T_OK(stat(d.sock, &sb));
	T_EQ_INT(sb.st_mode & 0777, 0600);
	T_EQ_INT(th_daemon_stop(&d), 0);

	if (geteuid() != 0 || pw == NULL) {
		/* Not root here: privileges cannot be dropped at all. */
		T_ASSERT(th_daemon_start(&d, user) != 0);
		return;
	}
	/* Root refuses a data directory that belongs to someone else. */
	snprintf(path, sizeof path, "%s/data", t_dir());
	T_OK(chown(path, pw->pw_uid, pw->pw_gid));
	snprintf(path, sizeof path, "%s/data/data.mdb", t_dir());
	T_OK(chown(path, pw->pw_uid, pw->pw_gid));
	snprintf(path, sizeof path, "%s/data/lock.mdb", t_dir());
	T_OK(chown(path, pw->pw_uid, pw->pw_gid));
	T_ASSERT(th_daemon_start(&d, NULL) != 0);
	f = fopen(d.log, "r");
	T_ASSERT(f != NULL && fread(buf, 1, sizeof buf - 1, f) > 0);
	fclose(f);
	T_ASSERT(strstr((char *)buf, "run as that user or with --user") !=
	    NULL);

	/* With --user it runs as nobody on nobody's files. */
	T_OK(chmod(t_dir(), 0755));
	T_OK(th_daemon_start(&d, user));
	snprintf(path, sizeof path, "/proc/%d/status", (int)d.pid);
	f = fopen(path, "r");
	T_ASSERT(f != NULL);
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "Uid: %u", &uid) == 1)
			break;
	}
	fclose(f);
	T_EQ_INT(uid, pw->pw_uid);
	T_OK(stat(d.sock, &sb));
	T_EQ_INT(sb.st_uid, pw->pw_uid);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/* Count the events through range (one page is enough here). */
static size_t
count(int fd, uint32_t msgid)
{
	msgpack_unpacked	 u;
	struct msg		 m;
	struct aerr		 err;
	ssize_t			 n;
	size_t			 c;

	T_OK(th_send_request(fd, msgid, "stats", NULL, 0));
	n = th_read_frame(fd, buf, sizeof buf, 10000);
	T_ASSERT(n > 0);
	msgpack_unpacked_init(&u);
	T_ASSERT(msgpack_unpack_next(&u, (const char *)buf, (size_t)n, NULL) ==
	    MSGPACK_UNPACK_SUCCESS);
	T_OK(msg_parse(&u.data, &m, &err));
	{
		uint64_t v;

		T_OK(mp_uint(mp_get(m.result, "events"), "events", &v, &err));
		c = (size_t)v;
	}
	msgpack_unpacked_destroy(&u);
	return (c);
}

TEST(full_map_then_full_disk)
{
	struct th_daemon	 d;
	const char		*tiny[] = { "--map-size", "256K",
				    "--max-map-size", "512K", NULL };
	char			 small[128], filler[160], msg[256];
	const char		*extra[] = { "--data", NULL, NULL };
	size_t			 acked = 0, i;
	int			 fd, code = 0, fill;

	/* The map stops growing at --max-map-size: disk_full, no crash. */
	T_OK(th_daemon_start(&d, tiny));
	fd = th_raw_connect(d.sock);
	for (i = 0; i < 400 && (code = put(fd, (uint32_t)i, 50, "x", msg,
	    sizeof msg)) == 0; i++)
		acked += 50;
	T_EQ_INT(code, AERR_DISK_FULL);
	T_ASSERTF(strstr(msg, "map is full") != NULL, "%s", msg);
	T_EQ_INT(count(fd, 999), acked);
	close(fd);
	T_EQ_INT(th_daemon_stop(&d), 0);

	/* A real full filesystem needs root to mount a small one. */
	if (geteuid() != 0)
		return;
	snprintf(small, sizeof small, "%s/small", t_dir());
	T_OK(mkdir(small, 0755));
	/* In a mount namespace of our own, the mount dies with the test. */
	if (unshare(CLONE_NEWNS) != 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("tmpfs", small, "tmpfs", 0, "size=4m") != 0) {
		T_ASSERTF(errno == EPERM, "mount: %s", strerror(errno));
		return;
	}
	snprintf(filler, sizeof filler, "%s/filler", small);
	fill = open(filler, O_WRONLY | O_CREAT, 0644);
	T_ASSERT(fill >= 0);
	memset(buf, 'f', sizeof buf);
	for (i = 0; i < 3; i++)
		T_ASSERT(write(fill, buf, sizeof buf) == (ssize_t)sizeof buf);
	close(fill);

	snprintf(small + strlen(small), sizeof small - strlen(small), "/db");
	extra[1] = small;
	T_OK(th_daemon_start(&d, extra));
	fd = th_raw_connect(d.sock);
	acked = 0;
	for (i = 0; i < 1000 && (code = put(fd, (uint32_t)i, 50, "y", msg,
	    sizeof msg)) == 0; i++)
		acked += 50;
	T_EQ_INT(code, AERR_DISK_FULL);
	T_EQ_STR(msg, "no space left on device");
	/* Reads go on, nothing committed is lost. */
	T_EQ_INT(count(fd, 2000), acked);
	/* Space comes back: writes succeed without a restart. */
	T_OK(unlink(filler));
	T_EQ_INT(put(fd, 2001, 50, "z", msg, sizeof msg), 0);
	T_EQ_INT(count(fd, 2002), acked + 50);
	close(fd);
	T_EQ_INT(th_daemon_stop(&d), 0);
	T_OK(th_daemon_start(&d, extra));
	fd = th_raw_connect(d.sock);
	T_EQ_INT(count(fd, 1), acked + 50);
	close(fd);
	T_EQ_INT(th_daemon_stop(&d), 0);
	small[strlen(small) - 3] = '\0';
	T_OK(umount(small));
}
