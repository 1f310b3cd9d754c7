/*
 * libannals against the real daemon: every call, errors on the context,
 * paging through a large result, pipelined puts; and, without a daemon,
 * the JSON conversion of the CLI and the failure to connect.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <msgpack.h>

#include "harness.h"
#include "test.h"
#include "../client/annals.h"
#include "../client/cli.h"
#include "../proto/proto.h"

static annals_ctx *
client_connect(struct th_daemon *d)
{
	annals_ctx	*ctx;

	T_OK(th_daemon_start(d, NULL));
	ctx = annals_connect(d->sock);
	T_ASSERT(ctx != NULL);
	T_ASSERTF(annals_errcode(ctx) == 0, "%s", annals_errmsg(ctx));
	return (ctx);
}

static void
client_done(struct th_daemon *d, annals_ctx *ctx)
{
	annals_free(ctx);
	T_EQ_INT(th_daemon_stop(d), 0);
}

/* A plain event: start, one actor, a title. */
static struct annals_event
client_event(const char *start, const struct annals_actor *actor,
    const char *title)
{
	struct annals_event	ev;

	memset(&ev, 0, sizeof ev);
	ev.start = start;
	ev.actors = actor;
	ev.nactors = 1;
	ev.title = title;
	return (ev);
}

TEST(client_connect_missing_socket)
{
	annals_ctx	*ctx;
	char		 path[256], want[300];

	snprintf(path, sizeof path, "%s/nothing.sock", t_dir());
	ctx = annals_connect(path);
	T_ASSERT(ctx != NULL);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EIO);
	snprintf(want, sizeof want, "connect %s: No such file or directory",
	    path);
	T_EQ_STR(annals_errmsg(ctx), want);
	/* Sticky: later calls fail the same way without trying. */
	T_EQ_INT(annals_ping(ctx), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EIO);
	T_EQ_STR(annals_errmsg(ctx), want);
	annals_free(ctx);

	ctx = annals_connect("127.0.0.1:1");
	T_ASSERT(ctx != NULL);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EIO);
	T_EQ_STR(annals_errmsg(ctx), "connect 127.0.0.1:1: Connection refused");
	annals_free(ctx);
}

TEST(client_connect_uses_environment)
{
	annals_ctx	*ctx;
	char		 path[256];

	snprintf(path, sizeof path, "%s/env.sock", t_dir());
	setenv("ANNALS_SOCKET", path, 1);
	ctx = annals_connect(NULL);
	T_ASSERT(strstr(annals_errmsg(ctx), path) != NULL);
	annals_free(ctx);
	unsetenv("ANNALS_SOCKET");
	ctx = annals_connect(NULL);
	T_ASSERT(strstr(annals_errmsg(ctx), ANNALS_DEFAULT_SOCKET) != NULL);
	annals_free(ctx);
	/* The daemon listens where the public header says (issue #14). */
	T_EQ_STR(ANNALS_DEFAULT_SOCKET, PROTO_DEFAULT_SOCKET);
}

TEST(client_free_null_and_strerror)
{
	annals_free(NULL);
	annals_event_free(NULL);
	annals_iter_free(NULL);
	annals_query_free(NULL);
	annals_buf_free(NULL);
	T_EQ_STR(annals_strerror(ANNALS_ENOTFOUND), "not found");
	T_EQ_STR(annals_strerror(ANNALS_EIO), "connection error");
	T_EQ_STR(annals_strerror(0), "success");
	T_EQ_STR(annals_strerror(12345), "unknown error");
}

TEST(client_query_setters_check_values)
{
	annals_query	*q;

	T_ASSERT((q = annals_query_new()) != NULL);
	T_EQ_INT(annals_query_set_page_size(q, 0), ANNALS_EINVALID);
	T_EQ_INT(annals_query_set_page_size(q, 10001), ANNALS_EINVALID);
	T_EQ_INT(annals_query_set_page_size(q, 10000), 0);
	T_EQ_INT(annals_query_set_precision(q, 6), ANNALS_EINVALID);
	T_EQ_INT(annals_query_set_precision(q, ANNALS_PREC_DAY), 0);
	T_OK(annals_query_set_range(q, "2015", NULL));
	T_OK(annals_query_set_range(q, NULL, NULL));
	T_OK(annals_query_set_actor(q, "SYR*", "host"));
	T_OK(annals_query_set_actor(q, NULL, NULL));
	T_OK(annals_query_set_type(q, "04"));
	T_OK(annals_query_set_tag(q, NULL));
	annals_query_free(q);
}

/* Pack the attrs used by the JSON tests: every kind of value. */
static void
client_pack_attrs(msgpack_sbuffer *sb)
{
	msgpack_packer	pk;

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 8);
	msgpack_pack_str_with_body(&pk, "int", 3);
	msgpack_pack_int64(&pk, 12);
	msgpack_pack_str_with_body(&pk, "neg", 3);
	msgpack_pack_int64(&pk, -5);
	msgpack_pack_str_with_body(&pk, "real", 4);
	msgpack_pack_double(&pk, 4.0);
	msgpack_pack_str_with_body(&pk, "frac", 4);
	msgpack_pack_double(&pk, 0.1);
	msgpack_pack_str_with_body(&pk, "s", 1);
	msgpack_pack_str_with_body(&pk, "a \"quoted\"\n", 11);
	msgpack_pack_str_with_body(&pk, "list", 4);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_true(&pk);
	msgpack_pack_nil(&pk);
	msgpack_pack_int64(&pk, 9007199254740993LL);
	msgpack_pack_str_with_body(&pk, "map", 3);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_str_with_body(&pk, "k", 1);
	msgpack_pack_false(&pk);
	msgpack_pack_str_with_body(&pk, "empty", 5);
	msgpack_pack_map(&pk, 0);
}

