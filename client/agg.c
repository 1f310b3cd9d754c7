/*
 * libannals: aggregations (histogram, top_actors and co_actors).  Their
 * parameters are the query's filters without its limit and order, plus
 * their own; their results are copied into structs the caller frees,
 * since a count is small and outlives the response.
 */
#include <stdlib.h>
#include <string.h>

#include "annals-int.h"

/* Pack [{filters of q..., extra}]: extra holds nextra packed pairs. */
static int
annals_agg_request(annals_ctx *ctx, const char *method,
    const annals_query *aq, const msgpack_sbuffer *extra, uint32_t nextra,
    uint32_t *msgid)
{
	msgpack_sbuffer		 sb;
	msgpack_packer		 spk, *pk;
	msgpack_unpacked	 up;
	struct query		 q = aq->q;
	const msgpack_object_kv	*kv;
	uint32_t		 i;

	q.limit = 0;
	q.desc = 0;
	/* top_actors takes an actor prefix as its own parameter. */
	if (strcmp(method, "top_actors") == 0 && q.actor != NULL) {
		if (!q.actor_prefix || q.role != NULL) {
			annals_fail(ctx, ANNALS_EINVALID, "top_actors: only an "
			    "actor prefix (\"SYR*\") without a role narrows it");
			return (-1);
		}
		q.actor = NULL;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&spk, &sb, msgpack_sbuffer_write);
	query_pack(&spk, &q, NULL, 0);
	msgpack_unpacked_init(&up);
	if (sb.data == NULL || msgpack_unpack_next(&up, sb.data, sb.size,
	    NULL) != MSGPACK_UNPACK_SUCCESS) {
		msgpack_unpacked_destroy(&up);
		msgpack_sbuffer_destroy(&sb);
		annals_fail(ctx, ANNALS_ENOMEM, "out of memory");
		return (-1);
	}
	pk = annals_request(ctx, method, msgid);
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, up.data.via.map.size + nextra +
	    (q.actor == NULL && aq->q.actor != NULL));
	if (q.actor == NULL && aq->q.actor != NULL)
		mp_pack_kv_str(pk, "prefix", aq->q.actor);
	for (i = 0; i < up.data.via.map.size; i++) {
		kv = &up.data.via.map.ptr[i];
		msgpack_pack_object(pk, kv->key);
		msgpack_pack_object(pk, kv->val);
	}
	msgpack_unpacked_destroy(&up);
	msgpack_sbuffer_destroy(&sb);
	if (extra->size > 0 && annals_write_cb(ctx, extra->data,
	    extra->size) != 0 && ctx->wfail == 0)
		ctx->wfail = ANNALS_ENOMEM;
	return (0);
}

/* A string of a result map, copied; NULL (and ctx broken) otherwise. */
static char *
annals_agg_str(annals_ctx *ctx, const char *method, const msgpack_object *o,
    const char *key)
{
	const msgpack_object	*v = mp_get(o, key);
	char			*s;

	if (v == NULL || v->type != MSGPACK_OBJECT_STR) {
		annals_break(ctx, ANNALS_EPROTOCOL, "%s: result: %s: not a "
		    "string", method, key);
		return (NULL);
	}
	if ((s = malloc(v->via.str.size + 1)) == NULL) {
		annals_fail(ctx, ANNALS_ENOMEM, "out of memory");
		return (NULL);
	}
	memcpy(s, v->via.str.ptr, v->via.str.size);
	s[v->via.str.size] = '\0';
	return (s);
}

/* The array under key of a result map; NULL (and ctx broken) if none. */
static const msgpack_object *
annals_agg_array(annals_ctx *ctx, const char *method,
    const msgpack_object *map, const char *key)
{
	const msgpack_object	*v = mp_get(map, key);

	if (v == NULL || v->type != MSGPACK_OBJECT_ARRAY) {
		annals_break(ctx, ANNALS_EPROTOCOL, "%s: result: %s: not an "
		    "array", method, key);
		return (NULL);
	}
	return (v);
}

/*
 * Send an aggregation with the nextra pairs packed in extra, which it
 * destroys, and wait: 0 with r holding the response, *map its result
 * and *list the array under key; -1 otherwise, with r freed.
 */
static int
annals_agg_call(annals_ctx *ctx, const char *method, const annals_query *q,
    msgpack_sbuffer *extra, uint32_t nextra, const char *key,
    struct annals_reply *r, const msgpack_object **map,
    const msgpack_object **list)
{
	uint32_t	msgid;
	int		rc;

	rc = annals_agg_request(ctx, method, q, extra, nextra, &msgid);
	msgpack_sbuffer_destroy(extra);
	if (rc == -1 || annals_roundtrip(ctx, msgid, r) == -1)
		return (-1);
	if ((*map = annals_result_map(ctx, r, method)) == NULL)
		return (-1);
	if ((*list = annals_agg_array(ctx, method, *map, key)) == NULL) {
		annals_reply_free(r);
		return (-1);
	}
	return (0);
}

void
annals_histogram_free(struct annals_histogram *h)
{
	size_t	i;

	if (h == NULL)
		return;
	for (i = 0; i < h->nbuckets; i++)
		free((char *)h->buckets[i].start);
	free(h->buckets);
	free(h);
}

