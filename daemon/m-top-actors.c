/* top_actors: the actors with most events in a range. */
#include <stdlib.h>

#include "annalsd.h"
#include "agg.h"

/* Pack "actors": [{"name": str, "count": uint}, ...] into a map. */
void
agg_pack_actors(msgpack_packer *pk, const struct agg_list *l)
{
	size_t	i;

	mp_pack_str(pk, "actors");
	msgpack_pack_array(pk, l->n);
	for (i = 0; i < l->n; i++) {
		msgpack_pack_map(pk, 2);
		mp_pack_kv_str(pk, "name", l->items[i].name);
		mp_pack_kv_uint(pk, "count", l->items[i].count);
	}
}

static int
top_actors_run(const msgpack_object *params, msgpack_packer *pk,
    struct aerr *err)
{
	static const char *const own[] = { "limit", "prefix", NULL };
	static const char *const refused[] = { "actor", "role", "order",
	    "cursor", "fields", NULL };
	const msgpack_object	*o;
	msgpack_object		 qp;
	struct query		 q;
	struct agg_list		 l;
	char			*prefix = NULL;
	uint32_t		 limit;
	int			 rc;

	if (agg_limit(params, &limit, err) != 0)
		return (-1);
	if (params != NULL && (o = mp_get(params, "prefix")) != NULL &&
	    o->type != MSGPACK_OBJECT_NIL &&
	    mp_str(o, "prefix", EVENT_MAX_ACTOR, &prefix, err) != 0)
		return (-1);
	if (agg_params(params, own, refused, &qp, err) != 0) {
		free(prefix);
		return (-1);
	}
	rc = query_decode(&qp, QUERY_RANGE, &q, err);
	free(qp.via.map.ptr);
	if (rc == 0) {
		rc = store_top_actors(server->store, &q,
		    prefix != NULL && *prefix != '\0' ? prefix : NULL, limit,
		    &l, err);
		query_clear(&q);
	}
	free(prefix);
	if (rc != 0)
		return (-1);
	msgpack_pack_map(pk, 1);
	agg_pack_actors(pk, &l);
	agg_list_free(&l);
	return (0);
}

static void
method_top_actors_exec(struct request *req)
{
	agg_reply(req, top_actors_run);
}

const struct method method_top_actors = { "top_actors", METHOD_READER,
    method_top_actors_exec, NULL };
