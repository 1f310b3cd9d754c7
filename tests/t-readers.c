/*
 * Reads answered on reader threads (daemon/readers.c), against the real
 * daemon: the threads take work only beside other active clients; replies
 * keep their order and a write is seen by every later request of its
 * connection; a client may leave with a read on a thread; the map grows
 * while readers run; SIGTERM answers what is in flight.  Whether the
 * threads did the work is read from the jobs they ran (stats
 * reader_jobs), not from their CPU time, which a loaded machine blurs.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "harness.h"
#include "test.h"
#include "../proto/proto.h"

#define RT_BACKGROUND	3000		/* events every heavy query decodes */

static unsigned char	rt_buf[1 << 22];

static void
rt_params(msgpack_sbuffer *sb, msgpack_packer *pk, size_t n)
{
	msgpack_sbuffer_init(sb);
	msgpack_packer_init(pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(pk, n);
}

static void
rt_send(int fd, uint32_t msgid, const char *method, msgpack_sbuffer *sb)
{
	T_OK(th_send_request(fd, msgid, method, sb != NULL ? sb->data : NULL,
	    sb != NULL ? sb->size : 0));
}

/*
 * Read one response into u and m, which must answer msgid; returns its
 * error code (0: a result), with the message in err.
 */
static int
rt_reply(int fd, uint32_t msgid, msgpack_unpacked *u, struct msg *m,
    struct aerr *err)
{
	ssize_t	n;

	n = th_read_frame(fd, rt_buf, sizeof rt_buf, 20000);
	T_ASSERTF(n > 0, "no response to request %u", msgid);
	msgpack_unpacked_init(u);
	T_ASSERT(msgpack_unpack_next(u, (const char *)rt_buf, (size_t)n,
	    NULL) == MSGPACK_UNPACK_SUCCESS);
	T_OK(msg_parse(&u->data, m, err));
	T_ASSERTF(m->msgid == msgid, "response %u where %u was due",
	    m->msgid, msgid);
	aerr_clear(err);
	return (msg_error(m->error, err) == 0 ? 0 : err->code);
}

/* Send a request and expect a result; u holds it until destroyed. */
static const msgpack_object *
rt_call(int fd, uint32_t msgid, const char *method, msgpack_sbuffer *sb,
    msgpack_unpacked *u)
{
	struct msg	m;
	struct aerr	err;

	rt_send(fd, msgid, method, sb);
	T_ASSERTF(rt_reply(fd, msgid, u, &m, &err) == 0, "%s: %s", method,
	    err.msg);
	return (m.result);
}

/* A number of the stats, asked on fd. */
static uint64_t
rt_stat(int fd, uint32_t msgid, const char *name)
{
	const msgpack_object	*o;
	msgpack_unpacked	 u;
	uint64_t		 n;

	o = mp_get(rt_call(fd, msgid, "stats", NULL, &u), name);
	T_ASSERTF(o != NULL && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER,
	    "stats has no %s", name);
	n = o->via.u64;
	msgpack_unpacked_destroy(&u);
	return (n);
}

/*
 * The jobs the reader threads ran so far (stats reader_jobs), asked on
 * fd: a connection of its own would count as another client active.
 */
static uint64_t
rt_reader_jobs(int fd, uint32_t msgid)
{
	return (rt_stat(fd, msgid, "reader_jobs"));
}

/* Put n events of source "bg" (keys from first on), in one batch. */
static void
rt_put_background(int fd, uint32_t msgid, int first, int n)
{
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	msgpack_unpacked	 u;
	char			 key[32], start[32];
	int			 i;

	rt_params(&sb, &pk, 1);
	mp_pack_str(&pk, "records");
	msgpack_pack_array(&pk, (size_t)n);
	for (i = first; i < first + n; i++) {
		snprintf(key, sizeof key, "bg-%d", i);
		snprintf(start, sizeof start, "2015-%02d-%02d", i % 12 + 1,
		    i % 28 + 1);
		msgpack_pack_map(&pk, 5);
		mp_pack_kv_str(&pk, "source", "bg");
		mp_pack_kv_str(&pk, "key", key);
		mp_pack_kv_str(&pk, "start", start);
		mp_pack_str(&pk, "actors");
		msgpack_pack_array(&pk, 2);
		mp_pack_str(&pk, "SYRGOV");
		mp_pack_str(&pk, "RUS");
		mp_pack_kv_str(&pk, "title", "background event of some length");
	}
	rt_call(fd, msgid, "put", &sb, &u);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
}

static void
rt_load(int fd)
{
	int	i;

	for (i = 0; i < RT_BACKGROUND; i += 1000)
		rt_put_background(fd, (uint32_t)(900000 + i), i, 1000);
}

/*
 * A query whose cost is on the server: every event of 2015 is decoded
 * for the source filter, and none matches.
 */
static void
rt_heavy_params(msgpack_sbuffer *sb)
{
	msgpack_packer	pk;

	rt_params(sb, &pk, 3);
	mp_pack_kv_str(&pk, "from", "2015");
	mp_pack_kv_str(&pk, "to", "2015");
	mp_pack_kv_str(&pk, "source", "nomatch");
}

/* The events of a result, checked to be an empty page of a heavy query. */
static void
rt_check_heavy(const msgpack_object *res)
{
	const msgpack_object	*ev;

	T_ASSERT((ev = mp_get(res, "events")) != NULL);
	T_EQ_INT(ev->type, MSGPACK_OBJECT_ARRAY);
	T_EQ_INT(ev->via.array.size, 0);
}

/* n heavy queries on one connection, a few in flight at a time. */
static void
rt_heavy_queries(int fd, uint32_t base, int n)
{
	msgpack_sbuffer		 sb;
	msgpack_unpacked	 u;
	struct msg		 m;
	struct aerr		 err;
	int			 sent = 0, got = 0;

	rt_heavy_params(&sb);
	while (got < n) {
		while (sent < n && sent - got < 4)
			rt_send(fd, base + (uint32_t)sent++, "range", &sb);
		T_EQ_INT(rt_reply(fd, base + (uint32_t)got++, &u, &m, &err), 0);
		rt_check_heavy(m.result);
		msgpack_unpacked_destroy(&u);
	}
	msgpack_sbuffer_destroy(&sb);
}

TEST(readers_work_only_beside_other_clients)
{
	struct th_daemon	 d;
	const char		*extra[] = { "--read-threads", "2", NULL };
	uint64_t		 j0, j1;
	pid_t			 pids[4];
	int			 fd, n, c, status;

	T_OK(th_daemon_start(&d, extra));
	th_thread_ticks(d.pid, "annalsd-reader", &n);
	T_EQ_INT(n, 2);

	/* One client: the loop answers, the threads stay idle. */
	fd = th_raw_connect(d.sock);
	rt_load(fd);
	j0 = rt_reader_jobs(fd, 1000);
	rt_heavy_queries(fd, 1, 60);
	j1 = rt_reader_jobs(fd, 1001);
	T_ASSERTF(j1 == j0, "reader threads ran %llu jobs for one client",
	    (unsigned long long)(j1 - j0));

	/* Four at once: the threads take a good part of the work. */
	for (c = 0; c < 4; c++) {
		if ((pids[c] = fork()) == 0) {
			fd = th_raw_connect(d.sock);
			rt_heavy_queries(fd, 1, 30);
			close(fd);
			_exit(0);
		}
	}
	for (c = 0; c < 4; c++) {
		T_EQ_INT(waitpid(pids[c], &status, 0), pids[c]);
		T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "client %d: status %d", c, status);
	}
	j0 = rt_reader_jobs(fd, 1002);
	T_ASSERTF(j0 > j1, "reader threads ran no job for four clients");
	close(fd);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/*
 * check walks the whole store: it runs on a reader thread even for the
 * only client, and the loop answers others meanwhile.
 */
TEST(readers_run_check_and_the_loop_goes_on)
{
	struct th_daemon	 d;
	const char		*extra[] = { "--read-threads", "1", NULL };
	const msgpack_object	*res, *ok;
	msgpack_unpacked	 u;
	struct msg		 m;
	struct aerr		 err;
	uint64_t		 j0, j1;
	uint32_t		 i;
	int			 fd, other, n;

	T_OK(th_daemon_start(&d, extra));
	fd = th_raw_connect(d.sock);
	rt_load(fd);
	th_thread_ticks(d.pid, "annalsd-reader", &n);
	T_EQ_INT(n, 1);
	j0 = rt_reader_jobs(fd, 99);
	for (i = 0; i < 10; i++) {
		res = rt_call(fd, 100 + i, "check", NULL, &u);
		T_ASSERT((ok = mp_get(res, "ok")) != NULL);
		T_ASSERT(ok->type == MSGPACK_OBJECT_BOOLEAN && ok->via.boolean);
		msgpack_unpacked_destroy(&u);
	}
	j1 = rt_reader_jobs(fd, 199);
	T_ASSERTF(j1 - j0 == 10, "the reader thread ran %llu jobs for ten "
	    "checks", (unsigned long long)(j1 - j0));

	/* Checks queued on one connection; another is answered at once. */
	other = th_raw_connect(d.sock);
	for (i = 0; i < 10; i++)
		rt_send(fd, 200 + i, "check", NULL);
	rt_send(other, 1, "ping", NULL);
	T_EQ_INT(rt_reply(other, 1, &u, &m, &err), 0);
	msgpack_unpacked_destroy(&u);
	/* On the loop, the ten (over 60 bytes each) would all be out first. */
	T_OK(ioctl(fd, FIONREAD, &n));
	T_ASSERTF(n < 10 * 60, "%d bytes of checks came before the ping", n);
	for (i = 0; i < 10; i++) {
		T_EQ_INT(rt_reply(fd, 200 + i, &u, &m, &err), 0);
		msgpack_unpacked_destroy(&u);
	}
	close(other);
	close(fd);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(readers_option_sets_the_threads)
{
	struct th_daemon	 d;
	const char		*none[] = { "--read-threads", "0", NULL };
	char			 cmd[4300];
	long			 ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	pid_t			 pids[2];
	int			 n, c, fd, status;

	snprintf(cmd, sizeof cmd, "%s/annalsd --read-threads x 2>/dev/null",
	    t_bindir());
	status = system(cmd);
	T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 2);
	snprintf(cmd, sizeof cmd, "%s/annalsd --read-threads 257 2>/dev/null",
	    t_bindir());
	status = system(cmd);
	T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 2);
	snprintf(cmd, sizeof cmd, "%s/annalsd --help | grep -q -- "
	    "'--read-threads N'", t_bindir());
	T_EQ_INT(system(cmd), 0);

	/* By default one per CPU. */
	T_OK(th_daemon_start(&d, NULL));
	th_thread_ticks(d.pid, "annalsd-reader", &n);
	T_EQ_INT(n, ncpu);
	T_EQ_INT(th_daemon_stop(&d), 0);

	/* None: the loop answers everyone, as before. */
	T_OK(th_daemon_start(&d, none));
	th_thread_ticks(d.pid, "annalsd-reader", &n);
	T_EQ_INT(n, 0);
	fd = th_raw_connect(d.sock);
	rt_load(fd);
	close(fd);
	for (c = 0; c < 2; c++) {
		if ((pids[c] = fork()) == 0) {
			fd = th_raw_connect(d.sock);
			rt_heavy_queries(fd, 1, 10);
			close(fd);
			_exit(0);
		}
	}
	for (c = 0; c < 2; c++) {
		T_EQ_INT(waitpid(pids[c], &status, 0), pids[c]);
		T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/*
 * The pipelining client of readers_pipelines_keep_order: its own keys
 * (source "rw", actor "Cn"), a model of them updated as each request is
 * sent, and what each reply must say.
 */
#define RW_KEYS		12
#define RW_OPS		300
#define RW_WINDOW	16

#define RW_PUT		0
#define RW_DELETE	1
#define RW_GET		2
#define RW_ACTOR	3
#define RW_HEAVY	4

struct rw_key {
	int		 present;
	int		 version;
	unsigned	 gen;		/* deletes so far */
	uint64_t	 id;		/* 0 until a put's reply tells */
};

struct rw_expect {
	int		 op;
	int		 k;
	unsigned	 gen;
	int		 added;
	char		 titles[RW_KEYS * 32];	/* sorted, one per line */
};

static int
rw_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* The titles of keys present (or of the events in ev), sorted. */
static void
rw_titles(int c, const struct rw_key *keys, const msgpack_object *ev,
    char *out, size_t size)
{
	const msgpack_object	*t;
	char			 all[RW_KEYS * 2][32], *p[RW_KEYS * 2];
	size_t			 n = 0, i;
	int			 k;

	if (ev == NULL) {
		for (k = 0; k < RW_KEYS; k++) {
			if (!keys[k].present)
				continue;
			snprintf(all[n], sizeof all[n], "c%d-k%d-v%d", c, k,
			    keys[k].version);
			p[n] = all[n];
			n++;
		}
	} else {
		T_ASSERT(ev->via.array.size <= RW_KEYS);
		for (i = 0; i < ev->via.array.size; i++) {
			t = mp_get(&ev->via.array.ptr[i], "title");
			T_ASSERT(t != NULL && t->type == MSGPACK_OBJECT_STR &&
			    t->via.str.size < sizeof all[n]);
			memcpy(all[n], t->via.str.ptr, t->via.str.size);
			all[n][t->via.str.size] = '\0';
			p[n] = all[n];
			n++;
		}
	}
	qsort(p, n, sizeof p[0], rw_cmp);
	*out = '\0';
	for (i = 0; i < n; i++) {
		strncat(out, p[i], size - strlen(out) - 1);
		strncat(out, "\n", size - strlen(out) - 1);
	}
}

/* Send the next request and note what its reply must be. */
static void
rw_send(int fd, int c, uint32_t msgid, struct rw_key *keys,
    struct rw_expect *e, unsigned *seed)
{
	msgpack_sbuffer	sb;
	msgpack_packer	pk;
	char		key[32], actor[16], title[32], start[32];
	int		r = (int)(rand_r(seed) % 100), k, i;

	snprintf(actor, sizeof actor, "C%d", c);
	memset(e, 0, sizeof *e);
	e->k = k = (int)(rand_r(seed) % RW_KEYS);
	e->op = r < 35 ? RW_PUT : r < 50 ? RW_DELETE : r < 70 ? RW_GET :
	    r < 90 ? RW_ACTOR : RW_HEAVY;
	if (e->op == RW_DELETE) {
		/* A key whose id is known, or a put after all. */
		for (i = 0; i < RW_KEYS; i++) {
			k = (e->k + i) % RW_KEYS;
			if (keys[k].present && keys[k].id != 0)
				break;
		}
		if (i == RW_KEYS)
			e->op = RW_PUT;
		else
			e->k = k;
	}
	k = e->k;
	snprintf(key, sizeof key, "c%d-k%d", c, k);
	switch (e->op) {
	case RW_PUT:
		e->added = !keys[k].present;
		keys[k].present = 1;
		keys[k].version++;
		e->gen = keys[k].gen;
		snprintf(title, sizeof title, "c%d-k%d-v%d", c, k,
		    keys[k].version);
		snprintf(start, sizeof start, "2016-03-%02d", k + 1);
		rt_params(&sb, &pk, 1);
		mp_pack_str(&pk, "records");
		msgpack_pack_array(&pk, 1);
		msgpack_pack_map(&pk, 5);
		mp_pack_kv_str(&pk, "source", "rw");
		mp_pack_kv_str(&pk, "key", key);
		mp_pack_kv_str(&pk, "start", start);
		mp_pack_str(&pk, "actors");
		msgpack_pack_array(&pk, 1);
		mp_pack_str(&pk, actor);
		mp_pack_kv_str(&pk, "title", title);
		rt_send(fd, msgid, "put", &sb);
		break;
	case RW_DELETE:
		rt_params(&sb, &pk, 1);
		mp_pack_str(&pk, "ids");
		msgpack_pack_array(&pk, 1);
		msgpack_pack_uint64(&pk, keys[k].id);
		keys[k].present = 0;
		keys[k].id = 0;
		keys[k].gen++;
		rt_send(fd, msgid, "delete", &sb);
		break;
	case RW_GET:
		if (keys[k].present)
			snprintf(e->titles, sizeof e->titles, "c%d-k%d-v%d", c,
			    k, keys[k].version);
		rt_params(&sb, &pk, 2);
		mp_pack_kv_str(&pk, "source", "rw");
		mp_pack_kv_str(&pk, "key", key);
		rt_send(fd, msgid, "get_by_key", &sb);
		break;
	case RW_ACTOR:
		rw_titles(c, keys, NULL, e->titles, sizeof e->titles);
		rt_params(&sb, &pk, 2);
		mp_pack_kv_str(&pk, "actor", actor);
		mp_pack_kv_uint(&pk, "limit", 100);
		rt_send(fd, msgid, "actor", &sb);
		break;
	default:
		rt_heavy_params(&sb);
		rt_send(fd, msgid, "range", &sb);
		break;
	}
	msgpack_sbuffer_destroy(&sb);
}

/* Read the next reply and hold it against what was expected. */
static void
rw_check(int fd, int c, uint32_t msgid, struct rw_key *keys,
    const struct rw_expect *e)
{
	const msgpack_object	*o, *r;
	msgpack_unpacked	 u;
	struct msg		 m;
	struct aerr		 err;
	char			 got[sizeof e->titles];
	int			 code, k = e->k;

	code = rt_reply(fd, msgid, &u, &m, &err);
	if (e->op == RW_GET && e->titles[0] == '\0') {
		T_ASSERTF(code == AERR_NOT_FOUND, "c%d: get_by_key k%d: %d %s",
		    c, k, code, err.msg);
		msgpack_unpacked_destroy(&u);
		return;
	}
	T_ASSERTF(code == 0, "c%d: request %u: %s", c, msgid, err.msg);
	switch (e->op) {
	case RW_PUT:
		o = mp_get(m.result, "results");
		T_ASSERT(o != NULL && o->via.array.size == 1);
		r = mp_get(&o->via.array.ptr[0], "status");
		T_ASSERT(r != NULL && r->type == MSGPACK_OBJECT_STR);
		T_ASSERTF(mp_key_is(r, e->added ? "added" : "updated"),
		    "c%d: put k%d: %.*s", c, k, (int)r->via.str.size,
		    r->via.str.ptr);
		r = mp_get(&o->via.array.ptr[0], "id");
		T_ASSERT(r != NULL && r->type ==
		    MSGPACK_OBJECT_POSITIVE_INTEGER);
		if (keys[k].gen == e->gen)
			keys[k].id = r->via.u64;
		break;
	case RW_DELETE:
		o = mp_get(m.result, "deleted");
		T_ASSERT(o != NULL && o->via.array.size == 1);
		T_ASSERTF(o->via.array.ptr[0].type == MSGPACK_OBJECT_BOOLEAN &&
		    o->via.array.ptr[0].via.boolean, "c%d: delete k%d", c, k);
		break;
	case RW_GET:
		o = mp_get(m.result, "event");
		T_ASSERT(o != NULL);
		r = mp_get(o, "title");
		T_ASSERT(r != NULL && r->type == MSGPACK_OBJECT_STR);
		T_ASSERTF(strlen(e->titles) == r->via.str.size &&
		    memcmp(e->titles, r->via.str.ptr, r->via.str.size) == 0,
		    "c%d: get_by_key k%d: %.*s, not %s", c, k,
		    (int)r->via.str.size, r->via.str.ptr, e->titles);
		break;
	case RW_ACTOR:
		o = mp_get(m.result, "events");
		T_ASSERT(o != NULL && o->type == MSGPACK_OBJECT_ARRAY);
		rw_titles(c, keys, o, got, sizeof got);
		T_ASSERTF(strcmp(got, e->titles) == 0, "c%d: actor: got\n%s"
		    "expected\n%s", c, got, e->titles);
		r = mp_get(m.result, "cursor");
		T_ASSERT(r != NULL && r->type == MSGPACK_OBJECT_NIL);
		break;
	default:
		rt_check_heavy(m.result);
		break;
	}
	msgpack_unpacked_destroy(&u);
}

static void
rw_client(const char *sock, int c)
{
	struct rw_key		 keys[RW_KEYS];
	struct rw_expect	 fifo[RW_WINDOW];
	unsigned		 seed = t_seed() + (unsigned)c;
	uint32_t		 sent = 0, got = 0;
	int			 fd;

	memset(keys, 0, sizeof keys);
	T_ASSERT((fd = th_raw_connect(sock)) != -1);
	while (got < RW_OPS) {
		while (sent < RW_OPS && sent - got < RW_WINDOW) {
			rw_send(fd, c, sent, keys, &fifo[sent % RW_WINDOW],
			    &seed);
			sent++;
		}
		rw_check(fd, c, got, keys, &fifo[got % RW_WINDOW]);
		got++;
	}
	close(fd);
	_exit(0);
}

TEST(readers_pipelines_keep_order_and_read_your_writes)
{
	struct th_daemon	 d;
	const char		*extra[] = { "--read-threads", "2", NULL };
	uint64_t		 j0, j1;
	pid_t			 pids[4];
	int			 fd, c, status;

	T_OK(th_daemon_start(&d, extra));
	fd = th_raw_connect(d.sock);
	rt_load(fd);
	j0 = rt_reader_jobs(fd, 1);
	for (c = 0; c < 4; c++) {
		if ((pids[c] = fork()) == 0)
			rw_client(d.sock, c);
	}
	for (c = 0; c < 4; c++) {
		T_EQ_INT(waitpid(pids[c], &status, 0), pids[c]);
		T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "client %d: status %d (seed %u)", c, status, t_seed());
	}
	/* The replies checked above came from the threads in good part. */
	j1 = rt_reader_jobs(fd, 2);
	T_ASSERTF(j1 > j0, "reader threads ran no job");
	close(fd);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/*
 * Leave with heavy reads in flight, three ways: shut the sending side
 * and read every reply (they must all come, in order, a write's too),
 * close, or reset the connection (TCP, SO_LINGER 0).
 */
static void
rt_leaver(const char *sock, int port, int c)
{
	struct linger		 lg = { 1, 0 };
	msgpack_sbuffer		 sb, put;
	msgpack_packer		 pk;
	msgpack_unpacked	 u;
	struct msg		 m;
	struct aerr		 err;
	uint32_t		 i;
	int			 round, fd, how;
	char			 byte, key[32];

	rt_heavy_params(&sb);
	for (round = 0; round < 24; round++) {
		how = (round + c) % 3;
		fd = how == 2 ? th_tcp_connect(port) : th_raw_connect(sock);
		T_ASSERT(fd != -1);
		snprintf(key, sizeof key, "c%d-r%d", c, round);
		rt_params(&put, &pk, 1);
		mp_pack_str(&pk, "records");
		msgpack_pack_array(&pk, 1);
		msgpack_pack_map(&pk, 5);
		mp_pack_kv_str(&pk, "source", "leave");
		mp_pack_kv_str(&pk, "key", key);
		mp_pack_kv_str(&pk, "start", "2016");
		mp_pack_kv_str(&pk, "title", "left");
		mp_pack_str(&pk, "actors");
		msgpack_pack_array(&pk, 1);
		mp_pack_str(&pk, "LEAVER");
		for (i = 0; i < 4; i++)
			rt_send(fd, i, i == 1 ? "put" : "range",
			    i == 1 ? &put : &sb);
		msgpack_sbuffer_destroy(&put);
		if (how == 0) {
			T_OK(shutdown(fd, SHUT_WR));
			for (i = 0; i < 4; i++) {
				T_EQ_INT(rt_reply(fd, i, &u, &m, &err), 0);
				if (i == 1)
					T_ASSERT(mp_get(m.result, "results") !=
					    NULL);
				else
					rt_check_heavy(m.result);
				msgpack_unpacked_destroy(&u);
			}
			T_EQ_INT(read(fd, &byte, 1), 0);
		} else if (how == 2)
			T_OK(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg,
			    sizeof lg));
		close(fd);
	}
	msgpack_sbuffer_destroy(&sb);
	_exit(0);
}

TEST(readers_client_leaves_with_reads_in_flight)
{
	struct th_daemon	 d;
	char			 listen[32];
	const char		*extra[] = { "--read-threads", "2", "--listen",
				    listen, NULL };
	const msgpack_object	*o;
	msgpack_unpacked	 u;
	uint64_t		 j0, j1;
	pid_t			 pids[4];
	int			 fd, c, status, port, tries;

	T_ASSERT((port = th_free_port()) > 0);
	snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
	T_OK(th_daemon_start(&d, extra));
	fd = th_raw_connect(d.sock);
	rt_load(fd);
	j0 = rt_reader_jobs(fd, 300000);
	for (c = 0; c < 4; c++) {
		if ((pids[c] = fork()) == 0)
			rt_leaver(d.sock, port, c);
	}
	for (c = 0; c < 4; c++) {
		T_EQ_INT(waitpid(pids[c], &status, 0), pids[c]);
		T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "client %d: status %d", c, status);
	}
	j1 = rt_reader_jobs(fd, 300001);
	T_ASSERTF(j1 > j0, "reader threads ran no job");
	/* Every connection that left is freed once its reads are back. */
	for (tries = 0; ; tries++) {
		o = mp_get(rt_call(fd, (uint32_t)tries, "stats", NULL, &u),
		    "connections");
		T_ASSERT(o != NULL);
		if (o->via.u64 == 1)
			break;
		T_ASSERTF(tries < 200, "%llu connections left",
		    (unsigned long long)o->via.u64);
		msgpack_unpacked_destroy(&u);
		usleep(50000);
	}
	msgpack_unpacked_destroy(&u);
	rt_heavy_queries(fd, 1000, 2);
	close(fd);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/*
 * Query until stopfd is readable: each kind of read method in turn, and
 * the histogram's total, which only puts change, never goes down.
 */
static void
rt_grow_reader(const char *sock, int stopfd, int c)
{
	static const char *const methods[] = { "histogram", "range", "actor",
	    "top_actors", "get_by_key" };
	struct pollfd		 pfd = { stopfd, POLLIN, 0 };
	const msgpack_object	*res, *o;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	msgpack_unpacked	 u;
	uint64_t		 total = 0;
	uint32_t		 id;
	int			 fd, i;

	T_ASSERT((fd = th_raw_connect(sock)) != -1);
	for (id = 0; poll(&pfd, 1, 0) == 0; id++) {
		i = (int)((id + (uint32_t)c) % 5);
		rt_params(&sb, &pk, i == 1 || i == 2 ? 3 : 2);
		if (i == 4) {
			mp_pack_kv_str(&pk, "source", "bg");
			mp_pack_kv_str(&pk, "key", "bg-7");
		} else {
			mp_pack_kv_str(&pk, "from", "2014");
			mp_pack_kv_str(&pk, "to", "2016");
		}
		if (i == 1)
			mp_pack_kv_uint(&pk, "limit", 100);
		else if (i == 2)
			mp_pack_kv_str(&pk, "actor", "SYR*");
		res = rt_call(fd, id, methods[i], &sb, &u);
		msgpack_sbuffer_destroy(&sb);
		if (i == 0) {
			o = mp_get(res, "total");
			T_ASSERT(o != NULL);
			T_ASSERTF(o->via.u64 >= total, "total went from %llu "
			    "to %llu", (unsigned long long)total,
			    (unsigned long long)o->via.u64);
			total = o->via.u64;
		} else if (i == 1 || i == 2) {
			o = mp_get(res, "events");
			T_ASSERT(o != NULL && o->type == MSGPACK_OBJECT_ARRAY);
			T_ASSERT(o->via.array.size > 0);
		} else if (i == 4)
			T_ASSERT(mp_get(mp_get(res, "event"), "title") != NULL);
		msgpack_unpacked_destroy(&u);
	}
	close(fd);
	_exit(0);
}

TEST(readers_map_grows_while_readers_run)
{
	struct th_daemon	 d;
	const char		*extra[] = { "--read-threads", "2",
				    "--map-size", "256K", "--max-map-size",
				    "1G", NULL };
	const msgpack_object	*o;
	msgpack_unpacked	 u;
	char			 cmd[4400];
	pid_t			 pids[8];
	int			 stop[2], fd, c, status, i;
	uint64_t		 grows = 0, events = 0, j0, j1;

	T_OK(th_daemon_start(&d, extra));
	fd = th_raw_connect(d.sock);
	rt_put_background(fd, 1, 0, 100);
	T_OK(pipe(stop));
	j0 = rt_reader_jobs(fd, 2);
	for (c = 0; c < 8; c++) {
		if ((pids[c] = fork()) == 0) {
			close(stop[1]);
			rt_grow_reader(d.sock, stop[0], c);
		}
	}
	close(stop[0]);
	j1 = j0;
	/*
	 * Write until the map has doubled a few times, each under load, and
	 * the reader threads have run jobs: on a busy machine the readers
	 * may need more writes than the map does.
	 */
	for (i = 0; i < 200 && (grows < 4 || j1 - j0 < 2); i++) {
		rt_put_background(fd, (uint32_t)(10 + i), 100 + i * 500, 500);
		o = mp_get(rt_call(fd, 100000 + (uint32_t)i, "stats", NULL,
		    &u), "map_grows");
		T_ASSERT(o != NULL);
		grows = o->via.u64;
		msgpack_unpacked_destroy(&u);
		j1 = rt_reader_jobs(fd, 200000 + (uint32_t)i);
	}
	T_ASSERTF(grows >= 4, "the map grew %llu times",
	    (unsigned long long)grows);
	close(stop[1]);
	for (c = 0; c < 8; c++) {
		T_EQ_INT(waitpid(pids[c], &status, 0), pids[c]);
		T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "reader %d: status %d", c, status);
	}
	T_ASSERTF(j1 - j0 >= 2, "reader threads ran %llu jobs",
	    (unsigned long long)(j1 - j0));
	o = mp_get(rt_call(fd, 999999, "stats", NULL, &u), "events");
	T_ASSERT(o != NULL);
	events = o->via.u64;
	msgpack_unpacked_destroy(&u);
	T_EQ_U64(events, 100 + (uint64_t)i * 500);
	close(fd);
	T_EQ_INT(th_daemon_stop(&d), 0);
	snprintf(cmd, sizeof cmd, "%s/annalsd --check --data %s >&2",
	    t_bindir(), d.data);
	T_EQ_INT(system(cmd), 0);
}

