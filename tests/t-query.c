/* Queries: decoding params, packing them, cursors and the event filter. */
#include <jansson.h>

#include "mpobj.h"
#include "test.h"
#include "../proto/proto.h"

#define DAY	86400
#define PRECISION_MSG \
	"precision: must be one of year, season, month, day, time"

/* Decode params given as JSON; they must be accepted. */
static void
decode_ok(const char *json, int kind, struct query *q)
{
	struct mpobj	o;
	struct aerr	err;

	aerr_clear(&err);
	T_ASSERTF(query_decode(mpobj_json(&o, json), kind, q, &err) == 0,
	    "%s: %s", json, err.msg);
	mpobj_free(&o);
}

static int64_t
day(int64_t y, unsigned m, unsigned d)
{
	return (date_days_from_civil(y, m, d) * DAY);
}

TEST(query_decode_defaults)
{
	struct query	q;
	struct aerr	err;

	T_OK(query_decode(NULL, QUERY_RANGE, &q, &err));
	T_EQ_INT(q.kind, QUERY_RANGE);
	T_EQ_INT(q.limit, PROTO_DEFAULT_PAGE);
	T_ASSERT(q.qlo == DATE_NEG_INF && q.qhi == DATE_POS_INF);
	T_ASSERT(q.from == NULL && q.to == NULL && q.actor == NULL);
	T_ASSERT(q.role == NULL && q.type == NULL && q.tag == NULL);
	T_ASSERT(q.source == NULL);
	T_EQ_INT(q.min_prec, DATE_PREC_NONE);
	T_ASSERT(!q.certain && !q.within && !q.desc && !q.has_cursor);
	query_clear(&q);

	/* nil is the same as absent. */
	decode_ok("{'from':null,'limit':null,'actor':null}", QUERY_RANGE, &q);
	T_EQ_INT(q.limit, PROTO_DEFAULT_PAGE);
	T_ASSERT(q.from == NULL && q.actor == NULL);
	query_clear(&q);

	/* An actor query needs its actor. */
	aerr_clear(&err);
	T_EQ_INT(query_decode(NULL, QUERY_ACTOR, &q, &err), -1);
	T_EQ_INT(err.code, AERR_INVALID);
	T_EQ_STR(err.msg, "actor: required");
}

TEST(query_decode_every_param)
{
	struct query	q;

	decode_ok("{'from':'2015','to':'2015-03','actor':'SYR*',"
	    "'role':'source','type':'03','tag':'syria','source':'gdelt',"
	    "'precision':'month','certain':true,'within':true,"
	    "'order':'desc','limit':50}", QUERY_ACTOR, &q);
	T_EQ_INT(q.kind, QUERY_ACTOR);
	T_EQ_STR(q.from, "2015");
	T_EQ_STR(q.to, "2015-03");
	T_ASSERT(q.qlo == day(2015, 1, 1));
	T_ASSERT(q.qhi == day(2015, 4, 1) - 1);
	T_EQ_STR(q.actor, "SYR");
	T_EQ_INT(q.actor_prefix, 1);
	T_EQ_STR(q.role, "source");
	T_EQ_STR(q.type, "03");
	T_EQ_STR(q.tag, "syria");
	T_EQ_STR(q.source, "gdelt");
	T_EQ_INT(q.min_prec, DATE_PREC_MONTH);
	T_EQ_INT(q.certain, 1);
	T_EQ_INT(q.within, 1);
	T_EQ_INT(q.desc, 1);
	T_EQ_INT(q.limit, 50);
	T_EQ_INT(q.has_cursor, 0);
	query_clear(&q);
	/* query_clear leaves a cleared struct that may be cleared again. */
	T_ASSERT(q.from == NULL && q.actor == NULL);
	query_clear(&q);

	decode_ok("{'actor':'SYR','order':'asc','certain':false,"
	    "'precision':'time','limit':10000,'from':'..'}", QUERY_RANGE, &q);
	T_EQ_STR(q.actor, "SYR");
	T_EQ_INT(q.actor_prefix, 0);
	T_EQ_INT(q.desc, 0);
	T_EQ_INT(q.certain, 0);
	T_EQ_INT(q.min_prec, DATE_PREC_TIME);
	T_EQ_INT(q.limit, PROTO_MAX_PAGE);
	T_ASSERT(q.qlo == DATE_NEG_INF && q.qhi == DATE_POS_INF);
	query_clear(&q);

	/* 128 bytes and a star: the longest prefix there is. */
	decode_ok("{'actor':'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAA*'}", QUERY_RANGE, &q);
	T_EQ_INT(strlen(q.actor), EVENT_MAX_ACTOR);
	T_EQ_INT(q.actor_prefix, 1);
	query_clear(&q);
}

