/*
 * The event record between msgpack and struct event.
 *
 * record_decode() copies everything it keeps: the msgpack objects are
 * views into a frame that is drained right after (STYLE P18), so no
 * pointer in a decoded event leads into them.  A record that decodes is
 * within every EVENT_MAX_* limit and has a valid date span.  attrs are
 * kept as packed msgpack, re-packed from the object: msgpack-c's packer
 * picks the shortest encoding, so the bytes equal the sender's whenever
 * the sender also packed shortest (every msgpack library does).
 *
 * Both decoders share one walk of the map, record_shape(): types,
 * lengths, counts, limits and required fields.  record_view() stops
 * there, for records in the daemon's replies, which record_decode()
 * accepted when they were stored (see there for what it trusts);
 * record_decode() goes on to check UTF-8, attrs and dates, and copies.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#define RECORD_PATH_MAX	160	/* of an attrs error message */

/*
 * The record's keys, in the order record_pack() writes them: one list,
 * from which both the RECORD_* indexes and record_keys[] are made.
 */
#define RECORD_KEYS(X)							\
	X(ID, "id") X(REV, "rev") X(CREATED, "created")			\
	X(UPDATED, "updated") X(SOURCE, "source") X(KEY, "key")		\
	X(START, "start") X(END, "end") X(ACTORS, "actors")		\
	X(TYPE, "type") X(TITLE, "title") X(TEXT, "text")		\
	X(PLACE, "place") X(URLS, "urls") X(TAGS, "tags")		\
	X(ATTRS, "attrs")

#define RECORD_KEY_INDEX(e, s)	RECORD_##e,
enum { RECORD_KEYS(RECORD_KEY_INDEX) RECORD_NKEYS };
#undef RECORD_KEY_INDEX

#define RECORD_KEY_NAME(e, s)	{ s, sizeof(s) - 1 },
static const struct {
	const char	*name;
	size_t		 len;
} record_keys[] = { RECORD_KEYS(RECORD_KEY_NAME) };
#undef RECORD_KEY_NAME

static int	record_attrs_value(const msgpack_object *, int, struct aerr *);

/* RECORD_FIELDS_ALL in proto.h has a bit for each key. */
_Static_assert(RECORD_NKEYS == RECORD_NFIELDS, "record keys and fields");
_Static_assert(RECORD_FIELD_ATTRS == RECORD_FIELD(RECORD_ATTRS),
    "attrs is the last key");

/*
 * Whether the len bytes at p are the key s of as many bytes.  Keys are
 * short: up to 8 bytes, two overlapping 4-byte words cover them for
 * less than a call to memcmp() costs.  Inline, as are the other helpers
 * run for every key or string of a record: a call would cost as much as
 * their work.
 */
static inline int
record_key_eq(const char *p, const char *s, size_t len)
{
	uint32_t	a, b, c, d;
	size_t		i;

	if (len > 8)
		return (memcmp(p, s, len) == 0);
	if (len >= 4) {
		memcpy(&a, p, 4);
		memcpy(&b, s, 4);
		memcpy(&c, p + len - 4, 4);
		memcpy(&d, s + len - 4, 4);
		return (a == b && c == d);
	}
	for (i = 0; i < len; i++) {
		if (p[i] != s[i])
			return (0);
	}
	return (1);
}

/*
 * The index of the record key of len bytes at p, or -1.  The search
 * starts at from, where the next key is when the sender used the
 * documented order.
 */
static inline int
record_key_find(const char *p, size_t len, int from)
{
	int	i, n;

	for (n = 0, i = from % RECORD_NKEYS; n < RECORD_NKEYS; n++, i++) {
		if (i == RECORD_NKEYS)
			i = 0;
		if (len == record_keys[i].len &&
		    record_key_eq(p, record_keys[i].name, len))
			return (i);
	}
	return (-1);
}

static inline int
record_key_index(const msgpack_object *key, int from)
{
	if (key->type != MSGPACK_OBJECT_STR)
		return (-1);
	return (record_key_find(key->via.str.ptr, key->via.str.size, from));
}

/* record_key_find(), for fields.c and http-json.c. */
int
record_field_index(const char *p, size_t len, int from)
{
	return (record_key_find(p, len, from));
}

const char *
record_field_name(int i)
{
	return (i >= 0 && i < RECORD_NKEYS ? record_keys[i].name : NULL);
}

static int
record_unknown(const msgpack_object *key, struct aerr *err)
{
	char	q[80];

	if (key->type != MSGPACK_OBJECT_STR) {
		aerr_set(err, AERR_INVALID, "field names must be strings");
		return (-1);
	}
	mp_quote(key, q, sizeof q);
	aerr_set(err, AERR_INVALID, "unknown field \"%s\"", q);
	return (-1);
}

/*
 * attrs are checked on every put, so their error messages are built only
 * when there is an error, inside out: the innermost check says ": reason",
 * each level above puts its key or index in front, and record_attrs()
 * puts "attrs" before it all.  A very deep path loses its middle ("..")
 * rather than its reason.
 */
static void
record_attrs_path(struct aerr *err, const char *part)
{
	if (strlen(err->msg) + strlen(part) > RECORD_PATH_MAX) {
		if (strncmp(err->msg, "..", 2) != 0)
			aerr_prefix(err, "..");
		return;
	}
	aerr_prefix(err, "%s", part);
}

