/*
 * Redis 7 as a benchmarked peer, the way a user would model a timeline
 * in it: each record a string "e:ID" holding the same packed record
 * annalsd stores, a sorted set "t" of ids by start day as the time
 * index, a sorted set "a:NAME" per actor and a set of actor names for
 * prefixes.  Writes are pipelined over the Unix socket with AOF on and
 * appendfsync always (durable when acknowledged) or everysec; queries
 * are Lua scripts (EVALSHA), so that a page costs one round trip as it
 * does with annalsd.  Replies are decoded with msgpack-c, as libannals
 * decodes its pages.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <msgpack.h>

#include "bench.h"

#define B_REDIS_MAX_DEPTH	16

/* ids by start day in [from, to], then their records */
static const char b_redis_lua_range[] =
    "local ids = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[2], "
    "'LIMIT', 0, ARGV[3])\n"
    "if #ids == 0 then return {} end\n"
    "for i = 1, #ids do ids[i] = 'e:' .. ids[i] end\n"
    "return redis.call('MGET', unpack(ids))\n";

/* the newest ids of one actor, then their records */
static const char b_redis_lua_actor[] =
    "local ids = redis.call('ZREVRANGE', KEYS[1], 0, ARGV[1] - 1)\n"
    "if #ids == 0 then return {} end\n"
    "for i = 1, #ids do ids[i] = 'e:' .. ids[i] end\n"
    "return redis.call('MGET', unpack(ids))\n";

/* the newest ids of every actor with the prefix, merged without repeats */
static const char b_redis_lua_prefix[] =
    "local lim = tonumber(ARGV[2])\n"
    "local names = redis.call('ZRANGEBYLEX', 'actors', '[' .. ARGV[1], "
    "'(' .. ARGV[1] .. '\\255')\n"
    "local all, seen = {}, {}\n"
    "for _, n in ipairs(names) do\n"
    "  local r = redis.call('ZREVRANGE', 'a:' .. n, 0, lim - 1, "
    "'WITHSCORES')\n"
    "  for i = 1, #r, 2 do\n"
    "    if not seen[r[i]] then\n"
    "      seen[r[i]] = true\n"
    "      all[#all + 1] = { tonumber(r[i + 1]), tonumber(r[i]) }\n"
    "    end\n"
    "  end\n"
    "end\n"
    "table.sort(all, function(a, b) if a[1] ~= b[1] then "
    "return a[1] > b[1] end return a[2] > b[2] end)\n"
    "local keys = {}\n"
    "for i = 1, math.min(#all, lim) do keys[i] = 'e:' .. all[i][2] end\n"
    "if #keys == 0 then return {} end\n"
    "return redis.call('MGET', unpack(keys))\n";

/* events by start day in each [ARGV[i], ARGV[i + 1]) */
static const char b_redis_lua_hist[] =
    "local c = {}\n"
    "for i = 1, #ARGV - 1 do\n"
    "  c[i] = redis.call('ZCOUNT', KEYS[1], ARGV[i], '(' .. ARGV[i + 1])\n"
    "end\n"
    "return c\n";

struct b_redis_conn {
	redisContext	*c;
	char		 hist_sha[48];
	char		 range_sha[48];
	char		 actor_sha[48];
	char		 prefix_sha[48];
	msgpack_unpacked u;
};

static pid_t	b_redis_pid;
static char	b_redis_sock[256];
static char	b_redis_dir[256];

