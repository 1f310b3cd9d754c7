/*
 * co_actors: for one actor (or an actor prefix), the actors that appear
 * with it in most events of a range.
 */
#include <stdlib.h>
#include <string.h>

#include "annalsd.h"
#include "agg.h"

static int
co_actors_run(const msgpack_object *params, msgpack_packer *pk,
    struct aerr *err)
{
	static const char *const own[] = { "limit", NULL };
	static const char *const refused[] = { "order", "cursor", "fields",
	    NULL };
	msgpack_object		 qp;
	struct query		 q;
	struct agg_list		 l;
	uint32_t		 limit;
	int			 rc;

	if (agg_limit(params, &limit, err) != 0 ||
	    agg_params(params, own, refused, &qp, err) != 0)
		return (-1);
	rc = query_decode(&qp, QUERY_ACTOR, &q, err);
	free(qp.via.map.ptr);
	if (rc != 0)
		return (-1);
	if (names_resolve(&q, err) != 0) {
		query_clear(&q);
		return (-1);
	}
	rc = store_co_actors(server->store, &q, limit, &l, err);
	if (rc != 0) {
		query_clear(&q);
		return (-1);
	}
	msgpack_pack_map(pk, 3);
	mp_pack_str(pk, "actor");
	msgpack_pack_str(pk, strlen(q.actor) + (q.actor_prefix != 0));
	msgpack_pack_str_body(pk, q.actor, strlen(q.actor));
	if (q.actor_prefix)
		msgpack_pack_str_body(pk, "*", 1);
	mp_pack_kv_uint(pk, "events", l.events);
	agg_pack_actors(pk, &l);
	agg_list_free(&l);
	query_clear(&q);
	return (0);
}

static void
method_co_actors_exec(struct request *req)
{
	agg_reply(req, co_actors_run);
}

const struct method method_co_actors = { "co_actors", METHOD_READER,
    method_co_actors_exec, NULL };