TEST(query_decode_rejects_bad_params)
{
	static const struct {
		const char	*json;
		int		 kind;
		int		 code;
		const char	*msg;
	} bad[] = {
		{ "{'foo':1}", QUERY_RANGE, AERR_INVALID,
		    "unknown parameter \"foo\"" },
		{ "{'ids':[1]}", QUERY_ACTOR, AERR_INVALID,
		    "unknown parameter \"ids\"" },
		{ "[]", QUERY_RANGE, AERR_INVALID, "params must be a map" },
		/* Issue #14: outside the documented range is invalid. */
		{ "{'limit':20000}", QUERY_RANGE, AERR_INVALID,
		    "limit: 20000 is outside 1 to 10000" },
		{ "{'limit':10001}", QUERY_RANGE, AERR_INVALID,
		    "limit: 10001 is outside 1 to 10000" },
		{ "{'limit':0}", QUERY_RANGE, AERR_INVALID,
		    "limit: 0 is outside 1 to 10000" },
		{ "{'limit':-1}", QUERY_RANGE, AERR_INVALID,
		    "limit: -1 is negative" },
		{ "{'limit':'10'}", QUERY_RANGE, AERR_INVALID,
		    "limit: must be an unsigned integer" },
		{ "{'precision':'week'}", QUERY_RANGE, AERR_INVALID,
		    PRECISION_MSG },
		{ "{'precision':'none'}", QUERY_RANGE, AERR_INVALID,
		    PRECISION_MSG },
		{ "{'precision':4}", QUERY_RANGE, AERR_INVALID,
		    "precision: must be a string" },
		{ "{'order':'up'}", QUERY_RANGE, AERR_INVALID,
		    "order: must be asc or desc" },
		{ "{'order':1}", QUERY_RANGE, AERR_INVALID,
		    "order: must be asc or desc" },
		{ "{'actor':'*'}", QUERY_ACTOR, AERR_INVALID,
		    "actor: \"*\" is an empty prefix" },
		{ "{'actor':''}", QUERY_RANGE, AERR_INVALID,
		    "actor: must not be empty" },
		{ "{'actor':7}", QUERY_ACTOR, AERR_INVALID,
		    "actor: must be a string" },
		{ "{'role':'source'}", QUERY_RANGE, AERR_INVALID,
		    "role: requires actor" },
		{ "{'from':'2015-02-30'}", QUERY_RANGE, AERR_INVALID,
		    "from: 2015-02-30 is not a date" },
		{ "{'to':'soon'}", QUERY_RANGE, AERR_INVALID,
		    "to: soon is not a date" },
		{ "{'from':'2016','to':'2015'}", QUERY_RANGE, AERR_INVALID,
		    "to before from" },
		{ "{'certain':1}", QUERY_RANGE, AERR_INVALID,
		    "certain: must be true or false" },
		{ "{'within':'yes'}", QUERY_RANGE, AERR_INVALID,
		    "within: must be true or false" },
		{ "{'type':''}", QUERY_RANGE, AERR_INVALID,
		    "type: must not be empty" },
		{ "{'tag':['a']}", QUERY_RANGE, AERR_INVALID,
		    "tag: must be a string" },
		{ "{'source':''}", QUERY_RANGE, AERR_INVALID,
		    "source: must not be empty" },
		{ "{'cursor':'abc'}", QUERY_RANGE, AERR_BAD_CURSOR,
		    "cursor is malformed" },
		{ "{'actor':'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		    "AAAAAAAAAAAAAAAAAAAAA'}", QUERY_ACTOR, AERR_INVALID,
		    "actor: 129 bytes exceeds limit 128" },
	};
	struct mpobj	 o;
	struct query	 q, zero;
	struct aerr	 err;
	size_t		 i;

	memset(&zero, 0, sizeof zero);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		aerr_clear(&err);
		T_ASSERTF(query_decode(mpobj_json(&o, bad[i].json), bad[i].kind,
		    &q, &err) == -1, "%s accepted", bad[i].json);
		T_ASSERTF(err.code == bad[i].code, "%s: code %d", bad[i].json,
		    err.code);
		T_ASSERTF(strcmp(err.msg, bad[i].msg) == 0,
		    "%s: \"%s\", expected \"%s\"", bad[i].json, err.msg,
		    bad[i].msg);
		/* Nothing is left allocated (LeakSanitizer checks too). */
		T_ASSERT(memcmp(&q, &zero, sizeof q) == 0);
		mpobj_free(&o);
	}

	/* A parameter twice. */
	msgpack_pack_map(mpobj_begin(&o), 2);
	mp_pack_kv_str(&o.pk, "from", "2015");
	mp_pack_kv_str(&o.pk, "from", "2016");
	T_EQ_INT(query_decode(mpobj_end(&o), QUERY_RANGE, &q, &err), -1);
	T_EQ_STR(err.msg, "duplicate parameter \"from\"");
	mpobj_free(&o);
}

