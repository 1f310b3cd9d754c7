/*
 * Records in the daemon's replies.  libannals takes them apart with
 * record_view(), which checks their shape and trusts what the daemon
 * checked when it stored them, into one block per event
 * (annals_owned_set()).  Whatever record_decode() accepts must come out
 * exactly as it decodes it; a record of the wrong shape must fail with a
 * message naming the field, whether it is decoded directly or sent by a
 * fake daemon; and no bytes at all may make either decoder read or
 * write out of bounds (make test-san runs these under ASan).
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "mpobj.h"
#include "test.h"
#include "../client/annals-int.h"

#define REPLY_RANDOM	400	/* random records compared */
#define REPLY_MUTANTS	20000	/* mutated records decoded */

/* A small PRNG, seeded from t_seed() so that a failure can be rerun. */
static uint64_t
reply_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (*s);
}

static void
reply_str_same(const char *want, const char *got, const char *what, size_t i)
{
	if (want == NULL && got == NULL)
		return;
	if (want == NULL || got == NULL || strcmp(want, got) != 0)
		T_FAIL("%s (%zu): \"%s\" != \"%s\"", what, i,
		    want != NULL ? want : "(null)",
		    got != NULL ? got : "(null)");
}

/*
 * Every field of got equals want's but the daemon's own (id, rev,
 * created, updated) unless server, and match.  attrs are compared byte
 * for byte.
 */
static void
reply_same(const struct annals_event *want, const struct annals_event *got,
    int server)
{
	size_t	i;

	if (server) {
		T_EQ_U64(got->id, want->id);
		T_EQ_U64(got->rev, want->rev);
		T_EQ_U64(got->created, want->created);
		T_EQ_U64(got->updated, want->updated);
	}
	reply_str_same(want->source, got->source, "source", 0);
	reply_str_same(want->key, got->key, "key", 0);
	reply_str_same(want->start, got->start, "start", 0);
	reply_str_same(want->end, got->end, "end", 0);
	T_EQ_INT(got->nactors, want->nactors);
	T_ASSERT((got->actors == NULL) == (want->nactors == 0));
	for (i = 0; i < want->nactors; i++) {
		reply_str_same(want->actors[i].name, got->actors[i].name,
		    "actor", i);
		reply_str_same(want->actors[i].role, got->actors[i].role,
		    "role", i);
	}
	reply_str_same(want->type, got->type, "type", 0);
	reply_str_same(want->title, got->title, "title", 0);
	reply_str_same(want->text, got->text, "text", 0);
	reply_str_same(want->place_name, got->place_name, "place name", 0);
	reply_str_same(want->place_country, got->place_country, "country",
	    0);
	T_EQ_INT(got->has_lat, want->has_lat);
	T_EQ_INT(got->has_lon, want->has_lon);
	T_ASSERT(!want->has_lat || got->lat == want->lat);
	T_ASSERT(!want->has_lon || got->lon == want->lon);
	T_EQ_INT(got->nurls, want->nurls);
	T_ASSERT((got->urls == NULL) == (want->nurls == 0));
	for (i = 0; i < want->nurls; i++)
		reply_str_same(want->urls[i], got->urls[i], "url", i);
	T_EQ_INT(got->ntags, want->ntags);
	T_ASSERT((got->tags == NULL) == (want->ntags == 0));
	for (i = 0; i < want->ntags; i++)
		reply_str_same(want->tags[i], got->tags[i], "tag", i);
	T_EQ_U64(got->attrs_len, want->attrs_len);
	T_ASSERT((got->attrs == NULL) == (want->attrs_len == 0));
	if (want->attrs_len != 0)
		T_ASSERT(memcmp(got->attrs, want->attrs, want->attrs_len) == 0);
}

/* View a decoded event as the public struct; actors has room for all. */
static void
reply_borrow(const struct event *ev, struct annals_event *out,
    struct annals_actor *actors)
{
	uint32_t	i;

	memset(out, 0, sizeof *out);
	out->id = ev->id;
	out->rev = ev->rev;
	out->created = ev->created;
	out->updated = ev->updated;
	out->source = ev->source;
	out->key = ev->key;
	out->start = ev->start;
	out->end = ev->end;
	for (i = 0; i < ev->nactors; i++) {
		actors[i].name = ev->actors[i].name;
		actors[i].role = ev->actors[i].role;
	}
	out->actors = actors;
	out->nactors = ev->nactors;
	out->type = ev->type;
	out->title = ev->title;
	out->text = ev->text;
	out->place_name = ev->place.name;
	out->place_country = ev->place.country;
	out->lat = ev->place.lat;
	out->lon = ev->place.lon;
	out->has_lat = ev->place.has_lat;
	out->has_lon = ev->place.has_lon;
	out->urls = (const char *const *)ev->urls;
	out->nurls = ev->nurls;
	out->tags = (const char *const *)ev->tags;
	out->ntags = ev->ntags;
	out->attrs = ev->attrs;
	out->attrs_len = ev->attrs_len;
}

/* What annals_owned_set() made of a record record_decode() took as ev. */
static void
reply_same_decoded(const struct event *ev, const struct annals_event *got)
{
	struct annals_actor	actors[EVENT_MAX_ACTORS];
	struct annals_event	want;

	reply_borrow(ev, &want, actors);
	reply_same(&want, got, 1);
	T_EQ_INT(got->match, 0);
}

/* Decode the object of m as a record of a reply framed in m's bytes. */
static int
reply_set(struct annals_owned *o, const struct mpobj *m,
    const msgpack_object *obj, struct aerr *err)
{
	struct annals_reply	r;

	memset(&r, 0, sizeof r);
	r.buf = (unsigned char *)m->sbuf.data;
	r.len = m->sbuf.size;
	aerr_clear(err);
	return (annals_owned_set(o, &r, obj, RECORD_FIELDS_ALL, err));
}

/* Both decoders must accept the record of m and agree on it. */
static void
reply_check(struct annals_owned *o, const struct mpobj *m, const char *what)
{
	struct event	want;
	struct aerr	err;

	aerr_clear(&err);
	T_ASSERTF(record_decode_stored(&m->u.data, &want, &err) == 0,
	    "%s: %s", what, err.msg);
	T_ASSERTF(reply_set(o, m, &m->u.data, &err) == 0, "%s: %s", what,
	    err.msg);
	reply_same_decoded(&want, &o->pub);
	record_clear(&want);
}

/* Every field, 64 actors with and without roles, attrs of every kind. */
static void
reply_pack_full(msgpack_packer *pk, uint32_t nactors)
{
	char		name[32];
	uint32_t	i;

	msgpack_pack_map(pk, 16);
	mp_pack_kv_uint(pk, "id", UINT64_MAX);
	mp_pack_kv_uint(pk, "rev", 3);
	mp_pack_kv_uint(pk, "created", 1700000000000ULL);
	mp_pack_kv_uint(pk, "updated", 1700000000500ULL);
	mp_pack_kv_str(pk, "source", "manual");
	mp_pack_kv_str(pk, "key", "moscow-2015");
	mp_pack_kv_str(pk, "start", "2015-01-26");
	mp_pack_kv_str(pk, "end", "2015-01-29");
	mp_pack_str(pk, "actors");
	msgpack_pack_array(pk, nactors);
	for (i = 0; i < nactors; i++) {
		/* Names of 1 to 4 bytes per character. */
		snprintf(name, sizeof name, "%s%u", i % 4 == 0 ? "A" :
		    i % 4 == 1 ? "\xc3\x89" : i % 4 == 2 ? "\xe2\x80\x94" :
		    "\xf0\x9f\x87\xb7", i);
		if (i % 3 == 0)
			mp_pack_str(pk, name);
		else {
			msgpack_pack_map(pk, i % 3 == 1 ? 2 : 1);
			mp_pack_kv_str(pk, "name", name);
			if (i % 3 == 1)
				mp_pack_kv_str(pk, "role", i % 2 ? "host" :
				    "\xd0\xb3\xd0\xbe\xd1\x81\xd1\x82\xd1\x8c");
		}
	}
	mp_pack_kv_str(pk, "type", "036");
	mp_pack_kv_str(pk, "title", "Talks in Moscow \xe2\x80\x94 "
	    "\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0 "
	    "\xf0\x9f\x87\xb7\xf0\x9f\x87\xba");
	mp_pack_kv_str(pk, "text", "Line one.\nLine two\twith a tab.");
	mp_pack_str(pk, "place");
	msgpack_pack_map(pk, 4);
	mp_pack_kv_str(pk, "name", "\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2"
	    "\xd0\xb0");
	mp_pack_kv_str(pk, "country", "RU");
	mp_pack_str(pk, "lat");
	msgpack_pack_double(pk, 55.75);
	mp_pack_str(pk, "lon");
	msgpack_pack_int64(pk, -180);
	mp_pack_str(pk, "urls");
	msgpack_pack_array(pk, 2);
	mp_pack_str(pk, "https://example.org/a");
	mp_pack_str(pk, "https://example.org/b?q=1&r=2");
	mp_pack_str(pk, "tags");
	msgpack_pack_array(pk, 1);
	mp_pack_str(pk, "diplomacy");

	mp_pack_str(pk, "attrs");
	msgpack_pack_map(pk, 10);
	mp_pack_kv_uint(pk, "u64max", UINT64_MAX);
	mp_pack_kv_int(pk, "i64min", INT64_MIN);
	mp_pack_str(pk, "f64");
	msgpack_pack_double(pk, -1.96918082576365);
	mp_pack_str(pk, "f32");
	msgpack_pack_float(pk, 4.5f);
	mp_pack_str(pk, "yes");
	msgpack_pack_true(pk);
	mp_pack_str(pk, "none");
	msgpack_pack_nil(pk);
	mp_pack_kv_str(pk, "caf\xc3\xa9", "\xe6\x9d\xb1\xe4\xba\xac");
	mp_pack_str(pk, "list");
	msgpack_pack_array(pk, 3);
	msgpack_pack_array(pk, 0);
	msgpack_pack_map(pk, 0);
	mp_pack_str(pk, "");
	mp_pack_str(pk, "nested");
	msgpack_pack_map(pk, 1);
	mp_pack_str(pk, "a");
	msgpack_pack_map(pk, 1);
	mp_pack_str(pk, "b");
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, 1);
	mp_pack_kv_int(pk, "c", -1);
	/* Longer than the rest of the record: a str 16 in the middle. */
	mp_pack_str(pk, "long");
	msgpack_pack_str(pk, 300);
	for (i = 0; i < 30; i++)
		msgpack_pack_str_body(pk, "0123456789", 10);
}