int
annals_histogram(annals_ctx *ctx, const annals_query *q, int by, int mode,
    struct annals_histogram **out)
{
	struct annals_histogram	*h = NULL;
	struct annals_reply	 r;
	const msgpack_object	*map, *list, *b, *t;
	msgpack_sbuffer		 extra;
	msgpack_packer		 epk;
	size_t			 i;

	*out = NULL;
	if (annals_enter(ctx) == -1)
		return (-1);
	if (by < ANNALS_BY_DAY || by > ANNALS_BY_YEAR ||
	    (mode != ANNALS_COUNT_OVERLAP && mode != ANNALS_COUNT_START)) {
		annals_fail(ctx, ANNALS_EINVALID, "histogram: by %d or mode %d "
		    "is not known", by, mode);
		return (-1);
	}
	msgpack_sbuffer_init(&extra);
	msgpack_packer_init(&epk, &extra, msgpack_sbuffer_write);
	mp_pack_kv_str(&epk, "by", date_by_name(by));
	mp_pack_kv_str(&epk, "count", mode == ANNALS_COUNT_START ? "start" :
	    "overlap");
	if (annals_agg_call(ctx, "histogram", q, &extra, 2, "buckets", &r,
	    &map, &list) == -1)
		return (-1);
	if ((h = calloc(1, sizeof *h)) == NULL ||
	    (list->via.array.size > 0 && (h->buckets = calloc(
	    list->via.array.size, sizeof *h->buckets)) == NULL)) {
		annals_fail(ctx, ANNALS_ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < list->via.array.size; i++) {
		b = &list->via.array.ptr[i];
		if (b->type != MSGPACK_OBJECT_MAP ||
		    annals_result_uint(ctx, b, "count",
		    &h->buckets[i].count) == -1)
			goto bad;
		if ((h->buckets[i].start = annals_agg_str(ctx, "histogram", b,
		    "start")) == NULL)
			goto fail;
		h->nbuckets = i + 1;
		if ((t = mp_get(b, "time")) != NULL &&
		    t->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
			h->buckets[i].time = t->via.i64;
		else if (t != NULL && t->type ==
		    MSGPACK_OBJECT_POSITIVE_INTEGER && t->via.u64 <= INT64_MAX)
			h->buckets[i].time = (int64_t)t->via.u64;
	}
	if (annals_result_uint(ctx, map, "total", &h->total) == -1)
		goto fail;
	annals_reply_free(&r);
	*out = h;
	return (0);
bad:
	if (!ctx->broken)
		annals_break(ctx, ANNALS_EPROTOCOL, "histogram: result: a "
		    "bucket is not a map with a count");
fail:
	annals_reply_free(&r);
	annals_histogram_free(h);
	return (-1);
}

void
annals_actor_counts_free(struct annals_actor_counts *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nactors; i++)
		free((char *)c->actors[i].name);
	free(c->actors);
	free(c);
}

/* top_actors and co_actors: the same request and result but for events. */
static int
annals_agg_actors(annals_ctx *ctx, const char *method, const annals_query *q,
    uint32_t limit, struct annals_actor_counts **out)
{
	struct annals_actor_counts *c = NULL;
	struct annals_reply	 r;
	const msgpack_object	*map, *list, *a;
	msgpack_sbuffer		 extra;
	msgpack_packer		 epk;
	size_t			 i;

	*out = NULL;
	if (annals_enter(ctx) == -1)
		return (-1);
	if (limit == 0 || limit > PROTO_MAX_PAGE) {
		annals_fail(ctx, ANNALS_EINVALID, "%s: limit %u is outside 1 "
		    "to %d", method, limit, PROTO_MAX_PAGE);
		return (-1);
	}
	msgpack_sbuffer_init(&extra);
	msgpack_packer_init(&epk, &extra, msgpack_sbuffer_write);
	mp_pack_kv_uint(&epk, "limit", limit);
	if (annals_agg_call(ctx, method, q, &extra, 1, "actors", &r, &map,
	    &list) == -1)
		return (-1);
	if ((c = calloc(1, sizeof *c)) == NULL ||
	    (list->via.array.size > 0 && (c->actors = calloc(
	    list->via.array.size, sizeof *c->actors)) == NULL)) {
		annals_fail(ctx, ANNALS_ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < list->via.array.size; i++) {
		a = &list->via.array.ptr[i];
		if (a->type != MSGPACK_OBJECT_MAP) {
			annals_break(ctx, ANNALS_EPROTOCOL, "%s: result: "
			    "actors[%zu]: not a map", method, i);
			goto fail;
		}
		if (annals_result_uint(ctx, a, "count",
		    &c->actors[i].count) == -1 ||
		    (c->actors[i].name = annals_agg_str(ctx, method, a,
		    "name")) == NULL)
			goto fail;
		c->nactors = i + 1;
	}
	if (annals_result_uint(ctx, map, "events", &c->events) == -1)
		goto fail;
	annals_reply_free(&r);
	*out = c;
	return (0);
fail:
	annals_reply_free(&r);
	annals_actor_counts_free(c);
	return (-1);
}

int
annals_top_actors(annals_ctx *ctx, const annals_query *q, uint32_t limit,
    struct annals_actor_counts **out)
{
	return (annals_agg_actors(ctx, "top_actors", q, limit, out));
}

int
annals_co_actors(annals_ctx *ctx, const annals_query *q, uint32_t limit,
    struct annals_actor_counts **out)
{
	return (annals_agg_actors(ctx, "co_actors", q, limit, out));
}
