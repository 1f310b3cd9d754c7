/*
 * What one request or one client may make the daemon hold (issue #15):
 * pages of the change feed cut at a byte budget, get stopping at the
 * frame limit while it builds its reply, small frames before a client
 * has authenticated, and check on an empty store.  Each test measures
 * the daemon's peak memory (VmHWM) where that is the point.
 */
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "harness.h"
#include "test.h"
#include "../proto/proto.h"

/* The daemon's peak resident memory, in KiB. */
static long
vm_hwm(pid_t pid)
{
	char	 path[64], line[256];
	long	 kb = -1;
	FILE	*f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	T_ASSERT((f = fopen(path, "r")) != NULL);
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "VmHWM:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	}
	fclose(f);
	T_ASSERT(kb > 0);
	return (kb);
}

/*
 * Send a request and read its response into buf; return the error code
 * (0: ok), the message in msg.
 */
static int
call(int fd, uint32_t msgid, const char *method, const msgpack_sbuffer *p,
    unsigned char *buf, size_t size, char *msg, size_t msgsize)
{
	msgpack_unpacked	u;
	struct msg		m;
	struct aerr		err;
	ssize_t			n;
	int			code;

	T_OK(th_send_request(fd, msgid, method, p ? p->data : NULL,
	    p ? p->size : 0));
	n = th_read_frame(fd, buf, size, 30000);
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

static void
params_begin(msgpack_sbuffer *sb, msgpack_packer *pk, size_t n)
{
	msgpack_sbuffer_init(sb);
	msgpack_packer_init(pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(pk, n);
}

/* Put n records, each with a title of size bytes. */
static void
put_big(int fd, uint32_t msgid, size_t n, size_t size)
{
	static unsigned char	 buf[1 << 16];
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	char			*title;
	size_t			 i;

	title = malloc(size);
	T_ASSERT(title != NULL);
	params_begin(&sb, &pk, 1);
	mp_pack_str(&pk, "records");
	msgpack_pack_array(&pk, n);
	for (i = 0; i < n; i++) {
		memset(title, 'a' + (int)(i % 26), size);
		msgpack_pack_map(&pk, 3);
		mp_pack_kv_str(&pk, "start", "2015-01-26");
		mp_pack_str(&pk, "actors");
		msgpack_pack_array(&pk, 1);
		mp_pack_str(&pk, "RUS");
		mp_pack_str(&pk, "title");
		msgpack_pack_str(&pk, size);
		msgpack_pack_str_body(&pk, title, size);
	}
	T_EQ_INT(call(fd, msgid, "put", &sb, buf, sizeof buf, NULL, 0), 0);
	msgpack_sbuffer_destroy(&sb);
	free(title);
}

/* Run a shell command line, its output into out; return its status. */
static int
run(const char *cmdline, char *out, size_t size)
{
	char	 cmd[1024];
	FILE	*f;
	size_t	 n;
	int	 st;

	snprintf(cmd, sizeof cmd, "%s > %s/out 2>&1", cmdline, t_dir());
	st = system(cmd);
	snprintf(cmd, sizeof cmd, "%s/out", t_dir());
	out[0] = '\0';
	if ((f = fopen(cmd, "r")) != NULL) {
		n = fread(out, 1, size - 1, f);
		out[n] = '\0';
		fclose(f);
	}
	fprintf(stderr, "%s -> %d: %s", cmdline, st, out);
	return (WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/*
 * Issue #15 item 13: check on an empty store sorted a NULL array, which
 * the sanitizer build aborts on; through the socket and --check.
 */
TEST(issue_15_check_on_an_empty_store)
{
	struct th_daemon	 d;
	unsigned char		 buf[4096];
	char			 cmd[512], out[4096];
	int			 fd;

	T_OK(th_daemon_start(&d, NULL));
	T_ASSERT((fd = th_raw_connect(d.sock)) != -1);
	T_EQ_INT(call(fd, 1, "check", NULL, buf, sizeof buf, NULL, 0), 0);
	T_EQ_INT(call(fd, 2, "ping", NULL, buf, sizeof buf, NULL, 0), 0);
	close(fd);
	snprintf(cmd, sizeof cmd, "%s/annals -s %s check", t_bindir(),
	    d.sock);
	T_EQ_INT(run(cmd, out, sizeof out), 0);
	T_ASSERT(strstr(out, "0 events") != NULL &&
	    strstr(out, "ok, 0 problems") != NULL);
	T_EQ_INT(th_daemon_stop(&d), 0);

	snprintf(cmd, sizeof cmd, "%s/annalsd --check --data %s", t_bindir(),
	    d.data);
	T_EQ_INT(run(cmd, out, sizeof out), 0);
	T_ASSERT(strstr(out, "0 events") != NULL &&
	    strstr(out, "ok, 0 problems") != NULL);
}

/*
 * Issue #15 item 4: get built the whole reply before it compared it
 * with the frame limit; now it stops at the record that passes it.
 */
TEST(issue_15_get_stops_at_the_frame_limit)
{
	struct th_daemon	 d;
	const char		*extra[] = { "--max-frame", "2M", NULL };
	static unsigned char	 buf[4 << 20];
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	char			 msg[256];
	long			 before, after;
	size_t			 i;
	int			 fd;

	T_OK(th_daemon_start(&d, extra));
	T_ASSERT((fd = th_raw_connect(d.sock)) != -1);
	put_big(fd, 1, 1, 1000000);

	/* 64 times the same record of 1 MB: 64 MB if built whole. */
	params_begin(&sb, &pk, 1);
	mp_pack_str(&pk, "ids");
	msgpack_pack_array(&pk, 64);
	for (i = 0; i < 64; i++)
		msgpack_pack_uint64(&pk, 1);
	before = vm_hwm(d.pid);
	T_EQ_INT(call(fd, 2, "get", &sb, buf, sizeof buf, msg, sizeof msg),
	    AERR_LIMIT);
	after = vm_hwm(d.pid);
	msgpack_sbuffer_destroy(&sb);
	printf("get of 64 x 1 MB: VmHWM %ld -> %ld KiB: %s\n", before, after,
	    msg);
	T_ASSERTF(after - before < 16 * 1024, "VmHWM grew by %ld KiB",
	    after - before);
	T_ASSERTF(strstr(msg, "frame limit of 2097152 bytes at ids[2]") !=
	    NULL, "%s", msg);

	/* Two fit. */
	params_begin(&sb, &pk, 1);
	mp_pack_str(&pk, "ids");
	msgpack_pack_array(&pk, 2);
	msgpack_pack_uint64(&pk, 1);
	msgpack_pack_uint64(&pk, 1);
	T_EQ_INT(call(fd, 3, "get", &sb, buf, sizeof buf, NULL, 0), 0);
	msgpack_sbuffer_destroy(&sb);
	close(fd);
	T_EQ_INT(th_daemon_stop(&d), 0);
}