TEST(reply_decodes_every_field_as_the_full_decoder)
{
	static const char *cases[] = {
		"{'start':'2015'}",
		"{'start':'2015','end':null,'title':null,'actors':null}",
		"{'start':'2015','actors':['A','B'],'urls':[],'tags':[],"
		    "'attrs':{},'place':{}}",
		"{'start':'2015','actors':[{'name':'A','role':''},"
		    "{'name':'B','role':null},{'role':'r','name':'C'}]}",
		"{'start':'2015','type':'','title':'','text':''}",
		"{'start':'2015/2016','place':{'lat':-90,'lon':180}}",
		"{'start':'2015','place':{'country':'\\u00c9','lat':0.5}}",
		"{'start':'2015-XX','end':'..','source':'s','key':'k'}",
		"{'start':'2015','title':'\\ud83c\\uddf7\\ud83c\\uddfa \\u00e9"
		    " \\u041c \\u2014','tags':['\\u6771\\u4eac','t2']}",
		"{'attrs':{'k':[1,{'x':null}]},'tags':['b','a'],"
		    "'start':'1999-12-31T23:59Z','id':1}",
	};
	struct annals_owned	 o;
	struct mpobj		 m;
	size_t			 i;

	/* One block serves every record, as for an iterator. */
	memset(&o, 0, sizeof o);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		mpobj_json(&m, cases[i]);
		reply_check(&o, &m, cases[i]);
		mpobj_free(&m);
	}
	reply_pack_full(mpobj_begin(&m), EVENT_MAX_ACTORS);
	mpobj_end(&m);
	reply_check(&o, &m, "full record, 64 actors");
	T_EQ_INT(o.pub.nactors, 64);
	T_EQ_STR(o.pub.actors[63].name, "\xf0\x9f\x87\xb7" "63");
	T_ASSERT(o.pub.actors[0].role == NULL);
	T_EQ_STR(o.pub.actors[1].role, "host");
	T_ASSERT(o.pub.has_lon && o.pub.lon == -180.0);
	mpobj_free(&m);
	/* Fresh blocks too, big then small. */
	annals_owned_clear(&o);
	reply_pack_full(mpobj_begin(&m), 1);
	mpobj_end(&m);
	reply_check(&o, &m, "full record, 1 actor");
	mpobj_free(&m);
	annals_owned_clear(&o);
}

/* Append a random valid UTF-8 string of at most max bytes (1 to 4 each). */
static void
reply_rand_str(uint64_t *s, char *buf, size_t max, int nonempty)
{
	static const char	*bits[] = {
		"a", "Z", "0", " ", "/", "\"", "\\", "\n", "\t", "\x7f",
		"\xc3\xa9", "\xd0\x94", "\xe2\x80\x94", "\xe6\x9d\xb1",
		"\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf"
	};
	size_t			 len = 0, n, want;
	const char		*b;

	want = reply_rand(s) % (max + 1);
	if (reply_rand(s) % 8 == 0)
		want = max;
	while (len < want) {
		b = bits[reply_rand(s) % (sizeof bits / sizeof bits[0])];
		n = strlen(b);
		if (len + n > max)
			break;
		memcpy(buf + len, b, n);
		len += n;
	}
	if (len == 0 && nonempty)
		buf[len++] = 'x';
	buf[len] = '\0';
}

/* A random attrs value, nested at most depth more levels. */
static void
reply_rand_value(uint64_t *s, msgpack_packer *pk, int depth)
{
	char		 str[64];
	uint32_t	 i, n;

	switch (reply_rand(s) % (depth > 0 ? 10 : 8)) {
	case 0:
		msgpack_pack_nil(pk);
		break;
	case 1:
		if (reply_rand(s) & 1)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		break;
	case 2:
		msgpack_pack_uint64(pk, reply_rand(s) >> (reply_rand(s) % 64));
		break;
	case 3:
		msgpack_pack_int64(pk, -(int64_t)(reply_rand(s) >>
		    (1 + reply_rand(s) % 63)) - 1);
		break;
	case 4:
		msgpack_pack_double(pk, (double)(int64_t)reply_rand(s) / 7.0);
		break;
	case 5:
		msgpack_pack_float(pk, (float)(reply_rand(s) % 1000) / 8.0f);
		break;
	case 6:
	case 7:
		reply_rand_str(s, str, sizeof str - 1, 0);
		mp_pack_str(pk, str);
		break;
	case 8:
		n = reply_rand(s) % 5;
		msgpack_pack_array(pk, n);
		for (i = 0; i < n; i++)
			reply_rand_value(s, pk, depth - 1);
		break;
	default:
		n = reply_rand(s) % 5;
		msgpack_pack_map(pk, n);
		for (i = 0; i < n; i++) {
			reply_rand_str(s, str, 16, 0);
			mp_pack_str(pk, str);
			reply_rand_value(s, pk, depth - 1);
		}
		break;
	}
}

/* Room for the strings of one random event. */
struct reply_rand_buf {
	char		 str[8][600];
	char		 country[3];
	char		 names[EVENT_MAX_ACTORS][EVENT_MAX_ACTOR + 1];
	char		 roles[EVENT_MAX_ACTORS][EVENT_MAX_ROLE + 1];
	char		 list[2][40][80];
	char		*urls[40], *tags[40];
	struct actor	 actors[EVENT_MAX_ACTORS];
	msgpack_sbuffer	 attrs;
};

/*
 * A random event that record_decode() accepts, packed into m.  Each
 * field is there or not; strings are random UTF-8 up to their limits.
 */
static void
reply_rand_event(uint64_t *s, struct reply_rand_buf *b, struct mpobj *m)
{
	struct event	ev;
	msgpack_packer	pk;
	uint32_t	i, n;
	unsigned	y;

	memset(&ev, 0, sizeof ev);
	memcpy(b->country, "RU", 3);
	y = 1800 + reply_rand(s) % 400;
	switch (reply_rand(s) % 4) {
	case 0:
		snprintf(b->str[0], sizeof b->str[0], "%u", y);
		break;
	case 1:
		snprintf(b->str[0], sizeof b->str[0], "%u-%02u", y,
		    (unsigned)(1 + reply_rand(s) % 12));
		break;
	case 2:
		snprintf(b->str[0], sizeof b->str[0], "%u-%02u-%02u?", y,
		    (unsigned)(1 + reply_rand(s) % 12),
		    (unsigned)(1 + reply_rand(s) % 28));
		break;
	default:
		snprintf(b->str[0], sizeof b->str[0], "%u/%u~", y, y + 1);
		break;
	}
	ev.start = b->str[0];
	if (strchr(ev.start, '/') == NULL && reply_rand(s) % 3 == 0) {
		snprintf(b->str[1], sizeof b->str[1], "%u", y + 2);
		ev.end = b->str[1];
	}
	if (reply_rand(s) & 1) {
		ev.id = 1 + reply_rand(s) % 1000000;
		ev.rev = reply_rand(s) % 100;
		ev.created = reply_rand(s);
		ev.updated = reply_rand(s) >> 3;
	}
	if (reply_rand(s) & 1) {
		reply_rand_str(s, b->str[2], EVENT_MAX_SOURCE / 4, 1);
		reply_rand_str(s, b->str[3], EVENT_MAX_KEY / 4, 1);
		ev.source = b->str[2];
		ev.key = b->str[3];
	}
	n = reply_rand(s) % 3 == 0 ? 1 + reply_rand(s) % EVENT_MAX_ACTORS :
	    1 + reply_rand(s) % 3;
	for (i = 0; i < n; i++) {
		reply_rand_str(s, b->names[i], EVENT_MAX_ACTOR, 1);
		b->actors[i].name = b->names[i];
		b->actors[i].role = NULL;
		if (reply_rand(s) & 1) {
			reply_rand_str(s, b->roles[i], EVENT_MAX_ROLE, 1);
			b->actors[i].role = b->roles[i];
		}
	}
	ev.actors = b->actors;
	ev.nactors = n;
	if (reply_rand(s) & 1) {
		reply_rand_str(s, b->str[4], EVENT_MAX_TYPE, 0);
		ev.type = b->str[4];
	}
	if (reply_rand(s) & 1) {
		reply_rand_str(s, b->str[5], sizeof b->str[5] - 1, 0);
		ev.title = b->str[5];
	}
	if (reply_rand(s) & 1) {
		reply_rand_str(s, b->str[6], sizeof b->str[6] - 1, 0);
		ev.text = b->str[6];
	}
	if (reply_rand(s) & 1) {
		reply_rand_str(s, b->str[7], 40, 0);
		ev.place.name = b->str[7];
		ev.place.country = reply_rand(s) & 1 ? b->country : NULL;
		ev.place.has_lat = reply_rand(s) & 1;
		ev.place.lat = ev.place.has_lat ?
		    (double)(reply_rand(s) % 18001) / 100.0 - 90.0 : 0;
		ev.place.has_lon = reply_rand(s) & 1;
		ev.place.lon = ev.place.has_lon ?
		    (double)(reply_rand(s) % 361) - 180.0 : 0;
	}
	ev.nurls = reply_rand(s) % 4 == 0 ? reply_rand(s) % 40 : 0;
	ev.ntags = reply_rand(s) % 4 == 0 ? reply_rand(s) % 40 : 0;
	for (i = 0; i < ev.nurls + ev.ntags; i++) {
		reply_rand_str(s, b->list[i < ev.nurls][i % 40], 79, 1);
		if (i < ev.nurls)
			b->urls[i] = b->list[1][i];
		else
			b->tags[i - ev.nurls] = b->list[0][i % 40];
	}
	ev.urls = b->urls;
	ev.tags = b->tags;
	msgpack_sbuffer_init(&b->attrs);
	if (reply_rand(s) & 1) {
		msgpack_packer_init(&pk, &b->attrs, msgpack_sbuffer_write);
		n = 1 + reply_rand(s) % 8;
		msgpack_pack_map(&pk, n);
		for (i = 0; i < n; i++) {
			reply_rand_str(s, b->str[0] + 100, 20, 0);
			mp_pack_str(&pk, b->str[0] + 100);
			reply_rand_value(s, &pk, 3);
		}
		ev.attrs = (unsigned char *)b->attrs.data;
		ev.attrs_len = b->attrs.size;
	}
	record_pack(mpobj_begin(m), &ev);
	msgpack_sbuffer_destroy(&b->attrs);
	mpobj_end(m);
}