/* Check a string inside attrs: the rules of every string in a record. */
static int
record_attrs_str(const msgpack_object *obj, const char *what,
    struct aerr *err)
{
	const char	*p = obj->via.str.ptr;
	size_t		 len = obj->via.str.size;

	if (len != 0 && memchr(p, '\0', len) != NULL) {
		aerr_set(err, AERR_INVALID, ": %scontains a NUL byte", what);
		return (-1);
	}
	if (!utf8_valid(p, len)) {
		aerr_set(err, AERR_INVALID, ": %sinvalid UTF-8", what);
		return (-1);
	}
	return (0);
}

/* Check a map inside attrs, at a nesting depth of depth. */
static int
record_attrs_map(const msgpack_object *obj, int depth, struct aerr *err)
{
	const msgpack_object_kv	*kv;
	uint32_t		 i;
	char			 q[80], part[84];

	for (i = 0; i < obj->via.map.size; i++) {
		kv = &obj->via.map.ptr[i];
		if (kv->key.type != MSGPACK_OBJECT_STR) {
			aerr_set(err, AERR_INVALID, ": keys must be strings");
			return (-1);
		}
		if (record_attrs_str(&kv->key, "key ", err) != 0)
			return (-1);
		if (record_attrs_value(&kv->val, depth, err) != 0) {
			mp_quote(&kv->key, q, sizeof q);
			snprintf(part, sizeof part, ".%s", q);
			record_attrs_path(err, part);
			return (-1);
		}
	}
	return (0);
}

/* Check one value inside attrs, at a nesting depth of depth. */
static int
record_attrs_value(const msgpack_object *obj, int depth, struct aerr *err)
{
	uint32_t	i;
	char		part[16];

	switch (obj->type) {
	case MSGPACK_OBJECT_NIL:
	case MSGPACK_OBJECT_BOOLEAN:
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return (0);
	case MSGPACK_OBJECT_STR:
		return (record_attrs_str(obj, "", err));
	case MSGPACK_OBJECT_BIN:
		aerr_set(err, AERR_INVALID, ": bin is not allowed");
		return (-1);
	case MSGPACK_OBJECT_EXT:
		aerr_set(err, AERR_INVALID, ": ext is not allowed");
		return (-1);
	default:
		break;
	}

	/*
	 * The frame check bounds nesting already; this keeps the recursion
	 * bounded for objects that did not come from a frame.
	 */
	if (++depth > PROTO_MAX_DEPTH) {
		aerr_set(err, AERR_INVALID, ": nesting deeper than %d",
		    PROTO_MAX_DEPTH);
		return (-1);
	}
	if (obj->type == MSGPACK_OBJECT_MAP)
		return (record_attrs_map(obj, depth, err));
	for (i = 0; i < obj->via.array.size; i++) {
		if (record_attrs_value(&obj->via.array.ptr[i], depth,
		    err) != 0) {
			snprintf(part, sizeof part, "[%" PRIu32 "]", i);
			record_attrs_path(err, part);
			return (-1);
		}
	}
	return (0);
}

/* Check attrs and keep them packed; an empty map is no attrs. */
static int
record_attrs(const msgpack_object *obj, struct event *ev, struct aerr *err)
{
	msgpack_sbuffer		sbuf;
	msgpack_packer		pk;

	if (obj->type != MSGPACK_OBJECT_MAP) {
		aerr_set(err, AERR_INVALID, "attrs: must be a map");
		return (-1);
	}
	if (record_attrs_map(obj, 1, err) != 0) {
		aerr_prefix(err, "attrs");
		return (-1);
	}
	if (obj->via.map.size == 0)
		return (0);

	msgpack_sbuffer_init(&sbuf);
	msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
	if (msgpack_pack_object(&pk, *obj) != 0) {
		msgpack_sbuffer_destroy(&sbuf);
		aerr_set(err, AERR_NOMEM, "out of memory");
		return (-1);
	}
	if (sbuf.size > EVENT_MAX_ATTRS) {
		aerr_set(err, AERR_INVALID, "attrs: %zu bytes exceeds limit %u",
		    sbuf.size, EVENT_MAX_ATTRS);
		msgpack_sbuffer_destroy(&sbuf);
		return (-1);
	}
	ev->attrs_len = sbuf.size;
	ev->attrs = (unsigned char *)msgpack_sbuffer_release(&sbuf);
	return (0);
}

/*
 * Check what the fields alone cannot show and derive ev->span from start
 * and end.  Also for events built in C, before they are packed.
 */
int
record_validate(struct event *ev, struct aerr *err)
{
	if (ev->start == NULL) {
		aerr_set(err, AERR_INVALID, "start: required");
		return (-1);
	}
	if (ev->source != NULL && ev->key == NULL) {
		aerr_set(err, AERR_INVALID, "key: required with source");
		return (-1);
	}
	if (ev->key != NULL && ev->source == NULL) {
		aerr_set(err, AERR_INVALID, "source: required with key");
		return (-1);
	}
	return (date_event_span(ev->start, ev->end, &ev->span, err));
}

