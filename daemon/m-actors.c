/* actors: known actors with their event counts, by name, paged. */
#include <stdlib.h>
#include <string.h>

#include "annalsd.h"

struct actor_row {
	char		*name;
	uint64_t	 count;
};

struct actors_ctx {
	struct actor_row	*rows;
	size_t			 n;
};

static int
method_actors_one(void *arg, const char *name, size_t len, uint64_t count)
{
	struct actors_ctx	*a = arg;
	struct actor_row	*r = &a->rows[a->n++];

	r->name = xmalloc(len + 1);
	memcpy(r->name, name, len);
	r->name[len] = '\0';
	r->count = count;
	return (0);
}

static void
method_actors_exec(struct request *req)
{
	static const char *const params[] = { "prefix", "limit", "cursor",
	    NULL };
	const msgpack_object	*o;
	struct actors_ctx	 a;
	msgpack_packer		*pk;
	struct aerr		 err;
	char			*prefix = NULL, *after = NULL;
	uint64_t		 limit = PROTO_DEFAULT_PAGE;
	size_t			 i;
	int			 more;

	memset(&a, 0, sizeof a);
	if (dispatch_check_params(req, params, &err) != 0)
		goto fail;
	if ((o = mp_get(req->params, "prefix")) != NULL &&
	    o->type != MSGPACK_OBJECT_NIL &&
	    mp_str(o, "prefix", EVENT_MAX_ACTOR, &prefix, &err) != 0)
		goto fail;
	if ((o = mp_get(req->params, "cursor")) != NULL &&
	    o->type != MSGPACK_OBJECT_NIL &&
	    mp_str(o, "cursor", EVENT_MAX_ACTOR, &after, &err) != 0)
		goto fail;
	if ((o = mp_get(req->params, "limit")) != NULL &&
	    mp_uint(o, "limit", &limit, &err) != 0)
		goto fail;
	if (limit == 0 || limit > PROTO_MAX_PAGE) {
		aerr_set(&err, AERR_INVALID, "limit: %llu is outside 1 to %d",
		    (unsigned long long)limit, PROTO_MAX_PAGE);
		goto fail;
	}
	a.rows = xcalloc(limit, sizeof *a.rows);
	if (store_actors(server->store, prefix, after, (uint32_t)limit,
	    method_actors_one, &a, &more, &err) != 0)
		goto fail;
	pk = dispatch_reply_begin(req);
	msgpack_pack_map(pk, 2);
	mp_pack_str(pk, "actors");
	msgpack_pack_array(pk, a.n);
	for (i = 0; i < a.n; i++) {
		msgpack_pack_map(pk, 2);
		mp_pack_kv_str(pk, "name", a.rows[i].name);
		mp_pack_kv_uint(pk, "count", a.rows[i].count);
	}
	mp_pack_str(pk, "cursor");
	if (more && a.n > 0)
		mp_pack_str(pk, a.rows[a.n - 1].name);
	else
		msgpack_pack_nil(pk);
	dispatch_reply_end(req);
	goto out;
fail:
	dispatch_error(req, &err);
out:
	for (i = 0; i < a.n; i++)
		free(a.rows[i].name);
	free(a.rows);
	free(prefix);
	free(after);
}

/*
 * A page of a hundred names (the HTTP API's default page) is a short
 * walk of one index: less than the hop to a reader thread and back.
 */
#define ACTORS_CHEAP_NAMES	100

static int
method_actors_cheap(const msgpack_object *params)
{
	const msgpack_object	*limit = mp_get(params, "limit");

	return (limit != NULL && limit->type ==
	    MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    limit->via.u64 <= ACTORS_CHEAP_NAMES);
}

const struct method method_actors = { "actors", METHOD_READER,
    method_actors_exec, method_actors_cheap };