TEST(reply_matches_the_full_decoder_on_random_records)
{
	struct reply_rand_buf	*b;
	struct annals_owned	 o;
	struct mpobj		 m;
	uint64_t		 s;
	char			 what[64];
	size_t			 i;

	s = 0x9e3779b97f4a7c15ULL ^ t_seed();
	T_ASSERT((b = calloc(1, sizeof *b)) != NULL);
	memset(&o, 0, sizeof o);
	for (i = 0; i < REPLY_RANDOM; i++) {
		reply_rand_event(&s, b, &m);
		snprintf(what, sizeof what, "random record %zu", i);
		reply_check(&o, &m, what);
		mpobj_free(&m);
		/* Now and then a fresh block rather than the reused one. */
		if (i % 7 == 0)
			annals_owned_clear(&o);
	}
	annals_owned_clear(&o);
	free(b);
}

/* record_view() must refuse obj with msg, and so must the client. */
static void
reply_expect_bad(const struct mpobj *m, const char *msg, const char *what)
{
	struct record_view	v;
	struct annals_owned	o;
	struct aerr		err;

	aerr_clear(&err);
	if (record_view(&m->u.data, (unsigned char *)m->sbuf.data,
	    m->sbuf.size, &v, &err) != -1)
		T_FAIL("%s: accepted, expected %s", what, msg);
	T_ASSERTF(err.code == AERR_PROTOCOL, "%s: code %d", what, err.code);
	T_ASSERTF(strcmp(err.msg, msg) == 0, "%s: \"%s\", expected \"%s\"",
	    what, err.msg, msg);
	memset(&o, 0, sizeof o);
	T_EQ_INT(reply_set(&o, m, &m->u.data, &err), -1);
	T_EQ_INT(err.code, AERR_PROTOCOL);
	annals_owned_clear(&o);
}

TEST(reply_refuses_records_of_the_wrong_shape)
{
	static const char *bad[][2] = {
		{ "[1]", "record must be a map" },
		{ "{'start':'2015',' id':1}", "unknown field \" id\"" },
		{ "{'title':'x'}", "start: required" },
		{ "{'start':null}", "start: required" },
		{ "{'start':2015}", "start: must be a string" },
		{ "{'start':''}", "start: must not be empty" },
		{ "{'start':'2015','end':[]}", "end: must be a string" },
		{ "{'start':'2015','id':'7'}",
		    "id: must be an unsigned integer" },
		{ "{'start':'2015','id':-1}", "id: -1 is negative" },
		{ "{'start':'2015','id':0}", "id: 0 is not an event id" },
		{ "{'start':'2015','rev':1.5}",
		    "rev: must be an unsigned integer" },
		{ "{'start':'2015','source':'s'}",
		    "key: required with source" },
		{ "{'start':'2015','key':'k'}", "source: required with key" },
		{ "{'start':'2015','source':'','key':'k'}",
		    "source: must not be empty" },
		{ "{'start':'2015','actors':'RUS'}",
		    "actors: must be an array" },
		{ "{'start':'2015','actors':[]}",
		    "actors: 0 given, at least 1 required" },
		{ "{'start':'2015','actors':['A',7]}",
		    "actors[1]: must be a string or a map" },
		{ "{'start':'2015','actors':[{'role':'host'}]}",
		    "actors[0]: name: required" },
		{ "{'start':'2015','actors':[{'name':''}]}",
		    "actors[0]: name: must not be empty" },
		{ "{'start':'2015','actors':[{'name':7}]}",
		    "actors[0]: name: must be a string" },
		{ "{'start':'2015','actors':[{'name':'A','role':1}]}",
		    "actors[0]: role: must be a string" },
		{ "{'start':'2015','actors':[{'name':'A','who':1}]}",
		    "actors[0]: unknown field \"who\"" },
		{ "{'start':'2015','type':{}}", "type: must be a string" },
		{ "{'start':'2015','title':'a\\u0000b'}",
		    "title: contains a NUL byte" },
		{ "{'start':'2015','text':true}", "text: must be a string" },
		{ "{'start':'2015','place':[]}", "place: must be a map" },
		{ "{'start':'2015','place':{'lat':90.5}}",
		    "place: lat: 90.5 is not in [-90, 90]" },
		{ "{'start':'2015','place':{'lon':'x'}}",
		    "place: lon: must be a number" },
		{ "{'start':'2015','place':{'name':1}}",
		    "place: name: must be a string" },
		{ "{'start':'2015','place':{'where':1}}",
		    "place: unknown field \"where\"" },
		{ "{'start':'2015','urls':'u'}", "urls: must be an array" },
		{ "{'start':'2015','urls':['a',3]}",
		    "urls[1]: must be a string" },
		{ "{'start':'2015','tags':['a','']}",
		    "tags[1]: must not be empty" },
		{ "{'start':'2015','tags':['\\u0000']}",
		    "tags[0]: contains a NUL byte" },
		{ "{'start':'2015','attrs':[1]}", "attrs: must be a map" },
	};
	static const struct {
		const char	*head, *tail;
		size_t		 ok;
		const char	*msg;
	} limits[] = {
		{ "{'start':'", "'}", EVENT_MAX_DATE,
		    "start: 65 bytes exceeds limit 64" },
		{ "{'start':'2015','actors':['", "']}", EVENT_MAX_ACTOR,
		    "actors[0]: name: 129 bytes exceeds limit 128" },
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
	struct annals_owned	 o;
	struct mpobj		 m;
	struct aerr		 err;
	msgpack_packer		*pk;
	char			 json[1024], fill[300];
	size_t			 i;

	memset(&o, 0, sizeof o);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		mpobj_json(&m, bad[i][0]);
		reply_expect_bad(&m, bad[i][1], bad[i][0]);
		mpobj_free(&m);
	}
	for (i = 0; i < sizeof limits / sizeof limits[0]; i++) {
		T_ASSERT(limits[i].ok + 1 < sizeof fill);
		memset(fill, 'x', limits[i].ok + 1);
		fill[limits[i].ok + 1] = '\0';
		snprintf(json, sizeof json, "%s%s%s", limits[i].head, fill,
		    limits[i].tail);
		mpobj_json(&m, json);
		reply_expect_bad(&m, limits[i].msg, limits[i].head);
		mpobj_free(&m);
		/* One byte less is fine. */
		fill[limits[i].ok] = '\0';
		snprintf(json, sizeof json, "%s%s%s", limits[i].head, fill,
		    limits[i].tail);
		mpobj_json(&m, json);
		T_ASSERTF(reply_set(&o, &m, &m.u.data, &err) == 0, "%s: %s",
		    limits[i].head, err.msg);
		mpobj_free(&m);
	}

	/* Counts over the limits. */
	pk = mpobj_begin(&m);
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "start", "2015");
	mp_pack_str(pk, "actors");
	msgpack_pack_array(pk, EVENT_MAX_ACTORS + 1);
	for (i = 0; i <= EVENT_MAX_ACTORS; i++)
		mp_pack_str(pk, "A");
	mpobj_end(&m);
	reply_expect_bad(&m, "actors: 65 given, at most 64 allowed",
	    "65 actors");
	mpobj_free(&m);
	pk = mpobj_begin(&m);
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "start", "2015");
	mp_pack_str(pk, "urls");
	msgpack_pack_array(pk, EVENT_MAX_LIST + 1);
	for (i = 0; i <= EVENT_MAX_LIST; i++)
		mp_pack_str(pk, "u");
	mpobj_end(&m);
	reply_expect_bad(&m, "urls: 257 given, at most 256 allowed",
	    "257 urls");
	mpobj_free(&m);

	/* Duplicates, which JSON cannot write. */
	pk = mpobj_begin(&m);
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "start", "2015");
	mp_pack_kv_str(pk, "start", "2016");
	mpobj_end(&m);
	reply_expect_bad(&m, "duplicate field \"start\"", "two starts");
	mpobj_free(&m);
	pk = mpobj_begin(&m);
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "start", "2015");
	mp_pack_str(pk, "actors");
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "name", "A");
	mp_pack_kv_str(pk, "name", "B");
	mpobj_end(&m);
	reply_expect_bad(&m, "actors[0]: duplicate field \"name\"",
	    "two names");
	mpobj_free(&m);
	/* A key that is not a str. */
	pk = mpobj_begin(&m);
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "start", "2015");
	msgpack_pack_uint64(pk, 7);
	msgpack_pack_nil(pk);
	mpobj_end(&m);
	reply_expect_bad(&m, "field names must be strings", "int key");
	mpobj_free(&m);
	annals_owned_clear(&o);
}