/*
 * Records in the daemon's replies.  The daemon stores a record only
 * after record_decode() accepted it, so a client reading it back checks
 * what keeps it memory-safe and its view of the record truthful, and
 * trusts the rest.  Checked: every type, length, count and EVENT_MAX_*
 * limit, and the rules a C caller relies on (start given, names and
 * list entries not empty, no NUL inside a string, source with key,
 * coordinates in range).  Trusted: UTF-8, the dates (no span is
 * derived) and what attrs hold (their bytes are found, not walked for
 * content).  Whatever record_decode() accepts, record_view() accepts
 * with the same values, but attrs are the bytes the daemon sent: the
 * same as record_decode() re-packs them to when they were packed
 * shortest, as the daemon does (else their limit is on the longer
 * bytes).
 */

static int	view_fail(struct aerr *, const char *, int64_t, const char *,
		    ...) __attribute__((format(printf, 4, 5), cold));

/* Fail with "field: reason", or "field[i]: reason" when i >= 0. */
static int
view_fail(struct aerr *err, const char *field, int64_t i, const char *fmt,
    ...)
{
	char	msg[sizeof err->msg];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (i >= 0)
		aerr_set(err, AERR_INVALID, "%s[%" PRId64 "]: %s", field, i,
		    msg);
	else
		aerr_set(err, AERR_INVALID, "%s: %s", field, msg);
	return (-1);
}

/* The entry count of the packed map at p (len bytes), or -1. */
static int64_t
record_packed_map_size(const unsigned char *p, size_t len)
{
	if (len >= 1 && p[0] >= 0x80 && p[0] <= 0x8f)
		return (p[0] & 0x0f);
	if (len >= 3 && p[0] == 0xde)
		return ((int64_t)p[1] << 8 | p[2]);
	if (len >= 5 && p[0] == 0xdf)
		return ((int64_t)p[1] << 24 | (int64_t)p[2] << 16 |
		    (int64_t)p[3] << 8 | p[4]);
	return (-1);
}

/* A string of at most max bytes; not empty if nonempty. */
static inline int
view_str(const msgpack_object *o, const char *field, int64_t i, size_t max,
    int nonempty, struct record_str *out, struct record_view *v,
    struct aerr *err)
{
	size_t	len;

	if (o->type != MSGPACK_OBJECT_STR)
		return (view_fail(err, field, i, "must be a string"));
	len = o->via.str.size;
	if (len > max)
		return (view_fail(err, field, i, "%zu bytes exceeds limit %zu",
		    len, max));
	if (len == 0 && nonempty)
		return (view_fail(err, field, i, "must not be empty"));
	/* Issue #14: an empty value is an absent one, in every field. */
	if (len == 0)
		return (0);
	/* A C string would end at the NUL and hide the rest. */
	if (memchr(o->via.str.ptr, '\0', len) != NULL)
		return (view_fail(err, field, i, "contains a NUL byte"));
	out->ptr = o->via.str.ptr;
	out->len = len;
	v->str_bytes += len + 1;
	return (0);
}

/* An unsigned integer, as mp_uint() reads it. */
static int
view_uint(const msgpack_object *o, const char *field, uint64_t *out,
    struct aerr *err)
{
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		*out = o->via.u64;
		return (0);
	}
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return (view_fail(err, field, -1, "%" PRId64 " is negative",
		    o->via.i64));
	return (view_fail(err, field, -1, "must be an unsigned integer"));
}

/* Whether key is the str name of len bytes. */
static int
view_key_is(const msgpack_object *key, const char *name, size_t len)
{
	return (key->type == MSGPACK_OBJECT_STR && key->via.str.size == len &&
	    memcmp(key->via.str.ptr, name, len) == 0);
}

/* The entries of an actor map, as record_actor() takes them. */
static int
view_actor_map(const msgpack_object *o, const msgpack_object **name,
    struct record_str *role, struct record_view *v, struct aerr *err)
{
	const msgpack_object_kv	*kv;
	uint32_t		 j;

	for (j = 0; j < o->via.map.size; j++) {
		kv = &o->via.map.ptr[j];
		if (kv->val.type == MSGPACK_OBJECT_NIL)
			continue;
		if (view_key_is(&kv->key, "name", 4) && *name == NULL)
			*name = &kv->val;
		else if (view_key_is(&kv->key, "role", 4) &&
		    role->ptr == NULL) {
			/* An empty role is no role: view_str() leaves it out. */
			if (view_str(&kv->val, "role", -1, EVENT_MAX_ROLE, 0,
			    role, v, err) != 0)
				return (-1);
		} else if (view_key_is(&kv->key, "name", 4) ||
		    view_key_is(&kv->key, "role", 4)) {
			aerr_set(err, AERR_INVALID, "duplicate field \"%.*s\"",
			    (int)kv->key.via.str.size, kv->key.via.str.ptr);
			return (-1);
		} else
			return (record_unknown(&kv->key, err));
	}
	if (*name == NULL) {
		aerr_set(err, AERR_INVALID, "name: required");
		return (-1);
	}
	return (0);
}

/* Actor i: "NAME" or {"name": "NAME", "role": "ROLE"}. */
static int
view_actor(const msgpack_object *o, uint32_t i, struct record_view *v,
    struct aerr *err)
{
	const msgpack_object	*name = NULL;
	struct record_str	*role = &v->actors[i].role;

