/*
 * histogram: counts of events per day, ISO week, month or year over a
 * range, with the filters of range.  Also what the three aggregation
 * methods share: splitting their own parameters from those of the query
 * and packing a reply from a result built aside.
 */
#include <stdlib.h>
#include <string.h>

#include "annalsd.h"
#include "agg.h"

/*
 * Copy params into out without the names in own (the method's own
 * parameters, read by the caller), refusing those in refused; out's
 * entries are views into params, and out->via.map.ptr is freed by the
 * caller.  params may be NULL.
 */
int
agg_params(const msgpack_object *params, const char *const *own,
    const char *const *refused, msgpack_object *out, struct aerr *err)
{
	const msgpack_object_kv	*kv;
	char			 quoted[80];
	uint32_t		 i, n = 0;
	size_t			 j;
	int			 skip;

	memset(out, 0, sizeof *out);
	out->type = MSGPACK_OBJECT_MAP;
	if (params == NULL)
		return (0);
	if (params->type != MSGPACK_OBJECT_MAP) {
		aerr_set(err, AERR_INVALID, "params must be a map");
		return (-1);
	}
	out->via.map.ptr = xcalloc(params->via.map.size + 1,
	    sizeof *out->via.map.ptr);
	for (i = 0; i < params->via.map.size; i++) {
		kv = &params->via.map.ptr[i];
		for (j = 0; refused[j] != NULL; j++) {
			if (mp_key_is(&kv->key, refused[j])) {
				mp_quote(&kv->key, quoted, sizeof quoted);
				aerr_set(err, AERR_INVALID, "unknown parameter "
				    "\"%s\"", quoted);
				free(out->via.map.ptr);
				out->via.map.ptr = NULL;
				return (-1);
			}
		}
		for (j = 0, skip = 0; own[j] != NULL && !skip; j++)
			skip = mp_key_is(&kv->key, own[j]);
		if (!skip)
			out->via.map.ptr[n++] = *kv;
	}
	out->via.map.size = n;
	return (0);
}

/* The limit parameter of top_actors and co_actors. */
int
agg_limit(const msgpack_object *params, uint32_t *limit, struct aerr *err)
{
	const msgpack_object	*o;
	uint64_t		 v;

	*limit = AGG_DEFAULT_ACTORS;
	if (params == NULL || (o = mp_get(params, "limit")) == NULL ||
	    o->type == MSGPACK_OBJECT_NIL)
		return (0);
	if (mp_uint(o, "limit", &v, err) != 0)
		return (-1);
	if (v == 0 || v > PROTO_MAX_PAGE) {
		aerr_set(err, AERR_INVALID, "limit: %llu is "
		    "outside 1 to %d", (unsigned long long)v, PROTO_MAX_PAGE);
		return (-1);
	}
	*limit = (uint32_t)v;
	return (0);
}

/* Run fn into a buffer of its own, then reply with it or its error. */
void
agg_reply(struct request *req, int (*fn)(const msgpack_object *,
    msgpack_packer *, struct aerr *))
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	struct aerr	 err;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	aerr_clear(&err);
	if (fn(req->params, &pk, &err) != 0)
		dispatch_error(req, &err);
	else {
		dispatch_reply_begin(req);
		msgpack_sbuffer_write(req->sbuf, sb.data, sb.size);
		dispatch_reply_end(req);
	}
	msgpack_sbuffer_destroy(&sb);
}

/* A str parameter of the method's own, or dflt when absent. */
static int
histogram_word(const msgpack_object *params, const char *name, char *buf,
    size_t size, const char *dflt, struct aerr *err)
{
	const msgpack_object	*o;
	char			*s;

	snprintf(buf, size, "%s", dflt);
	if (params == NULL || (o = mp_get(params, name)) == NULL ||
	    o->type == MSGPACK_OBJECT_NIL)
		return (0);
	if (mp_str(o, name, size - 1, &s, err) != 0)
		return (-1);
	snprintf(buf, size, "%s", s);
	free(s);
	return (0);
}

static int
histogram_run(const msgpack_object *params, msgpack_packer *pk,
    struct aerr *err)
{
	static const char *const own[] = { "by", "count", NULL };
	static const char *const refused[] = { "limit", "order", "cursor",
	    "fields", NULL };
	msgpack_object	 qp;
	struct query	 q;
	struct agg_hist	 h;
	char		 by[16], mode[16], label[32];
	int64_t		 t;
	size_t		 i;
	int		 rc;

	memset(&h, 0, sizeof h);
	if (histogram_word(params, "by", by, sizeof by, "month", err) != 0 ||
	    histogram_word(params, "count", mode, sizeof mode, "overlap",
	    err) != 0)
		return (-1);
	if (date_by_parse(by, &h.by) != 0) {
		aerr_set(err, AERR_INVALID, "by: %s is not day, week, month "
		    "or year", by);
		return (-1);
	}
	if (strcmp(mode, "overlap") == 0)
		h.mode = AGG_COUNT_OVERLAP;
	else if (strcmp(mode, "start") == 0)
		h.mode = AGG_COUNT_START;
	else {
		aerr_set(err, AERR_INVALID, "count: %s is not overlap or "
		    "start", mode);
		return (-1);
	}
	if (agg_params(params, own, refused, &qp, err) != 0)
		return (-1);
	rc = query_decode(&qp, QUERY_RANGE, &q, err);
	free(qp.via.map.ptr);
	if (rc != 0)
		return (-1);
	if (names_resolve(&q, err) != 0) {
		query_clear(&q);
		return (-1);
	}
	rc = store_histogram(server->store, &q, &h, err);
	query_clear(&q);
	if (rc != 0)
		return (-1);
	msgpack_pack_map(pk, 2);
	mp_pack_str(pk, "buckets");
	msgpack_pack_array(pk, h.n);
	for (i = 0; i < h.n; i++) {
		t = agg_bucket_start(h.by, h.first + (int64_t)i);
		agg_bucket_label(h.by, h.first + (int64_t)i, label,
		    sizeof label);
		/* Milliseconds, for charts; beyond int64 there are none. */
		if (t > INT64_MAX / 1000 || t < INT64_MIN / 1000) {
			msgpack_pack_map(pk, 2);
			mp_pack_kv_str(pk, "start", label);
		} else {
			msgpack_pack_map(pk, 3);
			mp_pack_kv_str(pk, "start", label);
			mp_pack_str(pk, "time");
			msgpack_pack_int64(pk, t * 1000);
		}
		mp_pack_kv_uint(pk, "count", h.counts[i]);
	}
	mp_pack_kv_uint(pk, "total", h.total);
	agg_hist_free(&h);
	return (0);
}

static void
method_histogram_exec(struct request *req)
{
	agg_reply(req, histogram_run);
}

const struct method method_histogram = { "histogram", METHOD_READER,
    method_histogram_exec, NULL };
