/*
 * The real annalsd on a temporary socket, spoken to frame by frame: the
 * protocol's shapes, pipelining order, and every kind of bad input, each
 * followed by a check that other clients are still served and nothing
 * stored was lost.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "harness.h"
#include "test.h"
#include "../proto/proto.h"

#define BUF_SIZE	(17u << 20)

static unsigned char	*rbuf;

/* Read one response and return it unpacked into u; checks its msgid. */
static const struct msg *
read_response(int fd, uint32_t msgid, msgpack_unpacked *u)
{
	static struct msg	m;
	struct aerr		err;
	ssize_t			n;

	if (rbuf == NULL)
		rbuf = malloc(BUF_SIZE);
	n = th_read_frame(fd, rbuf, BUF_SIZE, 10000);
	T_ASSERTF(n >= 0, "no response to request %u", msgid);
	T_OK(frame_check(rbuf, (size_t)n, &err));
	msgpack_unpacked_init(u);
	T_ASSERT(msgpack_unpack_next(u, (const char *)rbuf, (size_t)n, NULL) ==
	    MSGPACK_UNPACK_SUCCESS);
	T_OK(msg_parse(&u->data, &m, &err));
	T_EQ_INT(m.type, MSG_RESPONSE);
	T_EQ_INT(m.msgid, msgid);
	return (&m);
}

/* The error code of a response, AERR_OK for success. */
static int
response_code(const struct msg *m, char *msg, size_t size)
{
	struct aerr	err;

	aerr_clear(&err);
	if (msg_error(m->error, &err) == 0)
		return (AERR_OK);
	if (msg != NULL)
		snprintf(msg, size, "%s", err.msg);
	return (err.code);
}

static void
pack_record(msgpack_packer *pk, const char *start, const char *actor,
    const char *key)
{
	msgpack_pack_map(pk, key ? 5 : 3);
	mp_pack_kv_str(pk, "start", start);
	mp_pack_str(pk, "actors");
	msgpack_pack_array(pk, 1);
	mp_pack_str(pk, actor);
	mp_pack_kv_str(pk, "title", "an event");
	if (key != NULL) {
		mp_pack_kv_str(pk, "source", "test");
		mp_pack_kv_str(pk, "key", key);
	}
}

/* put one record on fd as msgid; returns the params bytes' sbuffer. */
static void
send_put(int fd, uint32_t msgid, const char *start, const char *actor,
    const char *key)
{
	msgpack_sbuffer	sb;
	msgpack_packer	pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	mp_pack_str(&pk, "records");
	msgpack_pack_array(&pk, 1);
	pack_record(&pk, start, actor, key);
	T_OK(th_send_request(fd, msgid, "put", sb.data, sb.size));
	msgpack_sbuffer_destroy(&sb);
}

static uint64_t
put_ok(int fd, uint32_t msgid, const char *start, const char *actor,
    const char *key)
{
	msgpack_unpacked	 u;
	const struct msg	*m;
	const msgpack_object	*res;
	char			 text[256];
	uint64_t		 id;
	struct aerr		 err;

	send_put(fd, msgid, start, actor, key);
	m = read_response(fd, msgid, &u);
	T_ASSERTF(response_code(m, text, sizeof text) == AERR_OK, "%s", text);
	res = mp_get(m->result, "results");
	T_ASSERT(res != NULL && res->type == MSGPACK_OBJECT_ARRAY);
	T_OK(mp_uint(mp_get(&res->via.array.ptr[0], "id"), "id", &id, &err));
	msgpack_unpacked_destroy(&u);
	return (id);
}

static void
expect_ping(const char *sock)
{
	msgpack_unpacked	 u;
	const struct msg	*m;
	int			 fd = th_raw_connect(sock);

	T_ASSERT(fd >= 0);
	T_OK(th_send_request(fd, 77, "ping", NULL, 0));
	m = read_response(fd, 77, &u);
	T_EQ_INT(response_code(m, NULL, 0), AERR_OK);
	T_ASSERT(m->result->type == MSGPACK_OBJECT_STR &&
	    m->result->via.str.size == 4 &&
	    memcmp(m->result->via.str.ptr, "pong", 4) == 0);
	msgpack_unpacked_destroy(&u);
	close(fd);
}

