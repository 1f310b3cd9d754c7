/*
 * actors: known actors with their event counts, by name, paged, each
 * with the label it is shown with (names.c).
 */
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
	struct names_label	*labels = NULL;
	char			**codes = NULL;
	msgpack_packer		*pk;
	struct aerr		 err;
	char			*prefix = NULL, *after = NULL;
	uint32_t		 limit;
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
	if (dispatch_page_limit(req, &limit, &err) != 0)
		goto fail;
	a.rows = xcalloc(limit, sizeof *a.rows);
	if (store_actors(server->store, prefix, after, limit,
	    method_actors_one, &a, &more, &err) != 0)
		goto fail;
	codes = xcalloc(a.n + 1, sizeof *codes);
	labels = xcalloc(a.n + 1, sizeof *labels);
	for (i = 0; i < a.n; i++)
		codes[i] = a.rows[i].name;
	if (names_labels((const char *const *)codes, a.n, labels, &err) != 0)
		goto fail;
	pk = dispatch_reply_begin(req);
	msgpack_pack_map(pk, 2);
	mp_pack_str(pk, "actors");
	msgpack_pack_array(pk, a.n);
	for (i = 0; i < a.n; i++) {
		msgpack_pack_map(pk, labels[i].label != NULL ? 4 : 2);
		mp_pack_kv_str(pk, "name", a.rows[i].name);
		mp_pack_kv_uint(pk, "count", a.rows[i].count);
		names_pack_label(pk, &labels[i]);
	}
	mp_pack_str(pk, "cursor");
	if (more && a.n > 0)
		mp_pack_str(pk, a.rows[a.n - 1].name);
	else
		msgpack_pack_nil(pk);
	dispatch_reply_end(req);
	names_labels_free(labels, a.n);
	goto out;
fail:
	dispatch_error(req, &err);
out:
	for (i = 0; i < a.n; i++)
		free(a.rows[i].name);
	free(a.rows);
	free(codes);
	free(labels);
	free(prefix);
	free(after);
}

const struct method method_actors = { "actors", METHOD_READER,
    method_actors_exec, NULL };
