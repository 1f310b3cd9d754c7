/*
 * libannals: queries and the iterators that page through their results.
 *
 * An iterator keeps the response holding the current page and decodes
 * one event at a time from it into the single event it hands out (and,
 * for a query by an alias, the event's via), so a page costs its frame
 * and one decoded event, never a copy of every event.  When the page is
 * used up and the daemon gave a cursor, the same query is sent again
 * with it: the cursor is a position (start and id of the last event), so
 * paging is stable while the store changes.
 */
#include <stdlib.h>
#include <string.h>

#include "annals-int.h"

/* Cursors are 25 bytes today; more than this is not a cursor of ours. */
#define ITER_MAX_CURSOR	1024

struct annals_iter {
	annals_ctx		*ctx;
	const char		*method;	/* "range" or "actor" */
	struct query		 q;		/* our own copy */
	int			 err;		/* ANNALS_E* that stopped us */
	int			 done;		/* no more pages */

	struct annals_reply	 page;
	const msgpack_object	*events;
	const msgpack_object	*matches;
	const msgpack_object	*vias;		/* NULL: not by an alias */
	uint32_t		 next;		/* index in events */

	unsigned char		*cursor;	/* for the next page */
	size_t			 cursor_len;

	struct annals_owned	 cur;		/* _next's, block reused */
	struct annals_via	 cur_via;	/* cur's, when has_via */
	int			 has_via;
};

annals_query *
annals_query_new(void)
{
	annals_query	*q;

	if ((q = calloc(1, sizeof *q)) == NULL)
		return (NULL);
	q->q.kind = QUERY_RANGE;
	q->q.fields = RECORD_FIELDS_ALL;
	return (q);
}

void
annals_query_free(annals_query *q)
{
	if (q == NULL)
		return;
	query_clear(&q->q);
	free(q);
}

/* Replace *slot with a copy of s (NULL clears it). */
static int
iter_set_str(char **slot, const char *s)
{
	char	*copy = NULL;

	if (s != NULL && (copy = strdup(s)) == NULL)
		return (ANNALS_ENOMEM);
	free(*slot);
	*slot = copy;
	return (0);
}

int
annals_query_set_range(annals_query *q, const char *from, const char *to)
{
	char	*f = NULL, *t = NULL;

	if ((from != NULL && (f = strdup(from)) == NULL) ||
	    (to != NULL && (t = strdup(to)) == NULL)) {
		free(f);
		return (ANNALS_ENOMEM);
	}
	free(q->q.from);
	free(q->q.to);
	q->q.from = f;
	q->q.to = t;
	return (0);
}

int
annals_query_set_actor(annals_query *q, const char *code, const char *role)
{
	char	*a = NULL, *r = NULL;
	size_t	 len = 0;

	if (code != NULL) {
		/* query_pack() puts the star back from actor_prefix. */
		len = strlen(code);
		if (len > 0 && code[len - 1] == '*')
			len--;
		if ((a = strndup(code, len)) == NULL)
			return (ANNALS_ENOMEM);
	}
	if (role != NULL && (r = strdup(role)) == NULL) {
		free(a);
		return (ANNALS_ENOMEM);
	}
	free(q->q.actor);
	free(q->q.role);
	q->q.actor = a;
	q->q.role = r;
	q->q.actor_prefix = code != NULL && len != strlen(code);
	return (0);
}

int
annals_query_set_type(annals_query *q, const char *prefix)
{
	return (iter_set_str(&q->q.type, prefix));
}

int
annals_query_set_tag(annals_query *q, const char *tag)
{
	return (iter_set_str(&q->q.tag, tag));
}

int
annals_query_set_source(annals_query *q, const char *source)
{
	return (iter_set_str(&q->q.source, source));
}

int
annals_query_set_text(annals_query *q, const char *text)
{
	return (iter_set_str(&q->q.text, text));
}

int
annals_query_set_precision(annals_query *q, int prec)
{
	if (prec < ANNALS_PREC_NONE || prec > ANNALS_PREC_TIME)
		return (ANNALS_EINVALID);
	q->q.min_prec = prec;
	return (0);
}

int
annals_query_set_certain(annals_query *q, int on)
{
	q->q.certain = on != 0;
	return (0);
}

int
annals_query_set_within(annals_query *q, int on)
{
	q->q.within = on != 0;
	return (0);
}

int
annals_query_set_desc(annals_query *q, int on)
{
	q->q.desc = on != 0;
	return (0);
}

int
annals_query_set_page_size(annals_query *q, uint32_t n)
{
	if (n == 0 || n > PROTO_MAX_PAGE)
		return (ANNALS_EINVALID);
	q->q.limit = n;
	return (0);
}

