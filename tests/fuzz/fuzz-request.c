/*
 * The request decoders behind the methods that take the most: the
 * params of range and actor (query_decode()) and of put (the path of
 * daemon/m-put.c: records or record, then record_decode() of each).  The
 * first byte picks the method, the rest is the params map as a frame
 * body; nil stands for no params, as msg_parse() hands them over.
 *
 * Promises checked: a decoded query is within its limits, matches any
 * event without trouble, and packs (with its cursor) to params that
 * decode to the same query; a put decodes each record or names the
 * first bad one; every error is fit for the wire.
 */
#include <stdlib.h>
#include <string.h>

#include "../../proto/proto.h"
#include "fuzz.h"

#define FUZZ_REQ_RANGE	0
#define FUZZ_REQ_ACTOR	1
#define FUZZ_REQ_PUT	2
#define FUZZ_REQ_KINDS	3

/* Events every decoded query is matched against. */
static const char *fuzz_request_dates[][2] = {
	{ "2015-01-26", "2015-01-29" }, { "2014~", NULL },
	{ "2011-03-15/..", NULL }, { "/2015", NULL }, { "2015-21%", NULL },
	{ "-0044-03-15T10:00Z", NULL }, { "201X", "2030-XX" },
};

static void
fuzz_request_match(const struct query *q)
{
	static struct actor	 actors[2] = {
		{ (char *)"SYRGOV", (char *)"target" }, { (char *)"RUS", NULL }
	};
	static char		*tags[] = { (char *)"diplomacy" };
	struct event		 ev;
	struct aerr		 err;
	size_t			 i;
	int			 m;

	for (i = 0; i < sizeof fuzz_request_dates /
	    sizeof fuzz_request_dates[0]; i++) {
		memset(&ev, 0, sizeof ev);
		ev.start = (char *)fuzz_request_dates[i][0];
		ev.end = (char *)fuzz_request_dates[i][1];
		ev.actors = actors;
		ev.nactors = 2;
		ev.type = (char *)"036";
		ev.source = (char *)"gdelt";
		ev.key = (char *)"1";
		ev.tags = tags;
		ev.ntags = 1;
		FUZZ_CHECK(record_validate(&ev, &err) == 0);
		m = 0;
		if (query_matches(q, &ev, &m) == 0)
			continue;
		FUZZ_CHECK(m == DATE_MATCH_CERTAIN || m == DATE_MATCH_POSSIBLE);
		FUZZ_CHECK(!q->certain || m == DATE_MATCH_CERTAIN);
		FUZZ_CHECK(m == date_match(&ev.span, q->qlo, q->qhi));
	}
}

/* Pack q as params, with a cursor when it has one, into sb. */
static void
fuzz_request_pack(const struct query *q, msgpack_sbuffer *sb)
{
	msgpack_packer	pk;
	unsigned char	cursor[QUERY_CURSOR_LEN];

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	if (q->has_cursor) {
		FUZZ_CHECK(query_cursor_encode(q, q->cur_start, q->cur_id,
		    cursor, sizeof cursor) == sizeof cursor);
		query_pack(&pk, q, cursor, sizeof cursor);
	} else
		query_pack(&pk, q, NULL, 0);
}