TEST(client_json_round_trip_of_a_full_record)
{
	static const struct annals_actor actors[] = {
		{ "RUS", "host" }, { "EGY", NULL }
	};
	static const char	*urls[] = { "https://example.org/a" };
	static const char	*tags[] = { "diplomacy", "talks" };
	struct annals_event	 ev, *back;
	struct json_record	 r;
	msgpack_sbuffer		 sb;
	json_error_t		 jerr;
	json_t			*o, *again;
	char			*line = NULL, err[256];
	size_t			 size = 0;
	FILE			*mem;

	client_pack_attrs(&sb);
	memset(&ev, 0, sizeof ev);
	ev.id = 17;
	ev.rev = 2;
	ev.created = 1700000000000ULL;
	ev.updated = 1700000000500ULL;
	ev.source = "manual";
	ev.key = "moscow-2015";
	ev.start = "2015-01-26";
	ev.end = "2015-01-29";
	ev.actors = actors;
	ev.nactors = 2;
	ev.type = "036";
	ev.title = "Talks in Moscow";
	ev.text = "Text with \"quotes\", a tab\tand ünïcödé";
	ev.place_name = "Moscow";
	ev.place_country = "RU";
	ev.lat = 55.75;
	ev.lon = 37.62;
	ev.has_lat = ev.has_lon = 1;
	ev.urls = urls;
	ev.nurls = 1;
	ev.tags = tags;
	ev.ntags = 2;
	ev.attrs = sb.data;
	ev.attrs_len = sb.size;
	ev.match = ANNALS_MATCH_POSSIBLE;

	o = json_record_encode(&ev, 1, err, sizeof err);
	T_ASSERTF(o != NULL, "%s", err);
	T_ASSERT((mem = open_memstream(&line, &size)) != NULL);
	T_OK(json_record_write(mem, o));
	fclose(mem);
	json_decref(o);
	/* Reals keep a point, integers stay integers, shortest digits. */
	T_ASSERTF(strstr(line, "\"real\":4.0,") != NULL, "%s", line);
	T_ASSERTF(strstr(line, "\"frac\":0.1,") != NULL, "%s", line);
	T_ASSERTF(strstr(line, "\"lon\":37.62}") != NULL, "%s", line);
	T_ASSERTF(strstr(line, "9007199254740993]") != NULL, "%s", line);
	T_ASSERTF(strstr(line, "\"match\":\"possible\"}\n") != NULL, "%s",
	    line);
	T_ASSERTF(strncmp(line, "{\"id\":17,\"rev\":2,", 17) == 0, "%s", line);

	again = json_loads(line, 0, &jerr);
	T_ASSERTF(again != NULL, "%s", jerr.text);
	T_ASSERTF(json_record_decode(again, &r, err, sizeof err) == 0, "%s",
	    err);
	json_decref(again);
	back = &r.ev;
	T_EQ_U64(back->id, 17);
	T_EQ_STR(back->source, "manual");
	T_EQ_STR(back->key, "moscow-2015");
	T_EQ_STR(back->start, "2015-01-26");
	T_EQ_STR(back->end, "2015-01-29");
	T_EQ_INT(back->nactors, 2);
	T_EQ_STR(back->actors[0].name, "RUS");
	T_EQ_STR(back->actors[0].role, "host");
	T_EQ_STR(back->actors[1].name, "EGY");
	T_ASSERT(back->actors[1].role == NULL);
	T_EQ_STR(back->type, "036");
	T_EQ_STR(back->title, ev.title);
	T_EQ_STR(back->text, ev.text);
	T_EQ_STR(back->place_name, "Moscow");
	T_EQ_STR(back->place_country, "RU");
	T_ASSERT(back->has_lat && back->lat == 55.75);
	T_ASSERT(back->has_lon && back->lon == 37.62);
	T_EQ_INT(back->nurls, 1);
	T_EQ_STR(back->urls[0], urls[0]);
	T_EQ_INT(back->ntags, 2);
	T_EQ_STR(back->tags[1], "talks");
	/* The attrs come back byte for byte. */
	T_EQ_INT(back->attrs_len, sb.size);
	T_ASSERT(memcmp(back->attrs, sb.data, sb.size) == 0);
	json_record_clear(&r);
	free(line);
	msgpack_sbuffer_destroy(&sb);
}

TEST(client_json_decode_names_the_bad_field)
{
	static const struct {
		const char	*json;
		const char	*msg;
	} bad[] = {
		{ "{\"start\": 2015}", "start: must be a string" },
		{ "{\"foo\": 1}", "unknown field \"foo\"" },
		{ "{\"actors\": [1]}",
		    "actors[0]: must be a string or an object" },
		{ "{\"actors\": [{\"role\": \"x\"}]}",
		    "actors[0]: name: required" },
		{ "{\"tags\": [\"a\", 2]}", "tags[1]: must be a string" },
		{ "{\"attrs\": [1]}", "attrs: must be an object" },
		{ "[1]", "record must be a JSON object" },
	};
	struct json_record	 r;
	json_t			*o;
	char			 err[256];
	size_t			 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		o = json_loads(bad[i].json, JSON_DECODE_ANY, NULL);
		T_ASSERT(o != NULL);
		T_EQ_INT(json_record_decode(o, &r, err, sizeof err), -1);
		T_EQ_STR(err, bad[i].msg);
		json_record_clear(&r);
		json_decref(o);
	}
}