int
annals_query_set_fields(annals_query *q, const char *fields)
{
	struct aerr	err;
	uint32_t	set;

	if (fields_parse(fields, &set, &err) != 0)
		return (ANNALS_EINVALID);
	q->q.fields = set;
	return (0);
}

/* Copy the settings of src into dst, which owns nothing yet. */
static int
iter_query_copy(struct query *dst, const struct query *src)
{
	*dst = *src;
	dst->from = dst->to = dst->actor = dst->role = NULL;
	dst->type = dst->tag = dst->source = dst->text = NULL;
	if (iter_set_str(&dst->from, src->from) != 0 ||
	    iter_set_str(&dst->to, src->to) != 0 ||
	    iter_set_str(&dst->actor, src->actor) != 0 ||
	    iter_set_str(&dst->role, src->role) != 0 ||
	    iter_set_str(&dst->type, src->type) != 0 ||
	    iter_set_str(&dst->tag, src->tag) != 0 ||
	    iter_set_str(&dst->source, src->source) != 0 ||
	    iter_set_str(&dst->text, src->text) != 0) {
		query_clear(dst);
		return (-1);
	}
	return (0);
}

/* Stop the iterator with the error now on its context. */
static void
iter_stop(annals_iter *it)
{
	it->err = annals_errcode(it->ctx);
	if (it->err == 0)
		it->err = ANNALS_EINTERNAL;
	it->done = 1;
	annals_reply_free(&it->page);
	it->events = it->matches = it->vias = NULL;
}

/*
 * Fetch the next page into it->page and take the cursor for the one
 * after.  The daemon may answer a page with no events but a cursor (it
 * bounds the work of one request); the caller just asks again.
 */
static int
iter_fetch(annals_iter *it)
{
	annals_ctx		*ctx = it->ctx;
	const msgpack_object	*map, *ev, *m, *vias, *cur;
	msgpack_packer		*pk;
	uint32_t		 msgid;

	annals_reply_free(&it->page);
	it->events = it->matches = it->vias = NULL;
	it->next = 0;
	if (annals_enter(ctx) == -1)
		goto fail;
	pk = annals_request(ctx, it->method, &msgid);
	msgpack_pack_array(pk, 1);
	query_pack(pk, &it->q, it->cursor, it->cursor_len);
	if (annals_roundtrip(ctx, msgid, &it->page) == -1)
		goto fail;

	map = it->page.msg.result;
	ev = mp_get(map, "events");
	m = mp_get(map, "matches");
	vias = mp_get(map, "via");
	cur = mp_get(map, "cursor");
	if (ev == NULL || ev->type != MSGPACK_OBJECT_ARRAY || m == NULL ||
	    m->type != MSGPACK_OBJECT_ARRAY ||
	    m->via.array.size != ev->via.array.size) {
		annals_break(ctx, ANNALS_EPROTOCOL, "%s: result: events and "
		    "matches must be arrays of one size", it->method);
		goto fail;
	}
	/* Only a query by an alias has a via; nil is none too. */
	if (vias != NULL && vias->type == MSGPACK_OBJECT_NIL)
		vias = NULL;
	if (vias != NULL && (vias->type != MSGPACK_OBJECT_ARRAY ||
	    vias->via.array.size != ev->via.array.size)) {
		annals_break(ctx, ANNALS_EPROTOCOL, "%s: result: via must be "
		    "an array the size of events", it->method);
		goto fail;
	}
	free(it->cursor);
	it->cursor = NULL;
	it->cursor_len = 0;
	if (cur != NULL && cur->type != MSGPACK_OBJECT_NIL) {
		if (cur->type != MSGPACK_OBJECT_BIN ||
		    cur->via.bin.size == 0 ||
		    cur->via.bin.size > ITER_MAX_CURSOR) {
			annals_break(ctx, ANNALS_EPROTOCOL, "%s: result: "
			    "cursor is not a cursor", it->method);
			goto fail;
		}
		if ((it->cursor = malloc(cur->via.bin.size)) == NULL) {
			annals_fail(ctx, ANNALS_ENOMEM, "out of memory");
			goto fail;
		}
		memcpy(it->cursor, cur->via.bin.ptr, cur->via.bin.size);
		it->cursor_len = cur->via.bin.size;
	} else
		it->done = 1;
	it->events = ev;
	it->matches = m;
	it->vias = vias;
	return (0);

fail:
	iter_stop(it);
	return (-1);
}

