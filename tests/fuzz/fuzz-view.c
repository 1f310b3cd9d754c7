/*
 * record_view(), the shape-only decoder libannals uses for the records
 * of daemon replies, on any msgpack object that passes the frame check.
 *
 * Promises checked: it never reads outside the frame (every string and
 * the attrs bytes it hands out lie inside it); whatever record_decode()
 * accepts, it accepts too, with the same fields; the attrs bytes are one
 * msgpack map that unpacks on its own, as long as they say; a refusal
 * comes with an error fit for the wire.  And record_view_terminate(),
 * with which libannals hands the strings out in place as C strings:
 * each ends where the view says, and no other byte a view hands out
 * (the other strings, the attrs) changes.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../../proto/proto.h"
#include "fuzz.h"

static int
view_inside(const struct record_str *s, const unsigned char *buf,
    size_t size)
{
	const unsigned char	*p = (const unsigned char *)s->ptr;

	/* msgpack-c need not point an empty string into the frame. */
	return (p == NULL || s->len == 0 || (p >= buf && s->len <= size &&
	    p - buf <= (ptrdiff_t)(size - s->len)));
}

static int
view_eq(const struct record_str *s, const char *want)
{
	if (want == NULL)
		return (s->ptr == NULL);
	return (s->ptr != NULL && s->len == strlen(want) &&
	    memcmp(s->ptr, want, s->len) == 0);
}

static void
view_check_frame(const struct record_view *v, const unsigned char *buf,
    size_t size)
{
	msgpack_unpacked	u;
	size_t			off = 0;
	uint32_t		i;

	FUZZ_CHECK(view_inside(&v->source, buf, size) &&
	    view_inside(&v->key, buf, size) &&
	    view_inside(&v->start, buf, size) &&
	    view_inside(&v->end, buf, size) &&
	    view_inside(&v->type, buf, size) &&
	    view_inside(&v->title, buf, size) &&
	    view_inside(&v->text, buf, size) &&
	    view_inside(&v->place_name, buf, size) &&
	    view_inside(&v->place_country, buf, size));
	FUZZ_CHECK(v->start.ptr != NULL && v->nactors <= EVENT_MAX_ACTORS);
	for (i = 0; i < v->nactors; i++)
		FUZZ_CHECK(view_inside(&v->actors[i].name, buf, size) &&
		    view_inside(&v->actors[i].role, buf, size));
	if (v->attrs == NULL)
		return;
	FUZZ_CHECK(v->attrs >= buf && v->attrs_len <= size &&
	    v->attrs - buf <= (ptrdiff_t)(size - v->attrs_len));
	msgpack_unpacked_init(&u);
	FUZZ_CHECK(msgpack_unpack_next(&u, (const char *)v->attrs,
	    v->attrs_len, &off) == MSGPACK_UNPACK_SUCCESS);
	FUZZ_CHECK(off == v->attrs_len && u.data.type == MSGPACK_OBJECT_MAP);
	msgpack_unpacked_destroy(&u);
}

/* A string of a terminated view: a C string of its length, unchanged. */
static int
view_cstr(const struct record_str *t, const struct record_str *s)
{
	if (s->ptr == NULL)
		return (t->ptr == NULL);
	return (t->ptr != NULL && t->len == s->len &&
	    t->ptr[t->len] == '\0' && strlen(t->ptr) == t->len &&
	    memcmp(t->ptr, s->ptr, s->len) == 0);
}

/*
 * View the record again in a copy of the frame with a reply's spare
 * byte, terminate its strings there and compare with v, from buf.
 */