/*
 * Wait up to 5 s for stats memory_releases to pass prev; return it.  A
 * second after the last commit, and then some.
 */
static uint64_t
rt_released(int fd, uint32_t msgid, uint64_t prev, const char *what)
{
	uint64_t	now = prev;
	int		i;

	for (i = 0; i < 100 && now <= prev; i++) {
		if (i > 0)
			usleep(50000);
		now = rt_stat(fd, msgid + (uint32_t)i, "memory_releases");
	}
	T_ASSERTF(now > prev, "%s: nothing given back in 5 s (%llu "
	    "releases)", what, (unsigned long long)now);
	T_EQ_U64(rt_stat(fd, msgid + 100, "write_memory"), 0);
	return (now);
}

/*
 * With --write-memory 0, every pause of the writes gives back what LMDB
 * kept for them, which closes the environment and opens it again: with
 * readers querying all along, three times, each followed by more writes.
 * Every query and write is answered, the word index still finds the
 * events, and the store checks sound.
 */
TEST(readers_memory_given_back_while_readers_run)
{
	struct th_daemon	 d;
	const char		*extra[] = { "--read-threads", "2",
				    "--write-memory", "0", NULL };
	const msgpack_object	*o;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	msgpack_unpacked	 u;
	char			 cmd[4400];
	pid_t			 pids[4];
	int			 stop[2], fd, c, status, round;
	uint64_t		 released;

	T_OK(th_daemon_start(&d, extra));
	fd = th_raw_connect(d.sock);
	/* The writer thread's first commit counts too. */
	rt_put_background(fd, 1, 0, 100);
	released = rt_released(fd, 500, 0, "the first commit");
	T_OK(pipe(stop));
	for (c = 0; c < 4; c++) {
		if ((pids[c] = fork()) == 0) {
			close(stop[1]);
			rt_grow_reader(d.sock, stop[0], c);
		}
	}
	close(stop[0]);
	for (round = 0; round < 3; round++) {
		rt_put_background(fd, (uint32_t)(10 + round),
		    100 + round * 500, 500);
		released = rt_released(fd, (uint32_t)(1000 + round * 200),
		    released, "after a write under readers");
	}
	close(stop[1]);
	for (c = 0; c < 4; c++) {
		T_EQ_INT(waitpid(pids[c], &status, 0), pids[c]);
		T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "reader %d: status %d", c, status);
	}
	T_EQ_U64(rt_stat(fd, 3000, "events"), 1600);
	rt_params(&sb, &pk, 4);
	mp_pack_kv_str(&pk, "from", "2015");
	mp_pack_kv_str(&pk, "to", "2015");
	mp_pack_kv_str(&pk, "text", "background");
	mp_pack_kv_uint(&pk, "limit", 1000);
	o = mp_get(rt_call(fd, 3001, "range", &sb, &u), "events");
	msgpack_sbuffer_destroy(&sb);
	T_ASSERT(o != NULL && o->type == MSGPACK_OBJECT_ARRAY);
	T_EQ_U64(o->via.array.size, 1000);
	msgpack_unpacked_destroy(&u);
	close(fd);
	T_EQ_INT(th_daemon_stop(&d), 0);
	snprintf(cmd, sizeof cmd, "%s/annalsd --check --data %s >&2",
	    t_bindir(), d.data);
	T_EQ_INT(system(cmd), 0);
}