TEST(reply_trusts_text_dates_and_attrs_contents)
{
	static const char *trusted[] = {
		/* record_decode() refuses each; the daemon never sends it. */
		"{'start':'2015-02-30'}",
		"{'start':'2016','end':'2015'}",
		"{'start':'2015','attrs':{'a':{'b':[]},'':'\\u0000'}}",
		"{'start':'not a date'}",
	};
	struct annals_owned	 o;
	struct event		 ev;
	struct mpobj		 m;
	struct aerr		 err;
	msgpack_packer		*pk;
	size_t			 i;

	memset(&o, 0, sizeof o);
	for (i = 0; i < sizeof trusted / sizeof trusted[0]; i++) {
		/* The event is a view into its message: free the one before. */
		if (i > 0)
			mpobj_free(&m);
		mpobj_json(&m, trusted[i]);
		aerr_clear(&err);
		T_ASSERTF(record_decode(&m.u.data, &ev, &err) == -1, "%s",
		    trusted[i]);
		T_ASSERTF(reply_set(&o, &m, &m.u.data, &err) == 0, "%s: %s",
		    trusted[i], err.msg);
	}
	T_EQ_STR(o.pub.start, "not a date");
	mpobj_free(&m);

	/* Invalid UTF-8 and bin inside attrs: handed out as sent. */
	pk = mpobj_begin(&m);
	msgpack_pack_map(pk, 3);
	mp_pack_kv_str(pk, "start", "2015");
	mp_pack_kv_str(pk, "title", "\xff\xfe caf\xc3");
	mp_pack_str(pk, "attrs");
	msgpack_pack_map(pk, 1);
	msgpack_pack_bin(pk, 2);
	msgpack_pack_bin_body(pk, "\x00\x01", 2);
	msgpack_pack_ext(pk, 1, 5);
	msgpack_pack_ext_body(pk, "x", 1);
	mpobj_end(&m);
	aerr_clear(&err);
	T_EQ_INT(record_decode(&m.u.data, &ev, &err), -1);
	T_ASSERTF(reply_set(&o, &m, &m.u.data, &err) == 0, "%s", err.msg);
	T_EQ_STR(o.pub.title, "\xff\xfe caf\xc3");
	T_EQ_INT(o.pub.attrs_len, 8);
	T_ASSERT(memcmp(o.pub.attrs, "\x81\xc4\x02\x00\x01\xd4\x05x", 8) ==
	    0);
	mpobj_free(&m);
	annals_owned_clear(&o);
}

TEST(reply_attrs_are_the_bytes_the_daemon_sent)
{
	/*
	 * {"start": "2015", "attrs": {"k": 1}, "title": "t"}, written the
	 * long way: str 8 keys, a uint 64 for 1, a map 16 header.
	 */
	static const unsigned char long_way[] = {
		0x83,
		0xd9, 5, 's', 't', 'a', 'r', 't', 0xa4, '2', '0', '1', '5',
		0xd9, 5, 'a', 't', 't', 'r', 's',
		    0xde, 0, 1, 0xd9, 1, 'k',
		    0xcf, 0, 0, 0, 0, 0, 0, 0, 1,
		0xa5, 't', 'i', 't', 'l', 'e', 0xa1, 't',
	};
	struct record_view	 v;
	struct annals_owned	 o;
	struct event		 ev;
	struct mpobj		 m;
	struct aerr		 err;
	unsigned char		*copy;

	mpobj_begin(&m);
	msgpack_sbuffer_write(&m.sbuf, (const char *)long_way,
	    sizeof long_way);
	mpobj_end(&m);
	memset(&o, 0, sizeof o);
	T_ASSERTF(reply_set(&o, &m, &m.u.data, &err) == 0, "%s", err.msg);
	T_EQ_INT(o.pub.attrs_len, 15);
	T_ASSERT(memcmp(o.pub.attrs, long_way + 20, 15) == 0);
	T_EQ_STR(o.pub.title, "t");
	/* record_decode() packs them again, the short way. */
	T_OK(record_decode_stored(&m.u.data, &ev, &err));
	T_EQ_INT(ev.attrs_len, 4);
	T_ASSERT(memcmp(ev.attrs, "\x81\xa1k\x01", 4) == 0);
	record_clear(&ev);

	/* Objects unpacked from other bytes than the frame: refused. */
	T_ASSERT((copy = malloc(m.sbuf.size)) != NULL);
	memcpy(copy, m.sbuf.data, m.sbuf.size);
	aerr_clear(&err);
	T_EQ_INT(record_view(&m.u.data, copy, m.sbuf.size, &v, &err), -1);
	T_EQ_STR(err.msg, "attrs: not in the frame");
	T_EQ_INT(record_view(&m.u.data, NULL, 0, &v, &err), -1);
	T_EQ_STR(err.msg, "attrs: not in the frame");
	/* Nor when the frame is said to end before the attrs do. */
	T_EQ_INT(record_view(&m.u.data, (unsigned char *)m.sbuf.data, 30, &v,
	    &err), -1);
	T_EQ_STR(err.msg, "attrs: not in the frame");
	free(copy);
	mpobj_free(&m);
	annals_owned_clear(&o);
}

/*
 * The attrs' bytes end where their last leaf does: found from a str's
 * bytes, from a scalar or empty value read after its key, or by walking
 * them when the last leaf is a scalar in an array.  Each is written the
 * long way where it can be, and a title follows, so that a length found
 * wrong shows.
 */
TEST(reply_attrs_end_where_their_last_leaf_does)
{
	static const struct {
		const char	*what;
		size_t		 len;
		const char	*attrs;
	} cases[] = {
		{ "str", 6, "\x81\xa1k\xa2vw" },
		{ "str 8", 7, "\x81\xa1k\xd9\x02vw" },
		{ "empty str 8", 5, "\x81\xa1k\xd9\x00" },
		{ "int 64", 12, "\x81\xa1k\xd3\x00\x00\x00\x00\x00\x00\x00"
		    "\x05" },
		{ "nil", 4, "\x81\xa1k\xc0" },
		{ "double", 12, "\x81\xa1k\xcb\x3f\xf0\x00\x00\x00\x00\x00"
		    "\x00" },
		{ "empty map 16", 6, "\x81\xa1k\xde\x00\x00" },
		{ "empty array 32", 8, "\x81\xa1k\xdd\x00\x00\x00\x00" },
		{ "nested, nil", 7, "\x81\xa1k\x81\xa1j\xc0" },
		{ "array, int 16", 8, "\x81\xa1k\x92\x01\xcd\x01\x00" },
		{ "array, str", 7, "\x81\xa1k\x92\x01\xa1x" },
		{ "fixext", 6, "\x81\xa1k\xd4\x01\xff" },
		{ "map 16 of two", 11, "\xde\x00\x02\xa1k\xa1v\xa1j\xcc\x07" },
	};
	static const unsigned char head[] = { 0x83, 0xa5, 's', 't', 'a', 'r',
	    't', 0xa4, '2', '0', '1', '5', 0xa5, 'a', 't', 't', 'r', 's' };
	static const unsigned char tail[] = { 0xa5, 't', 'i', 't', 'l', 'e',
	    0xa1, 't' };
	struct annals_owned	 o;
	struct mpobj		 m;
	struct aerr		 err;
	size_t			 i;

	memset(&o, 0, sizeof o);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		mpobj_begin(&m);
		msgpack_sbuffer_write(&m.sbuf, (const char *)head,
		    sizeof head);
		msgpack_sbuffer_write(&m.sbuf, cases[i].attrs, cases[i].len);
		msgpack_sbuffer_write(&m.sbuf, (const char *)tail,
		    sizeof tail);
		mpobj_end(&m);
		T_ASSERTF(reply_set(&o, &m, &m.u.data, &err) == 0, "%s: %s",
		    cases[i].what, err.msg);
		T_ASSERTF(o.pub.attrs_len == cases[i].len, "%s: %zu bytes",
		    cases[i].what, o.pub.attrs_len);
		T_ASSERT(memcmp(o.pub.attrs, cases[i].attrs, cases[i].len) ==
		    0);
		T_EQ_STR(o.pub.title, "t");
		mpobj_free(&m);
	}
	annals_owned_clear(&o);
}

/* Change a few bytes of p, or cut it short; returns the new length. */
static size_t
reply_mutate(uint64_t *s, unsigned char *p, size_t len)
{
	static const unsigned char	 types[] = {
		0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1,
		0xc2, 0xc4, 0xc7, 0xca, 0xcb, 0xcf, 0xd3, 0xd4, 0xd9, 0xda,
		0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff
	};
	size_t				 n, i, at;

	n = 1 + reply_rand(s) % 4;
	for (i = 0; i < n; i++) {
		at = reply_rand(s) % len;
		switch (reply_rand(s) % 4) {
		case 0:
			p[at] = (unsigned char)reply_rand(s);
			break;
		case 1:
			p[at] = types[reply_rand(s) % sizeof types];
			break;
		case 2:
			p[at] ^= 1u << (reply_rand(s) % 8);
			break;
		default:
			if (at > 0)
				len = at;
			break;
		}
	}
	return (len);
}