	role->ptr = NULL;
	role->len = 0;
	if (o->type == MSGPACK_OBJECT_STR)
		name = o;
	else if (o->type != MSGPACK_OBJECT_MAP)
		return (view_fail(err, "actors", i, "must be a string or a "
		    "map"));
	else if (view_actor_map(o, &name, role, v, err) != 0)
		goto fail;
	if (view_str(name, "name", -1, EVENT_MAX_ACTOR, 1, &v->actors[i].name,
	    v, err) != 0)
		goto fail;
	return (0);

fail:
	aerr_prefix(err, "actors[%" PRIu32 "]: ", i);
	return (-1);
}

static int
view_actors(const msgpack_object *o, struct record_view *v, struct aerr *err)
{
	uint32_t	i, n;

	if (o->type != MSGPACK_OBJECT_ARRAY)
		return (view_fail(err, "actors", -1, "must be an array"));
	n = o->via.array.size;
	if (n == 0)
		return (view_fail(err, "actors", -1, "0 given, at least 1 "
		    "required"));
	if (n > EVENT_MAX_ACTORS)
		return (view_fail(err, "actors", -1, "%" PRIu32 " given, at "
		    "most %d allowed", n, EVENT_MAX_ACTORS));
	for (i = 0; i < n; i++) {
		if (view_actor(&o->via.array.ptr[i], i, v, err) != 0)
			return (-1);
	}
	v->nactors = n;
	return (0);
}

/* urls or tags: non-empty strings; an empty list is none. */
static int
view_list(const msgpack_object *o, const char *field, size_t max,
    const msgpack_object **list, uint32_t *count, struct record_view *v,
    struct aerr *err)
{
	struct record_str	s;
	uint32_t		i, n;

	if (o->type != MSGPACK_OBJECT_ARRAY)
		return (view_fail(err, field, -1, "must be an array"));
	n = o->via.array.size;
	if (n > EVENT_MAX_LIST)
		return (view_fail(err, field, -1, "%" PRIu32 " given, at most "
		    "%d allowed", n, EVENT_MAX_LIST));
	for (i = 0; i < n; i++) {
		if (view_str(&o->via.array.ptr[i], field, i, max, 1, &s, v,
		    err) != 0)
			return (-1);
	}
	*list = n != 0 ? o->via.array.ptr : NULL;
	*count = n;
	return (0);
}

/* A coordinate, as record_coord(). */
static int
view_coord(const msgpack_object *o, const char *field, double limit,
    double *out, int *has, struct aerr *err)
{
	if (mp_double(o, field, out, err) != 0)
		return (-1);
	if (!(*out >= -limit && *out <= limit))
		return (view_fail(err, field, -1, "%g is not in [%g, %g]", *out,
		    -limit, limit));
	*has = 1;
	return (0);
}

static int
view_place(const msgpack_object *o, struct record_view *v, struct aerr *err)
{
	const msgpack_object_kv	*kv;
	const msgpack_object	*k;
	uint32_t		 i;
	int			 rc;

	if (o->type != MSGPACK_OBJECT_MAP) {
		aerr_set(err, AERR_INVALID, "must be a map");
		return (-1);
	}
	for (i = 0; i < o->via.map.size; i++) {
		kv = &o->via.map.ptr[i];
		k = &kv->key;
		if (kv->val.type == MSGPACK_OBJECT_NIL)
			continue;
		if (view_key_is(k, "name", 4) && v->place_name.ptr == NULL)
			rc = view_str(&kv->val, "name", -1, EVENT_MAX_TEXT, 0,
			    &v->place_name, v, err);
		else if (view_key_is(k, "country", 7) &&
		    v->place_country.ptr == NULL)
			rc = view_str(&kv->val, "country", -1, EVENT_MAX_TEXT,
			    0, &v->place_country, v, err);
		else if (view_key_is(k, "lat", 3) && !v->has_lat)
			rc = view_coord(&kv->val, "lat", 90, &v->lat,
			    &v->has_lat, err);
		else if (view_key_is(k, "lon", 3) && !v->has_lon)
			rc = view_coord(&kv->val, "lon", 180, &v->lon,
			    &v->has_lon, err);
		else if (view_key_is(k, "name", 4) ||
		    view_key_is(k, "country", 7) || view_key_is(k, "lat", 3) ||
		    view_key_is(k, "lon", 3)) {
			aerr_set(err, AERR_INVALID, "duplicate field \"%.*s\"",
			    (int)k->via.str.size, k->via.str.ptr);
			return (-1);
		} else
			return (record_unknown(k, err));
		if (rc != 0)
			return (-1);
	}
	return (0);
}

/* The offset in frame (len bytes) just past s's bytes, or 0. */
static size_t
view_past(const char *s, size_t size, const unsigned char *frame,
    size_t len)
{
	uintptr_t	p = (uintptr_t)s, f = (uintptr_t)frame;

	if (s == NULL || size == 0 || p < f || p - f > len ||
	    size > len - (p - f))
		return (0);
	return ((size_t)(p - f) + size);
}

/*
 * Where the bytes of o, unpacked from frame (len bytes), end: where
 * those of its last leaf do, found from the objects since strings point
 * into the frame (STYLE P18).  A str, bin or ext with bytes ends with
 * them; another leaf that is a map's value starts where its key's bytes
 * end and is one scalar or empty container, read where it starts.  0
 * when the objects do not tell (a last leaf in an array without bytes of
 * its own).
 */