/* Pack q with a cursor, as a client does, and decode it as the daemon. */
static int
requery(const struct query *q, const void *cursor, size_t len,
    struct query *out, struct aerr *err)
{
	struct mpobj	o;
	int		rc;

	query_pack(mpobj_begin(&o), q, cursor, len);
	aerr_clear(err);
	rc = query_decode(mpobj_end(&o), q->kind, out, err);
	mpobj_free(&o);
	return (rc);
}

TEST(query_cursor_resumes_the_same_query)
{
	static const int64_t starts[] = { 0, -1, 1, DATE_NEG_INF,
	    DATE_POS_INF, -62135596800LL, 1420070400 };
	unsigned char	 cur[QUERY_CURSOR_LEN + 1], lo[QUERY_CURSOR_LEN];
	struct query	 q, q2;
	struct aerr	 err;
	size_t		 i;

	decode_ok("{'from':'2015','actor':'RUS','limit':2}", QUERY_RANGE, &q);
	T_EQ_INT(query_cursor_encode(&q, 5, 17, cur, QUERY_CURSOR_LEN - 1), 0);
	for (i = 0; i < sizeof starts / sizeof starts[0]; i++) {
		T_EQ_INT(query_cursor_encode(&q, starts[i], 17 + i, cur,
		    sizeof cur), QUERY_CURSOR_LEN);
		T_OK(requery(&q, cur, QUERY_CURSOR_LEN, &q2, &err));
		T_EQ_INT(q2.has_cursor, 1);
		T_ASSERT(q2.cur_start == starts[i]);
		T_EQ_U64(q2.cur_id, 17 + i);
		query_clear(&q2);
	}

	/* The start bytes sort like the numbers they hold. */
	query_cursor_encode(&q, -5, 1, lo, sizeof lo);
	query_cursor_encode(&q, 3, 1, cur, sizeof cur);
	T_ASSERT(memcmp(lo + 1, cur + 1, 8) < 0);

	/* The limit is not part of the query: a page size may change. */
	q.limit = 500;
	T_OK(requery(&q, cur, QUERY_CURSOR_LEN, &q2, &err));
	T_EQ_INT(q2.limit, 500);
	T_EQ_INT(q2.has_cursor, 1);
	query_clear(&q2);
	query_clear(&q);
}