static int
client_count_actor(const char *name, uint64_t count, void *arg)
{
	char	*buf = arg;
	size_t	 len = strlen(buf);

	snprintf(buf + len, 256 - len, "%s=%llu ", name,
	    (unsigned long long)count);
	return (0);
}

static int
client_stop_at_first(const char *name, uint64_t count, void *arg)
{
	(void)name;
	(void)count;
	(*(int *)arg)++;
	return (1);
}

/*
 * A daemon holding two events: "Talks" (RUS as host, source manual, key
 * k1, every kind of attr) put, put again unchanged and retitled "Talks,
 * again"; and "Year" (2016, SYR).  The put results are kept for the
 * test of put itself.
 */
struct client_two {
	struct th_daemon		d;
	annals_ctx			*ctx;
	msgpack_sbuffer			sb;	/* the attrs of Talks */
	struct annals_put_result	first[2], again, retitled;
	uint64_t			talks;	/* the id of Talks */
};

static const struct annals_actor client_rus = { "RUS", "host" };
static const struct annals_actor client_syr = { "SYR", NULL };

static void
client_two_start(struct client_two *t)
{
	struct annals_event	evs[2];

	t->ctx = client_connect(&t->d);
	client_pack_attrs(&t->sb);
	evs[0] = client_event("2015-01-26", &client_rus, "Talks");
	evs[0].source = "manual";
	evs[0].key = "k1";
	evs[0].attrs = t->sb.data;
	evs[0].attrs_len = t->sb.size;
	evs[1] = client_event("2016", &client_syr, "Year");
	T_OK(annals_put(t->ctx, evs, 2, t->first));
	T_OK(annals_put(t->ctx, evs, 1, &t->again));
	evs[0].title = "Talks, again";
	T_OK(annals_put(t->ctx, evs, 1, &t->retitled));
	t->talks = t->retitled.id;
}

static void
client_two_stop(struct client_two *t)
{
	msgpack_sbuffer_destroy(&t->sb);
	client_done(&t->d, t->ctx);
}

TEST(client_hello_and_ping_report_the_server)
{
	struct th_daemon	 d;
	struct annals_server	 srv;
	annals_ctx		*ctx;

	ctx = client_connect(&d);
	T_OK(annals_hello(ctx, "t-client", NULL, &srv));
	T_EQ_STR(srv.name, "annalsd");
	T_EQ_STR(srv.version, ANNALS_VERSION_STRING);
	T_EQ_INT(srv.protocol, ANNALS_PROTO_VERSION);
	T_ASSERT(srv.max_batch >= 1000 && srv.max_page >= 1000);
	T_OK(annals_ping(ctx));
	T_EQ_INT(annals_errcode(ctx), 0);
	T_EQ_STR(annals_errmsg(ctx), "");
	client_done(&d, ctx);
}

TEST(client_put_adds_then_unchanged_then_updated)
{
	struct client_two	t;

	client_two_start(&t);
	T_EQ_INT(t.first[0].status, ANNALS_ADDED);
	T_EQ_INT(t.first[1].status, ANNALS_ADDED);
	T_EQ_U64(t.first[0].rev, 1);
	T_ASSERT(t.first[0].id != t.first[1].id);
	/* The same again changes nothing; a new title is an update. */
	T_EQ_INT(t.again.status, ANNALS_UNCHANGED);
	T_EQ_U64(t.again.rev, 1);
	T_EQ_INT(t.retitled.status, ANNALS_UPDATED);
	T_EQ_U64(t.retitled.rev, 2);
	T_EQ_U64(t.retitled.id, t.first[0].id);
	client_two_stop(&t);
}

TEST(client_get_returns_the_stored_event)
{
	struct client_two	 t;
	struct annals_event	*got;

	client_two_start(&t);
	T_OK(annals_get(t.ctx, t.talks, &got));
	T_EQ_U64(got->id, t.talks);
	T_EQ_U64(got->rev, 2);
	T_ASSERT(got->created != 0 && got->updated >= got->created);
	T_EQ_STR(got->title, "Talks, again");
	T_EQ_STR(got->actors[0].name, "RUS");
	T_EQ_STR(got->actors[0].role, "host");
	T_EQ_INT(got->match, 0);
	T_EQ_INT(got->attrs_len, t.sb.size);
	T_ASSERT(memcmp(got->attrs, t.sb.data, t.sb.size) == 0);
	annals_event_free(got);

	/* A missing event is an error of that call only. */
	T_EQ_INT(annals_get(t.ctx, 999999, &got), -1);
	T_EQ_INT(annals_errcode(t.ctx), ANNALS_ENOTFOUND);
	T_EQ_STR(annals_errmsg(t.ctx), "event 999999 not found");
	T_OK(annals_ping(t.ctx));
	T_EQ_INT(annals_errcode(t.ctx), 0);
	client_two_stop(&t);
}

TEST(client_get_by_key_finds_source_and_key)
{
	struct client_two	 t;
	struct annals_event	*got;

	client_two_start(&t);
	T_OK(annals_get_by_key(t.ctx, "manual", "k1", &got));
	T_EQ_U64(got->id, t.talks);
	annals_event_free(got);
	T_EQ_INT(annals_get_by_key(t.ctx, "manual", "nope", &got), -1);
	T_EQ_INT(annals_errcode(t.ctx), ANNALS_ENOTFOUND);
	T_ASSERT(got == NULL);
	client_two_stop(&t);
}