static int
b_redis_start_with(const char *dir, const char *fsync)
{
	char		 log[300];
	const char	*argv[32];
	int		 i = 0;

	snprintf(b_redis_sock, sizeof b_redis_sock, "%s/redis.sock", dir);
	snprintf(b_redis_dir, sizeof b_redis_dir, "%s", dir);
	snprintf(log, sizeof log, "%s/redis.log", dir);
	argv[i++] = "redis-server";
	argv[i++] = "--port";
	argv[i++] = "0";
	argv[i++] = "--unixsocket";
	argv[i++] = b_redis_sock;
	argv[i++] = "--unixsocketperm";
	argv[i++] = "700";
	argv[i++] = "--dir";
	argv[i++] = dir;
	argv[i++] = "--appendonly";
	argv[i++] = "yes";
	argv[i++] = "--appendfsync";
	argv[i++] = fsync;
	argv[i++] = "--save";
	argv[i++] = "";
	argv[i++] = "--daemonize";
	argv[i++] = "no";
	argv[i++] = "--protected-mode";
	argv[i++] = "no";
	argv[i] = NULL;
	if ((b_redis_pid = bench_spawn(argv, log)) <= 0)
		return (-1);
	if (bench_wait_socket(b_redis_sock, b_redis_pid, 20000) != 0) {
		bench_kill(&b_redis_pid);
		return (-1);
	}
	return (0);
}

static int
b_redis_start_always(const char *dir)
{
	return (b_redis_start_with(dir, "always"));
}

static int
b_redis_start_everysec(const char *dir)
{
	return (b_redis_start_with(dir, "everysec"));
}

static void
b_redis_stop(void)
{
	bench_kill(&b_redis_pid);
}

static pid_t
b_redis_server_pid(void)
{
	return (b_redis_pid);
}

static int
b_redis_load(redisContext *c, const char *script, char *sha, size_t len)
{
	redisReply	*r;

	r = redisCommand(c, "SCRIPT LOAD %s", script);
	if (r == NULL || r->type != REDIS_REPLY_STRING) {
		freeReplyObject(r);
		return (-1);
	}
	snprintf(sha, len, "%s", r->str);
	freeReplyObject(r);
	return (0);
}

static void
b_redis_disconnect(void *conn)
{
	struct b_redis_conn	*rc = conn;

	if (rc == NULL)
		return;
	if (rc->c != NULL)
		redisFree(rc->c);
	msgpack_unpacked_destroy(&rc->u);
	free(rc);
}

static void *
b_redis_connect(char *err, size_t len)
{
	struct b_redis_conn	*rc;

	if ((rc = calloc(1, sizeof *rc)) == NULL)
		return (NULL);
	msgpack_unpacked_init(&rc->u);
	rc->c = redisConnectUnix(b_redis_sock);
	if (rc->c == NULL || rc->c->err) {
		snprintf(err, len, "connect %s: %s", b_redis_sock,
		    rc->c ? rc->c->errstr : "out of memory");
		b_redis_disconnect(rc);
		return (NULL);
	}
	if (b_redis_load(rc->c, b_redis_lua_range, rc->range_sha,
	    sizeof rc->range_sha) != 0 ||
	    b_redis_load(rc->c, b_redis_lua_actor, rc->actor_sha,
	    sizeof rc->actor_sha) != 0 ||
	    b_redis_load(rc->c, b_redis_lua_prefix, rc->prefix_sha,
	    sizeof rc->prefix_sha) != 0 ||
	    b_redis_load(rc->c, b_redis_lua_hist, rc->hist_sha,
	    sizeof rc->hist_sha) != 0) {
		snprintf(err, len, "SCRIPT LOAD failed");
		b_redis_disconnect(rc);
		return (NULL);
	}
	return (rc);
}

/* Append the commands storing record idx; returns how many. */
static int
b_redis_append_record(redisContext *c, uint64_t idx, struct gen_rec *rec,
    unsigned char *buf, size_t buflen)
{
	const char	*argv[2 + 2 * GEN_MAX_ACTORS];
	size_t		 argl[2 + 2 * GEN_MAX_ACTORS], len, k;
	char		 key[32], day[16], id[24], akey[GEN_MAX_ACTORS][160];
	int		 n = 0, a;

	gen_record(idx, rec);
	len = gen_pack(rec, buf, buflen);
	snprintf(id, sizeof id, "%llu", (unsigned long long)idx + 1);
	snprintf(key, sizeof key, "e:%s", id);
	snprintf(day, sizeof day, "%ld", (long)rec->sday);
	redisAppendCommand(c, "SET %s %b", key, buf, len);
	redisAppendCommand(c, "ZADD t %s %s", day, id);
	n += 2;
	for (k = 0; k < rec->nactors; k++) {
		snprintf(akey[k], sizeof akey[k], "a:%s", rec->actors[k]);
		redisAppendCommand(c, "ZADD %s %s %s", akey[k], day, id);
		n++;
	}
	a = 0;
	argv[a] = "ZADD";
	argl[a++] = 4;
	argv[a] = "actors";
	argl[a++] = 6;
	argv[a] = "NX";
	argl[a++] = 2;
	for (k = 0; k < rec->nactors && k < GEN_MAX_ACTORS - 1; k++) {
		argv[a] = "0";
		argl[a++] = 1;
		argv[a] = rec->actors[k];
		argl[a++] = strlen(rec->actors[k]);
	}
	redisAppendCommandArgv(c, a, argv, argl);
	return (n + 1);
}