TEST(query_cursor_of_another_query_is_refused)
{
	static const char *others[] = {
		"{'from':'2016','actor':'RUS'}",
		"{'from':'2015'}",
		"{'from':'2015','actor':'RUS*'}",
		"{'from':'2015','actor':'RUSS'}",
		"{'from':'2015','actor':'RUS','role':'host'}",
		"{'from':'2015','actor':'RUS','order':'desc'}",
		"{'from':'2015','actor':'RUS','certain':true}",
		"{'from':'2015','actor':'RUS','within':true}",
		"{'from':'2015','actor':'RUS','precision':'day'}",
		"{'from':'2015','actor':'RUS','type':'04'}",
		"{'from':'2015','actor':'RUS','tag':'x'}",
		"{'from':'2015','actor':'RUS','source':'x'}",
		"{'from':'2015','to':'2020','actor':'RUS'}",
	};
	unsigned char	 cur[QUERY_CURSOR_LEN];
	struct query	 q, other, q2;
	struct aerr	 err;
	size_t		 i;

	decode_ok("{'from':'2015','actor':'RUS'}", QUERY_RANGE, &q);
	query_cursor_encode(&q, 1420070400, 9, cur, sizeof cur);
	for (i = 0; i < sizeof others / sizeof others[0]; i++) {
		decode_ok(others[i], QUERY_RANGE, &other);
		T_ASSERTF(requery(&other, cur, sizeof cur, &q2, &err) == -1,
		    "%s took the cursor", others[i]);
		T_EQ_INT(err.code, AERR_BAD_CURSOR);
		T_EQ_STR(err.msg, "cursor does not belong to this query");
		query_clear(&other);
	}

	/* The same parameters through the actor method are another query. */
	q.kind = QUERY_ACTOR;
	T_EQ_INT(requery(&q, cur, sizeof cur, &q2, &err), -1);
	T_EQ_STR(err.msg, "cursor does not belong to this query");
	q.kind = QUERY_RANGE;

	/* Cut short, or of a version this daemon does not know. */
	T_EQ_INT(requery(&q, cur, sizeof cur - 1, &q2, &err), -1);
	T_EQ_INT(err.code, AERR_BAD_CURSOR);
	T_EQ_STR(err.msg, "cursor is malformed");
	cur[0] = 2;
	T_EQ_INT(requery(&q, cur, sizeof cur, &q2, &err), -1);
	T_EQ_STR(err.msg, "cursor is malformed");
	cur[0] = 1;
	cur[20] ^= 0x40;
	T_EQ_INT(requery(&q, cur, sizeof cur, &q2, &err), -1);
	T_EQ_STR(err.msg, "cursor does not belong to this query");
	query_clear(&q);
}

/*
 * The cursor's hash is FNV-1a as published (the reference vectors), and
 * bytes in pieces hash as in one: cursors given out before stay good.
 */
TEST(hash_fnv_is_fnv_1a)
{
	T_EQ_U64(hash_fnv(HASH_FNV_INIT, "", 0), 0xcbf29ce484222325ULL);
	T_EQ_U64(hash_fnv(HASH_FNV_INIT, "a", 1), 0xaf63dc4c8601ec8cULL);
	T_EQ_U64(hash_fnv(HASH_FNV_INIT, "foobar", 6),
	    0x85944171f73967e8ULL);
	T_EQ_U64(hash_fnv(hash_fnv(HASH_FNV_INIT, "foo", 3), "bar", 3),
	    0x85944171f73967e8ULL);
}