TEST(client_range_iterates_certain_then_possible)
{
	struct client_two		 t;
	const struct annals_event	*e;
	annals_query			*q;
	annals_iter			*it;

	client_two_start(&t);
	T_ASSERT((q = annals_query_new()) != NULL);
	T_OK(annals_query_set_range(q, "2015-01", "2016-06"));
	T_ASSERT((it = annals_range(t.ctx, q)) != NULL);
	T_ASSERT((e = annals_iter_next(it)) != NULL);
	T_EQ_STR(e->start, "2015-01-26");
	T_EQ_INT(e->match, ANNALS_MATCH_CERTAIN);
	T_ASSERT((e = annals_iter_next(it)) != NULL);
	T_EQ_STR(e->start, "2016");
	T_EQ_INT(e->match, ANNALS_MATCH_POSSIBLE);
	T_ASSERT(annals_iter_next(it) == NULL);
	T_EQ_INT(annals_iter_error(it), 0);
	T_ASSERT(annals_iter_next(it) == NULL);
	annals_iter_free(it);
	annals_query_free(q);
	client_two_stop(&t);
}

TEST(client_actor_query_matches_a_prefix)
{
	struct client_two		 t;
	const struct annals_event	*e;
	annals_query			*q;
	annals_iter			*it;

	client_two_start(&t);
	T_ASSERT((q = annals_query_new()) != NULL);
	T_OK(annals_query_set_actor(q, "SY*", NULL));
	T_ASSERT((it = annals_actor(t.ctx, q)) != NULL);
	T_ASSERT((e = annals_iter_next(it)) != NULL);
	T_EQ_STR(e->actors[0].name, "SYR");
	T_ASSERT(annals_iter_next(it) == NULL);
	annals_iter_free(it);
	annals_query_free(q);
	client_two_stop(&t);
}

TEST(client_actors_counts_names_and_stops_when_asked)
{
	struct client_two	t;
	char			actors[256] = "";
	int			stopped = 0;

	client_two_start(&t);
	T_OK(annals_actors(t.ctx, NULL, client_count_actor, actors));
	T_EQ_STR(actors, "RUS=1 SYR=1 ");
	actors[0] = '\0';
	T_OK(annals_actors(t.ctx, "S", client_count_actor, actors));
	T_EQ_STR(actors, "SYR=1 ");
	T_OK(annals_actors(t.ctx, "", client_stop_at_first, &stopped));
	T_EQ_INT(stopped, 1);
	client_two_stop(&t);
}

TEST(client_stats_counts_events_and_actors)
{
	struct client_two	t;
	struct annals_stats	st;

	client_two_start(&t);
	T_OK(annals_stats(t.ctx, &st));
	T_EQ_U64(st.events, 2);
	T_EQ_U64(st.actors, 2);
	T_EQ_INT(st.protocol, ANNALS_PROTO_VERSION);
	T_EQ_STR(st.version, ANNALS_VERSION_STRING);
	client_two_stop(&t);
}

/* The value of key in map, or NULL. */
static const msgpack_object *
client_map_get(const msgpack_object *map, const char *key)
{
	uint32_t	i;

	if (map == NULL || map->type != MSGPACK_OBJECT_MAP)
		return (NULL);
	for (i = 0; i < map->via.map.size; i++)
		if (map->via.map.ptr[i].key.type == MSGPACK_OBJECT_STR &&
		    map->via.map.ptr[i].key.via.str.size == strlen(key) &&
		    memcmp(map->via.map.ptr[i].key.via.str.ptr, key,
		    strlen(key)) == 0)
			return (&map->via.map.ptr[i].val);
	return (NULL);
}

/*
 * stats tells each database's entries and bytes: the records' entries
 * are the events (the day event's in events, the year's in the database
 * of its class, and no empty one of those), and the bytes of all of
 * them and of the free pages are within db_bytes.
 */
TEST(client_stats_gives_each_database_size)
{
	struct client_two	 t;
	const msgpack_object	*dbs, *db, *v;
	msgpack_unpacked	 u;
	void			*res;
	size_t			 len;
	uint64_t		 sum = 0;
	uint32_t		 i;

	client_two_start(&t);
	T_OK(annals_call(t.ctx, "stats", NULL, 0, &res, &len));
	msgpack_unpacked_init(&u);
	T_ASSERT(msgpack_unpack_next(&u, res, len, NULL) ==
	    MSGPACK_UNPACK_SUCCESS);
	dbs = client_map_get(&u.data, "databases");
	T_ASSERT(dbs != NULL && dbs->type == MSGPACK_OBJECT_MAP);
	T_ASSERTF(dbs->via.map.size >= 20, "%u databases",
	    dbs->via.map.size);
	for (i = 0; i < dbs->via.map.size; i++) {
		db = &dbs->via.map.ptr[i].val;
		T_ASSERT((v = client_map_get(db, "entries")) != NULL &&
		    v->type == MSGPACK_OBJECT_POSITIVE_INTEGER);
		T_ASSERT((v = client_map_get(db, "bytes")) != NULL &&
		    v->type == MSGPACK_OBJECT_POSITIVE_INTEGER);
		sum += v->via.u64;
	}
	db = client_map_get(dbs, "events");
	T_EQ_U64(client_map_get(db, "entries")->via.u64, 1);
	T_ASSERT(client_map_get(db, "bytes")->via.u64 >= 4096);
	/* 2016 reaches a year: 2^24 seconds and more, under 2^25. */
	db = client_map_get(dbs, "events.25");
	T_ASSERT(db != NULL);
	T_EQ_U64(client_map_get(db, "entries")->via.u64, 1);
	T_ASSERT(client_map_get(dbs, "events.24") == NULL &&
	    client_map_get(dbs, "events.63") == NULL);
	T_EQ_U64(client_map_get(&u.data, "events")->via.u64, 2);
	T_EQ_U64(client_map_get(client_map_get(dbs, "actors"),
	    "entries")->via.u64, 2);
	T_ASSERT(client_map_get(dbs, "attr_names") != NULL);
	/* The free pages are the rest, or part of it (meta, roots). */
	v = client_map_get(&u.data, "free_bytes");
	T_ASSERT(v != NULL && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER);
	T_ASSERTF(sum > 0 && sum + v->via.u64 <= client_map_get(&u.data,
	    "db_bytes")->via.u64, "%llu bytes of databases, %llu free",
	    (unsigned long long)sum, (unsigned long long)v->via.u64);
	msgpack_unpacked_destroy(&u);
	annals_buf_free(res);
	client_two_stop(&t);
}