static size_t
view_end(const msgpack_object *o, const unsigned char *frame, size_t len)
{
	const msgpack_object	*key = NULL;
	struct aerr		 e;
	size_t			 off, n;

	for (;;) {
		if (o->type == MSGPACK_OBJECT_MAP && o->via.map.size != 0) {
			key = &o->via.map.ptr[o->via.map.size - 1].key;
			o = &o->via.map.ptr[o->via.map.size - 1].val;
		} else if (o->type == MSGPACK_OBJECT_ARRAY &&
		    o->via.array.size != 0) {
			key = NULL;
			o = &o->via.array.ptr[o->via.array.size - 1];
		} else
			break;
	}
	if ((o->type == MSGPACK_OBJECT_STR || o->type == MSGPACK_OBJECT_BIN) &&
	    o->via.str.size != 0)
		return (view_past(o->via.str.ptr, o->via.str.size, frame, len));
	if (o->type == MSGPACK_OBJECT_EXT && o->via.ext.size != 0)
		return (view_past(o->via.ext.ptr, o->via.ext.size, frame, len));
	if (key == NULL || key->type != MSGPACK_OBJECT_STR ||
	    (off = view_past(key->via.str.ptr, key->via.str.size, frame,
	    len)) == 0 || off == len ||
	    frame_object(frame + off, len - off, &n, &e) != 0)
		return (0);
	return (off + n);
}

/*
 * attrs: find the packed map in the frame and hand out its bytes.  A
 * map's value follows its key, and msgpack-c's str objects point into
 * the buffer they were unpacked from (STYLE P18), so the map starts
 * where the key's bytes end.  It ends where its last leaf does
 * (view_end()), so the bytes the frame check walked already are not
 * walked again.  The key and that end must lie in the frame and the
 * bytes must start with a map header of the object's count; when the end
 * is not known, the bytes after the key must be one map of as many
 * entries.
 */
static int
view_attrs(const msgpack_object *key, const msgpack_object *o,
    const unsigned char *frame, size_t len, int decoding,
    struct record_view *v, struct aerr *err)
{
	struct aerr	e;
	uintptr_t	k, f;
	size_t		off, n, end;

	if (o->type != MSGPACK_OBJECT_MAP)
		return (view_fail(err, "attrs", -1, "must be a map"));
	if (o->via.map.size == 0)
		return (0);
	/* record_decode() walks and re-packs the object itself. */
	if (decoding) {
		v->attrs_obj = o;
		return (0);
	}
	k = (uintptr_t)key->via.str.ptr;
	f = (uintptr_t)frame;
	if (frame == NULL || k < f || k - f > len ||
	    key->via.str.size > len - (k - f))
		return (view_fail(err, "attrs", -1, "not in the frame"));
	off = (size_t)(k - f) + key->via.str.size;
	if (off == len)
		return (view_fail(err, "attrs", -1, "not in the frame"));
	if ((end = view_end(o, frame, len)) > off)
		n = end - off;
	else if (frame_object(frame + off, len - off, &n, &e) != 0)
		return (view_fail(err, "attrs", -1, "not in the frame"));
	if (record_packed_map_size(frame + off, n) != (int64_t)o->via.map.size)
		return (view_fail(err, "attrs", -1, "not in the frame"));
	if (n > EVENT_MAX_ATTRS)
		return (view_fail(err, "attrs", -1, "%zu bytes exceeds limit "
		    "%u", n, EVENT_MAX_ATTRS));
	v->attrs = frame + off;
	v->attrs_len = n;
	return (0);
}

static int
view_field(int idx, const msgpack_object_kv *kv, const unsigned char *frame,
    size_t len, int decoding, struct record_view *v, struct aerr *err)
{
	const msgpack_object	*o = &kv->val;

	switch (idx) {
	case RECORD_ID:
		if (view_uint(o, "id", &v->id, err) != 0)
			return (-1);
		if (v->id == 0)
			return (view_fail(err, "id", -1, "0 is not an event "
			    "id"));
		return (0);
	case RECORD_REV:
		return (view_uint(o, "rev", &v->rev, err));
	case RECORD_CREATED:
		return (view_uint(o, "created", &v->created, err));
	case RECORD_UPDATED:
		return (view_uint(o, "updated", &v->updated, err));
	case RECORD_SOURCE:
		return (view_str(o, "source", -1, EVENT_MAX_SOURCE, 1,
		    &v->source, v, err));
	case RECORD_KEY:
		return (view_str(o, "key", -1, EVENT_MAX_KEY, 1, &v->key, v,
		    err));
	case RECORD_START:
		return (view_str(o, "start", -1, EVENT_MAX_DATE, 1, &v->start,
		    v, err));
	case RECORD_END:
		return (view_str(o, "end", -1, EVENT_MAX_DATE, 0, &v->end, v,
		    err));
	case RECORD_ACTORS:
		return (view_actors(o, v, err));
	case RECORD_TYPE:
		return (view_str(o, "type", -1, EVENT_MAX_TYPE, 0, &v->type, v,
		    err));
	case RECORD_TITLE:
		return (view_str(o, "title", -1, EVENT_MAX_TEXT, 0, &v->title,
		    v, err));
	case RECORD_TEXT:
		return (view_str(o, "text", -1, EVENT_MAX_TEXT, 0, &v->text, v,
		    err));
	case RECORD_PLACE:
		if (view_place(o, v, err) != 0) {
			aerr_prefix(err, "place: ");
			return (-1);
		}
		return (0);
	case RECORD_URLS:
		return (view_list(o, "urls", EVENT_MAX_TEXT, &v->urls,
		    &v->nurls, v, err));
	case RECORD_TAGS:
		return (view_list(o, "tags", EVENT_MAX_TAG, &v->tags,
		    &v->ntags, v, err));
	case RECORD_ATTRS:
		return (view_attrs(&kv->key, o, frame, len, decoding, v, err));
	}
	aerr_set(err, AERR_INTERNAL, "record field %d has no view", idx);
	return (-1);
}

