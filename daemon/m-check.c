/*
 * check: the integrity checker over the socket.  It walks the whole
 * store in one read transaction, which takes seconds on a large database
 * (19 s at a million events), so it runs on a reader thread while the
 * loop serves everyone else; annalsd --check runs the same walk offline.
 */
#include <stdlib.h>

#include "annalsd.h"

static void
method_check_exec(struct request *req)
{
	static const char *const params[] = { NULL };
	struct store_check	*c;
	msgpack_packer		*pk;
	struct aerr		 err;
	uint64_t		 i, n;

	if (dispatch_check_params(req, params, &err) != 0) {
		dispatch_error(req, &err);
		return;
	}
	c = xcalloc(1, sizeof *c);
	if (store_check(server->store, c, &err) != 0) {
		free(c);
		dispatch_error(req, &err);
		return;
	}
	n = c->nproblems < STORE_CHECK_KEEP ? c->nproblems : STORE_CHECK_KEEP;
	pk = dispatch_reply_begin(req);
	msgpack_pack_map(pk, 6);
	mp_pack_str(pk, "ok");
	if (c->nproblems == 0)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	mp_pack_kv_uint(pk, "events", c->events);
	mp_pack_kv_uint(pk, "index_entries", c->index_entries);
	mp_pack_kv_uint(pk, "changes", c->changes);
	mp_pack_kv_uint(pk, "nproblems", c->nproblems);
	mp_pack_str(pk, "problems");
	msgpack_pack_array(pk, n);
	for (i = 0; i < n; i++)
		mp_pack_str(pk, c->problems[i]);
	dispatch_reply_end(req);
	free(c);
}

const struct method method_check = { "check",
    METHOD_ADMIN | METHOD_READER | METHOD_LONG, method_check_exec, NULL };
