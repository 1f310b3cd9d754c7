/*
 * libannals: events handed to the caller.  A record of a response is
 * decoded into a struct annals_owned whose public view points into the
 * response's frame; iter.c and changes.c reuse one for each event of a
 * page, and annals_get() and annals_get_by_key() give the caller one of
 * its own, which keeps the frame until annals_event_free().
 */
#include <stdlib.h>
#include <string.h>

#include "annals-int.h"

/* The n checked strs of list, made C strings, into out. */
static void
annals_view_list(const char **out, const msgpack_object *list, uint32_t n)
{
	uint32_t	i;

	for (i = 0; i < n; i++)
		out[i] = list[i].via.str.ptr;
}

/*
 * Decode a record of reply r into o and point its public view at it; o
 * is clear or holds an earlier event, whose block is reused when it is
 * large enough.  err says why not.
 *
 * The daemon checked the record when it stored it, so only its shape is
 * checked here (record_view()), and the event is a view into r's frame:
 * its strings and attrs are where the daemon sent them, and only the
 * lists of pointers (actors, urls, tags) take a block of o's.  The
 * event is valid as long as r's buffer is: the caller keeps the reply
 * (an iterator's page) or hands its buffer to o (o->frame).
 */
int
annals_owned_set(struct annals_owned *o, const struct annals_reply *r,
    const msgpack_object *rec, uint32_t fields, struct aerr *err)
{
	struct record_view	 v;
	struct annals_event	*pub = &o->pub;
	struct annals_actor	*actors;
	const char		**urls, **tags;
	size_t			 need;
	uint32_t		 i;

	if (record_view_fields(rec, r->buf, r->len, fields, &v, err) == -1)
		return (-1);
	need = v.nactors * sizeof *actors + (v.nurls + (size_t)v.ntags) *
	    sizeof *urls;
	if (need > o->size) {
		free(o->mem);
		o->size = 0;
		if ((o->mem = malloc(need)) == NULL) {
			aerr_set(err, AERR_NOMEM, "out of memory");
			return (-1);
		}
		o->size = need;
	}
	actors = (struct annals_actor *)o->mem;
	urls = (const char **)(actors + v.nactors);
	tags = urls + v.nurls;

	record_view_terminate(&v, r->buf);
	for (i = 0; i < v.nactors; i++) {
		actors[i].name = v.actors[i].name.ptr;
		actors[i].role = v.actors[i].role.ptr;
	}
	annals_view_list(urls, v.urls, v.nurls);
	annals_view_list(tags, v.tags, v.ntags);
	/* Every field is set: pub may hold the last event of an iterator. */
	pub->id = v.id;
	pub->rev = v.rev;
	pub->created = v.created;
	pub->updated = v.updated;
	pub->source = v.source.ptr;
	pub->key = v.key.ptr;
	pub->start = v.start.ptr;
	pub->end = v.end.ptr;
	pub->actors = v.nactors != 0 ? actors : NULL;
	pub->nactors = v.nactors;
	pub->type = v.type.ptr;
	pub->title = v.title.ptr;
	pub->text = v.text.ptr;
	pub->place_name = v.place_name.ptr;
	pub->place_country = v.place_country.ptr;
	pub->lat = v.lat;
	pub->lon = v.lon;
	pub->has_lat = v.has_lat;
	pub->has_lon = v.has_lon;
	pub->urls = v.nurls != 0 ? urls : NULL;
	pub->nurls = v.nurls;
	pub->tags = v.ntags != 0 ? tags : NULL;
	pub->ntags = v.ntags;
	pub->attrs = v.attrs_len != 0 ? v.attrs : NULL;
	pub->attrs_len = v.attrs_len;
	pub->match = 0;
	return (0);
}

void
annals_owned_clear(struct annals_owned *o)
{
	free(o->mem);
	free(o->frame);
	memset(o, 0, sizeof *o);
}

/* p, a view into from, moved to the same place in to. */
static const char *
annals_moved(const char *p, const unsigned char *from, unsigned char *to)
{
	if (p == NULL)
		return (NULL);
	return ((const char *)to + ((const unsigned char *)p - from));
}

/*
 * Point every view of o, an event of a reply whose frame is at from,
 * at the same bytes in to, a copy of that frame.
 */
static void
annals_owned_move(struct annals_owned *o, const unsigned char *from,
    unsigned char *to)
{
	struct annals_event	*pub = &o->pub;
	struct annals_actor	*actors;
	const char		**urls, **tags;
	size_t			 i;

	pub->source = annals_moved(pub->source, from, to);
	pub->key = annals_moved(pub->key, from, to);
	pub->start = annals_moved(pub->start, from, to);
	pub->end = annals_moved(pub->end, from, to);
	pub->type = annals_moved(pub->type, from, to);
	pub->title = annals_moved(pub->title, from, to);
	pub->text = annals_moved(pub->text, from, to);
	pub->place_name = annals_moved(pub->place_name, from, to);
	pub->place_country = annals_moved(pub->place_country, from, to);
	pub->attrs = annals_moved(pub->attrs, from, to);
	/* The lists are o's own block, laid out as annals_owned_set() does. */
	actors = (struct annals_actor *)o->mem;
	urls = (const char **)(actors + pub->nactors);
	tags = urls + pub->nurls;
	for (i = 0; i < pub->nactors; i++) {
		actors[i].name = annals_moved(actors[i].name, from, to);
		actors[i].role = annals_moved(actors[i].role, from, to);
	}
	for (i = 0; i < pub->nurls; i++)
		urls[i] = annals_moved(urls[i], from, to);
	for (i = 0; i < pub->ntags; i++)
		tags[i] = annals_moved(tags[i], from, to);
}

