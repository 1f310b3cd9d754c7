/*
 * range and actor: one page of the events that overlap a time range,
 * optionally of one actor or actor prefix, in (start, id) order.  Hits
 * are copied from the map into the reply as stored, without decoding;
 * a page also stops short of the frame limit, whatever its length.  A
 * query by an alias says, for each hit, which of its codes it was.
 */
#include "annalsd.h"

struct page_ctx {
	struct request		*req;
	const struct query	*q;
};

/* The via of an alias query's hit: the alias and the code it holds. */
static void
range_via(msgpack_packer *pk, const struct query *q,
    const struct store_hit *hit)
{
	const char	*code = query_via_code(q, hit->data, hit->len);

	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "alias", q->actor);
	mp_pack_kv_str(pk, "code", code != NULL ? code : "");
}

static int
range_page(void *arg, const struct store_page *page)
{
	struct page_ctx	*ctx = arg;
	msgpack_packer	*pk;
	msgpack_sbuffer	 cut;		/* the projected records */
	unsigned char	 cursor[QUERY_CURSOR_LEN];
	size_t		 n, bytes = 0, budget, i, len, mark = 0;
	int		 more = page->more, project;

	/* The page's array counts what fits, so its records come first. */
	project = ctx->q->fields != RECORD_FIELDS_ALL;
	msgpack_sbuffer_init(&cut);
	budget = dispatch_page_budget();
	for (n = 0; n < page->nhits; n++) {
		len = page->hits[n].len;
		if (project) {
			mark = cut.size;
			fields_write(&cut, page->hits[n].data, len,
			    ctx->q->fields);
			len = cut.size - mark;
		}
		if (n > 0 && bytes + len > budget) {
			cut.size = mark;
			more = 1;
			break;
		}
		bytes += len;
	}
	pk = dispatch_reply_begin(ctx->req);
	msgpack_pack_map(pk, ctx->q->ncodes > 0 ? 4 : 3);
	mp_pack_str(pk, "events");
	msgpack_pack_array(pk, n);
	if (project)
		msgpack_sbuffer_write(ctx->req->sbuf, cut.data, cut.size);
	else {
		for (i = 0; i < n; i++)
			msgpack_sbuffer_write(ctx->req->sbuf,
			    page->hits[i].data, page->hits[i].len);
	}
	msgpack_sbuffer_destroy(&cut);
	mp_pack_str(pk, "matches");
	msgpack_pack_array(pk, n);
	for (i = 0; i < n; i++)
		mp_pack_str(pk, page->hits[i].match == DATE_MATCH_CERTAIN ?
		    "certain" : "possible");
	if (ctx->q->ncodes > 0) {
		mp_pack_str(pk, "via");
		msgpack_pack_array(pk, n);
		for (i = 0; i < n; i++)
			range_via(pk, ctx->q, &page->hits[i]);
	}
	mp_pack_str(pk, "cursor");
	if (more && n > 0) {
		query_cursor_encode(ctx->q, page->hits[n - 1].start,
		    page->hits[n - 1].id, cursor, sizeof cursor);
		msgpack_pack_bin(pk, sizeof cursor);
		msgpack_pack_bin_body(pk, cursor, sizeof cursor);
	} else
		msgpack_pack_nil(pk);
	dispatch_reply_end(ctx->req);
	return (0);
}

int
range_exec(struct request *req, int kind)
{
	struct page_ctx	ctx;
	struct query	q;
	struct aerr	err;

	if (query_decode(req->params, kind, &q, &err) != 0) {
		dispatch_error(req, &err);
		return (-1);
	}
	if (names_resolve(&q, &err) != 0) {
		dispatch_error(req, &err);
		query_clear(&q);
		return (-1);
	}
	ctx.req = req;
	ctx.q = &q;
	if (store_query(server->store, &q, range_page, &ctx, &err) != 0)
		dispatch_error(req, &err);
	query_clear(&q);
	return (0);
}

static void
method_range_exec(struct request *req)
{
	range_exec(req, QUERY_RANGE);
}

static void
method_actor_exec(struct request *req)
{
	range_exec(req, QUERY_ACTOR);
}

const struct method method_range = { "range", METHOD_READER,
    method_range_exec, NULL };
const struct method method_actor = { "actor", METHOD_READER,
    method_actor_exec, NULL };
