/*
 * What one request or one client may make the daemon hold (issue #15):
 * pages of the change feed cut at a byte budget, get stopping at the
 * frame limit while it builds its reply, small frames before a client
 * has authenticated, and check on an empty store.  Each test measures
 * the daemon's peak memory (VmHWM) where that is the point.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "harness.h"
#include "test.h"
#include "../client/annals.h"
#include "../proto/proto.h"

/* Send a request and read its answer into buf: th_call(), 30 s. */
static int
call(int fd, uint32_t msgid, const char *method, const msgpack_sbuffer *p,
    unsigned char *buf, size_t size, char *msg, size_t msgsize)
{
	return (th_call(fd, msgid, method, p ? p->data : NULL,
	    p ? p->size : 0, buf, size, 30000, msg, msgsize));
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
	fprintf(stderr, "%s -> %d: %.200s\n", cmdline, st, out);
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
	before = th_status_kb(d.pid, "VmHWM");
	T_EQ_INT(call(fd, 2, "get", &sb, buf, sizeof buf, msg, sizeof msg),
	    AERR_LIMIT);
	after = th_status_kb(d.pid, "VmHWM");
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

/* An --auth-file with one write token, for the daemon's extra argv. */
static const char *
token_file(void)
{
	static char	 path[256];
	FILE		*f;

	snprintf(path, sizeof path, "%s/tokens", t_dir());
	T_ASSERT((f = fopen(path, "w")) != NULL);
	fprintf(f, "writer-token-0123456789 write\n");
	fclose(f);
	return (path);
}

static int
hello(int fd, uint32_t msgid, const char *token)
{
	unsigned char	 buf[4096];
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	int		 code;

	params_begin(&sb, &pk, 1);
	mp_pack_kv_str(&pk, "token", token);
	code = call(fd, msgid, "hello", &sb, buf, sizeof buf, NULL, 0);
	msgpack_sbuffer_destroy(&sb);
	return (code);
}

/* The error code and message of the next response on fd, -1: none. */
static int
next_error(int fd, char *msg, size_t size)
{
	static unsigned char	buf[1 << 16];
	msgpack_unpacked	u;
	struct msg		m;
	struct aerr		err;
	ssize_t			n;
	int			code;

	if ((n = th_read_frame(fd, buf, sizeof buf, 5000)) <= 0)
		return (-1);
	msgpack_unpacked_init(&u);
	T_ASSERT(msgpack_unpack_next(&u, (const char *)buf, (size_t)n, NULL) ==
	    MSGPACK_UNPACK_SUCCESS);
	T_OK(msg_parse(&u.data, &m, &err));
	aerr_clear(&err);
	code = msg_error(m.error, &err) == 0 ? 0 : err.code;
	snprintf(msg, size, "%s", err.msg);
	msgpack_unpacked_destroy(&u);
	return (code);
}

/*
 * Issue #15 item 6: a client without a token could make the daemon
 * buffer frames of max_frame bytes, and unpack a whole one before
 * saying unauthorized.  Now the prefix alone is refused.
 */
TEST(issue_15_preauth_frames_refused_at_the_prefix)
{
	struct th_daemon	 d;
	const char		*extra[] = { "--auth-file", NULL, "--max-frame",
				    "4M", NULL };
	static unsigned char	 body[1 << 20];
	unsigned char		 hdr[PROTO_FRAME_HEADER];
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	char			 msg[256];
	long			 before, after;
	int			 fd[10], i;

	extra[1] = token_file();
	T_OK(th_daemon_start(&d, extra));
	before = th_status_kb(d.pid, "VmHWM");

	/* Frames of 4 MiB announced, 64 KiB of them sent: refused. */
	memset(body, 0xc0, sizeof body);
	frame_header(hdr, 4u << 20);
	for (i = 0; i < 10; i++) {
		T_ASSERT((fd[i] = th_raw_connect(d.sock)) != -1);
		T_OK(th_send_all(fd[i], hdr, sizeof hdr));
		(void)th_send_all(fd[i], body, 64 * 1024);
	}
	for (i = 0; i < 10; i++) {
		T_EQ_INT(next_error(fd[i], msg, sizeof msg), AERR_LIMIT);
		T_EQ_STR(msg, "before hello with a token: frame of 4194304 "
		    "bytes exceeds limit 4096");
		T_ASSERT(th_wait_closed(fd[i], 5000));
		close(fd[i]);
	}

	/* A whole frame of 1 MiB (a million nils): refused, not unpacked. */
	T_ASSERT((fd[0] = th_raw_connect(d.sock)) != -1);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msg_pack_request(&pk, 1, "range");
	msgpack_pack_array(&pk, 1);
	msgpack_pack_array(&pk, 1000000);
	for (i = 0; i < 1000000; i++)
		msgpack_pack_nil(&pk);
	frame_header(hdr, (uint32_t)sb.size);
	T_OK(th_send_all(fd[0], hdr, sizeof hdr));
	(void)th_send_all(fd[0], sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	T_EQ_INT(next_error(fd[0], msg, sizeof msg), AERR_LIMIT);
	T_ASSERT(th_wait_closed(fd[0], 5000));
	close(fd[0]);
	after = th_status_kb(d.pid, "VmHWM");
	printf("10 x 4 MiB frames and 1 MiB of nils before hello: VmHWM "
	    "%ld -> %ld KiB\n", before, after);
	T_ASSERTF(after - before < 8 * 1024, "VmHWM grew by %ld KiB",
	    after - before);

	/* With a token, large frames are fine, even right behind hello. */
	T_ASSERT((fd[0] = th_raw_connect(d.sock)) != -1);
	T_EQ_INT(hello(fd[0], 1, "writer-token-0123456789"), 0);
	put_big(fd[0], 2, 1, 100000);
	close(fd[0]);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/*
 * Clients without a token that send pings and never read pile up
 * replies; all of them together stay under --max-preauth.
 */
TEST(issue_15_preauth_bytes_bounded_together)
{
	struct th_daemon	 d;
	const char		*extra[] = { "--auth-file", NULL,
				    "--max-preauth", "1M", NULL };
	struct pollfd		 pfd;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	unsigned char		 hdr[PROTO_FRAME_HEADER];
	char			 line[512];
	size_t			 off[40], base;
	ssize_t			 n;
	long			 before, after;
	int			 fd[40], i, round, closed = 0, logged = 0;
	FILE			*f;

	extra[1] = token_file();
	T_OK(th_daemon_start(&d, extra));
	before = th_status_kb(d.pid, "VmHWM");
	memset(hdr, 0, sizeof hdr);
	/* 4,000 pings in a row, about 60 KB, sent over and over. */
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	for (i = 0; i < 4000; i++) {
		base = sb.size;
		msgpack_sbuffer_write(&sb, (const char *)hdr, sizeof hdr);
		msg_pack_request(&pk, (uint32_t)i + 1, "ping");
		msgpack_pack_array(&pk, 0);
		frame_header((unsigned char *)sb.data + base,
		    (uint32_t)(sb.size - base - sizeof hdr));
	}
	for (i = 0; i < 40; i++) {
		T_ASSERT((fd[i] = th_raw_connect(d.sock)) != -1);
		off[i] = 0;
	}
	/* Until the daemon drops one, or 20 s: as much as each will take. */
	for (round = 0; round < 100 && !logged; round++) {
		for (i = 0; i < 40; i++) {
			while ((n = send(fd[i], sb.data + off[i], sb.size -
			    off[i], MSG_DONTWAIT | MSG_NOSIGNAL)) > 0)
				off[i] = (off[i] + (size_t)n) % sb.size;
		}
		usleep(200000);
		T_ASSERT((f = fopen(d.log, "r")) != NULL);
		while (fgets(line, sizeof line, f) != NULL)
			logged |= strstr(line, "over --max-preauth") != NULL;
		fclose(f);
	}
	msgpack_sbuffer_destroy(&sb);
	T_ASSERTF(logged, "no client was dropped");
	/* The daemon logs before it closes: give it a moment. */
	for (round = 0; round < 50 && closed == 0; round++) {
		usleep(20000);
		for (i = 0; i < 40; i++) {
			pfd.fd = fd[i];
			pfd.events = 0;
			if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP))
				closed++;
		}
	}
	after = th_status_kb(d.pid, "VmHWM");
	printf("40 clients without a token piling up pongs: %d dropped, "
	    "VmHWM %ld -> %ld KiB\n", closed, before, after);
	T_ASSERT(closed > 0 && closed < 40);

	/* Someone with a token still gets in. */
	for (i = 0; i < 40; i++)
		close(fd[i]);
	T_ASSERT((fd[0] = th_raw_connect(d.sock)) != -1);
	T_EQ_INT(hello(fd[0], 1, "writer-token-0123456789"), 0);
	close(fd[0]);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/* Append the seqs of a page's changes (each with its event) to seqs. */
static void
page_seqs(const unsigned char *buf, size_t len, int notify, uint64_t *seqs,
    size_t *n, uint64_t *next, int *more)
{
	const msgpack_object	*page, *list, *c;
	msgpack_unpacked	 u;
	struct msg		 m;
	struct aerr		 err;
	uint32_t		 i;

	msgpack_unpacked_init(&u);
	T_ASSERT(msgpack_unpack_next(&u, (const char *)buf, len, NULL) ==
	    MSGPACK_UNPACK_SUCCESS);
	T_OK(msg_parse(&u.data, &m, &err));
	page = notify ? m.params : m.result;
	T_ASSERT(page != NULL);
	T_ASSERT((list = mp_get(page, "changes")) != NULL);
	for (i = 0; i < list->via.array.size; i++) {
		c = &list->via.array.ptr[i];
		T_OK(mp_uint(mp_get(c, "seq"), "seq", &seqs[*n], &err));
		T_ASSERT(mp_get(c, "event") != NULL);
		(*n)++;
	}
	T_OK(mp_uint(mp_get(page, "next"), "next", next, &err));
	T_OK(mp_bool(mp_get(page, "more"), "more", more, &err));
	msgpack_unpacked_destroy(&u);
}

/* Count the lines of a file. */
static int
count_lines(const char *path)
{
	FILE	*f;
	int	 ch, n = 0;

	T_ASSERT((f = fopen(path, "r")) != NULL);
	while ((ch = getc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return (n);
}

/*
 * Issue #15 item 3: a page of changes held every change up to its
 * limit, whatever their size: 40 events of 2 MB made a reply of 80 MB
 * with max_frame at 16 MiB.  Now pages stop at range's byte budget, a
 * change larger than it comes alone, and following never skips one.
 */
TEST(issue_15_changes_pages_cut_at_the_frame_limit)
{
	struct th_daemon	 d;
	const char		*extra[] = { "--max-frame", "4M", NULL };
	const char		*small[] = { "--max-frame", "1M", NULL };
	static unsigned char	 buf[32 << 20];
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	uint64_t		 seqs[64], since, next;
	size_t			 n, pages;
	ssize_t			 len;
	char			 cmd[512], out[4096], path[128];
	int			 fd, i, more;

	T_OK(th_daemon_start(&d, extra));
	T_ASSERT((fd = th_raw_connect(d.sock)) != -1);
	for (i = 0; i < 10; i++)
		put_big(fd, (uint32_t)i + 1, 1, 1000000);

	/* changes: pages of 4 records of 1 MB, none over the frame. */
	n = pages = 0;
	since = 0;
	do {
		params_begin(&sb, &pk, 2);
		mp_pack_kv_uint(&pk, "since", since);
		mp_pack_kv_uint(&pk, "limit", 1000);
		T_OK(th_send_request(fd, 100 + (uint32_t)pages, "changes",
		    sb.data, sb.size));
		msgpack_sbuffer_destroy(&sb);
		len = th_read_frame(fd, buf, sizeof buf, 10000);
		T_ASSERTF(len > 0 && len <= 4 << 20, "a reply of %zd bytes",
		    len);
		page_seqs(buf, (size_t)len, 0, seqs, &n, &next, &more);
		T_ASSERT(n > 0 && next == seqs[n - 1]);
		since = next;
		pages++;
	} while (more);
	T_EQ_INT(n, 10);
	T_EQ_INT(pages, 3);
	for (i = 0; i < 10; i++)
		T_EQ_U64(seqs[i], (uint64_t)i + 1);

	/* subscribe: the same pages as notifications. */
	params_begin(&sb, &pk, 1);
	mp_pack_kv_uint(&pk, "since", 0);
	T_OK(th_send_request(fd, 200, "subscribe", sb.data, sb.size));
	msgpack_sbuffer_destroy(&sb);
	T_ASSERT(th_read_frame(fd, buf, sizeof buf, 10000) > 0);
	n = 0;
	while (n < 10) {
		len = th_read_frame(fd, buf, sizeof buf, 10000);
		T_ASSERTF(len > 0 && len <= 4 << 20, "a notification of %zd "
		    "bytes", len);
		page_seqs(buf, (size_t)len, 1, seqs, &n, &next, &more);
	}
	for (i = 0; i < 10; i++)
		T_EQ_U64(seqs[i], (uint64_t)i + 1);
	close(fd);
	T_EQ_INT(th_daemon_stop(&d), 0);

	/*
	 * With --max-frame 1M each record is larger than the budget: one a
	 * page, and annals changes (with and without --follow) gets them
	 * all through libannals.
	 */
	T_OK(th_daemon_start(&d, small));
	T_ASSERT((fd = th_raw_connect(d.sock)) != -1);
	params_begin(&sb, &pk, 1);
	mp_pack_kv_uint(&pk, "since", 3);
	n = 0;
	T_OK(th_send_request(fd, 1, "changes", sb.data, sb.size));
	msgpack_sbuffer_destroy(&sb);
	T_ASSERT((len = th_read_frame(fd, buf, sizeof buf, 10000)) > 0);
	page_seqs(buf, (size_t)len, 0, seqs, &n, &next, &more);
	T_EQ_INT(n, 1);
	T_EQ_U64(seqs[0], 4);
	T_EQ_U64(next, 4);
	T_ASSERT(more);
	close(fd);
	/* run() leaves the output in t_dir()/out. */
	snprintf(path, sizeof path, "%s/out", t_dir());
	snprintf(cmd, sizeof cmd, "%s/annals -s %s --format jsonl changes",
	    t_bindir(), d.sock);
	T_EQ_INT(run(cmd, out, sizeof out), 0);
	T_EQ_INT(count_lines(path), 10);
	snprintf(cmd, sizeof cmd, "%s/annals -s %s --format jsonl changes "
	    "--follow --limit 10", t_bindir(), d.sock);
	T_EQ_INT(run(cmd, out, sizeof out), 0);
	T_EQ_INT(count_lines(path), 10);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/*
 * range and actor write their hits' records straight into the reply,
 * then cut the page at the byte budget there: ten events of 1 MB by an
 * alias come in pages under the frame limit, each hit with its via,
 * whole, and none twice or lost, raw and through libannals.
 */
TEST(range_pages_cut_in_the_reply_keep_every_hit_and_via)
{
	static const char *const codes[] = { "RUS" };
	struct annals_dict_entry alias = { .kind = ANNALS_DICT_ALIAS,
	    .key = "Russia", .codes = codes, .ncodes = 1 };
	struct th_daemon	 d;
	const char		*extra[] = { "--max-frame", "4M", NULL };
	static unsigned char	 buf[8 << 20];
	const struct annals_event *ev;
	const struct annals_via	*via;
	const msgpack_object	*res, *evs, *vias, *code;
	msgpack_unpacked	 u;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	struct msg		 m;
	struct aerr		 err;
	annals_ctx		*ctx;
	annals_query		*q;
	annals_iter		*it;
	ssize_t			 len;
	size_t			 i, n = 0;
	int			 fd, seen[11] = { 0 };

	T_OK(th_daemon_start(&d, extra));
	T_ASSERT((fd = th_raw_connect(d.sock)) != -1);
	for (i = 0; i < 10; i++)
		put_big(fd, (uint32_t)i + 1, 1, 1000000);
	T_ASSERT((ctx = annals_connect(d.sock)) != NULL);
	T_ASSERTF(annals_dict_put(ctx, &alias, 1, 0, NULL) == 0, "%s",
	    annals_errmsg(ctx));

	/* One raw page: four records fit, each with its via. */
	params_begin(&sb, &pk, 2);
	mp_pack_kv_str(&pk, "actor", "Russia");
	mp_pack_kv_uint(&pk, "limit", 100);
	T_OK(th_send_request(fd, 20, "actor", sb.data, sb.size));
	msgpack_sbuffer_destroy(&sb);
	len = th_read_frame(fd, buf, sizeof buf, 10000);
	T_ASSERTF(len > 0 && len <= 4 << 20, "a reply of %zd bytes", len);
	msgpack_unpacked_init(&u);
	T_ASSERT(msgpack_unpack_next(&u, (const char *)buf, (size_t)len,
	    NULL) == MSGPACK_UNPACK_SUCCESS);
	T_OK(msg_parse(&u.data, &m, &err));
	res = m.result;
	T_ASSERT(res != NULL && res->type == MSGPACK_OBJECT_MAP);
	evs = mp_get(res, "events");
	vias = mp_get(res, "via");
	T_ASSERT(evs != NULL && evs->type == MSGPACK_OBJECT_ARRAY);
	T_ASSERT(vias != NULL && vias->type == MSGPACK_OBJECT_ARRAY);
	T_EQ_INT(evs->via.array.size, 4);
	T_EQ_INT(vias->via.array.size, 4);
	T_EQ_INT(mp_get(res, "matches")->via.array.size, 4);
	T_EQ_INT(mp_get(res, "cursor")->type, MSGPACK_OBJECT_BIN);
	for (i = 0; i < 4; i++) {
		code = mp_get(&vias->via.array.ptr[i], "code");
		T_ASSERT(code != NULL && code->type == MSGPACK_OBJECT_STR);
		T_EQ_INT(code->via.str.size, 3);
		T_ASSERT(memcmp(code->via.str.ptr, "RUS", 3) == 0);
		T_EQ_INT(mp_get(&evs->via.array.ptr[i], "title")->
		    via.str.size, 1000000);
	}
	msgpack_unpacked_destroy(&u);
	close(fd);

	/* libannals follows the cursor through all ten. */
	T_ASSERT((q = annals_query_new()) != NULL);
	T_OK(annals_query_set_actor(q, "Russia", NULL));
	T_ASSERTF((it = annals_actor(ctx, q)) != NULL, "%s",
	    annals_errmsg(ctx));
	while ((ev = annals_iter_next(it)) != NULL) {
		T_ASSERT(ev->id >= 1 && ev->id <= 10 && !seen[ev->id]);
		seen[ev->id] = 1;
		T_EQ_INT(strlen(ev->title), 1000000);
		T_ASSERT((via = annals_iter_via(it)) != NULL);
		T_EQ_STR(via->code, "RUS");
		n++;
	}
	T_EQ_INT(annals_iter_error(it), 0);
	T_EQ_INT(n, 10);
	annals_iter_free(it);
	annals_query_free(q);
	annals_free(ctx);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/* Open an event stream of the changes after 0 on the HTTP port. */
static int
sse_open(int port, int rcvbuf)
{
	const char	*req = "GET /v1/changes?since=0 HTTP/1.1\r\n"
			    "Host: localhost\r\n"
			    "Accept: text/event-stream\r\n\r\n";
	int		 fd;

	T_ASSERT((fd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	if (rcvbuf > 0)
		T_OK(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		    sizeof rcvbuf));
	close(fd);
	T_ASSERT((fd = th_tcp_connect(port)) != -1);
	if (rcvbuf > 0)
		T_OK(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		    sizeof rcvbuf));
	T_OK(th_send_all(fd, req, strlen(req)));
	return (fd);
}

/*
 * Read an event stream until the change with id last; return the last
 * id seen.  Every id must follow the one before (the first is 0, the
 * stream's start).
 */
static int
sse_read_ids(int fd, int last)
{
	static char	 buf[1 << 16];
	char		 line[32];
	size_t		 len = 0;
	ssize_t		 r, i;
	int		 want = 0, id = -1;

	while (id < last) {
		struct pollfd pfd = { fd, POLLIN, 0 };

		T_ASSERT(poll(&pfd, 1, 10000) == 1);
		T_ASSERT((r = read(fd, buf, sizeof buf)) > 0);
		for (i = 0; i < r; i++) {
			if (buf[i] != '\n') {
				if (len < sizeof line - 1)
					line[len++] = buf[i];
				continue;
			}
			line[len] = '\0';
			len = 0;
			if (strncmp(line, "id: ", 4) != 0)
				continue;
			id = atoi(line + 4);
			T_EQ_INT(id, want);
			want++;
		}
	}
	return (id);
}

/*
 * Issue #15 item 3, HTTP: event streams to clients that never read held
 * a page of 256 changes each, however large; and GET /v1/changes made
 * one body of every change up to its limit.
 */
TEST(issue_15_sse_pages_cut_in_bytes)
{
	struct th_daemon	 d;
	const char		*extra[] = { "--max-frame", "4M", "--http",
				    NULL, NULL };
	const char		*get = "GET /v1/changes?since=0 "
				    "HTTP/1.1\r\nHost: localhost\r\n"
				    "Connection: close\r\n\r\n";
	static char		 buf[32 << 20];
	char			 listen[64], *p;
	size_t			 got;
	ssize_t			 r;
	long			 before, after;
	int			 fd, sse[8], port, i, ids;

	port = th_free_port();
	snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
	extra[3] = listen;
	T_OK(th_daemon_start(&d, extra));
	T_ASSERT((fd = th_raw_connect(d.sock)) != -1);
	for (i = 0; i < 24; i++)
		put_big(fd, (uint32_t)i + 1, 1, 1000000);
	close(fd);

	before = th_status_kb(d.pid, "VmHWM");
	for (i = 0; i < 8; i++)
		sse[i] = sse_open(port, 4096);
	/* Let the daemon write to them what it will. */
	usleep(1500000);
	after = th_status_kb(d.pid, "VmHWM");
	printf("8 event streams of 24 MB that are not read: VmHWM %ld -> "
	    "%ld KiB\n", before, after);
	T_ASSERTF(after - before < 64 * 1024, "VmHWM grew by %ld KiB",
	    after - before);

	/* A stream that reads gets every change, in order. */
	fd = sse_open(port, 0);
	T_EQ_INT(sse_read_ids(fd, 24), 24);
	close(fd);

	/* GET /v1/changes: a page of about 4 MB too (plus one change). */
	T_ASSERT((fd = th_tcp_connect(port)) != -1);
	T_OK(th_send_all(fd, get, strlen(get)));
	for (got = 0; got < sizeof buf - 1; got += (size_t)r) {
		struct pollfd pfd = { fd, POLLIN, 0 };

		T_ASSERT(poll(&pfd, 1, 10000) == 1);
		if ((r = read(fd, buf + got, sizeof buf - 1 - got)) <= 0)
			break;
	}
	buf[got] = '\0';
	for (ids = 0, p = buf; (p = strstr(p, "{\"seq\":")) != NULL; p++)
		ids++;
	printf("GET /v1/changes: %d changes in %zu bytes\n", ids, got);
	T_ASSERT(ids == 5 && strstr(buf, "\"more\":true") != NULL);
	close(fd);
	for (i = 0; i < 8; i++)
		close(sse[i]);
	T_EQ_INT(th_daemon_stop(&d), 0);
}