static void
view_check_terminate(const struct record_view *v, const uint8_t *data,
    size_t size)
{
	struct record_view	*t;
	msgpack_unpacked	 u;
	struct aerr		 err;
	unsigned char		*copy;
	uint32_t		 i;

	if ((copy = malloc(size + 1)) == NULL ||
	    (t = malloc(sizeof *t)) == NULL)
		abort();
	memcpy(copy, data, size);
	msgpack_unpacked_init(&u);
	FUZZ_CHECK(msgpack_unpack_next(&u, (const char *)copy, size, NULL) ==
	    MSGPACK_UNPACK_SUCCESS);
	FUZZ_CHECK(record_view(&u.data, copy, size, t, &err) == 0);
	record_view_terminate(t, copy);
	FUZZ_CHECK(view_cstr(&t->source, &v->source) &&
	    view_cstr(&t->key, &v->key) && view_cstr(&t->start, &v->start) &&
	    view_cstr(&t->end, &v->end) && view_cstr(&t->type, &v->type) &&
	    view_cstr(&t->title, &v->title) && view_cstr(&t->text, &v->text) &&
	    view_cstr(&t->place_name, &v->place_name) &&
	    view_cstr(&t->place_country, &v->place_country));
	FUZZ_CHECK(t->nactors == v->nactors && t->nurls == v->nurls &&
	    t->ntags == v->ntags);
	for (i = 0; i < t->nactors; i++)
		FUZZ_CHECK(view_cstr(&t->actors[i].name, &v->actors[i].name) &&
		    view_cstr(&t->actors[i].role, &v->actors[i].role));
	for (i = 0; i < t->nurls; i++)
		FUZZ_CHECK(strlen(t->urls[i].via.str.ptr) ==
		    t->urls[i].via.str.size);
	for (i = 0; i < t->ntags; i++)
		FUZZ_CHECK(strlen(t->tags[i].via.str.ptr) ==
		    t->tags[i].via.str.size);
	FUZZ_CHECK(t->attrs_len == v->attrs_len && (t->attrs_len == 0 ||
	    memcmp(t->attrs, v->attrs, t->attrs_len) == 0));
	view_check_frame(t, copy, size);
	msgpack_unpacked_destroy(&u);
	free(t);
	free(copy);
}

void
fuzz_view(const uint8_t *data, size_t size)
{
	struct record_view	*v;
	msgpack_unpacked	 u;
	struct event		 ev;
	struct aerr		 err;
	unsigned char		*buf;
	uint32_t		 i;
	int			 decoded, viewed;

	if (fuzz_unpack(data, size, &u, &buf) != 0) {
		msgpack_unpacked_destroy(&u);
		free(buf);
		return;
	}
	if ((v = malloc(sizeof *v)) == NULL)
		abort();
	viewed = record_view(&u.data, buf, size, v, &err) == 0;
	if (!viewed)
		fuzz_check_error(&err, 1);
	else {
		view_check_frame(v, buf, size);
		view_check_terminate(v, data, size);
	}
	decoded = record_decode_stored(&u.data, &ev, &err) == 0;
	if (decoded) {
		FUZZ_CHECK(viewed);
		FUZZ_CHECK(v->id == ev.id && v->rev == ev.rev &&
		    v->created == ev.created && v->updated == ev.updated);
		FUZZ_CHECK(view_eq(&v->source, ev.source) &&
		    view_eq(&v->key, ev.key) &&
		    view_eq(&v->start, ev.start) &&
		    view_eq(&v->end, ev.end) &&
		    view_eq(&v->type, ev.type) &&
		    view_eq(&v->title, ev.title) &&
		    view_eq(&v->text, ev.text) &&
		    view_eq(&v->place_name, ev.place.name) &&
		    view_eq(&v->place_country, ev.place.country));
		FUZZ_CHECK(v->nactors == ev.nactors &&
		    v->nurls == ev.nurls && v->ntags == ev.ntags);
		for (i = 0; i < ev.nactors; i++)
			FUZZ_CHECK(view_eq(&v->actors[i].name,
			    ev.actors[i].name) &&
			    view_eq(&v->actors[i].role, ev.actors[i].role));
		FUZZ_CHECK((v->attrs == NULL) == (ev.attrs == NULL));
		record_clear(&ev);
	}
	free(v);
	msgpack_unpacked_destroy(&u);
	free(buf);
}

FUZZ_ENTRY(view)
