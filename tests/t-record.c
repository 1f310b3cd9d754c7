/* The event record: decoding with every check, packing, round trips. */
#include <float.h>
#include <jansson.h>

#include "mpobj.h"
#include "test.h"
#include "../proto/proto.h"

/* Packed msgpack and the object unpacked from it. */
/* n copies of c, NUL-terminated, in a static buffer per slot. */
static const char *
repeat(int slot, char c, size_t n)
{
	static char	buf[4][600];

	T_ASSERT(n < sizeof buf[slot]);
	memset(buf[slot], c, n);
	buf[slot][n] = '\0';
	return (buf[slot]);
}

static void
str_equal(const char *a, const char *b, const char *what)
{
	if (a == NULL && b == NULL)
		return;
	if (a == NULL || b == NULL || strcmp(a, b) != 0)
		T_FAIL("%s differs: \"%s\" != \"%s\"", what, a ? a : "(null)",
		    b ? b : "(null)");
}

/* Every field of a and b is equal; the span too, as it is derived. */
static void
events_equal(const struct event *a, const struct event *b)
{
	uint32_t	i;

	T_EQ_U64(a->id, b->id);
	T_EQ_U64(a->rev, b->rev);
	T_EQ_U64(a->created, b->created);
	T_EQ_U64(a->updated, b->updated);
	str_equal(a->source, b->source, "source");
	str_equal(a->key, b->key, "key");
	str_equal(a->start, b->start, "start");
	str_equal(a->end, b->end, "end");
	T_ASSERT(memcmp(&a->span, &b->span, sizeof a->span) == 0);
	T_EQ_INT(a->nactors, b->nactors);
	for (i = 0; i < a->nactors; i++) {
		str_equal(a->actors[i].name, b->actors[i].name, "actor");
		str_equal(a->actors[i].role, b->actors[i].role, "role");
	}
	str_equal(a->type, b->type, "type");
	str_equal(a->title, b->title, "title");
	str_equal(a->text, b->text, "text");
	str_equal(a->place.name, b->place.name, "place.name");
	str_equal(a->place.country, b->place.country, "place.country");
	T_EQ_INT(a->place.has_lat, b->place.has_lat);
	T_EQ_INT(a->place.has_lon, b->place.has_lon);
	T_ASSERT(a->place.lat == b->place.lat);
	T_ASSERT(a->place.lon == b->place.lon);
	T_EQ_INT(a->nurls, b->nurls);
	for (i = 0; i < a->nurls; i++)
		str_equal(a->urls[i], b->urls[i], "url");
	T_EQ_INT(a->ntags, b->ntags);
	for (i = 0; i < a->ntags; i++)
		str_equal(a->tags[i], b->tags[i], "tag");
	T_EQ_U64(a->attrs_len, b->attrs_len);
	T_ASSERT((a->attrs == NULL) == (b->attrs == NULL));
	if (a->attrs != NULL)
		T_ASSERT(memcmp(a->attrs, b->attrs, a->attrs_len) == 0);
}

/* Pack ev, decode the bytes again into out, and check nothing changed. */
static void
repack(const struct event *ev, struct event *out, msgpack_sbuffer *bytes)
{
	struct mpobj	o;
	struct aerr	err;

	record_pack(mpobj_begin(&o), ev);
	aerr_clear(&err);
	T_ASSERTF(record_decode(mpobj_end(&o), out, &err) == 0, "%s", err.msg);
	events_equal(ev, out);
	msgpack_sbuffer_init(bytes);
	msgpack_sbuffer_write(bytes, o.sbuf.data, o.sbuf.size);
	mpobj_free(&o);
}

/* The whole record in output order, with attrs of every value type. */
static void
pack_full(msgpack_packer *pk, int plain_actor)
{
	msgpack_pack_map(pk, 16);
	mp_pack_kv_uint(pk, "id", 17);
	mp_pack_kv_uint(pk, "rev", 3);
	mp_pack_kv_uint(pk, "created", 1700000000000ULL);
	mp_pack_kv_uint(pk, "updated", 1700000000500ULL);
	mp_pack_kv_str(pk, "source", "manual");
	mp_pack_kv_str(pk, "key", "moscow-2015");
	mp_pack_kv_str(pk, "start", "2015-01-26");
	mp_pack_kv_str(pk, "end", "2015-01-29");
	mp_pack_str(pk, "actors");
	msgpack_pack_array(pk, 2);
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "name", "RUS");
	mp_pack_kv_str(pk, "role", "host");
	if (plain_actor)
		mp_pack_str(pk, "EGY");
	else {
		msgpack_pack_map(pk, 1);
		mp_pack_kv_str(pk, "name", "EGY");
	}
	mp_pack_kv_str(pk, "type", "036");
	mp_pack_kv_str(pk, "title", "Talks in Moscow \xe2\x80\x94 "
	    "\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0 "
	    "\xf0\x9f\x87\xb7\xf0\x9f\x87\xba");
	mp_pack_kv_str(pk, "text", "Line one.\nLine two\twith a tab.");
	mp_pack_str(pk, "place");
	msgpack_pack_map(pk, 4);
	mp_pack_kv_str(pk, "name", "Moscow");
	mp_pack_kv_str(pk, "country", "RU");
	mp_pack_str(pk, "lat");
	msgpack_pack_double(pk, 55.75);
	mp_pack_str(pk, "lon");
	msgpack_pack_double(pk, 37.62);
	mp_pack_str(pk, "urls");
	msgpack_pack_array(pk, 2);
	mp_pack_str(pk, "https://example.org/a");
	mp_pack_str(pk, "https://example.org/b?q=1&r=2");
	mp_pack_str(pk, "tags");
	msgpack_pack_array(pk, 1);
	mp_pack_str(pk, "diplomacy");

	mp_pack_str(pk, "attrs");
	msgpack_pack_map(pk, 12);
	mp_pack_kv_uint(pk, "u64max", UINT64_MAX);
	mp_pack_kv_int(pk, "i64min", INT64_MIN);
	mp_pack_kv_int(pk, "neg", -5);
	mp_pack_kv_int(pk, "neg16", -30000);
	mp_pack_str(pk, "f64");
	msgpack_pack_double(pk, -1.96918082576365);
	mp_pack_str(pk, "f32");
	msgpack_pack_float(pk, 4.5f);
	mp_pack_str(pk, "yes");
	msgpack_pack_true(pk);
	mp_pack_str(pk, "no");
	msgpack_pack_false(pk);
	mp_pack_str(pk, "none");
	msgpack_pack_nil(pk);
	mp_pack_kv_str(pk, "s", "caf\xc3\xa9");
	mp_pack_str(pk, "list");
	msgpack_pack_array(pk, 4);
	msgpack_pack_array(pk, 2);
	msgpack_pack_uint64(pk, 1);
	msgpack_pack_array(pk, 0);
	msgpack_pack_map(pk, 0);
	mp_pack_str(pk, "");
	msgpack_pack_double(pk, 0.5);
	mp_pack_str(pk, "nested");
	msgpack_pack_map(pk, 2);
	mp_pack_str(pk, "a");
	msgpack_pack_map(pk, 1);
	mp_pack_str(pk, "b");
	msgpack_pack_array(pk, 1);
	msgpack_pack_int64(pk, -1);
	mp_pack_kv_str(pk, "c", "d");
}