TEST(client_call_returns_the_raw_result_or_the_error)
{
	struct th_daemon	 d;
	annals_ctx		*ctx;
	void			*result;
	size_t			 len;

	ctx = client_connect(&d);
	/* "pong" packed is a4 'p' 'o' 'n' 'g'. */
	T_OK(annals_call(ctx, "ping", NULL, 0, &result, &len));
	T_EQ_INT(len, 5);
	T_ASSERT(memcmp(result, "\xa4pong", 5) == 0);
	annals_buf_free(result);
	T_EQ_INT(annals_call(ctx, "no_such", NULL, 0, &result, &len), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EUNKNOWNMETHOD);
	T_ASSERT(result == NULL);
	T_EQ_INT(annals_call(ctx, "ping", "\x93", 1, &result, &len), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EINVALID);
	client_done(&d, ctx);
}

TEST(client_delete_says_which_ids_it_deleted)
{
	struct client_two	 t;
	struct annals_event	*got;
	uint64_t		 ids[2];
	int			 deleted[2];

	client_two_start(&t);
	ids[0] = t.talks;
	ids[1] = 424242;
	T_OK(annals_delete(t.ctx, ids, 2, deleted));
	T_EQ_INT(deleted[0], 1);
	T_EQ_INT(deleted[1], 0);
	T_EQ_INT(annals_get(t.ctx, t.talks, &got), -1);
	T_EQ_INT(annals_errcode(t.ctx), ANNALS_ENOTFOUND);
	T_EQ_INT(annals_delete(t.ctx, ids, 0, NULL), -1);
	T_EQ_INT(annals_errcode(t.ctx), ANNALS_EINVALID);
	client_two_stop(&t);
}

TEST(client_daemon_errors_leave_the_context_usable)
{
	static const struct annals_actor a = { "RUS", NULL };
	struct th_daemon	 d;
	struct annals_event	 evs[4];
	annals_ctx		*ctx;
	annals_query		*q;
	size_t			 i;

	ctx = client_connect(&d);
	for (i = 0; i < 4; i++)
		evs[i] = client_event("2015-01-01", &a, "ok");
	evs[3].start = "2015-02-30";
	T_EQ_INT(annals_put(ctx, evs, 4, NULL), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EINVALID);
	T_EQ_STR(annals_errmsg(ctx),
	    "records[3]: start: 2015-02-30 is not a date");
	/* Checked before sending: bad attrs, a NULL actor name. */
	evs[3].start = "2015";
	evs[2].attrs = "\x93\x01";
	evs[2].attrs_len = 2;
	T_EQ_INT(annals_put(ctx, evs, 4, NULL), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EINVALID);
	T_EQ_STR(annals_errmsg(ctx),
	    "records[2]: attrs: not a packed msgpack map");
	T_EQ_INT(annals_put(ctx, evs, 0, NULL), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EINVALID);
	evs[2].attrs = NULL;
	evs[2].attrs_len = 0;
	evs[1].id = 777777;
	T_EQ_INT(annals_put(ctx, evs, 4, NULL), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_ENOTFOUND);
	T_OK(annals_ping(ctx));

	T_ASSERT((q = annals_query_new()) != NULL);
	T_OK(annals_query_set_range(q, "2015-13", NULL));
	T_ASSERT(annals_range(ctx, q) == NULL);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EINVALID);
	T_ASSERTF(strstr(annals_errmsg(ctx), "2015-13") != NULL, "%s",
	    annals_errmsg(ctx));
	T_OK(annals_query_set_range(q, NULL, NULL));
	T_ASSERT(annals_actor(ctx, q) == NULL);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EINVALID);
	T_EQ_STR(annals_errmsg(ctx), "actor: required");
	annals_query_free(q);
	T_OK(annals_ping(ctx));
	client_done(&d, ctx);
}

TEST(client_connection_errors_are_sticky)
{
	struct th_daemon	 d;
	annals_ctx		*ctx;
	char			 msg[256];

	ctx = client_connect(&d);
	T_OK(annals_ping(ctx));
	T_EQ_INT(th_daemon_stop(&d), 0);
	T_EQ_INT(annals_ping(ctx), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EIO);
	snprintf(msg, sizeof msg, "%s", annals_errmsg(ctx));
	T_ASSERT(msg[0] != '\0');
	T_EQ_INT(annals_stats(ctx, NULL), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EIO);
	T_EQ_STR(annals_errmsg(ctx), msg);
	T_EQ_INT(annals_set_timeout(ctx, 100), -1);
	annals_free(ctx);
}