static void
fuzz_request_query(const msgpack_object *params, int kind)
{
	msgpack_unpacked	 u;
	msgpack_sbuffer		 sb, sb2;
	struct query		 q, q2;
	struct aerr		 err;
	unsigned char		*buf;

	if (query_decode(params, kind, &q, &err) != 0) {
		fuzz_check_error(&err, 1);
		FUZZ_CHECK(err.code == AERR_INVALID ||
		    err.code == AERR_LIMIT || err.code == AERR_BAD_CURSOR);
		return;
	}
	FUZZ_CHECK(q.kind == kind);
	FUZZ_CHECK(q.limit >= 1 && q.limit <= PROTO_MAX_PAGE);
	FUZZ_CHECK(q.qlo <= q.qhi);
	FUZZ_CHECK(kind != QUERY_ACTOR || q.actor != NULL);
	FUZZ_CHECK(q.role == NULL || q.actor != NULL);
	FUZZ_CHECK(q.actor == NULL ||
	    (fuzz_str_ok(q.actor, EVENT_MAX_ACTOR) && *q.actor != '\0'));
	FUZZ_CHECK(q.min_prec >= DATE_PREC_NONE &&
	    q.min_prec <= DATE_PREC_TIME);
	fuzz_request_match(&q);

	/* What libannals sends for the same query decodes the same. */
	fuzz_request_pack(&q, &sb);
	FUZZ_CHECK(fuzz_unpack((const uint8_t *)sb.data, sb.size, &u,
	    &buf) == 0);
	FUZZ_CHECK(query_decode(&u.data, kind, &q2, &err) == 0);
	FUZZ_CHECK(q.qlo == q2.qlo && q.qhi == q2.qhi);
	FUZZ_CHECK(q.has_cursor == q2.has_cursor &&
	    q.cur_start == q2.cur_start && q.cur_id == q2.cur_id);
	fuzz_request_pack(&q2, &sb2);
	FUZZ_CHECK(sb.size == sb2.size &&
	    memcmp(sb.data, sb2.data, sb.size) == 0);
	msgpack_sbuffer_destroy(&sb);
	msgpack_sbuffer_destroy(&sb2);
	msgpack_unpacked_destroy(&u);
	free(buf);
	query_clear(&q2);
	query_clear(&q);
}

/* The decoding half of method_put_exec(), error for error. */
static void
fuzz_request_put(const msgpack_object *params)
{
	const msgpack_object	*recs, *one, *list;
	struct event		*evs;
	struct aerr		 err;
	uint32_t		 i, n;

	if (params == NULL)
		return;
	for (i = 0; i < params->via.map.size; i++) {
		if (!mp_key_is(&params->via.map.ptr[i].key, "records") &&
		    !mp_key_is(&params->via.map.ptr[i].key, "record"))
			return;
	}
	recs = mp_get(params, "records");
	one = mp_get(params, "record");
	if ((recs == NULL) == (one == NULL))
		return;
	if (recs != NULL) {
		if (recs->type != MSGPACK_OBJECT_ARRAY)
			return;
		n = recs->via.array.size;
		list = recs->via.array.ptr;
		if (n == 0 || n > PROTO_MAX_BATCH)
			return;
	} else {
		n = 1;
		list = one;
	}
	if ((evs = calloc(n, sizeof *evs)) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		if (record_decode(&list[i], &evs[i], &err) != 0) {
			if (recs != NULL)
				aerr_prefix(&err, "records[%u]: ", i);
			else
				aerr_prefix(&err, "record: ");
			fuzz_check_error(&err, 1);
			FUZZ_CHECK(err.code == AERR_INVALID);
			break;
		}
		fuzz_check_span(&evs[i].span);
	}
	while (i-- > 0)
		record_clear(&evs[i]);
	free(evs);
}

void
fuzz_request(const uint8_t *data, size_t size)
{
	msgpack_unpacked	 u;
	const msgpack_object	*params;
	unsigned char		*buf;
	int			 kind;

	if (size < 1)
		return;
	kind = data[0] % FUZZ_REQ_KINDS;
	if (fuzz_unpack(data + 1, size - 1, &u, &buf) != 0)
		goto out;
	if (u.data.type == MSGPACK_OBJECT_NIL)
		params = NULL;
	else if (u.data.type == MSGPACK_OBJECT_MAP)
		params = &u.data;
	else
		goto out;	/* msg_parse() lets only maps through */
	switch (kind) {
	case FUZZ_REQ_RANGE:
		fuzz_request_query(params, QUERY_RANGE);
		break;
	case FUZZ_REQ_ACTOR:
		fuzz_request_query(params, QUERY_ACTOR);
		break;
	case FUZZ_REQ_PUT:
		fuzz_request_put(params);
		break;
	}
out:
	msgpack_unpacked_destroy(&u);
	free(buf);
}

FUZZ_ENTRY(request)