/* Read n replies; fail on the first error reply. */
static int
b_redis_replies(redisContext *c, int n, struct bench_out *out)
{
	redisReply	*r;
	void		*v;
	int		 i, rc = 0;

	for (i = 0; i < n; i++) {
		if (redisGetReply(c, &v) != REDIS_OK) {
			bench_fail(out, "redis: %s", c->errstr);
			return (-1);
		}
		r = v;
		if (r->type == REDIS_REPLY_ERROR && rc == 0) {
			bench_fail(out, "redis: %s", r->str);
			rc = -1;
		}
		freeReplyObject(r);
	}
	return (rc);
}

static int
b_redis_ingest(struct b_redis_conn *rc, const struct bench_task *t,
    struct bench_out *out, struct bench_lat *lat)
{
	struct gen_rec	 rec;
	unsigned char	*buf;
	uint64_t	 first, end, i, sent[B_REDIS_MAX_DEPTH];
	size_t		 n, k, head = 0, pending = 0, slot;
	int		 cmds[B_REDIS_MAX_DEPTH], c, nrec[B_REDIS_MAX_DEPTH];
	uint32_t	 depth = t->depth ? t->depth : 1;

	if (depth > B_REDIS_MAX_DEPTH)
		depth = B_REDIS_MAX_DEPTH;
	first = t->first + t->count * (uint64_t)t->client / t->nclients;
	end = t->first + t->count * (uint64_t)(t->client + 1) / t->nclients;
	if ((buf = malloc(65536)) == NULL)
		return (-1);
	for (i = first; i < end || pending > 0;) {
		if (i < end && pending < depth) {
			n = end - i < t->batch ? (size_t)(end - i) : t->batch;
			for (c = 0, k = 0; k < n; k++)
				c += b_redis_append_record(rc->c,
				    bench_rec(t, i + k), &rec, buf, 65536);
			slot = (head + pending) % B_REDIS_MAX_DEPTH;
			cmds[slot] = c;
			nrec[slot] = (int)n;
			sent[slot] = bench_now();
			pending++;
			i += n;
			/* hiredis sends what was appended at the next read. */
			if (pending < depth && i < end)
				continue;
		}
		if (b_redis_replies(rc->c, cmds[head], out) != 0) {
			free(buf);
			return (-1);
		}
		bench_lat_add(lat, bench_now() - sent[head]);
		out->ops++;
		out->items += (uint64_t)nrec[head];
		head = (head + 1) % B_REDIS_MAX_DEPTH;
		pending--;
	}
	free(buf);
	return (0);
}

/* Decode every record of an array reply, as a client would use them. */
static int
b_redis_records(struct b_redis_conn *rc, redisReply *r, struct bench_out *out)
{
	size_t	i;

	if (r == NULL) {
		bench_fail(out, "redis: %s", rc->c->errstr);
		return (-1);
	}
	if (r->type == REDIS_REPLY_STRING) {
		if (msgpack_unpack_next(&rc->u, r->str, r->len, NULL) !=
		    MSGPACK_UNPACK_SUCCESS) {
			bench_fail(out, "redis: a record does not decode");
			return (-1);
		}
		out->items++;
		return (0);
	}
	if (r->type != REDIS_REPLY_ARRAY) {
		bench_fail(out, "redis: %s", r->type == REDIS_REPLY_ERROR ?
		    r->str : "unexpected reply");
		return (-1);
	}
	for (i = 0; i < r->elements; i++) {
		if (r->element[i]->type != REDIS_REPLY_STRING)
			continue;
		if (msgpack_unpack_next(&rc->u, r->element[i]->str,
		    r->element[i]->len, NULL) != MSGPACK_UNPACK_SUCCESS) {
			bench_fail(out, "redis: a record does not decode");
			return (-1);
		}
		out->items++;
	}
	return (0);
}