/*
 * Issue #14: an error the daemon sends with msgid 0 about the whole
 * connection reaches the caller with its code and text, not as a reply
 * to the wrong request.
 */
TEST(issue_14_client_reports_a_connection_error_as_sent)
{
	static const struct annals_actor a = { "RUS", NULL };
	const char		*extra[] = { "--max-frame", "4096", NULL };
	struct annals_event	 ev;
	struct th_daemon	 d;
	struct annals_put_result res;
	annals_ctx		*ctx;
	char			*title;

	T_OK(th_daemon_start(&d, extra));
	ctx = annals_connect(d.sock);
	T_ASSERT(ctx != NULL && annals_errcode(ctx) == 0);
	T_ASSERT((title = malloc(8000)) != NULL);
	memset(title, 'x', 7999);
	title[7999] = '\0';
	ev = client_event("2015", &a, title);
	T_EQ_INT(annals_put(ctx, &ev, 1, &res), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_ELIMIT);
	T_ASSERTF(strstr(annals_errmsg(ctx), "exceeds limit 4096") != NULL,
	    "%s", annals_errmsg(ctx));
	/* The daemon hung up: the context stays broken. */
	T_EQ_INT(annals_ping(ctx), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_ELIMIT);
	free(title);
	annals_free(ctx);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

#define CLIENT_BIG	50000
#define CLIENT_BATCH	5000

/* The date of event i: spread over 2000-2019, many sharing a day. */
static void
client_big_date(size_t i, char *buf, size_t size)
{
	snprintf(buf, size, "%04zu-%02zu-%02zu", 2000 + i % 20,
	    1 + (i / 20) % 12, 1 + (i / 240) % 28);
}

TEST(client_pipelined_put_and_paging_through_50000_events)
{
	static const struct annals_actor actors[2] = {
		{ "SYR", NULL }, { "TUR", NULL }
	};
	static struct annals_put_result	 res[CLIENT_BATCH];
	struct th_daemon		 d;
	struct annals_event		*evs;
	const struct annals_event	*e;
	annals_ctx			*ctx;
	annals_query			*q;
	annals_iter			*it;
	char				(*dates)[16];
	unsigned char			*seen;
	uint64_t			 maxid = 0, nseen;
	size_t				 i, b, n;
	char				 last[16];

	evs = calloc(CLIENT_BIG, sizeof *evs);
	dates = calloc(CLIENT_BIG, sizeof *dates);
	T_ASSERT(evs != NULL && dates != NULL);
	for (i = 0; i < CLIENT_BIG; i++) {
		client_big_date(i, dates[i], sizeof dates[i]);
		evs[i] = client_event(dates[i], &actors[i % 2], "bulk");
	}
	ctx = client_connect(&d);
	/* Append until the window is full, then collect one per append. */
	for (b = 0; b < CLIENT_BIG / CLIENT_BATCH; b++) {
		if (annals_put_pending(ctx) == 4) {
			T_OK(annals_put_wait(ctx, res, &n));
			T_EQ_INT(n, CLIENT_BATCH);
			T_EQ_INT(res[n - 1].status, ANNALS_ADDED);
		}
		T_ASSERTF(annals_put_append(ctx, evs + b * CLIENT_BATCH,
		    CLIENT_BATCH) == 0, "%s", annals_errmsg(ctx));
	}
	/* Other calls wait until the results are collected. */
	T_EQ_INT(annals_ping(ctx), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EINVALID);
	while (annals_put_pending(ctx) > 0) {
		T_OK(annals_put_wait(ctx, res, &n));
		T_EQ_INT(n, CLIENT_BATCH);
		for (i = 0; i < n; i++) {
			if (res[i].id > maxid)
				maxid = res[i].id;
		}
	}
	T_EQ_INT(annals_put_wait(ctx, res, &n), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EINVALID);
	T_OK(annals_ping(ctx));

	/* Page by 97 through everything: each event once, in order. */
	seen = calloc(maxid + 1, 1);
	T_ASSERT(seen != NULL);
	T_ASSERT((q = annals_query_new()) != NULL);
	T_OK(annals_query_set_range(q, "2000", "2019"));
	T_OK(annals_query_set_page_size(q, 97));
	T_ASSERT((it = annals_range(ctx, q)) != NULL);
	nseen = 0;
	last[0] = '\0';
	while ((e = annals_iter_next(it)) != NULL) {
		T_ASSERT(e->id <= maxid);
		T_ASSERTF(!seen[e->id], "event %llu twice",
		    (unsigned long long)e->id);
		seen[e->id] = 1;
		T_ASSERTF(strcmp(last, e->start) <= 0, "%s after %s",
		    e->start, last);
		snprintf(last, sizeof last, "%s", e->start);
		T_EQ_STR(e->title, "bulk");
		nseen++;
	}
	T_EQ_INT(annals_iter_error(it), 0);
	T_EQ_U64(nseen, CLIENT_BIG);
	annals_iter_free(it);

	/* One actor, newest first, pages of 1000: half of them. */
	T_OK(annals_query_set_actor(q, "TUR", NULL));
	T_OK(annals_query_set_desc(q, 1));
	T_OK(annals_query_set_page_size(q, 1000));
	T_ASSERT((it = annals_actor(ctx, q)) != NULL);
	nseen = 0;
	snprintf(last, sizeof last, "9999");
	while ((e = annals_iter_next(it)) != NULL) {
		T_EQ_STR(e->actors[0].name, "TUR");
		T_ASSERT(strcmp(e->start, last) <= 0);
		snprintf(last, sizeof last, "%s", e->start);
		nseen++;
	}
	T_EQ_INT(annals_iter_error(it), 0);
	T_EQ_U64(nseen, CLIENT_BIG / 2);
	annals_iter_free(it);
	annals_query_free(q);

	free(seen);
	free(dates);
	free(evs);
	client_done(&d, ctx);
}

TEST(client_pipelined_put_reports_each_batch)
{
	static const struct annals_actor a = { "RUS", NULL };
	struct annals_put_result	 res[2];
	struct th_daemon		 d;
	struct annals_event		 good[2], bad[2];
	annals_ctx			*ctx;
	size_t				 i, n;

	good[0] = client_event("2001", &a, "one");
	good[1] = client_event("2002", &a, "two");
	bad[0] = client_event("2003", &a, "three");
	bad[1] = client_event("2003-02-29", &a, "four");
	ctx = client_connect(&d);
	T_OK(annals_put_append(ctx, good, 2));
	T_OK(annals_put_append(ctx, bad, 2));
	T_OK(annals_put_append(ctx, good, 1));
	T_EQ_INT(annals_put_pending(ctx), 3);
	T_OK(annals_put_wait(ctx, res, &n));
	T_EQ_INT(n, 2);
	T_EQ_INT(annals_put_wait(ctx, res, &n), -1);
	T_EQ_INT(n, 2);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EINVALID);
	T_EQ_STR(annals_errmsg(ctx),
	    "records[1]: start: 2003-02-29 is not a date");
	T_OK(annals_put_wait(ctx, res, &n));
	T_EQ_INT(n, 1);
	/* Without an id or a source and key, every put adds. */
	T_EQ_INT(res[0].status, ANNALS_ADDED);
	T_EQ_INT(annals_put_pending(ctx), 0);

	/* The window is bounded. */
	for (i = 0; i < ANNALS_MAX_PENDING; i++)
		T_OK(annals_put_append(ctx, good, 1));
	T_EQ_INT(annals_put_append(ctx, good, 1), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_ELIMIT);
	for (i = 0; i < ANNALS_MAX_PENDING; i++)
		T_OK(annals_put_wait(ctx, NULL, NULL));
	T_OK(annals_ping(ctx));
	client_done(&d, ctx);
}