static annals_iter *
iter_start(annals_ctx *ctx, const annals_query *q, int kind,
    const char *method)
{
	annals_iter	*it;

	if (annals_enter(ctx) == -1)
		return (NULL);
	if (kind == QUERY_ACTOR && q->q.actor == NULL) {
		annals_fail(ctx, ANNALS_EINVALID, "actor: required");
		return (NULL);
	}
	if ((it = calloc(1, sizeof *it)) == NULL) {
		annals_fail(ctx, ANNALS_ENOMEM, "out of memory");
		return (NULL);
	}
	if (iter_query_copy(&it->q, &q->q) == -1) {
		free(it);
		annals_fail(ctx, ANNALS_ENOMEM, "out of memory");
		return (NULL);
	}
	it->q.kind = kind;
	it->ctx = ctx;
	it->method = method;
	if (iter_fetch(it) == -1) {
		annals_iter_free(it);
		return (NULL);
	}
	return (it);
}

annals_iter *
annals_range(annals_ctx *ctx, const annals_query *q)
{
	return (iter_start(ctx, q, QUERY_RANGE, "range"));
}

annals_iter *
annals_actor(annals_ctx *ctx, const annals_query *q)
{
	return (iter_start(ctx, q, QUERY_ACTOR, "actor"));
}

/*
 * A str of the page as a C string, in place, as annals_owned_set() makes
 * a record's: the byte after it is the first of the next object (or the
 * spare byte past the frame), which the page's unpacking has read and
 * nothing reads again.  An empty str is no value (NULL).
 */
static const char *
iter_cstr(annals_iter *it, const msgpack_object *s)
{
	size_t	off;

	if (s->via.str.size == 0)
		return (NULL);
	off = (size_t)((const unsigned char *)s->via.str.ptr - it->page.buf);
	it->page.buf[off + s->via.str.size] = '\0';
	return ((const char *)it->page.buf + off);
}

/* Whether o is a str of at most max bytes, made a C string intact. */
static int
iter_via_str(const msgpack_object *o, size_t max)
{
	return (o != NULL && o->type == MSGPACK_OBJECT_STR &&
	    o->via.str.size <= max &&
	    memchr(o->via.str.ptr, '\0', o->via.str.size) == NULL);
}

/*
 * Take the via of the event at it->next, {"alias": str, "code": str},
 * into it->cur_via.  Like a record's, its shape is checked and its
 * strings are views into the page, their UTF-8 trusted.
 */
static int
iter_via(annals_iter *it)
{
	const msgpack_object	*e, *alias, *code;

	e = &it->vias->via.array.ptr[it->next];
	alias = mp_get(e, "alias");
	code = mp_get(e, "code");
	if (!iter_via_str(alias, DICT_MAX_ALIAS) ||
	    alias->via.str.size == 0 || !iter_via_str(code, EVENT_MAX_ACTOR)) {
		annals_break(it->ctx, ANNALS_EPROTOCOL, "%s: result: via[%u] "
		    "is not {alias, code}", it->method, it->next);
		return (-1);
	}
	it->cur_via.alias = iter_cstr(it, alias);
	it->cur_via.code = iter_cstr(it, code);
	it->has_via = 1;
	return (0);
}

const struct annals_event *
annals_iter_next(annals_iter *it)
{
	struct aerr		 err;
	const msgpack_object	*m;

	it->has_via = 0;
	if (it->err != 0)
		return (NULL);
	while (it->events == NULL || it->next == it->events->via.array.size) {
		if (it->done) {
			annals_reply_free(&it->page);
			it->events = it->matches = it->vias = NULL;
			return (NULL);
		}
		if (iter_fetch(it) == -1)
			return (NULL);
	}
	aerr_clear(&err);
	if (annals_owned_set(&it->cur, &it->page,
	    &it->events->via.array.ptr[it->next], it->q.fields, &err) == -1) {
		if (err.code == AERR_NOMEM)
			annals_fail(it->ctx, ANNALS_ENOMEM, "%s", err.msg);
		else
			annals_break(it->ctx, ANNALS_EPROTOCOL, "%s: result: "
			    "events[%u]: %s", it->method, it->next, err.msg);
		iter_stop(it);
		return (NULL);
	}
	m = &it->matches->via.array.ptr[it->next];
	if (mp_key_is(m, "certain"))
		it->cur.pub.match = ANNALS_MATCH_CERTAIN;
	else if (mp_key_is(m, "possible"))
		it->cur.pub.match = ANNALS_MATCH_POSSIBLE;
	else {
		annals_owned_clear(&it->cur);
		annals_break(it->ctx, ANNALS_EPROTOCOL, "%s: result: "
		    "matches[%u] is neither certain nor possible", it->method,
		    it->next);
		iter_stop(it);
		return (NULL);
	}
	if (it->vias != NULL && iter_via(it) == -1) {
		annals_owned_clear(&it->cur);
		iter_stop(it);
		return (NULL);
	}
	it->next++;
	return (&it->cur.pub);
}

