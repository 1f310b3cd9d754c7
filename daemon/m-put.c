/*
 * put: add or update a batch of records, all or none.  The records are
 * decoded into owned events here and handed to the group commit, which
 * acknowledges them once they are on disk.  The decoding uses neither
 * the store nor a connection, so the HTTP API does it on a reader thread
 * (put_decode) and hands the batch on from the loop (put_local).
 */
#include <stdlib.h>

#include "annalsd.h"

struct put_batch {
	struct event	*evs;
	struct store_op	*ops;
	size_t		 n;
};

/* Decode put's params into a batch: on any thread. */
int
put_decode(const msgpack_object *params, struct put_batch **out,
    struct aerr *err)
{
	static const char *const names[] = { "records", "record",
	    "check_rev", NULL };
	const msgpack_object	*recs, *one, *list, *check;
	struct request		 req = { .params = params };
	struct put_batch	*b;
	struct event		*evs;
	size_t			 n, i;
	int			 check_rev = 0;

	if (dispatch_check_params(&req, names, err) != 0)
		return (-1);
	check = mp_get(params, "check_rev");
	if (check != NULL && check->type != MSGPACK_OBJECT_NIL &&
	    mp_bool(check, "check_rev", &check_rev, err) != 0)
		return (-1);
	recs = mp_get(params, "records");
	one = mp_get(params, "record");
	if (recs == NULL && one == NULL) {
		aerr_set(err, AERR_INVALID, "records: required");
		return (-1);
	}
	if (recs != NULL && one != NULL) {
		aerr_set(err, AERR_INVALID, "give records or record, "
		    "not both");
		return (-1);
	}
	if (recs != NULL) {
		if (recs->type != MSGPACK_OBJECT_ARRAY) {
			aerr_set(err, AERR_INVALID, "records: must be an "
			    "array");
			return (-1);
		}
		n = recs->via.array.size;
		list = recs->via.array.ptr;
		if (n == 0) {
			aerr_set(err, AERR_INVALID, "records: 0 given, at "
			    "least 1 required");
			return (-1);
		}
		if (n > PROTO_MAX_BATCH) {
			aerr_set(err, AERR_INVALID, "records: %zu given, at "
			    "most %d allowed", n, PROTO_MAX_BATCH);
			return (-1);
		}
	} else {
		n = 1;
		list = one;
	}

	evs = xcalloc(n, sizeof *evs);
	for (i = 0; i < n; i++) {
		if (record_decode(&list[i], &evs[i], err) != 0) {
			if (recs != NULL)
				aerr_prefix(err, "records[%zu]: ", i);
			else
				aerr_prefix(err, "record: ");
			while (i-- > 0)
				record_clear(&evs[i]);
			free(evs);
			return (-1);
		}
	}
	b = xcalloc(1, sizeof *b);
	b->evs = evs;
	b->n = n;
	b->ops = xcalloc(n, sizeof *b->ops);
	for (i = 0; i < n; i++) {
		b->ops[i].kind = CHANGE_PUT;
		b->ops[i].ev = &evs[i];
		b->ops[i].check_rev = check_rev;
		b->ops[i].if_rev = evs[i].rev;
	}
	*out = b;
	return (0);
}

/* Hand a batch to the commit queue, which owns its ops and events. */
static void
put_enqueue(const struct request *req, struct put_batch *b)
{
	commit_enqueue(req, CHANGE_PUT, b->ops, b->n, b->evs, b->n);
	free(b);
}

/*
 * On the loop: commit a decoded batch for a caller that is no
 * connection; done gets put's result or error, as from dispatch_local().
 */
void
put_local(struct put_batch *b, dispatch_local_cb done, void *arg)
{
	struct request	req = { .local = done, .local_arg = arg };

	put_enqueue(&req, b);
}

static void
method_put_exec(struct request *req)
{
	struct put_batch	*b;
	struct aerr		 err;

	if (put_decode(req->params, &b, &err) != 0)
		commit_enqueue_error(req, &err);
	else
		put_enqueue(req, b);
}

const struct method method_put = { "put", METHOD_WRITE, method_put_exec,
    NULL };