/*
 * Take a record apart into v, checking its shape: what record_view()
 * checks.  For record_decode() (decoding), attrs are left as an object
 * (attrs_obj), not found in a frame.  fields (RECORD_FIELDS_ALL but for
 * a projected reply) says which keys the record was asked for: a key
 * that was not asked for is not required.  On failure err says why,
 * with AERR_INVALID.
 */
static int
record_shape(const msgpack_object *obj, const unsigned char *frame,
    size_t len, int decoding, uint32_t fields, struct record_view *v,
    struct aerr *err)
{
	const msgpack_object_kv	*kv;
	uint32_t		 i, seen = 0;
	int			 idx = -1;

	memset(v, 0, offsetof(struct record_view, actors));
	if (obj->type != MSGPACK_OBJECT_MAP) {
		aerr_set(err, AERR_INVALID, "record must be a map");
		return (-1);
	}
	for (i = 0; i < obj->via.map.size; i++) {
		kv = &obj->via.map.ptr[i];
		if ((idx = record_key_index(&kv->key, idx + 1)) == -1)
			return (record_unknown(&kv->key, err));
		if (seen & (1u << idx)) {
			aerr_set(err, AERR_INVALID, "duplicate field \"%s\"",
			    record_keys[idx].name);
			return (-1);
		}
		seen |= 1u << idx;
		if (kv->val.type == MSGPACK_OBJECT_NIL)
			continue;
		if (view_field(idx, kv, frame, len, decoding, v, err) != 0)
			return (-1);
	}
	if (v->start.ptr == NULL && (fields & RECORD_FIELD(RECORD_START))) {
		aerr_set(err, AERR_INVALID, "start: required");
		return (-1);
	}
	if ((v->source.ptr == NULL) != (v->key.ptr == NULL) &&
	    (fields & RECORD_FIELD(RECORD_SOURCE)) &&
	    (fields & RECORD_FIELD(RECORD_KEY))) {
		aerr_set(err, AERR_INVALID, "%s: required with %s",
		    v->key.ptr == NULL ? "key" : "source",
		    v->key.ptr == NULL ? "source" : "key");
		return (-1);
	}
	return (0);
}

/*
 * Take a record of a reply apart into v, checking its shape only (see
 * above).  obj must have been unpacked from frame, len bytes, by
 * msgpack_unpack_next(); every pointer in v points into frame.  fields
 * is what the request asked for (RECORD_FIELDS_ALL: whole records).  On
 * failure err has AERR_PROTOCOL and a message naming the field, and v
 * holds nothing to free.
 */
int
record_view_fields(const msgpack_object *obj, const unsigned char *frame,
    size_t len, uint32_t fields, struct record_view *v, struct aerr *err)
{
	if (record_shape(obj, frame, len, 0, fields, v, err) == 0)
		return (0);
	/* A bad reply is the daemon's fault, not the caller's. */
	if (err->code != AERR_NOMEM)
		err->code = AERR_PROTOCOL;
	return (-1);
}

/* One string of a view as a C string, in place (see below). */
static void
record_terminate(const struct record_str *s, unsigned char *frame)
{
	const unsigned char	*p = (const unsigned char *)s->ptr;

	if (p != NULL)
		frame[(p - frame) + s->len] = '\0';
}

/*
 * Make every string of v, a view of a record in frame, a C string in
 * place, so that a client hands out views into its reply rather than
 * copies.  frame must have one spare byte past the len given to
 * record_view().  The byte after a string is the first of the next
 * object (a key, an array's next entry, whatever follows the record) or
 * that spare byte: msgpack_unpack_next() read it before, nothing reads
 * it after, and it is never inside attrs, whose bytes start after their
 * key and are handed out as they are.  Strings inside attrs are not
 * touched.
 */
void
record_view_terminate(const struct record_view *v, unsigned char *frame)
{
	uint32_t	i;

	record_terminate(&v->source, frame);
	record_terminate(&v->key, frame);
	record_terminate(&v->start, frame);
	record_terminate(&v->end, frame);
	record_terminate(&v->type, frame);
	record_terminate(&v->title, frame);
	record_terminate(&v->text, frame);
	record_terminate(&v->place_name, frame);
	record_terminate(&v->place_country, frame);
	for (i = 0; i < v->nactors; i++) {
		record_terminate(&v->actors[i].name, frame);
		record_terminate(&v->actors[i].role, frame);
	}
	for (i = 0; i < v->nurls; i++)
		frame[(const unsigned char *)v->urls[i].via.str.ptr - frame +
		    v->urls[i].via.str.size] = '\0';
	for (i = 0; i < v->ntags; i++)
		frame[(const unsigned char *)v->tags[i].via.str.ptr - frame +
		    v->tags[i].via.str.size] = '\0';
}