TEST(record_round_trip_of_every_field)
{
	struct mpobj		 in, attrs;
	struct event		 ev, ev2, ev3;
	struct aerr		 err;
	msgpack_sbuffer		 b2, b3;
	const msgpack_object	*a, *v;

	pack_full(mpobj_begin(&in), 1);
	aerr_clear(&err);
	T_ASSERTF(record_decode(mpobj_end(&in), &ev, &err) == 0, "%s", err.msg);

	/* The values, as given. */
	T_EQ_U64(ev.id, 17);
	T_EQ_U64(ev.rev, 3);
	T_EQ_U64(ev.created, 1700000000000ULL);
	T_EQ_U64(ev.updated, 1700000000500ULL);
	T_EQ_STR(ev.source, "manual");
	T_EQ_STR(ev.key, "moscow-2015");
	T_EQ_STR(ev.start, "2015-01-26");
	T_EQ_STR(ev.end, "2015-01-29");
	T_EQ_INT(ev.span.prec, DATE_PREC_DAY);
	T_ASSERT(ev.span.lo < ev.span.hi);
	T_EQ_INT(ev.nactors, 2);
	T_EQ_STR(ev.actors[0].name, "RUS");
	T_EQ_STR(ev.actors[0].role, "host");
	T_EQ_STR(ev.actors[1].name, "EGY");
	T_ASSERT(ev.actors[1].role == NULL);
	T_EQ_STR(ev.type, "036");
	T_EQ_STR(ev.text, "Line one.\nLine two\twith a tab.");
	T_EQ_STR(ev.place.name, "Moscow");
	T_EQ_STR(ev.place.country, "RU");
	T_ASSERT(ev.place.has_lat && ev.place.lat == 55.75);
	T_ASSERT(ev.place.has_lon && ev.place.lon == 37.62);
	T_EQ_INT(ev.nurls, 2);
	T_EQ_STR(ev.urls[1], "https://example.org/b?q=1&r=2");
	T_EQ_INT(ev.ntags, 1);
	T_EQ_STR(ev.tags[0], "diplomacy");

	/* attrs are packed msgpack whose values kept their types. */
	T_ASSERT(ev.attrs != NULL);
	msgpack_unpacked_init(&attrs.u);
	msgpack_sbuffer_init(&attrs.sbuf);
	msgpack_sbuffer_write(&attrs.sbuf, (const char *)ev.attrs,
	    ev.attrs_len);
	a = mpobj_end(&attrs);
	T_EQ_INT(a->type, MSGPACK_OBJECT_MAP);
	T_EQ_INT(a->via.map.size, 12);
	v = mp_get(a, "u64max");
	T_ASSERT(v->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    v->via.u64 == UINT64_MAX);
	v = mp_get(a, "i64min");
	T_ASSERT(v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER &&
	    v->via.i64 == INT64_MIN);
	v = mp_get(a, "f32");
	T_ASSERT(v->type == MSGPACK_OBJECT_FLOAT32 && v->via.f64 == 4.5);
	v = mp_get(a, "f64");
	T_ASSERT(v->type == MSGPACK_OBJECT_FLOAT64 &&
	    v->via.f64 == -1.96918082576365);
	T_EQ_INT(mp_get(a, "none")->type, MSGPACK_OBJECT_NIL);
	T_EQ_INT(mp_get(a, "no")->type, MSGPACK_OBJECT_BOOLEAN);
	v = mp_get(mp_get(a, "nested"), "a");
	v = mp_get(v, "b");
	T_ASSERT(v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size == 1 &&
	    v->via.array.ptr[0].via.i64 == -1);
	mpobj_free(&attrs);

	/* Nothing points into the frame: scribble over it, then compare. */
	memset(in.sbuf.data, 0xa5, in.sbuf.size);
	mpobj_free(&in);

	repack(&ev, &ev2, &b2);
	repack(&ev2, &ev3, &b3);
	T_EQ_U64(b2.size, b3.size);
	T_ASSERT(memcmp(b2.data, b3.data, b2.size) == 0);

	/* With the actor given as a map, the input comes back byte for byte. */
	pack_full(mpobj_begin(&in), 0);
	T_EQ_U64(in.sbuf.size, b2.size);
	T_ASSERT(memcmp(in.sbuf.data, b2.data, b2.size) == 0);
	mpobj_free(&in);

	msgpack_sbuffer_destroy(&b2);
	msgpack_sbuffer_destroy(&b3);
	record_clear(&ev);
	record_clear(&ev2);
	record_clear(&ev3);
}

