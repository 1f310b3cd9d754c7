/* delete: remove events by id; deleting what is not there is no error. */
#include <stdlib.h>

#include "annalsd.h"

static void
method_delete_exec(struct request *req)
{
	static const char *const params[] = { "ids", NULL };
	struct store_op		*ops;
	struct aerr		 err;
	uint64_t		*ids;
	size_t			 n, i;

	if (dispatch_check_params(req, params, &err) != 0 ||
	    dispatch_ids(req->params, &ids, &n, &err) != 0)
		goto fail;
	ops = xcalloc(n, sizeof *ops);
	for (i = 0; i < n; i++) {
		ops[i].kind = CHANGE_DELETE;
		ops[i].id = ids[i];
	}
	free(ids);
	commit_enqueue(req, CHANGE_DELETE, ops, n, NULL, 0);
	return;
fail:
	commit_enqueue_error(req, &err);
}

const struct method method_delete = { "delete", METHOD_WRITE,
    method_delete_exec, NULL };
