/*
 * dict_put, dict_delete: write entries of the actor dictionary, all or
 * none, through the group commit like put and delete.
 */
#include <stdio.h>
#include <stdlib.h>

#include "annalsd.h"

typedef int (*dict_decode_fn)(const msgpack_object *, struct dict_entry *,
    struct aerr *);

/*
 * Decode the array param (of entries, or of keys) into ops of kind and
 * queue them.  Returns -1 with err set when the request is refused.
 */
static int
dict_write(struct request *req, const char *param, int kind,
    dict_decode_fn decode, int only_new, struct aerr *err)
{
	const msgpack_object	*list;
	struct dict_entry	*entries;
	struct store_op		*ops;
	size_t			 n, i;

	if ((list = mp_get(req->params, param)) == NULL ||
	    list->type != MSGPACK_OBJECT_ARRAY) {
		aerr_set(err, AERR_INVALID, "%s: required, an array", param);
		return (-1);
	}
	n = list->via.array.size;
	if (n == 0 || n > DICT_MAX_ENTRIES) {
		aerr_set(err, AERR_INVALID, "%s: %zu given, 1 to %d allowed",
		    param, n, DICT_MAX_ENTRIES);
		return (-1);
	}
	entries = xcalloc(n, sizeof *entries);
	for (i = 0; i < n; i++) {
		if (decode(&list->via.array.ptr[i], &entries[i], err) != 0) {
			aerr_prefix(err, "%s[%zu]: ", param, i);
			while (i-- > 0)
				dict_clear(&entries[i]);
			free(entries);
			return (-1);
		}
	}
	ops = xcalloc(n, sizeof *ops);
	for (i = 0; i < n; i++) {
		ops[i].kind = kind;
		ops[i].dict = &entries[i];
		ops[i].only_new = only_new;
	}
	commit_enqueue_dict(req, ops, entries, n);
	return (0);
}

static void
method_dict_put_exec(struct request *req)
{
	static const char *const params[] = { "entries", "only_new", NULL };
	const msgpack_object	*o;
	struct aerr		 err;
	int			 only_new = 0;

	if (dispatch_check_params(req, params, &err) != 0)
		goto fail;
	if ((o = mp_get(req->params, "only_new")) != NULL &&
	    o->type != MSGPACK_OBJECT_NIL &&
	    mp_bool(o, "only_new", &only_new, &err) != 0)
		goto fail;
	if (dict_write(req, "entries", CHANGE_DICT_PUT, dict_decode,
	    only_new, &err) == 0)
		return;
fail:
	commit_enqueue_error(req, &err);
}

static void
method_dict_delete_exec(struct request *req)
{
	static const char *const params[] = { "keys", NULL };
	struct aerr	err;

	if (dispatch_check_params(req, params, &err) == 0 &&
	    dict_write(req, "keys", CHANGE_DICT_DELETE, dict_decode_key, 0,
	    &err) == 0)
		return;
	commit_enqueue_error(req, &err);
}

const struct method method_dict_put = { "dict_put", METHOD_WRITE,
    method_dict_put_exec, NULL };
const struct method method_dict_delete = { "dict_delete", METHOD_WRITE,
    method_dict_delete_exec, NULL };