/* A listening socket at t_dir()/name that nobody serves yet. */
static int
client_listen(const char *name, char *path, size_t size)
{
	struct sockaddr_un	sun;
	int			fd;

	snprintf(path, size, "%s/%s", t_dir(), name);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	T_ASSERT((fd = socket(AF_UNIX, SOCK_STREAM, 0)) != -1);
	T_OK(bind(fd, (struct sockaddr *)&sun, sizeof sun));
	T_OK(listen(fd, 4));
	return (fd);
}

TEST(client_timeout_breaks_the_context)
{
	annals_ctx	*ctx;
	char		 path[256];
	int		 fd;

	fd = client_listen("mute.sock", path, sizeof path);
	ctx = annals_connect(path);
	T_EQ_INT(annals_errcode(ctx), 0);
	T_OK(annals_set_timeout(ctx, 100));
	T_EQ_INT(annals_ping(ctx), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EIO);
	T_EQ_STR(annals_errmsg(ctx), "no answer from annalsd within 100 ms");
	T_EQ_INT(annals_ping(ctx), -1);
	annals_free(ctx);
	close(fd);
}

TEST(client_garbage_from_the_server_is_a_protocol_error)
{
	static const unsigned char	 replies[][16] = {
		{ 'H', 'T', 'T', 'P' },
		/* A frame holding [1, 99, nil, nil]: the wrong msgid. */
		{ 0xce, 0, 0, 0, 5, 0x94, 0x01, 0x63, 0xc0, 0xc0 },
	};
	static const char		*msgs[] = {
		"the server answered in HTTP: is that annalsd's --http port "
		    "rather than its protocol port?",
		"response: answers request 99, expected 1",
	};
	annals_ctx			*ctx;
	char				 path[256], buf[256], name[32];
	size_t				 i;
	pid_t				 pid;
	int				 fd, c, status;

	for (i = 0; i < 2; i++) {
		snprintf(name, sizeof name, "liar%zu.sock", i);
		fd = client_listen(name, path, sizeof path);
		T_ASSERT((pid = fork()) != -1);
		if (pid == 0) {
			/* Answer the first request with nonsense. */
			if ((c = accept(fd, NULL, NULL)) == -1 ||
			    read(c, buf, sizeof buf) <= 0 ||
			    write(c, replies[i], i == 0 ? 4 : 10) == -1)
				_exit(1);
			_exit(0);
		}
		ctx = annals_connect(path);
		T_EQ_INT(annals_ping(ctx), -1);
		T_EQ_INT(annals_errcode(ctx), ANNALS_EPROTOCOL);
		T_EQ_STR(annals_errmsg(ctx), msgs[i]);
		T_EQ_INT(annals_stats(ctx, NULL), -1);
		T_EQ_INT(annals_errcode(ctx), ANNALS_EPROTOCOL);
		annals_free(ctx);
		T_EQ_INT(waitpid(pid, &status, 0), pid);
		T_EQ_INT(status, 0);
		close(fd);
	}
}

/*
 * A server that answers whatever comes with "HTTP/1.1 400", as an HTTP
 * port does: the error says so, not that a frame starts badly.
 */