TEST(record_minimal_and_absent_fields)
{
	static const char	*cases[][2] = {
		/* input, expected output */
		{ "{'start':'2015'}", "{'start':'2015'}" },
		/* nil is absent, empty lists and maps are dropped */
		{ "{'start':'2015','end':null,'title':null,'urls':[],"
		    "'tags':[],'attrs':{},'place':{}}", "{'start':'2015'}" },
		/* an empty role is no role; ints for lat and lon */
		{ "{'actors':[{'role':'','name':'A'}],'start':'2015',"
		    "'place':{'lon':-180,'lat':90}}",
		    "{'start':'2015','actors':[{'name':'A'}],"
		    "'place':{'lat':90.0,'lon':-180.0}}" },
		/* issue #14: an empty string is an absent value too */
		{ "{'start':'2015','actors':['A'],'type':'','title':'',"
		    "'text':'','end':'','place':{'name':'','country':''}}",
		    "{'start':'2015','actors':[{'name':'A'}]}" },
		/*
		 * without an id, created and updated do not go out; rev
		 * does, for a conditional put by source and key
		 */
		{ "{'rev':4,'start':'2015','created':5}",
		    "{'rev':4,'start':'2015'}" },
		{ "{'rev':0,'start':'2015','updated':5}", "{'start':'2015'}" },
		{ "{'start':'2015-03?','end':'..'}",
		    "{'start':'2015-03?','end':'..'}" },
	};
	struct mpobj	 in, want, got;
	struct event	 ev;
	struct aerr	 err;
	size_t		 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		aerr_clear(&err);
		T_ASSERTF(record_decode_stored(mpobj_json(&in, cases[i][0]),
		    &ev, &err) == 0, "%s: %s", cases[i][0], err.msg);
		record_pack(mpobj_begin(&got), &ev);
		mpobj_json(&want, cases[i][1]);
		T_ASSERTF(got.sbuf.size == want.sbuf.size &&
		    memcmp(got.sbuf.data, want.sbuf.data, got.sbuf.size) == 0,
		    "%s", cases[i][0]);
		record_clear(&ev);
		mpobj_free(&in);
		mpobj_free(&want);
		msgpack_sbuffer_destroy(&got.sbuf);
	}
}

/* Decode must fail with exactly msg, and leave ev cleared. */
static void
expect_bad(const msgpack_object *obj, const char *msg, const char *what)
{
	struct event	ev, zero;
	struct aerr	err;

	memset(&zero, 0, sizeof zero);
	aerr_clear(&err);
	if (record_decode(obj, &ev, &err) != -1)
		T_FAIL("%s: accepted, expected %s", what, msg);
	T_ASSERTF(err.code == AERR_INVALID, "%s: code %d", what, err.code);
	T_ASSERTF(strcmp(err.msg, msg) == 0, "%s: \"%s\", expected \"%s\"",
	    what, err.msg, msg);
	T_ASSERT(memcmp(&ev, &zero, sizeof ev) == 0);
}

/* Issue #14: a new record has 1 to 64 actors, however it leaves them out. */
TEST(issue_14_record_needs_actors)
{
	struct mpobj	 o;
	struct event	 ev;
	struct aerr	 err;

	expect_bad(mpobj_json(&o, "{'start':'2015'}"), "actors: required",
	    "no actors");
	mpobj_free(&o);
	expect_bad(mpobj_json(&o, "{'start':'2015','actors':null}"),
	    "actors: required", "nil actors");
	mpobj_free(&o);
	expect_bad(mpobj_json(&o, "{'start':'2015','actors':[]}"),
	    "actors: 0 given, at least 1 required", "[] actors");
	mpobj_free(&o);
	/* What older daemons stored stays readable. */
	T_OK(record_decode_stored(mpobj_json(&o, "{'start':'2015'}"), &ev,
	    &err));
	T_EQ_INT(ev.nactors, 0);
	record_clear(&ev);
	mpobj_free(&o);
}