const struct annals_via *
annals_iter_via(const annals_iter *it)
{
	return (it->has_via ? &it->cur_via : NULL);
}

int
annals_iter_error(const annals_iter *it)
{
	return (it->err);
}

void
annals_iter_free(annals_iter *it)
{
	if (it == NULL)
		return;
	annals_owned_clear(&it->cur);
	annals_reply_free(&it->page);
	query_clear(&it->q);
	free(it->cursor);
	free(it);
}

typedef int (*iter_actor_fn)(const char *, uint64_t, const char *, void *);

/* One page of actors: call fn for each; *cursor is the name to go on from. */
static int
iter_actors_page(annals_ctx *ctx, const struct annals_reply *r,
    iter_actor_fn fn, void *arg, char **cursor, int *stop)
{
	const msgpack_object	*list, *o, *name, *count, *cur, *label;
	char			*s, *l;
	uint32_t		 i;

	list = mp_get(r->msg.result, "actors");
	cur = mp_get(r->msg.result, "cursor");
	if (list == NULL || list->type != MSGPACK_OBJECT_ARRAY ||
	    (cur != NULL && cur->type != MSGPACK_OBJECT_NIL &&
	    cur->type != MSGPACK_OBJECT_STR)) {
		annals_break(ctx, ANNALS_EPROTOCOL, "actors: result: not "
		    "{actors, cursor}");
		return (-1);
	}
	for (i = 0; i < list->via.array.size && !*stop; i++) {
		o = &list->via.array.ptr[i];
		name = mp_get(o, "name");
		count = mp_get(o, "count");
		if (name == NULL || name->type != MSGPACK_OBJECT_STR ||
		    count == NULL ||
		    count->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
			annals_break(ctx, ANNALS_EPROTOCOL, "actors: result: "
			    "actors[%u] is not {name, count}", i);
			return (-1);
		}
		label = mp_get(o, "label");
		l = NULL;
		if ((s = strndup(name->via.str.ptr, name->via.str.size)) ==
		    NULL || (label != NULL && label->type ==
		    MSGPACK_OBJECT_STR && (l = strndup(label->via.str.ptr,
		    label->via.str.size)) == NULL)) {
			free(s);
			annals_fail(ctx, ANNALS_ENOMEM, "out of memory");
			return (-1);
		}
		*stop = fn(s, count->via.u64, l, arg) != 0;
		free(s);
		free(l);
	}
	free(*cursor);
	*cursor = NULL;
	if (cur != NULL && cur->type == MSGPACK_OBJECT_STR && !*stop) {
		*cursor = strndup(cur->via.str.ptr, cur->via.str.size);
		if (*cursor == NULL) {
			annals_fail(ctx, ANNALS_ENOMEM, "out of memory");
			return (-1);
		}
	}
	return (0);
}

struct iter_unlabeled {
	int	(*fn)(const char *, uint64_t, void *);
	void	*arg;
};

static int
iter_unlabeled(const char *name, uint64_t count, const char *label,
    void *arg)
{
	struct iter_unlabeled	*u = arg;

	(void)label;
	return (u->fn(name, count, u->arg));
}

int
annals_actors(annals_ctx *ctx, const char *prefix,
    int (*fn)(const char *, uint64_t, void *), void *arg)
{
	struct iter_unlabeled	u = { fn, arg };

	return (annals_actors_labeled(ctx, prefix, iter_unlabeled, &u));
}

int
annals_actors_labeled(annals_ctx *ctx, const char *prefix,
    int (*fn)(const char *, uint64_t, const char *, void *), void *arg)
{
	struct annals_reply	 r;
	msgpack_packer		*pk;
	char			*cursor = NULL;
	uint32_t		 msgid;
	int			 stop = 0, rc;

	if (prefix != NULL && *prefix == '\0')
		prefix = NULL;
	do {
		if (annals_enter(ctx) == -1)
			goto fail;
		pk = annals_request(ctx, "actors", &msgid);
		msgpack_pack_array(pk, 1);
		msgpack_pack_map(pk, (prefix != NULL) + (cursor != NULL));
		if (prefix != NULL)
			mp_pack_kv_str(pk, "prefix", prefix);
		if (cursor != NULL)
			mp_pack_kv_str(pk, "cursor", cursor);
		if (annals_roundtrip(ctx, msgid, &r) == -1)
			goto fail;
		rc = iter_actors_page(ctx, &r, fn, arg, &cursor, &stop);
		annals_reply_free(&r);
		if (rc == -1)
			goto fail;
	} while (cursor != NULL);
	return (0);

fail:
	free(cursor);
	return (-1);
}