int
record_view(const msgpack_object *obj, const unsigned char *frame,
    size_t len, struct record_view *v, struct aerr *err)
{
	return (record_view_fields(obj, frame, len, RECORD_FIELDS_ALL, v,
	    err));
}

/* Copy a string the shape check found, checking that it is UTF-8. */
static int
record_copy(const struct record_str *s, const char *field, int64_t i,
    char **out, struct aerr *err)
{
	if (s->ptr == NULL)
		return (0);
	if (!utf8_valid(s->ptr, s->len))
		return (view_fail(err, field, i, "invalid UTF-8"));
	if ((*out = malloc(s->len + 1)) == NULL) {
		aerr_set(err, AERR_NOMEM, "out of memory");
		return (-1);
	}
	memcpy(*out, s->ptr, s->len);
	(*out)[s->len] = '\0';
	return (0);
}

static int
record_copy_list(const msgpack_object *list, uint32_t n, const char *field,
    char ***out, uint32_t *count, struct aerr *err)
{
	struct record_str	s;
	uint32_t		i;

	if (n == 0)
		return (0);
	if ((*out = calloc(n, sizeof **out)) == NULL) {
		aerr_set(err, AERR_NOMEM, "out of memory");
		return (-1);
	}
	*count = n;
	for (i = 0; i < n; i++) {
		s.ptr = list[i].via.str.ptr;
		s.len = list[i].via.str.size;
		if (record_copy(&s, field, i, &(*out)[i], err) != 0)
			return (-1);
	}
	return (0);
}

static int
record_copy_actors(const struct record_view *v, struct event *ev,
    struct aerr *err)
{
	uint32_t	i;

	if ((ev->actors = calloc(v->nactors, sizeof *ev->actors)) == NULL) {
		aerr_set(err, AERR_NOMEM, "out of memory");
		return (-1);
	}
	ev->nactors = v->nactors;
	for (i = 0; i < v->nactors; i++) {
		if (record_copy(&v->actors[i].name, "name", -1,
		    &ev->actors[i].name, err) != 0 ||
		    record_copy(&v->actors[i].role, "role", -1,
		    &ev->actors[i].role, err) != 0) {
			aerr_prefix(err, "actors[%" PRIu32 "]: ", i);
			return (-1);
		}
	}
	return (0);
}

/*
 * Decode a record map into ev, which is overwritten; on success the
 * caller owns ev and frees it with record_clear(), on failure ev is
 * left cleared.  A field given as nil counts as absent.  The shape is
 * checked as for a reply (record_shape()); then what a stored record
 * must also be: UTF-8 strings, attrs of allowed values only, dates that
 * parse.  A new record (strict) must also have actors, which is checked
 * last.
 */
static int
record_decode_any(const msgpack_object *obj, int strict, struct event *ev,
    struct aerr *err)
{
	struct record_view	v;

	memset(ev, 0, sizeof *ev);
	if (record_shape(obj, NULL, 0, 1, RECORD_FIELDS_ALL, &v, err) != 0)
		return (-1);
	ev->id = v.id;
	ev->rev = v.rev;
	ev->created = v.created;
	ev->updated = v.updated;
	ev->place.lat = v.lat;
	ev->place.lon = v.lon;
	ev->place.has_lat = v.has_lat;
	ev->place.has_lon = v.has_lon;
	if (record_copy(&v.source, "source", -1, &ev->source, err) != 0 ||
	    record_copy(&v.key, "key", -1, &ev->key, err) != 0 ||
	    record_copy(&v.start, "start", -1, &ev->start, err) != 0 ||
	    record_copy(&v.end, "end", -1, &ev->end, err) != 0 ||
	    record_copy_actors(&v, ev, err) != 0 ||
	    record_copy(&v.type, "type", -1, &ev->type, err) != 0 ||
	    record_copy(&v.title, "title", -1, &ev->title, err) != 0 ||
	    record_copy(&v.text, "text", -1, &ev->text, err) != 0 ||
	    record_copy(&v.place_name, "place: name", -1, &ev->place.name,
	    err) != 0 ||
	    record_copy(&v.place_country, "place: country", -1,
	    &ev->place.country, err) != 0 ||
	    record_copy_list(v.urls, v.nurls, "urls", &ev->urls, &ev->nurls,
	    err) != 0 ||
	    record_copy_list(v.tags, v.ntags, "tags", &ev->tags, &ev->ntags,
	    err) != 0 ||
	    (v.attrs_obj != NULL && record_attrs(v.attrs_obj, ev, err) != 0) ||
	    record_validate(ev, err) != 0) {
		record_clear(ev);
		return (-1);
	}
	/* Last, so that a record with other faults is told about those. */
	if (strict && ev->nactors == 0) {
		record_clear(ev);
		aerr_set(err, AERR_INVALID, "actors: required");
		return (-1);
	}
	return (0);
}

/* Decode a record a client sends, to be stored: see above. */
int
record_decode(const msgpack_object *obj, struct event *ev, struct aerr *err)
{
	return (record_decode_any(obj, 1, ev, err));
}

/*
 * Decode a stored record.  Daemons before issue #14 stored records
 * without actors; they stay readable, and a put replacing them needs
 * actors like any other.
 */
int
record_decode_stored(const msgpack_object *obj, struct event *ev,
    struct aerr *err)
{
	return (record_decode_any(obj, 0, ev, err));
}

