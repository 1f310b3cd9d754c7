/*
 * put: add or update a batch of records, all or none.  The records are
 * decoded into owned events here and handed to the group commit, which
 * acknowledges them once they are on disk.
 */
#include <stdlib.h>

#include "annalsd.h"

static void
method_put_exec(struct request *req)
{
	static const char *const params[] = { "records", "record",
	    "check_rev", NULL };
	const msgpack_object	*recs, *one, *list, *check;
	struct event		*evs = NULL;
	struct store_op		*ops;
	struct aerr		 err;
	size_t			 n, i;
	int			 check_rev = 0;

	if (dispatch_check_params(req, params, &err) != 0)
		goto fail;
	check = mp_get(req->params, "check_rev");
	if (check != NULL && check->type != MSGPACK_OBJECT_NIL &&
	    mp_bool(check, "check_rev", &check_rev, &err) != 0)
		goto fail;
	recs = mp_get(req->params, "records");
	one = mp_get(req->params, "record");
	if (recs == NULL && one == NULL) {
		aerr_set(&err, AERR_INVALID, "records: required");
		goto fail;
	}
	if (recs != NULL && one != NULL) {
		aerr_set(&err, AERR_INVALID, "give records or record, "
		    "not both");
		goto fail;
	}
	if (recs != NULL) {
		if (recs->type != MSGPACK_OBJECT_ARRAY) {
			aerr_set(&err, AERR_INVALID, "records: must be an "
			    "array");
			goto fail;
		}
		n = recs->via.array.size;
		list = recs->via.array.ptr;
		if (n == 0) {
			aerr_set(&err, AERR_INVALID, "records: 0 given, at "
			    "least 1 required");
			goto fail;
		}
		if (n > PROTO_MAX_BATCH) {
			aerr_set(&err, AERR_INVALID, "records: %zu given, at "
			    "most %d allowed", n, PROTO_MAX_BATCH);
			goto fail;
		}
	} else {
		n = 1;
		list = one;
	}

	evs = xcalloc(n, sizeof *evs);
	for (i = 0; i < n; i++) {
		if (record_decode(&list[i], &evs[i], &err) != 0) {
			if (recs != NULL)
				aerr_prefix(&err, "records[%zu]: ", i);
			else
				aerr_prefix(&err, "record: ");
			while (i-- > 0)
				record_clear(&evs[i]);
			free(evs);
			goto fail;
		}
	}
	ops = xcalloc(n, sizeof *ops);
	for (i = 0; i < n; i++) {
		ops[i].kind = STORE_OP_PUT;
		ops[i].ev = &evs[i];
		ops[i].check_rev = check_rev;
		ops[i].if_rev = evs[i].rev;
	}
	/* The commit queue owns ops and evs from here on. */
	commit_enqueue(req->conn, req->msgid, STORE_OP_PUT, ops, n, evs, n);
	return;
fail:
	commit_enqueue_error(req->conn, req->msgid, &err);
}

const struct method method_put = { "put", METHOD_WRITE, method_put_exec,
    NULL };