/*
 * Pipeline heavy reads in one write, so that the daemon reads them all at
 * once; say so on ready after the first reply, then read until the daemon
 * hangs up: every request is answered, results first, then "shutting
 * down" errors, in request order.
 */
static void
rt_stopping_client(const char *sock, int ready)
{
	msgpack_sbuffer		 sb, req, all;
	msgpack_packer		 pk;
	msgpack_unpacked	 u;
	struct msg		 m;
	struct aerr		 err;
	unsigned char		 hdr[PROTO_FRAME_HEADER];
	uint32_t		 i;
	ssize_t			 n;
	int			 fd, code, refused = 0;
	char			 byte = 1;

	T_ASSERT((fd = th_raw_connect(sock)) != -1);
	rt_heavy_params(&sb);
	msgpack_sbuffer_init(&all);
	for (i = 0; i < 20; i++) {
		msgpack_sbuffer_init(&req);
		msgpack_packer_init(&pk, &req, msgpack_sbuffer_write);
		msg_pack_request(&pk, i, "range");
		msgpack_pack_array(&pk, 1);
		msgpack_sbuffer_write(&req, sb.data, sb.size);
		frame_header(hdr, (uint32_t)req.size);
		msgpack_sbuffer_write(&all, (const char *)hdr, sizeof hdr);
		msgpack_sbuffer_write(&all, req.data, req.size);
		msgpack_sbuffer_destroy(&req);
	}
	T_OK(th_send_all(fd, all.data, all.size));
	msgpack_sbuffer_destroy(&all);
	msgpack_sbuffer_destroy(&sb);
	for (i = 0; ; i++) {
		if (i == 1)
			T_EQ_INT(write(ready, &byte, 1), 1);
		n = th_read_frame(fd, rt_buf, sizeof rt_buf, 20000);
		if (n <= 0)
			break;
		T_ASSERT(i < 20);
		msgpack_unpacked_init(&u);
		T_ASSERT(msgpack_unpack_next(&u, (const char *)rt_buf,
		    (size_t)n, NULL) == MSGPACK_UNPACK_SUCCESS);
		T_OK(msg_parse(&u.data, &m, &err));
		T_EQ_INT(m.msgid, i);
		code = msg_error(m.error, &err) == 0 ? 0 : err.code;
		/* The first came before SIGTERM. */
		T_ASSERT(i > 0 || code == 0);
		if (code == 0) {
			T_ASSERTF(!refused, "result %u after a refusal", i);
			rt_check_heavy(m.result);
		} else {
			T_ASSERTF(code == AERR_UNAVAILABLE, "%u: %s", i,
			    err.msg);
			refused = 1;
		}
		msgpack_unpacked_destroy(&u);
	}
	T_EQ_INT(i, 20);
	/* The daemon hung up: an orderly end of stream, not a timeout. */
	T_EQ_INT(read(fd, &byte, 1), 0);
	close(fd);
	_exit(0);
}

TEST(readers_sigterm_answers_reads_in_flight)
{
	struct th_daemon	 d;
	const char		*extra[] = { "--read-threads", "2", NULL };
	pid_t			 pids[6];
	int			 ready[2], fd, c, status;
	char			 byte;

	T_OK(th_daemon_start(&d, extra));
	fd = th_raw_connect(d.sock);
	rt_load(fd);
	close(fd);
	T_OK(pipe(ready));
	for (c = 0; c < 6; c++) {
		if ((pids[c] = fork()) == 0) {
			close(ready[0]);
			rt_stopping_client(d.sock, ready[1]);
		}
	}
	close(ready[1]);
	for (c = 0; c < 6; c++)
		T_EQ_INT(read(ready[0], &byte, 1), 1);
	close(ready[0]);
	T_EQ_INT(th_daemon_stop(&d), 0);
	for (c = 0; c < 6; c++) {
		T_EQ_INT(waitpid(pids[c], &status, 0), pids[c]);
		T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "client %d: status %d", c, status);
	}
}
