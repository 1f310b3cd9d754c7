/* get: records by id, nil for an id that is not stored. */
#include <stdlib.h>

#include "annalsd.h"

struct get_ctx {
	msgpack_packer	*pk;
	msgpack_sbuffer	*sbuf;
	uint32_t	 fields;
	struct aerr	*err;
};

static int
method_get_one(void *arg, size_t i, const void *data, size_t len)
{
	struct get_ctx	*g = arg;
	size_t		 mark = g->sbuf->size;

	if (data == NULL)
		msgpack_pack_nil(g->pk);
	else
		fields_write(g->sbuf, data, len, g->fields);
	/*
	 * Stop at the first record that does not fit: 10,000 ids of a
	 * large record would otherwise build gigabytes only to refuse them.
	 */
	if (g->sbuf->size > server->cfg->max_frame) {
		g->sbuf->size = mark;
		aerr_set(g->err, AERR_LIMIT, "result exceeds the frame limit "
		    "of %zu bytes at ids[%zu]; ask for fewer ids",
		    server->cfg->max_frame, i);
		return (-1);
	}
	return (0);
}

static void
method_get_exec(struct request *req)
{
	static const char *const params[] = { "ids", "fields", NULL };
	struct get_ctx		 g;
	struct aerr		 err;
	uint64_t		*list;
	size_t			 n;

	if (dispatch_check_params(req, params, &err) != 0 ||
	    fields_param(req->params, &g.fields, &err) != 0 ||
	    dispatch_ids(req->params, &list, &n, &err) != 0)
		goto fail;
	g.sbuf = req->sbuf;
	g.err = &err;
	g.pk = dispatch_reply_begin(req);
	msgpack_pack_map(g.pk, 1);
	mp_pack_str(g.pk, "events");
	msgpack_pack_array(g.pk, n);
	if (store_get(server->store, list, n, method_get_one, &g,
	    &err) != 0) {
		free(list);
		goto fail;
	}
	free(list);
	dispatch_reply_end(req);
	return;
fail:
	dispatch_error(req, &err);
}

/*
 * A few records cost less than handing the request to a reader thread
 * and its reply back (a mutex, a futex wake, a pipe byte, an epoll turn):
 * on eight clients asking for one id each, offloading halved the rate.
 */
#define GET_CHEAP_IDS	16

static int
method_get_cheap(const msgpack_object *params)
{
	const msgpack_object	*ids = mp_get(params, "ids");

	return (ids == NULL || ids->type != MSGPACK_OBJECT_ARRAY ||
	    ids->via.array.size <= GET_CHEAP_IDS);
}

const struct method method_get = { "get", METHOD_READER, method_get_exec,
    method_get_cheap };