TEST(record_rejects_bad_records)
{
	static const char *bad[][2] = {
		{ "{'start':'2015-02-30'}", "start: 2015-02-30 is not a date" },
		{ "{'start':'2015','actors':[]}",
		    "actors: 0 given, at least 1 required" },
		{ "{'start':'2015-03-01','end':'2015-02-01'}",
		    "end before start" },
		{ "{'start':'2015','foo':1}", "unknown field \"foo\"" },
		{ "{'start':'2015','Start':1}", "unknown field \"Start\"" },
		{ "{'title':'x'}", "start: required" },
		{ "{'start':null}", "start: required" },
		{ "{'start':2015}", "start: must be a string" },
		{ "{'start':'2015','source':'gdelt'}",
		    "key: required with source" },
		{ "{'start':'2015','key':'1'}", "source: required with key" },
		{ "{'start':'2015','source':'','key':'1'}",
		    "source: must not be empty" },
		{ "{'start':'2015','actors':'SYR'}",
		    "actors: must be an array" },
		{ "{'start':'2015','actors':['A','B',7]}",
		    "actors[2]: must be a string or a map" },
		{ "{'start':'2015','actors':['']}",
		    "actors[0]: name: must not be empty" },
		{ "{'start':'2015','actors':['A',{'role':'x'}]}",
		    "actors[1]: name: required" },
		{ "{'start':'2015','actors':[{'name':'A','role':3}]}",
		    "actors[0]: role: must be a string" },
		{ "{'start':'2015','actors':[{'name':'A','side':1}]}",
		    "actors[0]: unknown field \"side\"" },
		{ "{'start':'2015','place':[]}", "place: must be a map" },
		{ "{'start':'2015','place':{'lat':91}}",
		    "place: lat: 91 is not in [-90, 90]" },
		{ "{'start':'2015','place':{'lon':-180.5}}",
		    "place: lon: -180.5 is not in [-180, 180]" },
		{ "{'start':'2015','place':{'lat':'55'}}",
		    "place: lat: must be a number" },
		{ "{'start':'2015','place':{'alt':3}}",
		    "place: unknown field \"alt\"" },
		{ "{'start':'2015','urls':'http://x'}",
		    "urls: must be an array" },
		{ "{'start':'2015','tags':['a',5]}",
		    "tags[1]: must be a string" },
		{ "{'start':'2015','tags':['a','']}",
		    "tags[1]: must not be empty" },
		{ "{'start':'2015','id':0}", "id: 0 is not an event id" },
		{ "{'start':'2015','id':-3}", "id: -3 is negative" },
		{ "{'start':'2015','id':'17'}",
		    "id: must be an unsigned integer" },
		{ "{'start':'2015','rev':1.5}",
		    "rev: must be an unsigned integer" },
		{ "{'start':'2015','attrs':[]}", "attrs: must be a map" },
		{ "{'start':'2015','title':'a\\u0000b'}",
		    "title: contains a NUL byte" },
		{ "{'start':'2015','attrs':{'k':['x','a\\u0000']}}",
		    "attrs.k[1]: contains a NUL byte" },
		{ "{'start':'2015/2016','end':'2017'}",
		    "end: start is already an interval" },
		{ "[]", "record must be a map" },
		{ "'2015'", "record must be a map" },
	};
	struct mpobj	o;
	size_t		i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		expect_bad(mpobj_json(&o, bad[i][0]), bad[i][1], bad[i][0]);
		mpobj_free(&o);
	}
}

TEST(record_enforces_every_limit)
{
	static const struct {
		const char	*head;	/* the long string between */
		const char	*tail;
		size_t		 ok;	/* longest accepted length */
		const char	*msg;	/* for one more byte */
	} limits[] = {
		{ "{'start':'2015','actors':['", "']}", EVENT_MAX_ACTOR,
		    "actors[0]: name: 129 bytes exceeds limit 128" },
		{ "{'start':'2015','actors':['A','B',{'name':'", "'}]}",
		    EVENT_MAX_ACTOR,
		    "actors[2]: name: 129 bytes exceeds limit 128" },
		{ "{'start':'2015','actors':[{'name':'A','role':'", "'}]}",
		    EVENT_MAX_ROLE,
		    "actors[0]: role: 65 bytes exceeds limit 64" },
		{ "{'start':'2015','key':'k','source':'", "'}",
		    EVENT_MAX_SOURCE, "source: 201 bytes exceeds limit 200" },
		{ "{'start':'2015','source':'s','key':'", "'}", EVENT_MAX_KEY,
		    "key: 257 bytes exceeds limit 256" },
		{ "{'start':'2015','type':'", "'}", EVENT_MAX_TYPE,
		    "type: 65 bytes exceeds limit 64" },
		{ "{'start':'2015','tags':['a','", "']}", EVENT_MAX_TAG,
		    "tags[1]: 129 bytes exceeds limit 128" },
	};
	char		 json[1024], msg[1024];
	struct mpobj	 o;
	struct event	 ev;
	struct aerr	 err;
	size_t		 i;

	for (i = 0; i < sizeof limits / sizeof limits[0]; i++) {
		snprintf(json, sizeof json, "%s%s%s", limits[i].head,
		    repeat(0, 'x', limits[i].ok), limits[i].tail);
		T_ASSERTF(record_decode_stored(mpobj_json(&o, json), &ev,
		    &err) == 0, "%s", err.msg);
		record_clear(&ev);
		mpobj_free(&o);
		snprintf(json, sizeof json, "%s%s%s", limits[i].head,
		    repeat(0, 'x', limits[i].ok + 1), limits[i].tail);
		expect_bad(mpobj_json(&o, json), limits[i].msg, limits[i].head);
		mpobj_free(&o);
	}

	/* 64 bytes of date reach the date parser, 65 do not. */
	snprintf(json, sizeof json, "{'start':'%s'}", repeat(0, '1', 64));
	snprintf(msg, sizeof msg, "start: %s is not a date",
	    repeat(0, '1', 64));
	expect_bad(mpobj_json(&o, json), msg, "64-byte start");
	mpobj_free(&o);
	snprintf(json, sizeof json, "{'start':'%s'}", repeat(0, '1', 65));
	expect_bad(mpobj_json(&o, json), "start: 65 bytes exceeds limit 64",
	    "65-byte start");
	mpobj_free(&o);
}

/* {"start": "2015", name: [n strings]} */
static const msgpack_object *
obj_list(struct mpobj *o, const char *name, size_t n)
{
	msgpack_packer	*pk;
	char		 s[32];
	size_t		 i;

	pk = mpobj_begin(o);
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "start", "2015");
	mp_pack_str(pk, name);
	msgpack_pack_array(pk, n);
	for (i = 0; i < n; i++) {
		snprintf(s, sizeof s, "A%zu", i);
		mp_pack_str(pk, s);
	}
	return (mpobj_end(o));
}

