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
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#define RECORD_PATH_MAX	160	/* of an attrs error message */

/* The record's keys, in the order record_pack() writes them. */
static const char *record_keys[] = {
	"id", "rev", "created", "updated", "source", "key", "start", "end",
	"actors", "type", "title", "text", "place", "urls", "tags", "attrs"
};
enum {
	RECORD_ID, RECORD_REV, RECORD_CREATED, RECORD_UPDATED, RECORD_SOURCE,
	RECORD_KEY, RECORD_START, RECORD_END, RECORD_ACTORS, RECORD_TYPE,
	RECORD_TITLE, RECORD_TEXT, RECORD_PLACE, RECORD_URLS, RECORD_TAGS,
	RECORD_ATTRS, RECORD_NKEYS
};

static int	record_attrs_value(const msgpack_object *, int, struct aerr *);

/* The index of a record key, or -1. */
static int
record_key_index(const msgpack_object *key)
{
	int	i;

	for (i = 0; i < RECORD_NKEYS; i++) {
		if (mp_key_is(key, record_keys[i]))
			return (i);
	}
	return (-1);
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

/* A string that, when given, may not be empty. */
static int
record_str(const msgpack_object *obj, const char *field, size_t max,
    char **out, struct aerr *err)
{
	if (mp_str(obj, field, max, out, err) != 0)
		return (-1);
	if (**out == '\0') {
		free(*out);
		*out = NULL;
		aerr_set(err, AERR_INVALID, "%s: must not be empty", field);
		return (-1);
	}
	return (0);
}

/* An actor: "NAME" or {"name": "NAME", "role": "ROLE"}. */
static int
record_actor(const msgpack_object *obj, struct actor *a, struct aerr *err)
{
	const msgpack_object_kv	*kv;
	const msgpack_object	*name = NULL;
	uint32_t		 i;

	if (obj->type == MSGPACK_OBJECT_STR)
		return (record_str(obj, "name", EVENT_MAX_ACTOR, &a->name,
		    err));
	if (obj->type != MSGPACK_OBJECT_MAP) {
		aerr_set(err, AERR_INVALID, "must be a string or a map");
		return (-1);
	}
	for (i = 0; i < obj->via.map.size; i++) {
		kv = &obj->via.map.ptr[i];
		if (kv->val.type == MSGPACK_OBJECT_NIL)
			continue;
		if (mp_key_is(&kv->key, "name") && name == NULL)
			name = &kv->val;
		else if (mp_key_is(&kv->key, "role") && a->role == NULL) {
			if (mp_str(&kv->val, "role", EVENT_MAX_ROLE, &a->role,
			    err) != 0)
				return (-1);
			/* An empty role is no role, as when omitted. */
			if (*a->role == '\0') {
				free(a->role);
				a->role = NULL;
			}
		} else if (mp_key_is(&kv->key, "name") ||
		    mp_key_is(&kv->key, "role")) {
			aerr_set(err, AERR_INVALID, "duplicate field \"%.*s\"",
			    (int)kv->key.via.str.size, kv->key.via.str.ptr);
			return (-1);
		} else
			return (record_unknown(&kv->key, err));
	}
	return (record_str(name, "name", EVENT_MAX_ACTOR, &a->name, err));
}

static int
record_actors(const msgpack_object *obj, struct event *ev, struct aerr *err)
{
	uint32_t	i, n;

	if (obj->type != MSGPACK_OBJECT_ARRAY) {
		aerr_set(err, AERR_INVALID, "actors: must be an array");
		return (-1);
	}
	n = obj->via.array.size;
	if (n == 0) {
		aerr_set(err, AERR_INVALID,
		    "actors: 0 given, at least 1 required");
		return (-1);
	}
	if (n > EVENT_MAX_ACTORS) {
		aerr_set(err, AERR_INVALID, "actors: %" PRIu32 " given, at "
		    "most %d allowed", n, EVENT_MAX_ACTORS);
		return (-1);
	}
	if ((ev->actors = calloc(n, sizeof *ev->actors)) == NULL) {
		aerr_set(err, AERR_NOMEM, "out of memory");
		return (-1);
	}
	ev->nactors = n;
	for (i = 0; i < n; i++) {
		if (record_actor(&obj->via.array.ptr[i], &ev->actors[i],
		    err) != 0) {
			aerr_prefix(err, "actors[%" PRIu32 "]: ", i);
			return (-1);
		}
	}
	return (0);
}

/* A list of non-empty strings: urls or tags; empty means absent. */
static int
record_list(const msgpack_object *obj, const char *field, size_t max,
    char ***list, uint32_t *count, struct aerr *err)
{
	char		name[32];
	uint32_t	i, n;

	if (obj->type != MSGPACK_OBJECT_ARRAY) {
		aerr_set(err, AERR_INVALID, "%s: must be an array", field);
		return (-1);
	}
	n = obj->via.array.size;
	if (n > EVENT_MAX_LIST) {
		aerr_set(err, AERR_INVALID, "%s: %" PRIu32 " given, at most %d "
		    "allowed", field, n, EVENT_MAX_LIST);
		return (-1);
	}
	if (n == 0)
		return (0);
	if ((*list = calloc(n, sizeof **list)) == NULL) {
		aerr_set(err, AERR_NOMEM, "out of memory");
		return (-1);
	}
	*count = n;
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "%s[%" PRIu32 "]", field, i);
		if (record_str(&obj->via.array.ptr[i], name, max, &(*list)[i],
		    err) != 0)
			return (-1);
	}
	return (0);
}