/* How many events a range over everything returns. */
static size_t
count_events(const char *sock)
{
	msgpack_unpacked	 u;
	const struct msg	*m;
	const msgpack_object	*evs;
	size_t			 n;
	int			 fd = th_raw_connect(sock);

	T_ASSERT(fd >= 0);
	T_OK(th_send_request(fd, 5, "range", "\x80", 1));
	m = read_response(fd, 5, &u);
	T_EQ_INT(response_code(m, NULL, 0), AERR_OK);
	evs = mp_get(m->result, "events");
	T_ASSERT(evs != NULL && evs->type == MSGPACK_OBJECT_ARRAY);
	n = evs->via.array.size;
	msgpack_unpacked_destroy(&u);
	close(fd);
	return (n);
}

TEST(daemon_hello_ping_stats)
{
	struct th_daemon	 d;
	msgpack_unpacked	 u;
	const struct msg	*m;
	struct aerr		 err;
	uint64_t		 v;
	int			 fd;

	T_OK(th_daemon_start(&d, NULL));
	fd = th_raw_connect(d.sock);
	T_ASSERT(fd >= 0);
	T_OK(th_send_request(fd, 1, "hello", NULL, 0));
	m = read_response(fd, 1, &u);
	T_EQ_INT(response_code(m, NULL, 0), AERR_OK);
	T_OK(mp_uint(mp_get(m->result, "protocol"), "protocol", &v, &err));
	T_EQ_U64(v, ANNALS_PROTO_VERSION);
	T_OK(mp_uint(mp_get(m->result, "max_frame"), "max_frame", &v, &err));
	T_EQ_U64(v, PROTO_MAX_FRAME);
	msgpack_unpacked_destroy(&u);

	put_ok(fd, 2, "2015-01-26/2015-01-29", "RUS", NULL);
	T_OK(th_send_request(fd, 3, "stats", NULL, 0));
	m = read_response(fd, 3, &u);
	T_OK(mp_uint(mp_get(m->result, "events"), "events", &v, &err));
	T_EQ_U64(v, 1);
	T_OK(mp_uint(mp_get(m->result, "connections"), "connections", &v,
	    &err));
	T_EQ_U64(v, 1);
	msgpack_unpacked_destroy(&u);
	expect_ping(d.sock);
	close(fd);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(daemon_pipelined_replies_keep_order)
{
	struct th_daemon	 d;
	msgpack_unpacked	 u;
	const struct msg	*m;
	char			 key[32], start[32];
	uint32_t		 i, n = 500;
	int			 fd;

	T_OK(th_daemon_start(&d, NULL));
	fd = th_raw_connect(d.sock);
	T_ASSERT(fd >= 0);
	/* Writes and reads interleaved, all sent before reading any. */
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof key, "k%u", i);
		snprintf(start, sizeof start, "2015-01-%02u", 1 + i % 28);
		if (i % 3 == 2)
			T_OK(th_send_request(fd, 1000 + i, "ping", NULL, 0));
		else
			send_put(fd, 1000 + i, start, "RUS", key);
	}
	for (i = 0; i < n; i++) {
		m = read_response(fd, 1000 + i, &u);
		T_EQ_INT(response_code(m, NULL, 0), AERR_OK);
		msgpack_unpacked_destroy(&u);
	}
	close(fd);
	T_EQ_INT(count_events(d.sock), n - n / 3);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(daemon_errors_name_the_problem)
{
	struct th_daemon	 d;
	msgpack_unpacked	 u;
	const struct msg	*m;
	char			 text[256];
	int			 fd;

	T_OK(th_daemon_start(&d, NULL));
	fd = th_raw_connect(d.sock);
	T_ASSERT(fd >= 0);

	T_OK(th_send_request(fd, 1, "frobnicate", NULL, 0));
	m = read_response(fd, 1, &u);
	T_EQ_INT(response_code(m, text, sizeof text), AERR_UNKNOWN_METHOD);
	T_EQ_STR(text, "unknown method \"frobnicate\"");
	msgpack_unpacked_destroy(&u);

	send_put(fd, 2, "2015-02-30", "RUS", NULL);
	m = read_response(fd, 2, &u);
	T_EQ_INT(response_code(m, text, sizeof text), AERR_INVALID);
	T_EQ_STR(text, "records[0]: start: 2015-02-30 is not a date");
	msgpack_unpacked_destroy(&u);

	/* ids must be an array of unsigned integers. */
	T_OK(th_send_request(fd, 3, "get", "\x81\xa3ids\xa3one", 9));
	m = read_response(fd, 3, &u);
	T_EQ_INT(response_code(m, text, sizeof text), AERR_INVALID);
	msgpack_unpacked_destroy(&u);

	T_OK(th_send_request(fd, 4, "range", "\x81\xa4" "from\xa7" "2015-13",
	    14));
	m = read_response(fd, 4, &u);
	T_EQ_INT(response_code(m, text, sizeof text), AERR_INVALID);
	T_EQ_STR(text, "from: 2015-13 is not a date");
	msgpack_unpacked_destroy(&u);

	T_OK(th_send_request(fd, 5, "ping", "\x81\xa1x\x01", 4));
	m = read_response(fd, 5, &u);
	T_EQ_INT(response_code(m, text, sizeof text), AERR_INVALID);
	T_EQ_STR(text, "unknown parameter \"x\"");
	msgpack_unpacked_destroy(&u);

	/* The connection is still good after all of that. */
	put_ok(fd, 6, "2015", "IRN", NULL);
	close(fd);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/* Issue #14: a put without actors, or with nil, is refused. */
TEST(issue_14_socket_put_needs_actors)
{
	static const struct {
		const char	*params;
		size_t		 len;
	} puts[] = {
		/* {"records": [{"start": "2015"}]} */
		{ "\x81\xa7records\x91\x81\xa5start\xa4" "2015", 22 },
		/* {"records": [{"start": "2015", "actors": nil}]} */
		{ "\x81\xa7records\x91\x82\xa5start\xa4" "2015"
		    "\xa6" "actors\xc0", 30 },
	};
	struct th_daemon	 d;
	msgpack_unpacked	 u;
	const struct msg	*m;
	char			 text[256];
	size_t			 i;
	int			 fd;

	T_OK(th_daemon_start(&d, NULL));
	T_ASSERT((fd = th_raw_connect(d.sock)) >= 0);
	for (i = 0; i < sizeof puts / sizeof puts[0]; i++) {
		T_OK(th_send_request(fd, 1 + i, "put", puts[i].params,
		    puts[i].len));
		m = read_response(fd, 1 + i, &u);
		T_EQ_INT(response_code(m, text, sizeof text), AERR_INVALID);
		T_EQ_STR(text, "records[0]: actors: required");
		msgpack_unpacked_destroy(&u);
	}
	close(fd);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/* Issue #14: a malformed request whose msgid can be read gets it back. */
TEST(issue_14_malformed_requests_get_their_msgid)
{
	static const struct {
		const char	*name;
		const char	*body;
		size_t		 len;
		uint32_t	 msgid;
	} cases[] = {
		{ "trailing bytes", "\x94\x00\x05\xa4ping\x90\xc0", 10, 5 },
		{ "array of 3", "\x93\x00\x0d\xa4ping", 8, 13 },
		{ "msgid as uint32", "\x93\x00\xce\x00\x01\x00\x00\xa4ping",
		    12, 65536 },
		{ "msgid as int8", "\x92\x00\xd0\x09", 4, 9 },
		{ "response", "\x94\x01\x06\xc0\xc0\xc0", 6, 6 },
		{ "msgid too large", "\x93\x00\xcf\x00\x00\x00\x01\x00\x00"
		    "\x00\x00\xa4ping", 16, 0 },
		{ "negative msgid", "\x93\x00\xff\xa4ping", 8, 0 },
		{ "notification", "\x93\x02\xa4ping\x90", 8, 0 },
	};
	struct th_daemon	 d;
	msgpack_unpacked	 u;
	const struct msg	*m;
	unsigned char		 hdr[PROTO_FRAME_HEADER], deep[64];
	size_t			 i;
	int			 fd;

	T_OK(th_daemon_start(&d, NULL));
	fd = th_raw_connect(d.sock);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		frame_header(hdr, (uint32_t)cases[i].len);
		T_OK(th_send_all(fd, hdr, sizeof hdr));
		T_OK(th_send_all(fd, cases[i].body, cases[i].len));
		m = read_response(fd, cases[i].msgid, &u);
		T_ASSERTF(response_code(m, NULL, 0) == AERR_MALFORMED, "%s",
		    cases[i].name);
		msgpack_unpacked_destroy(&u);
	}
	/* Params nested 17 deep: [0, 7, "ping", [[[...]]]]. */
	memcpy(deep, "\x94\x00\x07\xa4ping", 8);
	memset(deep + 8, 0x91, 15);
	deep[23] = 0x90;
	frame_header(hdr, 24);
	T_OK(th_send_all(fd, hdr, sizeof hdr));
	T_OK(th_send_all(fd, deep, 24));
	m = read_response(fd, 7, &u);
	T_EQ_INT(response_code(m, NULL, 0), AERR_MALFORMED);
	msgpack_unpacked_destroy(&u);
	close(fd);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/* Run annalsd with args until it exits; err gets its stderr. */
static int
run_annalsd(const char **args, char *err, size_t size)
{
	const char	*argv[32];
	char		 bin[4200], log[256];
	pid_t		 pid;
	FILE		*fp;
	size_t		 n;
	int		 i = 0, status, fd;

	snprintf(bin, sizeof bin, "%s/annalsd", t_bindir());
	snprintf(log, sizeof log, "%s/run.err", t_dir());
	argv[i++] = bin;
	while (*args != NULL && i < 31)
		argv[i++] = *args++;
	argv[i] = NULL;
	T_ASSERT((pid = fork()) != -1);
	if (pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		execv(bin, (char **)argv);
		_exit(127);
	}
	T_EQ_INT(waitpid(pid, &status, 0), pid);
	T_ASSERT((fp = fopen(log, "r")) != NULL);
	n = fread(err, 1, size - 1, fp);
	err[n] = '\0';
	fclose(fp);
	return (WIFEXITED(status) ? WEXITSTATUS(status) : 128);
}

/* Issue #14: every bad option value names the option and its range. */
TEST(issue_14_option_errors_name_the_option_and_range)
{
	static const struct {
		const char	*opt, *val, *msg;
	} cases[] = {
		{ "--changes-keep", "0",
		    "--changes-keep 0: not a number of days from 1 to 36500" },
		{ "--max-frame", "1K",
		    "--max-frame 1K: not a size from 4K to 4294967295" },
		{ "--max-frame", "4G",
		    "--max-frame 4G: not a size from 4K to 4294967295" },
		{ "--max-conns", "x",
		    "--max-conns x: not a number from 1 to 1000000" },
		{ "--max-inflight", "-1",
		    "--max-inflight -1: not a number from 1 to 65536" },
		{ "--map-size", "99999999999999999G", "--map-size "
		    "99999999999999999G: not a size from 64K to 16T" },
		{ "--out-high", "0",
		    "--out-high 0: not a size from 1K to 64G" },
		{ "--idle-timeout", "-5", "--idle-timeout -5: not a number of "
		    "seconds from 0 to 31536000" },
		{ "--read-threads", "x",
		    "--read-threads x: not a number from 0 to 256" },
		{ "--socket-mode", "9", "--socket-mode 9: not an octal mode "
		    "from 0 to 0777" },
	};
	const char	*args[8];
	char		 err[1024], want[256], data[256], sock[256];
	size_t		 i;

	snprintf(data, sizeof data, "%s/data", t_dir());
	snprintf(sock, sizeof sock, "%s/s.sock", t_dir());
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		args[0] = "--data";
		args[1] = data;
		args[2] = "--socket";
		args[3] = sock;
		args[4] = cases[i].opt;
		args[5] = cases[i].val;
		args[6] = NULL;
		T_EQ_INT(run_annalsd(args, err, sizeof err), 2);
		snprintf(want, sizeof want, "annalsd: %s\n", cases[i].msg);
		T_EQ_STR(err, want);
	}
}

/*
 * Issue #14: the socket's directory is created when missing, and when
 * it cannot be, the error says which option to give.
 */
TEST(issue_14_socket_directory_is_created_or_explained)
{
	struct th_daemon	 d;
	const char		*extra[] = { "--socket", NULL, NULL };
	const char		*args[5];
	char			 sock[108], file[512], err[1024];
	struct stat		 sb;
	int			 fd;

	/* A parent that does not exist yet: made, mode 0755. */
	snprintf(sock, sizeof sock, "%s/run/a/annalsd.sock", t_dir());
	extra[1] = sock;
	T_OK(th_daemon_start(&d, extra));
	expect_ping(sock);
	snprintf(file, sizeof file, "%s/run/a", t_dir());
	T_OK(stat(file, &sb));
	T_ASSERT(S_ISDIR(sb.st_mode));
	T_EQ_INT(sb.st_mode & 0777, 0755);
	T_EQ_INT(th_daemon_stop(&d), 0);

	/* A parent that cannot be made: under a plain file. */
	snprintf(file, sizeof file, "%s/file", t_dir());
	T_ASSERT((fd = open(file, O_WRONLY | O_CREAT, 0600)) != -1);
	close(fd);
	snprintf(sock, sizeof sock, "%s/file/sub/annalsd.sock", t_dir());
	args[0] = "--data";
	args[1] = d.data;
	args[2] = "--socket";
	args[3] = sock;
	args[4] = NULL;
	T_EQ_INT(run_annalsd(args, err, sizeof err), 1);
	snprintf(file, sizeof file, "cannot create %s/file/sub: Not a "
	    "directory; give --socket PATH (and set ANNALS_SOCKET for the "
	    "CLI)\n", t_dir());
	T_ASSERTF(strstr(err, file) != NULL, "%s", err);
}

TEST(daemon_survives_malformed_frames)
{
	static const struct {
		const char	*name;
		const char	*bytes;
		size_t		 len;
		int		 closes;	/* frame boundary lost */
	} cases[] = {
		{ "garbage", "GET / HTTP/1.1\r\n\r\n", 18, 1 },
		{ "oversized frame", "\xce\x7f\xff\xff\xff", 5, 1 },
		{ "array32 claiming 1M entries",
		    "\xce\x00\x00\x00\x05\xdd\x00\x10\x00\x00", 10, 0 },
		{ "map32 claiming 4G entries",
		    "\xce\x00\x00\x00\x05\xdf\xff\xff\xff\xff", 10, 0 },
		{ "not an array", "\xce\x00\x00\x00\x01\xc0", 6, 0 },
		{ "trailing bytes", "\xce\x00\x00\x00\x02\xc0\xc0", 7, 0 },
		{ "never-used byte", "\xce\x00\x00\x00\x01\xc1", 6, 0 },
		{ "response instead of request",
		    "\xce\x00\x00\x00\x05\x94\x01\x01\xc0\xc0", 10, 0 },
		{ "params not an array",
		    "\xce\x00\x00\x00\x09\x94\x00\x01\xa4ping\x01", 14, 0 },
	};
	struct th_daemon	 d;
	unsigned char		 deep[64];
	size_t			 i;
	int			 fd, good;
	ssize_t			 n;

	T_OK(th_daemon_start(&d, NULL));
	good = th_raw_connect(d.sock);
	put_ok(good, 1, "2014-12", "RUS", "kept");
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fd = th_raw_connect(d.sock);
		T_ASSERT(fd >= 0);
		T_OK(th_send_all(fd, cases[i].bytes, cases[i].len));
		if (rbuf == NULL)
			rbuf = malloc(BUF_SIZE);
		/* Each gets an error reply first. */
		n = th_read_frame(fd, rbuf, BUF_SIZE, 5000);
		T_ASSERTF(n > 0, "%s: no error reply", cases[i].name);
		if (cases[i].closes)
			T_ASSERTF(th_wait_closed(fd, 5000), "%s: not closed",
			    cases[i].name);
		else
			expect_ping(d.sock);
		close(fd);
	}

	/* Nesting deeper than the limit, one byte at a time. */
	fd = th_raw_connect(d.sock);
	deep[0] = 0xce;
	deep[1] = deep[2] = deep[3] = 0;
	deep[4] = 40;
	memset(deep + 5, 0x91, 39);
	deep[44] = 0xc0;
	for (i = 0; i < 45; i++)
		T_OK(th_send_all(fd, deep + i, 1));
	n = th_read_frame(fd, rbuf, BUF_SIZE, 5000);
	T_ASSERT(n > 0);
	close(fd);

	/* A truncated frame, then the client leaves. */
	fd = th_raw_connect(d.sock);
	T_OK(th_send_all(fd, "\xce\x00\x00\x01\x00\x94\x00", 7));
	close(fd);

	/* The well-behaved client is still served; nothing was lost. */
	put_ok(good, 2, "2015", "USA", "also");
	close(good);
	T_EQ_INT(count_events(d.sock), 2);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(daemon_slow_reader_does_not_stop_others)
{
	struct th_daemon	 d;
	const char		*extra[] = { "--out-high", "64K", "--out-hard",
				    "1M", NULL };
	char			 key[32];
	int			 fd, w, i;

	T_OK(th_daemon_start(&d, extra));
	w = th_raw_connect(d.sock);
	for (i = 0; i < 200; i++) {
		snprintf(key, sizeof key, "e%d", i);
		put_ok(w, (uint32_t)i + 1, "2015-01", "RUS", key);
	}
	/* Ask for the same big page again and again, never reading. */
	fd = th_raw_connect(d.sock);
	/* Until the socket is full: the daemon stopped reading it. */
	fcntl(fd, F_SETFL, O_NONBLOCK);
	for (i = 0; i < 2000; i++) {
		if (th_send_request(fd, (uint32_t)i, "range", "\x80", 1) != 0)
			break;
	}
	expect_ping(d.sock);
	put_ok(w, 999, "2016", "USA", "after");
	close(fd);
	close(w);
	T_EQ_INT(count_events(d.sock), 201);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/*
 * A client that reads nothing for a while has its replies queued past
 * the socket and past the output high mark; once it reads, it gets every
 * one of them in order, and a request after that is answered at once.
 */
TEST(daemon_backlogged_client_gets_every_reply_in_order)
{
	struct th_daemon	 d;
	const char		*extra[] = { "--out-high", "64K", NULL };
	msgpack_unpacked	 u;
	const struct msg	*m;
	const msgpack_object	*evs;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	char			 key[32];
	uint32_t		 first = 0, i, n = 300;
	size_t			 at;
	int			 fd, w;

	T_OK(th_daemon_start(&d, extra));
	w = th_raw_connect(d.sock);
	for (i = 0; i < 200; i++) {
		snprintf(key, sizeof key, "e%u", i);
		put_ok(w, i + 1, "2015-01", "RUS", key);
	}
	close(w);
	/*
	 * All the requests in one write: sent one by one, they would fill
	 * the socket (each small send costs the sender a whole buffer) while
	 * the daemon, its output over the mark, reads no more; a client that
	 * only writes then waits for ever.  libannals reads while it writes.
	 */
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	for (i = 0; i < n; i++) {
		msgpack_sbuffer_write(&sb, "\xce\0\0\0\0", 5);
		at = sb.size;
		msg_pack_request(&pk, i + 1, "range");
		msgpack_pack_array(&pk, 1);
		msgpack_pack_map(&pk, 0);
		frame_header((unsigned char *)sb.data + at - 5,
		    (uint32_t)(sb.size - at));
	}
	fd = th_raw_connect(d.sock);
	T_OK(th_send_all(fd, sb.data, sb.size));
	msgpack_sbuffer_destroy(&sb);
	/* About 6 MB of replies wait for us now. */
	usleep(200000);
	for (i = 0; i < n; i++) {
		m = read_response(fd, i + 1, &u);
		T_EQ_INT(response_code(m, NULL, 0), AERR_OK);
		evs = mp_get(m->result, "events");
		T_ASSERT(evs != NULL && evs->type == MSGPACK_OBJECT_ARRAY);
		if (i == 0)
			first = evs->via.array.size;
		T_EQ_U64(evs->via.array.size, first);
		msgpack_unpacked_destroy(&u);
	}
	T_EQ_U64(first, 200);
	T_OK(th_send_request(fd, n + 1, "ping", NULL, 0));
	m = read_response(fd, n + 1, &u);
	T_EQ_INT(response_code(m, NULL, 0), AERR_OK);
	msgpack_unpacked_destroy(&u);
	close(fd);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(daemon_sigterm_keeps_acknowledged_writes)
{
	struct th_daemon	 d;
	msgpack_unpacked	 u;
	const struct msg	*m;
	char			 key[32];
	int			 fd, i, acked = 0, n = 300;

	T_OK(th_daemon_start(&d, NULL));
	fd = th_raw_connect(d.sock);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof key, "s%d", i);
		send_put(fd, (uint32_t)i, "2015-01-14", "RUS", key);
	}
	/* Stop while the writes are in flight. */
	kill(d.pid, SIGTERM);
	for (i = 0; i < n; i++) {
		ssize_t r;

		if (rbuf == NULL)
			rbuf = malloc(BUF_SIZE);
		r = th_read_frame(fd, rbuf, BUF_SIZE, 5000);
		if (r < 0)
			break;
		msgpack_unpacked_init(&u);
		T_ASSERT(msgpack_unpack_next(&u, (const char *)rbuf,
		    (size_t)r, NULL) == MSGPACK_UNPACK_SUCCESS);
		{
			struct msg	mm;
			struct aerr	err;

			T_OK(msg_parse(&u.data, &mm, &err));
			m = &mm;
			if (response_code(m, NULL, 0) == AERR_OK)
				acked++;
		}
		msgpack_unpacked_destroy(&u);
	}
	close(fd);
	/* It was told to stop already: wait for it, do not signal again. */
	{
		int status;

		T_EQ_INT(waitpid(d.pid, &status, 0), d.pid);
		T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "status %d", status);
		d.pid = 0;
	}

	T_OK(th_daemon_start(&d, NULL));
	T_ASSERT((int)count_events(d.sock) >= acked);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/* Send method with params bytes as msgid; expect code and text. */
static void
expect_error(int fd, uint32_t msgid, const char *method, const void *params,
    size_t len, int code, const char *text)
{
	msgpack_unpacked	 u;
	const struct msg	*m;
	char			 got[256];

	T_OK(th_send_request(fd, msgid, method, params, len));
	m = read_response(fd, msgid, &u);
	T_EQ_INT(response_code(m, got, sizeof got), code);
	T_EQ_STR(got, text);
	msgpack_unpacked_destroy(&u);
}

/*
 * Issue #14: a since past the last change is refused, by changes and by
 * subscribe, rather than answered with next = since; a connection
 * subscribes once.
 */
TEST(issue_14_since_past_the_end_is_refused)
{
	struct th_daemon	 d;
	msgpack_unpacked	 u;
	const struct msg	*m;
	struct aerr		 err;
	uint64_t		 v;
	int			 fd;

	T_OK(th_daemon_start(&d, NULL));
	fd = th_raw_connect(d.sock);
	put_ok(fd, 1, "2015", "RUS", NULL);
	put_ok(fd, 2, "2016", "USA", NULL);
	/* {"since": 1000000000000} */
	expect_error(fd, 3, "changes", "\x81\xa5since\xcf\x00\x00\x00\xe8"
	    "\xd4\xa5\x10\x00", 16, AERR_INVALID,
	    "since: 1000000000000 is past the last change, 2");
	expect_error(fd, 4, "subscribe", "\x81\xa5since\x03", 8,
	    AERR_INVALID, "since: 3 is past the last change, 2");
	/* The last change itself is a fine place to be. */
	T_OK(th_send_request(fd, 5, "changes", "\x81\xa5since\x02", 8));
	m = read_response(fd, 5, &u);
	T_EQ_INT(response_code(m, NULL, 0), AERR_OK);
	T_OK(mp_uint(mp_get(m->result, "next"), "next", &v, &err));
	T_EQ_U64(v, 2);
	msgpack_unpacked_destroy(&u);
	T_OK(th_send_request(fd, 6, "subscribe", "\x81\xa5since\x02", 8));
	m = read_response(fd, 6, &u);
	T_EQ_INT(response_code(m, NULL, 0), AERR_OK);
	T_OK(mp_uint(mp_get(m->result, "next"), "next", &v, &err));
	T_EQ_U64(v, 2);
	msgpack_unpacked_destroy(&u);
	expect_error(fd, 7, "subscribe", NULL, 0, AERR_INVALID,
	    "already subscribed: unsubscribe first");
	close(fd);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/* Issue #14: a method name that is not UTF-8 is a malformed message. */
TEST(issue_14_method_not_utf8_is_malformed)
{
	struct th_daemon	 d;
	int			 fd;

	T_OK(th_daemon_start(&d, NULL));
	fd = th_raw_connect(d.sock);
	expect_error(fd, 1, "p\xffng", NULL, 0, AERR_MALFORMED,
	    "method must be UTF-8");
	expect_error(fd, 2, "p\xc3\xafng", NULL, 0, AERR_UNKNOWN_METHOD,
	    "unknown method \"p\\xc3\\xafng\"");
	close(fd);
	expect_ping(d.sock);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(daemon_changes_and_subscribe)
{
	struct th_daemon	 d;
	msgpack_unpacked	 u;
	const struct msg	*m;
	const msgpack_object	*chs;
	struct aerr		 err;
	struct msg		 note;
	uint64_t		 v, a;
	ssize_t			 n;
	int			 fd, sub;

	T_OK(th_daemon_start(&d, NULL));
	fd = th_raw_connect(d.sock);
	a = put_ok(fd, 1, "2015", "RUS", "a");
	put_ok(fd, 2, "2016", "USA", "b");
	put_ok(fd, 3, "2015-02", "RUS", "a");	/* updates a */

	T_OK(th_send_request(fd, 4, "changes", "\x81\xa5since\x00", 8));
	m = read_response(fd, 4, &u);
	T_EQ_INT(response_code(m, NULL, 0), AERR_OK);
	chs = mp_get(m->result, "changes");
	T_ASSERT(chs != NULL && chs->type == MSGPACK_OBJECT_ARRAY);
	T_EQ_INT(chs->via.array.size, 2);	/* a's first put is gone */
	T_OK(mp_uint(mp_get(&chs->via.array.ptr[1], "id"), "id", &v, &err));
	T_EQ_U64(v, a);
	T_OK(mp_uint(mp_get(m->result, "next"), "next", &v, &err));
	T_EQ_U64(v, 3);
	msgpack_unpacked_destroy(&u);

	/* A subscriber gets the backlog, then a put from another client. */
	sub = th_raw_connect(d.sock);
	T_OK(th_send_request(sub, 9, "subscribe", "\x81\xa5since\x02", 8));
	m = read_response(sub, 9, &u);
	T_EQ_INT(response_code(m, NULL, 0), AERR_OK);
	msgpack_unpacked_destroy(&u);
	n = th_read_frame(sub, rbuf, BUF_SIZE, 5000);
	T_ASSERT(n > 0);
	msgpack_unpacked_init(&u);
	T_ASSERT(msgpack_unpack_next(&u, (const char *)rbuf, (size_t)n,
	    NULL) == MSGPACK_UNPACK_SUCCESS);
	T_OK(msg_parse(&u.data, &note, &err));
	T_EQ_INT(note.type, MSG_NOTIFY);
	T_EQ_INT(mp_get(note.params, "changes")->via.array.size, 1);
	msgpack_unpacked_destroy(&u);

	put_ok(fd, 5, "2017", "IRN", "c");
	n = th_read_frame(sub, rbuf, BUF_SIZE, 5000);
	T_ASSERT(n > 0);
	msgpack_unpacked_init(&u);
	T_ASSERT(msgpack_unpack_next(&u, (const char *)rbuf, (size_t)n,
	    NULL) == MSGPACK_UNPACK_SUCCESS);
	T_OK(msg_parse(&u.data, &note, &err));
	T_EQ_INT(note.type, MSG_NOTIFY);
	chs = mp_get(note.params, "changes");
	T_EQ_INT(chs->via.array.size, 1);
	T_OK(mp_uint(mp_get(&chs->via.array.ptr[0], "seq"), "seq", &v, &err));
	T_EQ_U64(v, 4);
	msgpack_unpacked_destroy(&u);

	/* Requests still work on the subscribed connection. */
	T_OK(th_send_request(sub, 10, "unsubscribe", NULL, 0));
	m = read_response(sub, 10, &u);
	T_EQ_INT(response_code(m, NULL, 0), AERR_OK);
	msgpack_unpacked_destroy(&u);
	close(sub);
	close(fd);
	T_EQ_INT(th_daemon_stop(&d), 0);
}