/* Pack the attrs of e again, as record_decode() would keep them. */
static void
reply_repack_attrs(const struct annals_event *e, msgpack_sbuffer *sb)
{
	msgpack_unpacked	u;
	msgpack_packer		pk;

	msgpack_sbuffer_init(sb);
	if (e->attrs_len == 0)
		return;
	msgpack_unpacked_init(&u);
	T_EQ_INT(msgpack_unpack_next(&u, e->attrs, e->attrs_len, NULL),
	    MSGPACK_UNPACK_SUCCESS);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	T_OK(msgpack_pack_object(&pk, u.data));
	msgpack_unpacked_destroy(&u);
}

TEST(reply_survives_mutated_records)
{
	struct reply_rand_buf	*b;
	struct annals_owned	 o;
	struct annals_reply	 r;
	struct annals_event	 got;
	struct event		 want;
	struct mpobj		 m;
	struct aerr		 err;
	msgpack_unpacked	 u;
	msgpack_sbuffer		 sb;
	unsigned char		*buf;
	uint64_t		 s;
	size_t			 i, j, len, both = 0, view = 0, none = 0;
	int			 rv, rf;

	s = 0x2545f4914f6cdd1dULL ^ t_seed();
	T_ASSERT((b = calloc(1, sizeof *b)) != NULL);
	memset(&o, 0, sizeof o);
	for (i = 0; i < REPLY_MUTANTS; i++) {
		reply_rand_event(&s, b, &m);
		/*
		 * Exactly len bytes and the spare one of a reply, so that
		 * ASan sees a read or write past them.
		 */
		T_ASSERT((buf = malloc(m.sbuf.size + 1)) != NULL);
		memcpy(buf, m.sbuf.data, m.sbuf.size);
		len = reply_mutate(&s, buf, m.sbuf.size);
		mpobj_free(&m);
		aerr_clear(&err);
		if (frame_check(buf, len, &err) != 0) {
			free(buf);
			continue;
		}
		msgpack_unpacked_init(&u);
		T_EQ_INT(msgpack_unpack_next(&u, (const char *)buf, len, NULL),
		    MSGPACK_UNPACK_SUCCESS);
		memset(&r, 0, sizeof r);
		r.buf = buf;
		r.len = len;
		rv = annals_owned_set(&o, &r, &u.data, RECORD_FIELDS_ALL,
		    &err);
		if (rv != 0) {
			T_EQ_INT(err.code, AERR_PROTOCOL);
			T_ASSERT(err.msg[0] != '\0');
		} else {
			/*
			 * Every string ends, inside the frame and its
			 * spare byte; attrs are one packed map.
			 */
			for (j = 0; j < o.pub.nactors; j++) {
				T_ASSERT(strlen(o.pub.actors[j].name) > 0);
				T_ASSERT((const unsigned char *)
				    o.pub.actors[j].name > buf &&
				    (const unsigned char *)o.pub.actors[j].name +
				    strlen(o.pub.actors[j].name) <= buf + len);
			}
			if (o.pub.attrs_len != 0)
				T_OK(frame_check(o.pub.attrs, o.pub.attrs_len,
				    &err));
		}
		aerr_clear(&err);
		rf = record_decode_stored(&u.data, &want, &err);
		if (rf == 0) {
			/* Mutants may pack attrs the long way. */
			T_EQ_INT(rv, 0);
			got = o.pub;
			reply_repack_attrs(&o.pub, &sb);
			got.attrs = sb.size != 0 ? sb.data : NULL;
			got.attrs_len = sb.size;
			reply_same_decoded(&want, &got);
			msgpack_sbuffer_destroy(&sb);
			record_clear(&want);
			both++;
		} else if (rv == 0)
			view++;
		else
			none++;
		msgpack_unpacked_destroy(&u);
		free(buf);
	}
	/* Each outcome happened, or the test proved little. */
	T_ASSERTF(both > 0 && view > 0 && none > 0, "%zu %zu %zu", both,
	    view, none);
	annals_owned_clear(&o);
	free(b);
}

static void
reply_fake_done(pid_t pid)
{
	int	status;

	T_EQ_INT(waitpid(pid, &status, 0), pid);
	T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "fake daemon: status %d", status);
}

/*
 * A fake annalsd listening at t_dir()/name, answering the first n
 * requests of one connection with results[i] in order, whatever was
 * asked, then waiting for the client to go.  Each frame is sent in
 * pieces of chunk bytes (the first of 3) with a pause between them, so
 * that the client reads it in many parts; with chunk 0, whole.
 */
static pid_t
reply_fake_pages(const char *name, char *path, size_t size,
    const msgpack_sbuffer *results, size_t n, size_t chunk)
{
	struct sockaddr_un	 sun;
	struct timespec		 pause = { 0, 2 * 1000 * 1000 };
	msgpack_unpacked	 u;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	unsigned char		 req[4096], hdr[PROTO_FRAME_HEADER];
	ssize_t			 r;
	size_t			 i, off, piece;
	pid_t			 pid;
	int			 fd, c;

	snprintf(path, size, "%s/%s", t_dir(), name);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path) >=
	    (int)sizeof sun.sun_path)
		T_FAIL("%s: too long for a socket", path);
	T_ASSERT((fd = socket(AF_UNIX, SOCK_STREAM, 0)) != -1);
	T_OK(bind(fd, (struct sockaddr *)&sun, sizeof sun));
	T_OK(listen(fd, 1));
	T_ASSERT((pid = fork()) != -1);
	if (pid != 0) {
		close(fd);
		return (pid);
	}
	/* The child: no T_ macros, which would exit() through the runner. */
	if ((c = accept(fd, NULL, NULL)) == -1)
		_exit(1);
	for (i = 0; i < n; i++) {
		if ((r = th_read_frame(c, req, sizeof req, 5000)) <= 0)
			_exit(1);
		msgpack_unpacked_init(&u);
		if (msgpack_unpack_next(&u, (const char *)req, r, NULL) !=
		    MSGPACK_UNPACK_SUCCESS ||
		    u.data.type != MSGPACK_OBJECT_ARRAY ||
		    u.data.via.array.size != 4)
			_exit(1);
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		frame_header(hdr, 0);
		msgpack_sbuffer_write(&sb, (const char *)hdr, sizeof hdr);
		msgpack_pack_array(&pk, 4);
		msgpack_pack_uint32(&pk, MSG_RESPONSE);
		msgpack_pack_object(&pk, u.data.via.array.ptr[1]);
		msgpack_pack_nil(&pk);
		msgpack_sbuffer_write(&sb, results[i].data, results[i].size);
		frame_header((unsigned char *)sb.data,
		    (uint32_t)(sb.size - PROTO_FRAME_HEADER));
		/* The first piece ends inside the frame's prefix. */
		for (off = 0; off < sb.size; off += piece) {
			piece = chunk == 0 ? sb.size : off == 0 ? 3 : chunk;
			if (piece > sb.size - off)
				piece = sb.size - off;
			if (th_send_all(c, sb.data + off, piece) != 0)
				_exit(1);
			if (chunk != 0)
				nanosleep(&pause, NULL);
		}
		msgpack_sbuffer_destroy(&sb);
		msgpack_unpacked_destroy(&u);
	}
	th_wait_closed(c, 5000);
	_exit(0);
}

/* The same, answering one request with result (packed bytes), whole. */
static pid_t
reply_fake_daemon(const char *name, char *path, size_t size,
    const void *result, size_t len)
{
	msgpack_sbuffer	sb = { .size = len, .data = (char *)result,
			    .alloc = len };

	return (reply_fake_pages(name, path, size, &sb, 1, 0));
}

/* A record whose title says which it is, padded to about size bytes. */
static void
reply_pack_padded(msgpack_packer *pk, uint64_t id, size_t size)
{
	char	*title;

	T_ASSERT((title = malloc(size + 32)) != NULL);
	snprintf(title, size + 32, "event %llu ", (unsigned long long)id);
	memset(title + strlen(title), 'x', size);
	title[size] = '\0';
	msgpack_pack_map(pk, 5);
	mp_pack_kv_uint(pk, "id", id);
	mp_pack_kv_str(pk, "start", "2015-01-26");
	msgpack_pack_str_with_body(pk, "actors", 6);
	msgpack_pack_array(pk, 1);
	mp_pack_str(pk, "RUS");
	mp_pack_kv_str(pk, "title", title);
	msgpack_pack_str_with_body(pk, "attrs", 5);
	msgpack_pack_map(pk, 1);
	mp_pack_kv_uint(pk, "n", id);
	free(title);
}

/* Whether e is the event reply_pack_padded() made of id and size. */
static void
reply_check_padded(const struct annals_event *e, uint64_t id, size_t size)
{
	char	want[32];

	T_EQ_U64(e->id, id);
	snprintf(want, sizeof want, "event %llu x", (unsigned long long)id);
	T_ASSERTF(strncmp(e->title, want, strlen(want)) == 0, "title %.40s",
	    e->title);
	T_EQ_U64(strlen(e->title), size);
	T_EQ_STR(e->start, "2015-01-26");
	T_EQ_STR(e->actors[0].name, "RUS");
	T_EQ_U64(e->attrs_len, 4 + (id > 127 ? 1 : 0));
}

/*
 * A range page of n records from id first, the jth padded to size + j *
 * step bytes, into sb: with a cursor when more pages follow.
 */