TEST(record_limits_list_lengths)
{
	struct mpobj	 o;
	struct event	 ev;
	struct aerr	 err;

	T_OK(record_decode(obj_list(&o, "actors", 64), &ev, &err));
	T_EQ_INT(ev.nactors, 64);
	T_EQ_STR(ev.actors[63].name, "A63");
	record_clear(&ev);
	mpobj_free(&o);
	expect_bad(obj_list(&o, "actors", 65),
	    "actors: 65 given, at most 64 allowed", "65 actors");
	mpobj_free(&o);

	T_OK(record_decode_stored(obj_list(&o, "urls", 256), &ev, &err));
	T_EQ_INT(ev.nurls, 256);
	record_clear(&ev);
	mpobj_free(&o);
	expect_bad(obj_list(&o, "urls", 257),
	    "urls: 257 given, at most 256 allowed", "257 urls");
	mpobj_free(&o);
	expect_bad(obj_list(&o, "tags", 300),
	    "tags: 300 given, at most 256 allowed", "300 tags");
	mpobj_free(&o);
}

TEST(record_rejects_what_json_cannot_carry)
{
	struct mpobj		 o;
	msgpack_packer		*pk;

	/* A lone continuation byte in the title. */
	pk = mpobj_begin(&o);
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "start", "2015");
	mp_pack_kv_str(pk, "title", "caf\xa9");
	expect_bad(mpobj_end(&o), "title: invalid UTF-8", "bad UTF-8");
	mpobj_free(&o);

	/* An overlong encoding of '/' in an actor. */
	pk = mpobj_begin(&o);
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "start", "2015");
	mp_pack_str(pk, "actors");
	msgpack_pack_array(pk, 1);
	mp_pack_str(pk, "\xc0\xaf");
	expect_bad(mpobj_end(&o), "actors[0]: name: invalid UTF-8", "overlong");
	mpobj_free(&o);

	/* bin deep inside attrs, named by its path. */
	pk = mpobj_begin(&o);
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "start", "2015");
	mp_pack_str(pk, "attrs");
	msgpack_pack_map(pk, 2);
	mp_pack_kv_int(pk, "n", 1);
	mp_pack_str(pk, "a");
	msgpack_pack_array(pk, 2);
	msgpack_pack_nil(pk);
	msgpack_pack_map(pk, 1);
	mp_pack_str(pk, "b");
	msgpack_pack_bin(pk, 2);
	msgpack_pack_bin_body(pk, "\x00\x01", 2);
	expect_bad(mpobj_end(&o), "attrs.a[1].b: bin is not allowed", "bin");
	mpobj_free(&o);

	/* ext, e.g. a msgpack timestamp. */
	pk = mpobj_begin(&o);
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "start", "2015");
	mp_pack_str(pk, "attrs");
	msgpack_pack_map(pk, 1);
	mp_pack_str(pk, "when");
	msgpack_pack_ext(pk, 4, -1);
	msgpack_pack_ext_body(pk, "\x5a\x00\x00\x00", 4);
	expect_bad(mpobj_end(&o), "attrs.when: ext is not allowed", "ext");
	mpobj_free(&o);

	/* An integer key inside attrs. */
	pk = mpobj_begin(&o);
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "start", "2015");
	mp_pack_str(pk, "attrs");
	msgpack_pack_map(pk, 1);
	mp_pack_str(pk, "m");
	msgpack_pack_map(pk, 1);
	msgpack_pack_uint64(pk, 1);
	msgpack_pack_uint64(pk, 2);
	expect_bad(mpobj_end(&o), "attrs.m: keys must be strings", "int key");
	mpobj_free(&o);

	/* Invalid UTF-8 in an attrs key and in an attrs value. */
	pk = mpobj_begin(&o);
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "start", "2015");
	mp_pack_str(pk, "attrs");
	msgpack_pack_map(pk, 1);
	mp_pack_kv_str(pk, "\xed\xa0\x80", "surrogate");
	expect_bad(mpobj_end(&o), "attrs: key invalid UTF-8", "bad key");
	mpobj_free(&o);
	pk = mpobj_begin(&o);
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "start", "2015");
	mp_pack_str(pk, "attrs");
	msgpack_pack_map(pk, 1);
	mp_pack_kv_str(pk, "k", "\xf4\x90\x80\x80");
	expect_bad(mpobj_end(&o), "attrs.k: invalid UTF-8", "above U+10FFFF");
	mpobj_free(&o);

	/* A NUL in an attrs key. */
	pk = mpobj_begin(&o);
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "start", "2015");
	mp_pack_str(pk, "attrs");
	msgpack_pack_map(pk, 1);
	msgpack_pack_str(pk, 3);
	msgpack_pack_str_body(pk, "a\0b", 3);
	msgpack_pack_nil(pk);
	expect_bad(mpobj_end(&o), "attrs: key contains a NUL byte", "NUL key");
	mpobj_free(&o);

	/* A field twice (JSON cannot even say it). */
	pk = mpobj_begin(&o);
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "start", "2015");
	mp_pack_kv_str(pk, "start", "2016");
	expect_bad(mpobj_end(&o), "duplicate field \"start\"", "duplicate");
	mpobj_free(&o);

	/* start as bin, and an unknown key that is not text. */
	pk = mpobj_begin(&o);
	msgpack_pack_map(pk, 1);
	mp_pack_str(pk, "start");
	msgpack_pack_bin(pk, 4);
	msgpack_pack_bin_body(pk, "2015", 4);
	expect_bad(mpobj_end(&o), "start: must be a string", "bin start");
	mpobj_free(&o);
	pk = mpobj_begin(&o);
	msgpack_pack_map(pk, 1);
	mp_pack_str(pk, "\x01\xff");
	msgpack_pack_nil(pk);
	expect_bad(mpobj_end(&o), "unknown field \"??\"", "binary key");
	mpobj_free(&o);
}