TEST(query_pack_round_trips)
{
	struct mpobj	 o;
	struct query	 q, q2, empty;
	struct aerr	 err;

	decode_ok("{'from':'2015-01','to':'2015-03','actor':'SYR*',"
	    "'role':'target','type':'1','tag':'t','source':'s',"
	    "'precision':'season','certain':true,'within':true,"
	    "'order':'desc','limit':7}", QUERY_ACTOR, &q);
	T_OK(requery(&q, NULL, 0, &q2, &err));
	T_EQ_STR(q2.from, q.from);
	T_EQ_STR(q2.to, q.to);
	T_EQ_STR(q2.actor, "SYR");
	T_EQ_INT(q2.actor_prefix, 1);
	T_EQ_STR(q2.role, q.role);
	T_EQ_STR(q2.type, q.type);
	T_EQ_STR(q2.tag, q.tag);
	T_EQ_STR(q2.source, q.source);
	T_EQ_INT(q2.min_prec, DATE_PREC_SEASON);
	T_EQ_INT(q2.certain, 1);
	T_EQ_INT(q2.within, 1);
	T_EQ_INT(q2.desc, 1);
	T_EQ_INT(q2.limit, 7);
	T_ASSERT(q2.qlo == q.qlo && q2.qhi == q.qhi);
	T_EQ_INT(q2.has_cursor, 0);
	query_clear(&q2);
	query_clear(&q);

	/* A struct the client left zero packs as an empty map. */
	memset(&empty, 0, sizeof empty);
	query_pack(mpobj_begin(&o), &empty, NULL, 0);
	T_EQ_INT(mpobj_end(&o)->type, MSGPACK_OBJECT_MAP);
	T_EQ_INT(o.u.data.via.map.size, 0);
	mpobj_free(&o);

	/* The actor goes out with its star, the cursor as bin. */
	decode_ok("{'actor':'SY*'}", QUERY_RANGE, &q);
	query_pack(mpobj_begin(&o), &q, "0123456789012345678901234", 25);
	T_ASSERT(mp_key_is(mp_get(mpobj_end(&o), "actor"), "SY*"));
	T_EQ_INT(mp_get(&o.u.data, "cursor")->type, MSGPACK_OBJECT_BIN);
	T_EQ_INT(mp_get(&o.u.data, "limit")->via.u64, PROTO_DEFAULT_PAGE);
	T_ASSERT(mp_get(&o.u.data, "order") == NULL);
	mpobj_free(&o);
	query_clear(&q);
}

/* An event from JSON; it must decode. */
static void
event(const char *json, struct event *ev)
{
	struct mpobj	o;
	struct aerr	err;

	aerr_clear(&err);
	T_ASSERTF(record_decode_stored(mpobj_json(&o, json), ev, &err) == 0,
	    "%s: %s", json, err.msg);
	mpobj_free(&o);
}

/* Whether the query (JSON params) takes the event (JSON record). */
static int
takes(const char *params, const char *record, int *match)
{
	struct query	q;
	struct event	ev;
	int		rc, m = -1;

	decode_ok(params, QUERY_RANGE, &q);
	event(record, &ev);
	rc = query_matches(&q, &ev, &m);
	if (rc)
		*match = m;
	else
		T_EQ_INT(m, -1);	/* untouched when no match */
	record_clear(&ev);
	query_clear(&q);
	return (rc);
}

#define TAKES(p, r)	takes_check(p, r, 1, __LINE__)
#define LEAVES(p, r)	takes_check(p, r, 0, __LINE__)

static void
takes_check(const char *p, const char *r, int want, int line)
{
	int	m;

	if (takes(p, r, &m) != want)
		T_FAIL("line %d: %s %s %s", line, p, want ? "missed" : "took",
		    r);
}

TEST(query_matches_type_prefix)
{
	TAKES("{'type':'03'}", "{'start':'2015','type':'036'}");
	TAKES("{'type':'03'}", "{'start':'2015','type':'0311'}");
	TAKES("{'type':'03'}", "{'start':'2015','type':'03'}");
	LEAVES("{'type':'03'}", "{'start':'2015','type':'04'}");
	LEAVES("{'type':'03'}", "{'start':'2015','type':'0'}");
	LEAVES("{'type':'03'}", "{'start':'2015','type':'3'}");
	LEAVES("{'type':'03'}", "{'start':'2015'}");
	TAKES("{}", "{'start':'2015'}");
}