static int
record_coord(const msgpack_object *obj, const char *field, double limit,
    double *out, int *has, struct aerr *err)
{
	if (mp_double(obj, field, out, err) != 0)
		return (-1);
	/* Written so that NaN fails too. */
	if (!(*out >= -limit && *out <= limit)) {
		aerr_set(err, AERR_INVALID, "%s: %g is not in [%g, %g]", field,
		    *out, -limit, limit);
		return (-1);
	}
	*has = 1;
	return (0);
}

static int
record_place(const msgpack_object *obj, struct place *p, struct aerr *err)
{
	const msgpack_object_kv	*kv;
	uint32_t		 i;
	int			 rc;

	if (obj->type != MSGPACK_OBJECT_MAP) {
		aerr_set(err, AERR_INVALID, "must be a map");
		return (-1);
	}
	for (i = 0; i < obj->via.map.size; i++) {
		kv = &obj->via.map.ptr[i];
		if (kv->val.type == MSGPACK_OBJECT_NIL)
			continue;
		if (mp_key_is(&kv->key, "name") && p->name == NULL)
			rc = mp_str(&kv->val, "name", EVENT_MAX_TEXT, &p->name,
			    err);
		else if (mp_key_is(&kv->key, "country") && p->country == NULL)
			rc = mp_str(&kv->val, "country", EVENT_MAX_TEXT,
			    &p->country, err);
		else if (mp_key_is(&kv->key, "lat") && !p->has_lat)
			rc = record_coord(&kv->val, "lat", 90, &p->lat,
			    &p->has_lat, err);
		else if (mp_key_is(&kv->key, "lon") && !p->has_lon)
			rc = record_coord(&kv->val, "lon", 180, &p->lon,
			    &p->has_lon, err);
		else if (mp_key_is(&kv->key, "name") ||
		    mp_key_is(&kv->key, "country") ||
		    mp_key_is(&kv->key, "lat") || mp_key_is(&kv->key, "lon")) {
			aerr_set(err, AERR_INVALID, "duplicate field \"%.*s\"",
			    (int)kv->key.via.str.size, kv->key.via.str.ptr);
			return (-1);
		} else
			return (record_unknown(&kv->key, err));
		if (rc != 0)
			return (-1);
	}
	return (0);
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

static int
record_field(int idx, const msgpack_object *val, struct event *ev,
    struct aerr *err)
{
	switch (idx) {
	case RECORD_ID:
		if (mp_uint(val, "id", &ev->id, err) != 0)
			return (-1);
		if (ev->id == 0) {
			aerr_set(err, AERR_INVALID, "id: 0 is not an event id");
			return (-1);
		}
		return (0);
	case RECORD_REV:
		return (mp_uint(val, "rev", &ev->rev, err));
	case RECORD_CREATED:
		return (mp_uint(val, "created", &ev->created, err));
	case RECORD_UPDATED:
		return (mp_uint(val, "updated", &ev->updated, err));
	case RECORD_SOURCE:
		return (record_str(val, "source", EVENT_MAX_SOURCE, &ev->source,
		    err));
	case RECORD_KEY:
		return (record_str(val, "key", EVENT_MAX_KEY, &ev->key, err));
	case RECORD_START:
		return (mp_str(val, "start", EVENT_MAX_DATE, &ev->start, err));
	case RECORD_END:
		return (mp_str(val, "end", EVENT_MAX_DATE, &ev->end, err));
	case RECORD_ACTORS:
		return (record_actors(val, ev, err));
	case RECORD_TYPE:
		return (mp_str(val, "type", EVENT_MAX_TYPE, &ev->type, err));
	case RECORD_TITLE:
		return (mp_str(val, "title", EVENT_MAX_TEXT, &ev->title, err));
	case RECORD_TEXT:
		return (mp_str(val, "text", EVENT_MAX_TEXT, &ev->text, err));
	case RECORD_PLACE:
		if (record_place(val, &ev->place, err) != 0) {
			aerr_prefix(err, "place: ");
			return (-1);
		}
		return (0);
	case RECORD_URLS:
		return (record_list(val, "urls", EVENT_MAX_TEXT, &ev->urls,
		    &ev->nurls, err));
	case RECORD_TAGS:
		return (record_list(val, "tags", EVENT_MAX_TAG, &ev->tags,
		    &ev->ntags, err));
	case RECORD_ATTRS:
		return (record_attrs(val, ev, err));
	}
	aerr_set(err, AERR_INTERNAL, "record field %d has no decoder", idx);
	return (-1);
}

/*
 * Decode a record map into ev, which is overwritten; on success the
 * caller owns ev and frees it with record_clear(), on failure ev is
 * left cleared.  A field given as nil counts as absent.
 */
int
record_decode(const msgpack_object *obj, struct event *ev, struct aerr *err)
{
	const msgpack_object_kv	*kv;
	uint32_t		 i, seen = 0;
	int			 idx;

	memset(ev, 0, sizeof *ev);
	if (obj->type != MSGPACK_OBJECT_MAP) {
		aerr_set(err, AERR_INVALID, "record must be a map");
		return (-1);
	}
	for (i = 0; i < obj->via.map.size; i++) {
		kv = &obj->via.map.ptr[i];
		if ((idx = record_key_index(&kv->key)) == -1) {
			record_unknown(&kv->key, err);
			goto fail;
		}
		if (seen & (1u << idx)) {
			aerr_set(err, AERR_INVALID, "duplicate field \"%s\"",
			    record_keys[idx]);
			goto fail;
		}
		seen |= 1u << idx;
		if (kv->val.type == MSGPACK_OBJECT_NIL)
			continue;
		if (record_field(idx, &kv->val, ev, err) != 0)
			goto fail;
	}
	if (record_validate(ev, err) != 0)
		goto fail;
	return (0);

fail:
	record_clear(ev);
	return (-1);
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
	n = (ev->id != 0) * 4 + (ev->source != NULL) + (ev->key != NULL) +
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
	}
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