TEST(record_limits_attrs_size)
{
	struct mpobj	 o;
	struct event	 ev;
	struct aerr	 err;
	msgpack_packer	*pk;
	char		*big;
	size_t		 n;

	/* Just at the limit: map1 + fixstr key + str32 header + body. */
	n = EVENT_MAX_ATTRS - 1 - 2 - 5;
	if ((big = malloc(n + 1)) == NULL)
		T_FAIL("malloc");
	memset(big, 'a', n + 1);
	pk = mpobj_begin(&o);
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "start", "2015");
	mp_pack_str(pk, "attrs");
	msgpack_pack_map(pk, 1);
	mp_pack_str(pk, "k");
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, big, n);
	T_ASSERTF(record_decode_stored(mpobj_end(&o), &ev, &err) == 0, "%s",
	    err.msg);
	T_EQ_U64(ev.attrs_len, EVENT_MAX_ATTRS);
	record_clear(&ev);
	mpobj_free(&o);

	pk = mpobj_begin(&o);
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "start", "2015");
	mp_pack_str(pk, "attrs");
	msgpack_pack_map(pk, 1);
	mp_pack_str(pk, "k");
	msgpack_pack_str(pk, n + 1);
	msgpack_pack_str_body(pk, big, n + 1);
	expect_bad(mpobj_end(&o), "attrs: 1048577 bytes exceeds limit 1048576",
	    "big attrs");
	mpobj_free(&o);
	free(big);
}

/*
 * Split a row on sep into attrs under the given column names: empty is
 * nil, a plain integer is an int, a number with a point a float, the
 * rest a string (CAMEO codes such as "0834" keep their zero).
 */
static void
pack_row(msgpack_packer *pk, const char *names, const char *row, char sep)
{
	const char	*n, *v, *ne, *ve;
	size_t		 count = 0, vlen, i;
	char		 num[64], *end;
	int		 digits, dot;

	for (n = names; *n != '\0'; n++)
		count += *n == ',';
	msgpack_pack_map(pk, count + 1);
	n = names;
	v = row;
	for (;;) {
		ne = strchr(n, ',');
		ve = strchr(v, sep);
		if (ne == NULL)
			ne = n + strlen(n);
		if (ve == NULL)
			ve = v + strlen(v);
		msgpack_pack_str(pk, ne - n);
		msgpack_pack_str_body(pk, n, ne - n);
		vlen = ve - v;
		digits = 0;
		dot = 0;
		for (i = 0; i < vlen; i++) {
			if (v[i] >= '0' && v[i] <= '9')
				digits++;
			else if (v[i] == '.')
				dot++;
			else if (!(v[i] == '-' && i == 0))
				break;
		}
		if (vlen == 0)
			msgpack_pack_nil(pk);
		else if (i == vlen && digits > 0 && dot <= 1 && vlen < 20 &&
		    !(dot == 0 && v[v[0] == '-'] == '0' && digits > 1)) {
			memcpy(num, v, vlen);
			num[vlen] = '\0';
			if (dot)
				msgpack_pack_double(pk, strtod(num, &end));
			else
				msgpack_pack_int64(pk, strtoll(num, &end, 10));
		} else {
			msgpack_pack_str(pk, vlen);
			msgpack_pack_str_body(pk, v, vlen);
		}
		if (*ne == '\0' || *ve == '\0')
			break;
		n = ne + 1;
		v = ve + 1;
	}
	T_ASSERTF(*ne == '\0' && *ve == '\0', "columns and values differ");
}

/* Decode a record packed in output order; it must pack back unchanged. */
static void
survives(struct mpobj *o, size_t nattrs)
{
	struct event		 ev;
	struct aerr		 err;
	struct mpobj		 out;
	const msgpack_object	*a;

	aerr_clear(&err);
	T_ASSERTF(record_decode(mpobj_end(o), &ev, &err) == 0, "%s", err.msg);
	a = mp_get(&o->u.data, "attrs");
	T_EQ_INT(a->via.map.size, nattrs);
	record_pack(mpobj_begin(&out), &ev);
	T_EQ_U64(out.sbuf.size, o->sbuf.size);
	T_ASSERT(memcmp(out.sbuf.data, o->sbuf.data, o->sbuf.size) == 0);
	msgpack_sbuffer_destroy(&out.sbuf);
	record_clear(&ev);
}