TEST(query_matches_actor_role_tag_source)
{
	static const char ev[] = "{'start':'2015','source':'gdelt',"
	    "'key':'1','tags':['a','syria'],'actors':["
	    "{'name':'SYRGOV','role':'source'},'SYR',"
	    "{'name':'RUS','role':'target'}]}";

	TAKES("{'actor':'SYR'}", ev);
	TAKES("{'actor':'SYRGOV'}", ev);
	LEAVES("{'actor':'SY'}", ev);
	LEAVES("{'actor':'SYRG'}", ev);
	LEAVES("{'actor':'USA'}", ev);
	TAKES("{'actor':'SY*'}", ev);
	TAKES("{'actor':'SYRG*'}", ev);
	TAKES("{'actor':'SYRGOV*'}", ev);
	LEAVES("{'actor':'SYRGOVX*'}", ev);
	LEAVES("{'actor':'US*'}", ev);
	/* The role belongs to the actor that matched. */
	TAKES("{'actor':'SYRGOV','role':'source'}", ev);
	LEAVES("{'actor':'SYRGOV','role':'target'}", ev);
	LEAVES("{'actor':'SYR','role':'source'}", ev);
	TAKES("{'actor':'SYR*','role':'source'}", ev);
	LEAVES("{'actor':'SYR*','role':'target'}", ev);
	TAKES("{'actor':'R*','role':'target'}", ev);
	/* Tags and source are exact. */
	TAKES("{'tag':'syria'}", ev);
	TAKES("{'tag':'a'}", ev);
	LEAVES("{'tag':'syr'}", ev);
	LEAVES("{'tag':'b'}", "{'start':'2015'}");
	TAKES("{'source':'gdelt'}", ev);
	LEAVES("{'source':'gdel'}", ev);
	LEAVES("{'source':'gdelt'}", "{'start':'2015'}");
	/* All filters at once. */
	TAKES("{'actor':'RUS','role':'target','tag':'a','source':'gdelt',"
	    "'from':'2015-06','to':'2015-06'}", ev);
}

TEST(query_matches_dates_precision_certain_within)
{
	int	m;

	/* In, out, and the certainty of a match. */
	T_EQ_INT(takes("{'from':'2015-03','to':'2015-03'}",
	    "{'start':'2015-03-10'}", &m), 1);
	T_EQ_INT(m, DATE_MATCH_CERTAIN);
	LEAVES("{'from':'2015-03','to':'2015-03'}", "{'start':'2014'}");
	LEAVES("{'from':'2015-03','to':'2015-03'}", "{'start':'2015-04-01'}");
	/* April, uncertain, may have been March. */
	T_EQ_INT(takes("{'from':'2015-03','to':'2015-03'}",
	    "{'start':'2015-04?'}", &m), 1);
	T_EQ_INT(m, DATE_MATCH_POSSIBLE);
	LEAVES("{'from':'2015-03','to':'2015-03','certain':true}",
	    "{'start':'2015-04?'}");
	TAKES("{'from':'2015-03','to':'2015-03','certain':true}",
	    "{'start':'2015-03-10'}");

	/* Overlapping is not lying within. */
	TAKES("{'from':'2015-03','to':'2015-03'}",
	    "{'start':'2015-02-20','end':'2015-03-05'}");
	LEAVES("{'from':'2015-03','to':'2015-03','within':true}",
	    "{'start':'2015-02-20','end':'2015-03-05'}");
	TAKES("{'from':'2015-03','to':'2015-03','within':true}",
	    "{'start':'2015-03-02','end':'2015-03-05'}");

	/* Precision: at least as fine as asked. */
	LEAVES("{'precision':'month'}", "{'start':'2015'}");
	LEAVES("{'precision':'month'}", "{'start':'2015-21'}");
	TAKES("{'precision':'month'}", "{'start':'2015-03'}");
	TAKES("{'precision':'month'}", "{'start':'2015-03-04'}");
	TAKES("{'precision':'month'}", "{'start':'2015-03-04T10:00Z'}");
	LEAVES("{'precision':'time'}", "{'start':'2015-03-04'}");
	TAKES("{'precision':'season'}", "{'start':'2015-21'}");
	TAKES("{'precision':'year'}", "{'start':'2015'}");
}