static void
record_pack_strs(msgpack_packer *pk, const char *key, char **list,
    uint32_t n)
{
	uint32_t	i;

	mp_pack_str(pk, key);
	msgpack_pack_array(pk, n);
	for (i = 0; i < n; i++)
		mp_pack_str(pk, list[i]);
}

static void
record_pack_place(msgpack_packer *pk, const struct place *p)
{
	uint32_t	n;

	n = (p->name != NULL) + (p->country != NULL) + (p->has_lat != 0) +
	    (p->has_lon != 0);
	mp_pack_str(pk, "place");
	msgpack_pack_map(pk, n);
	if (p->name != NULL)
		mp_pack_kv_str(pk, "name", p->name);
	if (p->country != NULL)
		mp_pack_kv_str(pk, "country", p->country);
	if (p->has_lat) {
		mp_pack_str(pk, "lat");
		msgpack_pack_double(pk, p->lat);
	}
	if (p->has_lon) {
		mp_pack_str(pk, "lon");
		msgpack_pack_double(pk, p->lon);
	}
}

/* Pack ev as a record map: its present fields in the documented order. */
void
record_pack(msgpack_packer *pk, const struct event *ev)
{
	const struct place	*p = &ev->place;
	const struct actor	*a;
	uint32_t		 n, i;
	int			 has_place;

	has_place = p->name != NULL || p->country != NULL || p->has_lat ||
	    p->has_lon;
	n = (ev->id != 0) * 4 + (ev->id == 0 && ev->rev != 0) +
	    (ev->source != NULL) + (ev->key != NULL) +
	    (ev->start != NULL) + (ev->end != NULL) + (ev->nactors != 0) +
	    (ev->type != NULL) + (ev->title != NULL) + (ev->text != NULL) +
	    has_place + (ev->nurls != 0) + (ev->ntags != 0) +
	    (ev->attrs != NULL);
	msgpack_pack_map(pk, n);

	if (ev->id != 0) {
		mp_pack_kv_uint(pk, "id", ev->id);
		mp_pack_kv_uint(pk, "rev", ev->rev);
		mp_pack_kv_uint(pk, "created", ev->created);
		mp_pack_kv_uint(pk, "updated", ev->updated);
	} else if (ev->rev != 0)
		/* A conditional put's rev, for a record named by its key. */
		mp_pack_kv_uint(pk, "rev", ev->rev);
	if (ev->source != NULL)
		mp_pack_kv_str(pk, "source", ev->source);
	if (ev->key != NULL)
		mp_pack_kv_str(pk, "key", ev->key);
	if (ev->start != NULL)
		mp_pack_kv_str(pk, "start", ev->start);
	if (ev->end != NULL)
		mp_pack_kv_str(pk, "end", ev->end);
	if (ev->nactors != 0) {
		mp_pack_str(pk, "actors");
		msgpack_pack_array(pk, ev->nactors);
		for (i = 0; i < ev->nactors; i++) {
			a = &ev->actors[i];
			msgpack_pack_map(pk, a->role != NULL ? 2 : 1);
			mp_pack_kv_str(pk, "name", a->name);
			if (a->role != NULL)
				mp_pack_kv_str(pk, "role", a->role);
		}
	}
	if (ev->type != NULL)
		mp_pack_kv_str(pk, "type", ev->type);
	if (ev->title != NULL)
		mp_pack_kv_str(pk, "title", ev->title);
	if (ev->text != NULL)
		mp_pack_kv_str(pk, "text", ev->text);
	if (has_place)
		record_pack_place(pk, p);
	if (ev->nurls != 0)
		record_pack_strs(pk, "urls", ev->urls, ev->nurls);
	if (ev->ntags != 0)
		record_pack_strs(pk, "tags", ev->tags, ev->ntags);
	if (ev->attrs != NULL) {
		mp_pack_str(pk, "attrs");
		/* Already packed: append the bytes as they are. */
		pk->callback(pk->data, (const char *)ev->attrs, ev->attrs_len);
	}
}

/* Free everything ev owns and zero it; safe to call again. */
void
record_clear(struct event *ev)
{
	uint32_t	i;

	free(ev->source);
	free(ev->key);
	free(ev->start);
	free(ev->end);
	for (i = 0; i < ev->nactors; i++) {
		free(ev->actors[i].name);
		free(ev->actors[i].role);
	}
	free(ev->actors);
	free(ev->type);
	free(ev->title);
	free(ev->text);
	free(ev->place.name);
	free(ev->place.country);
	for (i = 0; i < ev->nurls; i++)
		free(ev->urls[i]);
	free(ev->urls);
	for (i = 0; i < ev->ntags; i++)
		free(ev->tags[i]);
	free(ev->tags);
	free(ev->attrs);
	memset(ev, 0, sizeof *ev);
}

/*
 * Whether ev has an actor named exactly name (len bytes, no NUL needed)
 * and, when role is not NULL, with that role.  Prefix matching is the
 * caller's business.
 */
int
record_has_actor(const struct event *ev, const char *name, size_t len,
    const char *role)
{
	const struct actor	*a;
	uint32_t		 i;

	for (i = 0; i < ev->nactors; i++) {
		a = &ev->actors[i];
		if (strlen(a->name) != len || memcmp(a->name, name, len) != 0)
			continue;
		if (role != NULL &&
		    (a->role == NULL || strcmp(a->role, role) != 0))
			continue;
		return (1);
	}
	return (0);
}