TEST(record_keeps_a_gdelt_row)
{
	static const char names[] =
	    "GLOBALEVENTID,SQLDATE,MonthYear,Year,FractionDate,Actor1Code,"
	    "Actor1Name,Actor1CountryCode,Actor1KnownGroupCode,"
	    "Actor1EthnicCode,Actor1Religion1Code,Actor1Religion2Code,"
	    "Actor1Type1Code,Actor1Type2Code,Actor1Type3Code,Actor2Code,"
	    "Actor2Name,Actor2CountryCode,Actor2KnownGroupCode,"
	    "Actor2EthnicCode,Actor2Religion1Code,Actor2Religion2Code,"
	    "Actor2Type1Code,Actor2Type2Code,Actor2Type3Code,IsRootEvent,"
	    "EventCode,EventBaseCode,EventRootCode,QuadClass,GoldsteinScale,"
	    "NumMentions,NumSources,NumArticles,AvgTone,Actor1Geo_Type,"
	    "Actor1Geo_FullName,Actor1Geo_CountryCode,Actor1Geo_ADM1Code,"
	    "Actor1Geo_Lat,Actor1Geo_Long,Actor1Geo_FeatureID,Actor2Geo_Type,"
	    "Actor2Geo_FullName,Actor2Geo_CountryCode,Actor2Geo_ADM1Code,"
	    "Actor2Geo_Lat,Actor2Geo_Long,Actor2Geo_FeatureID,ActionGeo_Type,"
	    "ActionGeo_FullName,ActionGeo_CountryCode,ActionGeo_ADM1Code,"
	    "ActionGeo_Lat,ActionGeo_Long,ActionGeo_FeatureID,DATEADDED,"
	    "SOURCEURL";
	static const char row[] =
	    "564111684\t20160721\t201607\t2016\t2016.5507\tCAN\tVANCOUVER\t"
	    "CAN\t\t\t\t\t\t\t\tUSA\tWASHINGTON\tUSA\t\t\t\t\t\t\t\t0\t172\t"
	    "172\t17\t4\t-5.0\t12\t2\t12\t-3.40034628703348\t4\tVancouver, "
	    "British Columbia, Canada\tCA\tCA02\t49.25\t-123.133\t-575268\t3\t"
	    "Washington, District of Columbia, United States\tUS\tUSDC\t"
	    "38.8951\t-77.0364\t531871\t3\tWashington, District of Columbia, "
	    "United States\tUS\tUSDC\t38.8951\t-77.0364\t531871\t20160728\t"
	    "http://neworleanscitybusiness.com/blog/2016/07/27/cities-turn-to-"
	    "local-action-to-block-oil-trains/";
	struct mpobj	 o;
	msgpack_packer	*pk;

	pk = mpobj_begin(&o);
	msgpack_pack_map(pk, 9);
	mp_pack_kv_str(pk, "source", "gdelt1");
	mp_pack_kv_str(pk, "key", "564111684");
	mp_pack_kv_str(pk, "start", "2016-07-21");
	mp_pack_str(pk, "actors");
	msgpack_pack_array(pk, 2);
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "name", "CAN");
	mp_pack_kv_str(pk, "role", "source");
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "name", "USA");
	mp_pack_kv_str(pk, "role", "target");
	mp_pack_kv_str(pk, "type", "172");
	mp_pack_str(pk, "place");
	msgpack_pack_map(pk, 4);
	mp_pack_kv_str(pk, "name", "Washington, District of Columbia, "
	    "United States");
	mp_pack_kv_str(pk, "country", "US");
	mp_pack_str(pk, "lat");
	msgpack_pack_double(pk, 38.8951);
	mp_pack_str(pk, "lon");
	msgpack_pack_double(pk, -77.0364);
	mp_pack_str(pk, "urls");
	msgpack_pack_array(pk, 1);
	mp_pack_str(pk, "http://neworleanscitybusiness.com/blog/2016/07/27/"
	    "cities-turn-to-local-action-to-block-oil-trains/");
	mp_pack_str(pk, "tags");
	msgpack_pack_array(pk, 1);
	mp_pack_str(pk, "quad:4");
	mp_pack_str(pk, "attrs");
	pack_row(pk, names, row, '\t');
	survives(&o, 58);
	mpobj_free(&o);
}

TEST(record_keeps_acled_and_icews_rows)
{
	static const char acled_names[] =
	    "event_id_cnty,event_date,year,time_precision,disorder_type,"
	    "event_type,sub_event_type,actor1,assoc_actor_1,inter1,actor2,"
	    "assoc_actor_2,inter2,interaction,civilian_targeting,iso,region,"
	    "country,admin1,admin2,admin3,location,latitude,longitude,"
	    "geo_precision,source,source_scale,notes,fatalities,tags,"
	    "timestamp";
	/* The notes field had commas; fields here are split on '|'. */
	static const char acled_row[] =
	    "SOM49640|2025-04-02|2025|1|Political violence|Explosions/Remote "
	    "violence|Air/drone strike|Military Forces of Ethiopia (2018-)|"
	    "Military Forces of Somalia (2022-)|External/Other forces|"
	    "Al Shabaab|Civilians (Somalia)|Rebel group|Rebel group-External/"
	    "Other forces||706|Eastern Africa|Somalia|Middle Shabelle|Cadale||"
	    "Masjid Cali Gaduud|3.1808|46.4354|2|Al Furqaan; Baidoa News "
	    "Agency; Calamada|National|On 2 April 2025, Ethiopia security "
	    "forces (non-AUSSOM), in coordination with government security "
	    "forces (SNA), conducted an airstrike targeting Al Shabaab near "
	    "Masjid Cali Gaduud village (Cadale, Middle Shabelle). The "
	    "airstrike hit civilians in the \"Xagarey\" area, injuring at "
	    "least 2.|0||1753956296";
	static const char icews_names[] =
	    "Event ID,Event Date,Source Name,Source Sectors,Source Country,"
	    "Event Text,CAMEO Code,Intensity,Target Name,Target Sectors,"
	    "Target Country,Story ID,Sentence Number,Publisher,City,District,"
	    "Province,Country,Latitude,Longitude";
	static const char icews_row[] =
	    "32889837\t2018-06-01\tHigh Ranking Military Personnel (Vietnam)\t"
	    "Military,Government\tVietnam\tConsult\t040\t1\tForeign Affairs "
	    "(Bangladesh)\tExecutive,Foreign Ministry,Government\tBangladesh\t"
	    "47400351\t2\tVietnam News Agency Bulletin\tHanoi\tNA\tThanh Pho "
	    "Ha Noi\tVietnam\t21.0245\t105.841";
	struct mpobj	 o;
	msgpack_packer	*pk;

	pk = mpobj_begin(&o);
	msgpack_pack_map(pk, 8);
	mp_pack_kv_str(pk, "source", "acled");
	mp_pack_kv_str(pk, "key", "SOM49640");
	mp_pack_kv_str(pk, "start", "2025-04-02");
	mp_pack_str(pk, "actors");
	msgpack_pack_array(pk, 3);
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "name", "Military Forces of Ethiopia (2018-)");
	mp_pack_kv_str(pk, "role", "actor1");
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "name", "Military Forces of Somalia (2022-)");
	mp_pack_kv_str(pk, "role", "assoc_actor_1");
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "name", "Al Shabaab");
	mp_pack_kv_str(pk, "role", "actor2");
	mp_pack_kv_str(pk, "type", "Explosions/Remote violence");
	mp_pack_kv_str(pk, "text", "On 2 April 2025, Ethiopia security forces "
	    "(non-AUSSOM) ...");
	mp_pack_str(pk, "place");
	msgpack_pack_map(pk, 4);
	mp_pack_kv_str(pk, "name", "Masjid Cali Gaduud");
	mp_pack_kv_str(pk, "country", "Somalia");
	mp_pack_str(pk, "lat");
	msgpack_pack_double(pk, 3.1808);
	mp_pack_str(pk, "lon");
	msgpack_pack_double(pk, 46.4354);
	mp_pack_str(pk, "attrs");
	pack_row(pk, acled_names, acled_row, '|');
	survives(&o, 31);
	mpobj_free(&o);

	pk = mpobj_begin(&o);
	msgpack_pack_map(pk, 7);
	mp_pack_kv_str(pk, "source", "icews");
	mp_pack_kv_str(pk, "key", "32889837");
	mp_pack_kv_str(pk, "start", "2018-06-01");
	mp_pack_str(pk, "actors");
	msgpack_pack_array(pk, 2);
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "name", "High Ranking Military Personnel "
	    "(Vietnam)");
	mp_pack_kv_str(pk, "role", "source");
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "name", "Foreign Affairs (Bangladesh)");
	mp_pack_kv_str(pk, "role", "target");
	mp_pack_kv_str(pk, "type", "040");
	mp_pack_str(pk, "place");
	msgpack_pack_map(pk, 4);
	mp_pack_kv_str(pk, "name", "Hanoi");
	mp_pack_kv_str(pk, "country", "Vietnam");
	mp_pack_str(pk, "lat");
	msgpack_pack_double(pk, 21.0245);
	mp_pack_str(pk, "lon");
	msgpack_pack_double(pk, 105.841);
	mp_pack_str(pk, "attrs");
	pack_row(pk, icews_names, icews_row, '\t');
	survives(&o, 20);
	mpobj_free(&o);
}