static void
reply_padded_page(msgpack_sbuffer *sb, uint64_t first, size_t n,
    size_t size, size_t step, int more)
{
	msgpack_packer	pk;
	size_t		i;

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	mp_pack_str(&pk, "events");
	msgpack_pack_array(&pk, n);
	for (i = 0; i < n; i++)
		reply_pack_padded(&pk, first + i, size + i * step);
	mp_pack_str(&pk, "matches");
	msgpack_pack_array(&pk, n);
	for (i = 0; i < n; i++)
		mp_pack_str(&pk, "certain");
	mp_pack_str(&pk, "cursor");
	if (more)
		msgpack_pack_bin_with_body(&pk, "c", 1);
	else
		msgpack_pack_nil(&pk);
}

/* End a test of reply_fake_pages() with the n results it sent. */
static void
reply_fake_end(annals_ctx *ctx, annals_query *q, pid_t pid,
    const char *path, msgpack_sbuffer *res, size_t n)
{
	size_t	i;

	annals_query_free(q);
	annals_free(ctx);
	reply_fake_done(pid);
	unlink(path);
	for (i = 0; i < n; i++)
		msgpack_sbuffer_destroy(&res[i]);
}

/*
 * Pages large enough to be taken whole from the read buffer, sent in
 * pieces so that each takes many reads, the next page read into the
 * buffer of the one before; then events of annals_get() as large,
 * which must keep their bytes while later replies reuse those buffers.
 */
TEST(reply_large_frames_in_pieces_and_the_buffers_they_leave)
{
	const struct annals_event	*e;
	struct annals_event		*big, *big2, *small;
	msgpack_sbuffer			 res[5];
	msgpack_packer			 pk;
	annals_ctx			*ctx;
	annals_query			*q;
	annals_iter			*it;
	char				 path[256];
	uint64_t			 id;
	size_t				 i, pieces[] = { 700, 4096, 70000 };
	pid_t				 pid;
	unsigned			 p;

	for (p = 0; p < sizeof pieces / sizeof pieces[0]; p++) {
		for (i = 0; i < 5; i++) {
			if (i < 2) {
				reply_padded_page(&res[i], i * 40 + 1, 40,
				    1001, 1, i == 0);
				continue;
			}
			msgpack_sbuffer_init(&res[i]);
			msgpack_packer_init(&pk, &res[i],
			    msgpack_sbuffer_write);
			msgpack_pack_map(&pk, 1);
			mp_pack_str(&pk, "events");
			msgpack_pack_array(&pk, 1);
			reply_pack_padded(&pk, 200 + i, i < 4 ? 50000 : 20);
		}
		pid = reply_fake_pages("pieces.sock", path, sizeof path, res,
		    5, pieces[p]);
		T_ASSERT((q = annals_query_new()) != NULL);
		ctx = annals_connect(path);
		T_ASSERT((it = annals_range(ctx, q)) != NULL);
		for (id = 1; (e = annals_iter_next(it)) != NULL; id++)
			reply_check_padded(e, id, 1000 + (id - 1) % 40 + 1);
		T_EQ_INT(annals_iter_error(it), 0);
		T_EQ_U64(id, 81);
		annals_iter_free(it);
		T_ASSERTF(annals_get(ctx, 202, &big) == 0, "%s",
		    annals_errmsg(ctx));
		T_ASSERTF(annals_get(ctx, 203, &big2) == 0, "%s",
		    annals_errmsg(ctx));
		T_ASSERTF(annals_get(ctx, 204, &small) == 0, "%s",
		    annals_errmsg(ctx));
		reply_check_padded(big, 202, 50000);
		reply_check_padded(big2, 203, 50000);
		reply_check_padded(small, 204, 20);
		annals_event_free(big);
		annals_event_free(big2);
		annals_event_free(small);
		reply_fake_end(ctx, q, pid, path, res, 5);
	}
}

/*
 * A very large page's buffer is not kept when its reply is freed: the
 * context holds a read buffer of a page's size after it, not that page's
 * beside a new one.  A page's buffer is kept for the next read.
 */
TEST(reply_very_large_page_leaves_no_spare_buffer)
{
	const struct annals_event	*e;
	msgpack_sbuffer			 res[2];
	annals_ctx			*ctx;
	annals_query			*q;
	annals_iter			*it;
	char				 path[256];
	uint64_t			 id;
	pid_t				 pid;

	/* 40 records of 50,000 bytes, then a page of one of 20,000. */
	reply_padded_page(&res[0], 1, 40, 50000, 0, 1);
	reply_padded_page(&res[1], 41, 1, 20000, 0, 0);
	pid = reply_fake_pages("huge.sock", path, sizeof path, res, 2, 65536);
	T_ASSERT((q = annals_query_new()) != NULL);
	ctx = annals_connect(path);
	T_ASSERT((it = annals_range(ctx, q)) != NULL);
	for (id = 1; id <= 40; id++) {
		T_ASSERT((e = annals_iter_next(it)) != NULL);
		reply_check_padded(e, id, 50000);
	}
	/* The next page's read freed the first page's reply. */
	T_ASSERT((e = annals_iter_next(it)) != NULL);
	reply_check_padded(e, 41, 20000);
	T_ASSERTF(ctx->spare == NULL, "a spare of %zu bytes",
	    ctx->spare_size);
	T_ASSERT(ctx->rsize <= ANNALS_SPARE_MAX);
	T_ASSERT(annals_iter_next(it) == NULL);
	T_EQ_INT(annals_iter_error(it), 0);
	annals_iter_free(it);
	/* The second page's buffer is a page's, kept for the next read. */
	T_ASSERT(ctx->spare != NULL && ctx->spare_size <= ANNALS_SPARE_MAX);
	reply_fake_end(ctx, q, pid, path, res, 2);
}

TEST(reply_iterator_fails_on_a_bad_record_from_the_daemon)
{
	static const char	*cases[][2] = {
		{ "{'start':'2015','title':7}",
		    "range: result: events[1]: title: must be a string" },
		{ "{'start':'2015','actors':[{'name':'A','role':[]}]}",
		    "range: result: events[1]: actors[0]: role: must be a "
		    "string" },
		{ "{'start':'2015','place':{'lat':'north'}}",
		    "range: result: events[1]: place: lat: must be a number" },
		{ "{'start':'2015','urls':['a','b',null]}",
		    "range: result: events[1]: urls[2]: must be a string" },
		{ "'2015'", "range: result: events[1]: record must be a map" },
	};
	const struct annals_event	*e;
	annals_ctx			*ctx;
	annals_query			*q;
	annals_iter			*it;
	struct mpobj			 m;
	char				 path[256], name[32], json[512];
	size_t				 i;
	pid_t				 pid;

	T_ASSERT((q = annals_query_new()) != NULL);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(json, sizeof json, "{'events':[{'id':4,'rev':1,"
		    "'created':5,'updated':6,'start':'2015-01-26','actors':"
		    "[{'name':'RUS','role':'host'}],'title':'Talks \\u2014 "
		    "\\u041c','attrs':{'a':[1,{'b':null}]}},%s],'matches':"
		    "['certain','possible'],'cursor':null}", cases[i][0]);
		mpobj_json(&m, json);
		snprintf(name, sizeof name, "liar%zu.sock", i);
		pid = reply_fake_daemon(name, path, sizeof path, m.sbuf.data,
		    m.sbuf.size);
		mpobj_free(&m);
		ctx = annals_connect(path);
		T_ASSERT((it = annals_range(ctx, q)) != NULL);
		/* The good record comes out whole... */
		T_ASSERT((e = annals_iter_next(it)) != NULL);
		T_EQ_U64(e->id, 4);
		T_EQ_STR(e->start, "2015-01-26");
		T_EQ_STR(e->actors[0].role, "host");
		T_EQ_STR(e->title, "Talks \xe2\x80\x94 \xd0\x9c");
		T_EQ_INT(e->attrs_len, 9);
		T_ASSERT(memcmp(e->attrs, "\x81\xa1" "a\x92\x01\x81\xa1" "b"
		    "\xc0", 9) == 0);
		T_EQ_INT(e->match, ANNALS_MATCH_CERTAIN);
		/* ...the bad one stops the iterator and breaks ctx. */
		T_ASSERT(annals_iter_next(it) == NULL);
		T_EQ_INT(annals_iter_error(it), ANNALS_EPROTOCOL);
		T_EQ_STR(annals_errmsg(ctx), cases[i][1]);
		T_ASSERT(annals_iter_next(it) == NULL);
		annals_iter_free(it);
		T_EQ_INT(annals_ping(ctx), -1);
		T_EQ_INT(annals_errcode(ctx), ANNALS_EPROTOCOL);
		annals_free(ctx);
		reply_fake_done(pid);
	}
	annals_query_free(q);
}

/*
 * The via of a query by an alias: each entry's strings come out as C
 * strings made in place without harming the records around them; an
 * entry of the wrong shape stops the iterator at its event, and a via
 * that is no array the size of events fails the page.
 */
