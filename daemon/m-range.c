/*
 * range and actor: one page of the events that overlap a time range,
 * optionally of one actor or actor prefix, in (start, id) order.  The
 * query writes the hits' records straight into the reply, after its
 * head, as stored or expanded and cut to the fields asked for, without
 * decoding them again; a page also stops short of the frame limit,
 * whatever its length.  A query by an alias says, for each hit, which of
 * its codes it was.
 */
#include "annalsd.h"

struct page_ctx {
	struct request		*req;
	const struct query	*q;
	msgpack_packer		*pk;
	size_t			 count_at;	/* the events array's count */
};

/*
 * The events array's head, before its length is known: an array 32,
 * whatever the count, which msgpack allows and every decoder reads.
 */
static size_t
range_events_begin(msgpack_sbuffer *sb)
{
	static const unsigned char head[5] = { 0xdd, 0, 0, 0, 0 };

	msgpack_sbuffer_write(sb, (const char *)head, sizeof head);
	return (sb->size - 4);
}

static void
range_events_end(msgpack_sbuffer *sb, size_t count_at, size_t n)
{
	unsigned char	*p = (unsigned char *)sb->data + count_at;

	p[0] = (unsigned char)(n >> 24);
	p[1] = (unsigned char)(n >> 16);
	p[2] = (unsigned char)(n >> 8);
	p[3] = (unsigned char)n;
}

/* The via of an alias query's hit: the alias and the code it holds. */
static void
range_via(msgpack_packer *pk, const struct query *q,
    const struct store_hit *hit)
{
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "alias", q->actor);
	mp_pack_kv_str(pk, "code", hit->via != NULL ? hit->via : "");
}

static int
range_page(void *arg, const struct store_page *page)
{
	struct page_ctx	*ctx = arg;
	msgpack_packer	*pk = ctx->pk;
	msgpack_sbuffer	*sb = ctx->req->sbuf;
	unsigned char	 cursor[QUERY_CURSOR_LEN];
	size_t		 n, bytes = 0, i;
	int		 more = page->more;

	/* The records are in the reply already: cut those past the budget. */
	for (n = 0; n < page->nhits; n++) {
		if (n > 0 && bytes + page->hits[n].len >
		    dispatch_page_budget()) {
			sb->size = (size_t)((const char *)page->hits[n].data -
			    sb->data);
			more = 1;
			break;
		}
		bytes += page->hits[n].len;
	}
	range_events_end(sb, ctx->count_at, n);
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
	/* The reply's head goes first, so the records can follow it. */
	ctx.pk = dispatch_reply_begin(req);
	msgpack_pack_map(ctx.pk, q.ncodes > 0 ? 4 : 3);
	mp_pack_str(ctx.pk, "events");
	ctx.count_at = range_events_begin(req->sbuf);
	if (store_query(server->store, &q, req->sbuf, range_page, &ctx,
	    &err) != 0)
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
