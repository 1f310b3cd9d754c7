/* delete: remove events by id; deleting what is not there is no error. */
#include <stdio.h>
#include <stdlib.h>

#include "annalsd.h"

static void
method_delete_exec(struct request *req)
{
	static const char *const params[] = { "ids", NULL };
	const msgpack_object	*ids;
	struct store_op		*ops;
	struct aerr		 err;
	uint64_t		 id;
	size_t			 n, i;
	char			 field[32];

	if (dispatch_check_params(req, params, &err) != 0)
		goto fail;
	if ((ids = mp_get(req->params, "ids")) == NULL ||
	    ids->type != MSGPACK_OBJECT_ARRAY) {
		aerr_set(&err, AERR_INVALID, "ids: required, an array of ids");
		goto fail;
	}
	n = ids->via.array.size;
	if (n == 0) {
		aerr_set(&err, AERR_INVALID, "ids: 0 given, at least 1 "
		    "required");
		goto fail;
	}
	if (n > PROTO_MAX_IDS) {
		aerr_set(&err, AERR_INVALID, "ids: %zu given, at most %d "
		    "allowed", n, PROTO_MAX_IDS);
		goto fail;
	}
	ops = xcalloc(n, sizeof *ops);
	for (i = 0; i < n; i++) {
		snprintf(field, sizeof field, "ids[%zu]", i);
		if (mp_uint(&ids->via.array.ptr[i], field, &id, &err) != 0) {
			free(ops);
			goto fail;
		}
		ops[i].kind = STORE_OP_DELETE;
		ops[i].id = id;
	}
	commit_enqueue(req->conn, req->msgid, STORE_OP_DELETE, ops, n, NULL, 0);
	return;
fail:
	commit_enqueue_error(req->conn, req->msgid, &err);
}

const struct method method_delete = { "delete", METHOD_WRITE,
    method_delete_exec, NULL };