TEST(reply_iterator_takes_each_via_and_refuses_a_bad_one)
{
	static const char	*bad_entries[][2] = {
		{ "{'alias':'A'}", "range: result: via[1] is not {alias, "
		    "code}" },
		{ "{'alias':'','code':'X'}", "range: result: via[1] is not "
		    "{alias, code}" },
		{ "{'alias':'A','code':7}", "range: result: via[1] is not "
		    "{alias, code}" },
		{ "'A'", "range: result: via[1] is not {alias, code}" },
	};
	static const char	*bad_lists[] = {
		"[{'alias':'A','code':'X'}]", "{'alias':'A','code':'X'}",
	};
	const struct annals_event	*e;
	const struct annals_via		*v;
	annals_ctx			*ctx;
	annals_query			*q;
	annals_iter			*it;
	struct mpobj			 m;
	char				 path[256], name[32], json[768];
	size_t				 i;
	pid_t				 pid;

	T_ASSERT((q = annals_query_new()) != NULL);
	/* Two good entries, then each bad one in second place. */
	for (i = 0; i <= sizeof bad_entries / sizeof bad_entries[0]; i++) {
		snprintf(json, sizeof json, "{'events':[{'id':4,'start':"
		    "'2015','actors':[{'name':'SYRGOV'}],'attrs':{'a':'b'}},"
		    "{'id':5,'start':'2016','actors':[{'name':'SYRMIL'}],"
		    "'title':'T'}],'matches':['certain','possible'],'via':"
		    "[{'alias':'Bashar al-Assad','code':'SYRGOV'},%s],"
		    "'cursor':null}", i == 0 ? "{'code':'SYRMIL','alias':"
		    "'Bashar al-Assad'}" : bad_entries[i - 1][0]);
		mpobj_json(&m, json);
		snprintf(name, sizeof name, "via%zu.sock", i);
		pid = reply_fake_daemon(name, path, sizeof path, m.sbuf.data,
		    m.sbuf.size);
		mpobj_free(&m);
		ctx = annals_connect(path);
		T_ASSERT((it = annals_range(ctx, q)) != NULL);
		T_ASSERT(annals_iter_via(it) == NULL);
		T_ASSERT((e = annals_iter_next(it)) != NULL);
		T_ASSERT((v = annals_iter_via(it)) != NULL);
		T_EQ_STR(v->alias, "Bashar al-Assad");
		T_EQ_STR(v->code, "SYRGOV");
		T_EQ_STR(e->actors[0].name, "SYRGOV");
		T_EQ_INT(e->attrs_len, 5);
		T_ASSERT(memcmp(e->attrs, "\x81\xa1" "a\xa1" "b", 5) == 0);
		if (i == 0) {
			T_ASSERT((e = annals_iter_next(it)) != NULL);
			T_ASSERT((v = annals_iter_via(it)) != NULL);
			T_EQ_STR(v->alias, "Bashar al-Assad");
			T_EQ_STR(v->code, "SYRMIL");
			T_EQ_STR(e->start, "2016");
			T_EQ_STR(e->title, "T");
			T_EQ_INT(e->match, ANNALS_MATCH_POSSIBLE);
			T_ASSERT(annals_iter_next(it) == NULL);
			T_EQ_INT(annals_iter_error(it), 0);
			T_ASSERT(annals_iter_via(it) == NULL);
		} else {
			T_ASSERT(annals_iter_next(it) == NULL);
			T_EQ_INT(annals_iter_error(it), ANNALS_EPROTOCOL);
			T_EQ_STR(annals_errmsg(ctx), bad_entries[i - 1][1]);
			T_ASSERT(annals_iter_via(it) == NULL);
		}
		annals_iter_free(it);
		annals_free(ctx);
		reply_fake_done(pid);
	}
	for (i = 0; i < sizeof bad_lists / sizeof bad_lists[0]; i++) {
		snprintf(json, sizeof json, "{'events':[{'id':4,'start':"
		    "'2015','actors':['A']},{'id':5,'start':'2016','actors':"
		    "['A']}],'matches':['certain','certain'],'via':%s,"
		    "'cursor':null}", bad_lists[i]);
		mpobj_json(&m, json);
		snprintf(name, sizeof name, "vias%zu.sock", i);
		pid = reply_fake_daemon(name, path, sizeof path, m.sbuf.data,
		    m.sbuf.size);
		mpobj_free(&m);
		ctx = annals_connect(path);
		T_ASSERT(annals_range(ctx, q) == NULL);
		T_EQ_INT(annals_errcode(ctx), ANNALS_EPROTOCOL);
		T_EQ_STR(annals_errmsg(ctx), "range: result: via must be an "
		    "array the size of events");
		annals_free(ctx);
		reply_fake_done(pid);
	}
	annals_query_free(q);
}

/*
 * A via whose code the daemon left empty (it names none when the event
 * has none of the alias's codes): libannals gives NULL, and annals
 * prints it as the daemon and HTTP send it, "" in JSON lines, an empty
 * field in CSV.
 */
TEST(reply_cli_prints_a_via_without_a_code_as_sent)
{
	static const char	*formats[][2] = {
		{ "jsonl", "{\"id\":4,\"start\":\"2015\",\"match\":"
		    "\"certain\",\"via\":{\"alias\":\"A\",\"code\":\"\"}}\n" },
		{ "csv", "id,rev,created,updated,source,key,start,end,actors,"
		    "type,title,text,place,country,lat,lon,urls,tags,attrs,"
		    "match,via\n4,,,,,,2015,,,,,,,,,,,,,certain,\n" },
	};
	const struct annals_via	*v;
	const char		*argv[] = { "actor", "A", "--format", NULL,
				    NULL };
	annals_ctx		*ctx;
	annals_query		*q;
	annals_iter		*it;
	struct mpobj		 m;
	struct th_run		 r;
	char			 path[256], name[32];
	size_t			 i;
	pid_t			 pid;

	mpobj_json(&m, "{'events':[{'id':4,'start':'2015'}],'matches':"
	    "['certain'],'via':[{'alias':'A','code':''}],'cursor':null}");
	pid = reply_fake_daemon("nocode.sock", path, sizeof path,
	    m.sbuf.data, m.sbuf.size);
	T_ASSERT((q = annals_query_new()) != NULL);
	T_OK(annals_query_set_actor(q, "A", NULL));
	ctx = annals_connect(path);
	T_ASSERT((it = annals_actor(ctx, q)) != NULL);
	T_ASSERT(annals_iter_next(it) != NULL);
	T_ASSERT((v = annals_iter_via(it)) != NULL);
	T_EQ_STR(v->alias, "A");
	T_ASSERT(v->code == NULL);
	annals_iter_free(it);
	annals_free(ctx);
	annals_query_free(q);
	reply_fake_done(pid);
	for (i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		snprintf(name, sizeof name, "nocode%zu.sock", i);
		pid = reply_fake_daemon(name, path, sizeof path, m.sbuf.data,
		    m.sbuf.size);
		argv[3] = formats[i][0];
		th_annals(&r, path, NULL, argv);
		T_ASSERTF(r.status == 0, "annals --format %s: %s",
		    formats[i][0], r.err);
		T_EQ_STR(r.out, formats[i][1]);
		th_run_free(&r);
		reply_fake_done(pid);
	}
	mpobj_free(&m);
}

TEST(reply_truncated_and_overlong_records_are_protocol_errors)
{
	/* {"events": [R], "matches": ["certain"]}, R broken as below. */
	static const unsigned char	 head[] = {
		0x82, 0xa6, 'e', 'v', 'e', 'n', 't', 's', 0x91
	};
	static const unsigned char	 tail[] = {
		0xa7, 'm', 'a', 't', 'c', 'h', 'e', 's', 0x91,
		0xa7, 'c', 'e', 'r', 't', 'a', 'i', 'n'
	};
	static const struct {
		unsigned char	 rec[24];
		size_t		 len;
		const char	*msg;
	} cases[] = {
		/* {"start": "2015", "title": str 8 of 200 bytes, 3 there} */
		{ { 0x82, 0xa5, 's', 't', 'a', 'r', 't', 0xa4, '2', '0', '1',
		    '5', 0xa5, 't', 'i', 't', 'l', 'e', 0xd9, 200, 'a', 'b',
		    'c' }, 23,
		    "response: str of 200 bytes exceeds the 20 bytes left" },
		/* A map of 3 entries holding 1. */
		{ { 0x83, 0xa5, 's', 't', 'a', 'r', 't', 0xa4, '2', '0', '1',
		    '5' }, 12, NULL },
		/* actors: an array 32 of 2^32 - 1 entries. */
		{ { 0x81, 0xa6, 'a', 'c', 't', 'o', 'r', 's', 0xdd, 0xff, 0xff,
		    0xff, 0xff }, 13, "response: array of 4294967295 elements "
		    "exceeds the 17 bytes left" },
		/* A map 32 of 2^31 entries. */
		{ { 0xdf, 0x80, 0, 0, 0 }, 5, "response: map of 2147483648 "
		    "entries exceeds the 17 bytes left" },
		/* 0xc1, which msgpack never uses, as the start. */
		{ { 0x81, 0xa5, 's', 't', 'a', 'r', 't', 0xc1 }, 8, NULL },
	};
	msgpack_sbuffer	 sb;
	annals_ctx	*ctx;
	annals_query	*q;
	char		 path[256], name[32];
	size_t		 i;
	pid_t		 pid;

	T_ASSERT((q = annals_query_new()) != NULL);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		msgpack_sbuffer_init(&sb);
		msgpack_sbuffer_write(&sb, (const char *)head, sizeof head);
		msgpack_sbuffer_write(&sb, (const char *)cases[i].rec,
		    cases[i].len);
		msgpack_sbuffer_write(&sb, (const char *)tail, sizeof tail);
		snprintf(name, sizeof name, "short%zu.sock", i);
		pid = reply_fake_daemon(name, path, sizeof path, sb.data,
		    sb.size);
		msgpack_sbuffer_destroy(&sb);
		ctx = annals_connect(path);
		T_ASSERT(annals_range(ctx, q) == NULL);
		T_EQ_INT(annals_errcode(ctx), ANNALS_EPROTOCOL);
		if (cases[i].msg != NULL)
			T_EQ_STR(annals_errmsg(ctx), cases[i].msg);
		else
			T_ASSERTF(strncmp(annals_errmsg(ctx), "response: ",
			    10) == 0, "%s", annals_errmsg(ctx));
		annals_free(ctx);
		reply_fake_done(pid);
	}
	annals_query_free(q);
}

static int
reply_count_change(const struct annals_change *ch, void *arg)
{
	(void)ch;
	(*(int *)arg)++;
	return (0);
}