static int
b_redis_range_once(struct b_redis_conn *rc, uint64_t *seed, uint32_t limit,
    struct bench_out *out)
{
	redisReply	*r;
	int32_t		 day = gen_query_day(seed, 30);
	int		 ret;

	r = redisCommand(rc->c, "EVALSHA %s 1 t %ld %ld %u", rc->range_sha,
	    (long)day, (long)day + 29, limit);
	ret = b_redis_records(rc, r, out);
	freeReplyObject(r);
	return (ret);
}

static int
b_redis_actor_once(struct b_redis_conn *rc, uint64_t *seed, uint32_t limit,
    struct bench_out *out)
{
	redisReply	*r;
	int		 ret;

	r = redisCommand(rc->c, "EVALSHA %s 1 a:%s %u", rc->actor_sha,
	    gen_query_actor(seed), limit);
	ret = b_redis_records(rc, r, out);
	freeReplyObject(r);
	return (ret);
}

/* Ten years by month: one ZCOUNT per month in one script. */
static int
b_redis_hist_once(struct b_redis_conn *rc, struct bench_out *out)
{
	const char	*argv[4 + HIST_MONTHS + 1];
	size_t		 argl[4 + HIST_MONTHS + 1];
	char		 days[HIST_MONTHS + 1][16];
	redisReply	*r;
	int		 i, a = 0;

	argv[a++] = "EVALSHA";
	argv[a++] = rc->hist_sha;
	argv[a++] = "1";
	argv[a++] = "t";
	for (i = 0; i <= HIST_MONTHS; i++) {
		snprintf(days[i], sizeof days[i], "%ld", (long)gen_days(
		    HIST_FIRST_YEAR + i / 12, 1 + i % 12, 1));
		argv[a++] = days[i];
	}
	for (i = 0; i < a; i++)
		argl[i] = strlen(argv[i]);
	r = redisCommandArgv(rc->c, a, argv, argl);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY ||
	    r->elements != HIST_MONTHS) {
		bench_fail(out, "redis: histogram: %s", r == NULL ?
		    rc->c->errstr : r->type == REDIS_REPLY_ERROR ? r->str :
		    "unexpected reply");
		freeReplyObject(r);
		return (-1);
	}
	out->items += r->elements;
	freeReplyObject(r);
	return (0);
}

static int
b_redis_run(void *conn, const struct bench_task *t, struct bench_out *out,
    struct bench_lat *lat, struct bench_lat *lat2)
{
	struct b_redis_conn	*rc = conn;
	struct gen_rec		 rec;
	redisReply		*r;
	unsigned char		 buf[16384];
	uint64_t		 seed = t->seed, t0, puts = 0;
	uint32_t		 i;
	int			 ret = 0, put, n;