/*
 * Turn one record of a reply into a new event for the caller, which
 * takes r's buffer (annals_reply_free() still frees the rest of r).
 */
static int
annals_event_new(annals_ctx *ctx, const char *method,
    struct annals_reply *r, const msgpack_object *rec, uint32_t fields,
    struct annals_event **out)
{
	struct annals_owned	*o;
	struct aerr		 err;

	if ((o = calloc(1, sizeof *o)) == NULL) {
		annals_fail(ctx, ANNALS_ENOMEM, "out of memory");
		return (-1);
	}
	aerr_clear(&err);
	if (annals_owned_set(o, r, rec, fields, &err) == -1) {
		annals_owned_clear(o);
		free(o);
		if (err.code == AERR_NOMEM)
			annals_fail(ctx, ANNALS_ENOMEM, "%s", err.msg);
		else
			annals_break(ctx, ANNALS_EPROTOCOL, "%s: event: %s",
			    method, err.msg);
		return (-1);
	}
	/*
	 * The event is a view into the frame: it keeps it, in a buffer of
	 * its size (a large frame came in the read buffer, wire.c).
	 */
	if (r->mem_size > r->len + 1) {
		if ((o->frame = malloc(r->len + 1)) == NULL) {
			annals_owned_clear(o);
			free(o);
			annals_fail(ctx, ANNALS_ENOMEM, "out of memory");
			return (-1);
		}
		memcpy(o->frame, r->buf, r->len + 1);
		annals_owned_move(o, r->buf, o->frame);
	} else {
		o->frame = r->mem;
		r->mem = NULL;
		r->buf = NULL;
	}
	*out = &o->pub;
	return (0);
}

/*
 * The set of keys named by fields ("id,start,title"; NULL or "": all),
 * or -1 with ANNALS_EINVALID on ctx.
 */
int
annals_fields(annals_ctx *ctx, const char *fields, uint32_t *set)
{
	struct aerr	err;

	aerr_clear(&err);
	if (fields_parse(fields, set, &err) != 0) {
		annals_fail(ctx, ANNALS_EINVALID, "%s", err.msg);
		return (-1);
	}
	return (0);
}

int
annals_get(annals_ctx *ctx, uint64_t id, struct annals_event **out)
{
	return (annals_get_fields(ctx, id, NULL, out));
}

int
annals_get_fields(annals_ctx *ctx, uint64_t id, const char *fields,
    struct annals_event **out)
{
	struct annals_reply	 r;
	const msgpack_object	*map, *list;
	msgpack_packer		*pk;
	uint32_t		 msgid, set;
	int			 rc;

	*out = NULL;
	if (annals_enter(ctx) == -1 || annals_fields(ctx, fields, &set) == -1)
		return (-1);
	pk = annals_request(ctx, "get", &msgid);
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, 1 + (set != RECORD_FIELDS_ALL));
	mp_pack_str(pk, "ids");
	msgpack_pack_array(pk, 1);
	msgpack_pack_uint64(pk, id);
	if (set != RECORD_FIELDS_ALL) {
		mp_pack_str(pk, "fields");
		fields_pack(pk, set);
	}
	if (annals_roundtrip(ctx, msgid, &r) == -1)
		return (-1);
	if ((map = annals_result_map(ctx, &r, "get")) == NULL)
		return (-1);
	list = mp_get(map, "events");
	if (list == NULL || list->type != MSGPACK_OBJECT_ARRAY ||
	    list->via.array.size != 1) {
		annals_reply_free(&r);
		annals_break(ctx, ANNALS_EPROTOCOL, "get: result: events "
		    "must be an array of 1");
		return (-1);
	}
	if (list->via.array.ptr[0].type == MSGPACK_OBJECT_NIL) {
		annals_reply_free(&r);
		annals_fail(ctx, ANNALS_ENOTFOUND, "event %llu not found",
		    (unsigned long long)id);
		return (-1);
	}
	rc = annals_event_new(ctx, "get", &r, &list->via.array.ptr[0], set,
	    out);
	annals_reply_free(&r);
	return (rc);
}

int
annals_get_by_key(annals_ctx *ctx, const char *source, const char *key,
    struct annals_event **out)
{
	struct annals_reply	 r;
	const msgpack_object	*map, *rec;
	msgpack_packer		*pk;
	uint32_t		 msgid;
	int			 rc;

	*out = NULL;
	if (annals_enter(ctx) == -1)
		return (-1);
	if (source == NULL || key == NULL) {
		annals_fail(ctx, ANNALS_EINVALID, "%s: required",
		    source == NULL ? "source" : "key");
		return (-1);
	}
	pk = annals_request(ctx, "get_by_key", &msgid);
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "source", source);
	mp_pack_kv_str(pk, "key", key);
	if (annals_roundtrip(ctx, msgid, &r) == -1)
		return (-1);
	if ((map = annals_result_map(ctx, &r, "get_by_key")) == NULL)
		return (-1);
	if ((rec = mp_get(map, "event")) == NULL ||
	    rec->type == MSGPACK_OBJECT_NIL) {
		annals_reply_free(&r);
		annals_fail(ctx, ANNALS_ENOTFOUND, "no event with source %s "
		    "and key %s", source, key);
		return (-1);
	}
	rc = annals_event_new(ctx, "get_by_key", &r, rec, RECORD_FIELDS_ALL,
	    out);
	annals_reply_free(&r);
	return (rc);
}

void
annals_event_free(struct annals_event *pub)
{
	struct annals_owned	*o;

	if (pub == NULL)
		return;
	/* pub is the first member of the annals_owned it came from. */
	o = (struct annals_owned *)pub;
	annals_owned_clear(o);
	free(o);
}