TEST(reply_get_and_changes_fail_on_a_bad_record_from_the_daemon)
{
	static const char	*cases[][3] = {
		{ "get", "{'events':[{'start':'2015','actors':[1]}]}",
		    "get: event: actors[0]: must be a string or a map" },
		{ "get", "{'events':[{'start':'2015','id':'1'}]}",
		    "get: event: id: must be an unsigned integer" },
		{ "get_by_key", "{'event':{'start':'2015','source':'s'}}",
		    "get_by_key: event: key: required with source" },
		{ "changes", "{'changes':[{'seq':1,'op':'put','id':5,"
		    "'event':{'start':'2015','id':5}},{'seq':2,'op':'put',"
		    "'id':6,'event':{'title':'x'}}],'next':2}",
		    "changes: changes[1]: event: start: required" },
	};
	struct annals_event	*ev;
	annals_ctx		*ctx;
	struct mpobj		 m;
	char			 path[256], name[32];
	size_t			 i;
	pid_t			 pid;
	int			 n, rc;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		mpobj_json(&m, cases[i][1]);
		snprintf(name, sizeof name, "bad%zu.sock", i);
		pid = reply_fake_daemon(name, path, sizeof path, m.sbuf.data,
		    m.sbuf.size);
		mpobj_free(&m);
		ctx = annals_connect(path);
		ev = NULL;
		n = 0;
		if (strcmp(cases[i][0], "get") == 0)
			rc = annals_get(ctx, 1, &ev);
		else if (strcmp(cases[i][0], "get_by_key") == 0)
			rc = annals_get_by_key(ctx, "s", "k", &ev);
		else
			rc = annals_changes(ctx, 0, 10, reply_count_change, &n,
			    NULL);
		T_EQ_INT(rc, -1);
		T_ASSERT(ev == NULL);
		T_EQ_INT(annals_errcode(ctx), ANNALS_EPROTOCOL);
		T_EQ_STR(annals_errmsg(ctx), cases[i][2]);
		/* The good change before the bad one was handed out. */
		T_EQ_INT(n, strcmp(cases[i][0], "changes") == 0);
		annals_free(ctx);
		reply_fake_done(pid);
	}
}

struct reply_feed {
	const struct annals_event	*want;
	size_t				 n, seen;
};

static int
reply_feed_check(const struct annals_change *ch, void *arg)
{
	struct reply_feed	*f = arg;

	T_EQ_INT(ch->op, ANNALS_CHANGE_PUT);
	T_ASSERT(f->seen < f->n);
	T_EQ_U64(ch->event->id, ch->id);
	reply_same(&f->want[f->seen++], ch->event, 0);
	return (0);
}

TEST(reply_round_trip_through_annalsd)
{
	struct reply_rand_buf		*b;
	struct annals_actor		 actors[3][EVENT_MAX_ACTORS];
	struct annals_event		 in[3], *got;
	struct annals_put_result	 res[3];
	const struct annals_event	*e;
	struct reply_feed		 f;
	struct th_daemon		 d;
	struct event			 ev[3];
	struct mpobj			 m[3];
	struct aerr			 err;
	annals_ctx			*ctx;
	annals_query			*q;
	annals_iter			*it;
	uint64_t			 s;
	size_t				 i;

	/* Three records that decode, made public structs to put. */
	s = 0x853c49e6748fea9bULL ^ t_seed();
	T_ASSERT((b = calloc(1, sizeof *b)) != NULL);
	reply_pack_full(mpobj_begin(&m[0]), EVENT_MAX_ACTORS);
	mpobj_end(&m[0]);
	for (i = 1; i < 3; i++)
		reply_rand_event(&s, b, &m[i]);
	for (i = 0; i < 3; i++) {
		aerr_clear(&err);
		T_ASSERTF(record_decode(&m[i].u.data, &ev[i], &err) == 0, "%s",
		    err.msg);
		reply_borrow(&ev[i], &in[i], actors[i]);
		/* Distinct dates, so that a range gives them in order. */
		free(ev[i].start);
		free(ev[i].end);
		ev[i].end = NULL;
		T_ASSERT((ev[i].start = strdup(i == 0 ? "1901" : i == 1 ?
		    "1902-05" : "1903-01-01")) != NULL);
		in[i].start = ev[i].start;
		in[i].end = NULL;
		in[i].id = 0;
		in[i].source = in[i].key = NULL;
		if (in[i].nactors == 0) {
			actors[i][0].name = "A";
			actors[i][0].role = NULL;
			in[i].nactors = 1;
		}
	}

	T_OK(th_daemon_start(&d, NULL));
	ctx = annals_connect(d.sock);
	T_ASSERTF(annals_put(ctx, in, 3, res) == 0, "%s", annals_errmsg(ctx));
	for (i = 0; i < 3; i++) {
		T_ASSERTF(annals_get(ctx, res[i].id, &got) == 0, "%s",
		    annals_errmsg(ctx));
		T_EQ_U64(got->id, res[i].id);
		T_EQ_U64(got->rev, 1);
		T_ASSERT(got->created != 0);
		reply_same(&in[i], got, 0);
		annals_event_free(got);
	}
	/* Pages of 1: every event through a fresh page, one block. */
	T_ASSERT((q = annals_query_new()) != NULL);
	T_OK(annals_query_set_page_size(q, 1));
	T_ASSERT((it = annals_range(ctx, q)) != NULL);
	for (i = 0; (e = annals_iter_next(it)) != NULL; i++) {
		T_ASSERT(i < 3);
		T_EQ_U64(e->id, res[i].id);
		T_EQ_INT(e->match, ANNALS_MATCH_CERTAIN);
		reply_same(&in[i], e, 0);
	}
	T_EQ_INT(annals_iter_error(it), 0);
	T_EQ_INT(i, 3);
	annals_iter_free(it);
	annals_query_free(q);
	f.want = in;
	f.n = 3;
	f.seen = 0;
	T_OK(annals_changes(ctx, 0, 0, reply_feed_check, &f, NULL));
	T_EQ_INT(f.seen, 3);

	annals_free(ctx);
	T_EQ_INT(th_daemon_stop(&d), 0);
	for (i = 0; i < 3; i++) {
		record_clear(&ev[i]);
		mpobj_free(&m[i]);
	}
	free(b);
}

/* Pack an attrs map of 40 keys whose values name event i. */
static void
reply_wide_attrs(msgpack_sbuffer *sb, int i)
{
	msgpack_packer	pk;
	char		k[16], v[48];
	int		j;

	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 40);
	for (j = 0; j < 40; j++) {
		snprintf(k, sizeof k, "col%02d", j);
		snprintf(v, sizeof v, "value %d of event %d", j, i);
		mp_pack_kv_str(&pk, k, v);
	}
}

/*
 * Replies unpack into a zone the context keeps: a page of wide records
 * grows it until the page fits in one chunk, after which it is kept and
 * cleared between replies, small or large, and every record still comes
 * out as it was put.
 */
TEST(reply_zone_grows_then_is_kept_between_replies)
{
	static const struct annals_actor actor = { "RUS", NULL };
	struct th_daemon		 d;
	struct annals_event		 ev[200];
	const struct annals_event	*e;
	struct annals_event		*got;
	msgpack_sbuffer			 want[200];
	annals_ctx			*ctx;
	annals_query			*q;
	annals_iter			*it;
	size_t				 chunk = 0;
	uint64_t			 first = 0;
	int				 i, round;

	T_OK(th_daemon_start(&d, NULL));
	T_ASSERT((ctx = annals_connect(d.sock)) != NULL);
	memset(ev, 0, sizeof ev);
	for (i = 0; i < 200; i++) {
		msgpack_sbuffer_init(&want[i]);
		reply_wide_attrs(&want[i], i);
		ev[i].start = "2015-01-26";
		ev[i].actors = &actor;
		ev[i].nactors = 1;
		ev[i].type = "036";
		ev[i].attrs = (const unsigned char *)want[i].data;
		ev[i].attrs_len = want[i].size;
	}
	T_ASSERTF(annals_put(ctx, ev, 200, NULL) == 0, "%s",
	    annals_errmsg(ctx));
	T_ASSERT((q = annals_query_new()) != NULL);
	T_OK(annals_query_set_page_size(q, 200));
	for (round = 0; round < 8; round++) {
		T_ASSERT((it = annals_range(ctx, q)) != NULL);
		for (i = 0; (e = annals_iter_next(it)) != NULL; i++) {
			if (first == 0)
				first = e->id;
			T_ASSERT(i < 200 && e->id == first + (uint64_t)i);
			T_ASSERT(e->attrs_len == want[i].size &&
			    memcmp(e->attrs, want[i].data, e->attrs_len) == 0);
		}
		T_EQ_INT(annals_iter_error(it), 0);
		T_EQ_INT(i, 200);
		annals_iter_free(it);
		/* A small reply in between takes the same zone. */
		T_OK(annals_get(ctx, first + (uint64_t)round, &got));
		T_ASSERT(got->attrs_len == want[round].size &&
		    memcmp(got->attrs, want[round].data, got->attrs_len) == 0);
		annals_event_free(got);
		T_ASSERT(ctx->zone != NULL);
		if (round >= 6)
			T_EQ_U64(ctx->zone_chunk, chunk);
		chunk = ctx->zone_chunk;
	}
	T_ASSERTF(chunk > MSGPACK_ZONE_CHUNK_SIZE, "chunk %zu", chunk);
	annals_query_free(q);
	annals_free(ctx);
	T_EQ_INT(th_daemon_stop(&d), 0);
	for (i = 0; i < 200; i++)
		msgpack_sbuffer_destroy(&want[i]);
}