	if (t->kind == W_INGEST)
		return (b_redis_ingest(rc, t, out, lat));
	while (ret == 0 && bench_now() < t->deadline) {
		t0 = bench_now();
		put = 0;
		switch (t->kind) {
		case W_RANGE:
			ret = b_redis_range_once(rc, &seed, t->limit, out);
			break;
		case W_ACTOR:
			ret = b_redis_actor_once(rc, &seed, t->limit, out);
			break;
		case W_PREFIX:
			r = redisCommand(rc->c, "EVALSHA %s 0 %s %u",
			    rc->prefix_sha, gen_prefix(), t->limit);
			ret = b_redis_records(rc, r, out);
			freeReplyObject(r);
			break;
		case W_GET:
			r = redisCommand(rc->c, "GET e:%llu",
			    (unsigned long long)(1 + gen_rand(&seed) %
			    t->nevents));
			ret = b_redis_records(rc, r, out);
			freeReplyObject(r);
			break;
		case W_HISTOGRAM:
			ret = b_redis_hist_once(rc, out);
			break;
		case W_PING:
		case W_PING_RAW:
			r = redisCommand(rc->c, "PING");
			if (r == NULL || r->type != REDIS_REPLY_STATUS) {
				bench_fail(out, "redis: PING failed");
				ret = -1;
			}
			freeReplyObject(r);
			break;
		case W_PING_PIPE:
			for (i = 0; i < t->depth; i++)
				redisAppendCommand(rc->c, "PING");
			ret = b_redis_replies(rc->c, (int)t->depth, out);
			out->ops += t->depth - 1;
			break;
		case W_MIXED:
			if (gen_rand(&seed) % 10 == 0) {
				put = 1;
				n = b_redis_append_record(rc->c, t->put_base +
				    (uint64_t)t->client * 100000000 + puts++,
				    &rec, buf, sizeof buf);
				ret = b_redis_replies(rc->c, n, out);
			} else if (gen_rand(&seed) & 1)
				ret = b_redis_range_once(rc, &seed, t->limit,
				    out);
			else
				ret = b_redis_actor_once(rc, &seed, t->limit,
				    out);
			break;
		default:
			bench_fail(out, "workload %d not supported", t->kind);
			ret = -1;
			break;
		}
		if (ret != 0)
			break;
		bench_op_done(out, lat, lat2, put, t0);
	}
	return (ret);
}

/* Records are opaque blobs to Redis: it has no type to count by. */
static int
b_redis_supports(int kind)
{
	return (kind != W_HIST_OVERLAP && kind != W_HIST_TYPE &&
	    kind != W_RANGE_FIELDS);
}

static int
b_redis_supports_ingest(int kind)
{
	return (kind == W_INGEST);
}

static uint64_t
b_redis_db_bytes(char *note, size_t len)
{
	redisContext	*c;
	redisReply	*r;
	char		 dir[300], *p;
	unsigned long long used = 0;
	uint64_t	 bytes;

	snprintf(dir, sizeof dir, "%s/appendonlydir", b_redis_dir);
	bytes = bench_dir_bytes(dir);
	if ((c = redisConnectUnix(b_redis_sock)) != NULL && c->err == 0 &&
	    (r = redisCommand(c, "INFO memory")) != NULL) {
		if (r->type == REDIS_REPLY_STRING) {
			if ((p = strstr(r->str, "used_memory:")) != NULL)
				used = strtoull(p + 12, NULL, 10);
		}
		freeReplyObject(r);
	}
	if (c != NULL)
		redisFree(c);
	snprintf(note, len, "AOF files (appendonlydir) on disk; "
	    "used_memory %.1f MiB", used / 1048576.0);
	return (bytes);
}

static uint64_t
b_redis_rss(char *note, size_t len)
{
	snprintf(note, len, "redis-server VmRSS, which holds every record");
	return (bench_proc_rss(b_redis_pid, NULL, NULL));
}

#define B_REDIS_NOTE "range finds events whose start day is in the window " \
	"(a sorted set by start day), not all that overlap it; batches " \
	"are pipelined, not atomic (no MULTI)"

const struct bench_sys bench_redis = {
	"redis",
	b_redis_start_always,
	b_redis_stop,
	b_redis_server_pid,
	b_redis_connect,
	b_redis_disconnect,
	b_redis_run,
	b_redis_supports,
	b_redis_db_bytes,
	b_redis_rss,
	B_REDIS_NOTE,
	NULL,
	NULL,
};

const struct bench_sys bench_redis_everysec = {
	"redis-everysec",
	b_redis_start_everysec,
	b_redis_stop,
	b_redis_server_pid,
	b_redis_connect,
	b_redis_disconnect,
	b_redis_run,
	b_redis_supports_ingest,
	b_redis_db_bytes,
	b_redis_rss,
	NULL,
	NULL,
	NULL,
};
