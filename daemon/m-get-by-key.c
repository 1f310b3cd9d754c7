/* get_by_key: the event a feed knows by (source, key). */
#include <stdlib.h>

#include "annalsd.h"

static int
method_get_by_key_one(void *arg, size_t i, const void *data, size_t len)
{
	struct request	*req = arg;

	(void)i;
	msgpack_pack_map(&req->pk, 1);
	mp_pack_str(&req->pk, "event");
	msgpack_sbuffer_write(req->sbuf, data, len);
	return (0);
}

static void
method_get_by_key_exec(struct request *req)
{
	static const char *const params[] = { "source", "key", NULL };
	const msgpack_object	*o;
	char			*source = NULL, *key = NULL;
	struct aerr		 err;

	if (dispatch_check_params(req, params, &err) != 0)
		goto fail;
	if ((o = mp_get(req->params, "source")) == NULL) {
		aerr_set(&err, AERR_INVALID, "source: required");
		goto fail;
	}
	if (mp_str(o, "source", EVENT_MAX_SOURCE, &source, &err) != 0)
		goto fail;
	if ((o = mp_get(req->params, "key")) == NULL) {
		aerr_set(&err, AERR_INVALID, "key: required");
		goto fail;
	}
	if (mp_str(o, "key", EVENT_MAX_KEY, &key, &err) != 0)
		goto fail;
	dispatch_reply_begin(req);
	if (store_get_by_key(server->store, source, key,
	    method_get_by_key_one, req, &err) != 0)
		goto fail;
	dispatch_reply_end(req);
	free(source);
	free(key);
	return;
fail:
	free(source);
	free(key);
	dispatch_error(req, &err);
}

/* One lookup in two indexes: cheaper here than on a reader thread. */
const struct method method_get_by_key = { "get_by_key", 0,
    method_get_by_key_exec, NULL };