TEST(client_an_http_answer_is_named)
{
	struct sockaddr_un	 sun;
	annals_ctx		*ctx;
	char			 buf[64];
	pid_t			 pid;
	int			 fd, c, status;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s/http.sock", t_dir());
	T_ASSERT((fd = socket(AF_UNIX, SOCK_STREAM, 0)) != -1);
	T_OK(bind(fd, (struct sockaddr *)&sun, sizeof sun));
	T_OK(listen(fd, 1));
	T_ASSERT((pid = fork()) != -1);
	if (pid == 0) {
		if ((c = accept(fd, NULL, NULL)) == -1 ||
		    read(c, buf, sizeof buf) <= 0)
			_exit(1);
		/* In two writes: the reader must wait for "HTTP". */
		(void)write(c, "HT", 2);
		usleep(50000);
		(void)write(c, "TP/1.1 400 Bad Request\r\n\r\n", 26);
		usleep(200000);
		_exit(0);
	}
	close(fd);
	T_ASSERT((ctx = annals_connect(sun.sun_path)) != NULL);
	T_EQ_INT(annals_ping(ctx), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EPROTOCOL);
	T_EQ_STR(annals_errmsg(ctx), "the server answered in HTTP: is that "
	    "annalsd's --http port rather than its protocol port?");
	annals_free(ctx);
	T_EQ_INT(waitpid(pid, &status, 0), pid);
}

/* The title of event id, as stored now (a static buffer). */
static const char *
client_title(annals_ctx *ctx, uint64_t id, uint64_t *rev)
{
	static char		 title[256];
	struct annals_event	*ev;

	T_ASSERTF(annals_get(ctx, id, &ev) == 0, "%s", annals_errmsg(ctx));
	snprintf(title, sizeof title, "%s", ev->title);
	*rev = ev->rev;
	annals_event_free(ev);
	return (title);
}

/*
 * A conditional put writes only over the rev that was read: a moved rev
 * refuses the whole batch with conflict, naming the event and its rev
 * now; rev 0 by source and key means "only if new".
 */
TEST(client_put_checked_writes_only_over_the_rev_read)
{
	struct annals_actor	 rus = { "RUS", "source" };
	struct annals_event	 ev[2];
	struct annals_put_result res[2];
	struct th_daemon	 d;
	annals_ctx		*ctx = client_connect(&d);
	uint64_t		 a, rev;
	char			 want[200];

	ev[0] = client_event("2015-01-26", &rus, "first");
	ev[1] = client_event("2015-01-27", &rus, "keyed");
	ev[1].source = "feed";
	ev[1].key = "k1";
	T_ASSERTF(annals_put(ctx, ev, 2, res) == 0, "%s", annals_errmsg(ctx));
	a = res[0].id;

	/* Over the rev read: written, rev 2. */
	ev[0].id = a;
	ev[0].rev = 1;
	ev[0].title = "second";
	T_ASSERTF(annals_put_checked(ctx, ev, 1, res) == 0, "%s",
	    annals_errmsg(ctx));
	T_EQ_U64(res[0].rev, 2);
	/* The same rev again is stale now: nothing written. */
	ev[0].title = "lost update";
	T_EQ_INT(annals_put_checked(ctx, ev, 1, res), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_ECONFLICT);
	snprintf(want, sizeof want, "records[0]: event %llu is at rev 2, "
	    "not 1",
	    (unsigned long long)a);
	T_EQ_STR(annals_errmsg(ctx), want);
	T_EQ_STR(client_title(ctx, a, &rev), "second");
	T_EQ_U64(rev, 2);

	/* One stale record in a batch: none is written. */
	ev[0].rev = 2;
	ev[0].title = "third";
	ev[1].rev = 5;
	T_EQ_INT(annals_put_checked(ctx, ev, 2, res), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_ECONFLICT);
	T_ASSERT(strncmp(annals_errmsg(ctx), "records[1]: event ", 18) == 0 &&
	    strstr(annals_errmsg(ctx), " is at rev 1, not 5") != NULL);
	T_EQ_STR(client_title(ctx, a, &rev), "second");
	ev[1].rev = 1;
	T_ASSERTF(annals_put_checked(ctx, ev, 2, res) == 0, "%s",
	    annals_errmsg(ctx));
	T_EQ_STR(client_title(ctx, a, &rev), "third");

	/* rev 0 by source and key: only if there is no such event yet. */
	ev[1].rev = 0;
	T_EQ_INT(annals_put_checked(ctx, &ev[1], 1, res), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_ECONFLICT);
	ev[1].key = "k2";
	T_ASSERTF(annals_put_checked(ctx, &ev[1], 1, res) == 0, "%s",
	    annals_errmsg(ctx));
	T_EQ_INT(res[0].status, ANNALS_ADDED);
	ev[1].key = "k3";
	ev[1].rev = 4;
	T_EQ_INT(annals_put_checked(ctx, &ev[1], 1, res), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_ECONFLICT);
	T_EQ_STR(annals_errmsg(ctx), "records[0]: no event has source feed "
	    "and key k3 (expected at rev 4)");
	/* A rev for a record that names no event is a mistake. */
	ev[1].source = ev[1].key = NULL;
	T_EQ_INT(annals_put_checked(ctx, &ev[1], 1, res), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EINVALID);
	/* The plain put still ignores rev. */
	ev[0].rev = 99;
	ev[0].title = "fourth";
	T_ASSERTF(annals_put(ctx, ev, 1, res) == 0, "%s", annals_errmsg(ctx));
	T_EQ_STR(client_title(ctx, a, &rev), "fourth");
	client_done(&d, ctx);
}