TEST(record_clear_is_idempotent)
{
	struct event	ev, zero;
	struct mpobj	o;
	struct aerr	err;

	memset(&zero, 0, sizeof zero);
	memset(&ev, 0, sizeof ev);
	record_clear(&ev);
	T_ASSERT(memcmp(&ev, &zero, sizeof ev) == 0);

	T_OK(record_decode(mpobj_json(&o, "{'start':'2015','actors':['A'],"
	    "'tags':['t'],'attrs':{'a':1}}"), &ev, &err));
	mpobj_free(&o);
	record_clear(&ev);
	T_ASSERT(memcmp(&ev, &zero, sizeof ev) == 0);
	record_clear(&ev);
	T_ASSERT(memcmp(&ev, &zero, sizeof ev) == 0);
}

TEST(record_validate_checks_events_built_in_c)
{
	struct event	ev;
	struct aerr	err;
	char		start[] = "2015-01-26", key[] = "k";
	char		end[] = "2014-12";

	memset(&ev, 0, sizeof ev);
	T_EQ_INT(record_validate(&ev, &err), -1);
	T_EQ_STR(err.msg, "start: required");

	ev.start = start;
	T_OK(record_validate(&ev, &err));
	T_EQ_INT(ev.span.prec, DATE_PREC_DAY);

	ev.key = key;
	T_EQ_INT(record_validate(&ev, &err), -1);
	T_EQ_STR(err.msg, "source: required with key");
	ev.key = NULL;

	ev.end = end;
	T_EQ_INT(record_validate(&ev, &err), -1);
	T_EQ_INT(err.code, AERR_INVALID);
	T_EQ_STR(err.msg, "end before start");
}

TEST(record_has_actor_is_exact)
{
	struct event	ev;
	struct mpobj	o;
	struct aerr	err;

	T_OK(record_decode(mpobj_json(&o, "{'start':'2015','actors':["
	    "{'name':'SYRGOV','role':'source'},'SYR',"
	    "{'name':'RUS','role':'target'}]}"), &ev, &err));
	mpobj_free(&o);

	T_EQ_INT(record_has_actor(&ev, "SYR", 3, NULL), 1);
	T_EQ_INT(record_has_actor(&ev, "SYRGOV", 6, NULL), 1);
	T_EQ_INT(record_has_actor(&ev, "SYRGOV", 6, "source"), 1);
	T_EQ_INT(record_has_actor(&ev, "SYRGOV", 6, "target"), 0);
	/* SYR has no role, so asking for one never finds it. */
	T_EQ_INT(record_has_actor(&ev, "SYR", 3, "source"), 0);
	T_EQ_INT(record_has_actor(&ev, "RUS", 3, "target"), 1);
	/* Neither a prefix nor a longer name matches; len is honoured. */
	T_EQ_INT(record_has_actor(&ev, "SY", 2, NULL), 0);
	T_EQ_INT(record_has_actor(&ev, "RUSS", 4, NULL), 0);
	T_EQ_INT(record_has_actor(&ev, "RUSSIA", 3, NULL), 1);
	T_EQ_INT(record_has_actor(&ev, "", 0, NULL), 0);
	record_clear(&ev);
}
