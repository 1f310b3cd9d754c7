/*
 * The method table: each method lives in its own m-<name>.c and exports
 * one struct method; this file finds them by name and holds what every
 * method needs for its parameters and errors.
 */
#include <string.h>

#include "annalsd.h"

#define METHOD_ENTRY(name) &method_##name,
static const struct method *const methods[] = {
	PROTO_METHODS(METHOD_ENTRY)
};
#undef METHOD_ENTRY

/* Room kept in a frame for everything but the records of a page. */
#define DISPATCH_FRAME_SLACK	(64u * 1024)

const struct method *
dispatch_find(const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		if (strlen(methods[i]->name) == len &&
		    memcmp(methods[i]->name, name, len) == 0)
			return (methods[i]);
	}
	return (NULL);
}

/* Refuse a parameter the method does not know; allowed ends in NULL. */
int
dispatch_check_params(const struct request *req, const char *const *allowed,
    struct aerr *err)
{
	const msgpack_object	*p = req->params;
	char			 name[96];
	uint32_t		 i;
	size_t			 j;

	if (p == NULL)
		return (0);
	for (i = 0; i < p->via.map.size; i++) {
		const msgpack_object *k = &p->via.map.ptr[i].key;

		for (j = 0; allowed[j] != NULL; j++) {
			if (mp_key_is(k, allowed[j]))
				break;
		}
		if (allowed[j] != NULL)
			continue;
		if (k->type == MSGPACK_OBJECT_STR)
			aerr_set(err, AERR_INVALID, "unknown parameter \"%s\"",
			    log_escape(k->via.str.ptr, k->via.str.size, name,
			    sizeof name));
		else
			aerr_set(err, AERR_INVALID, "parameter names must be "
			    "strings");
		return (-1);
	}
	return (0);
}

/* Start a successful reply; the caller packs the result, then ends it. */
msgpack_packer *
dispatch_reply_begin(struct request *req)
{
	msgpack_sbuffer_clear(req->sbuf);
	msgpack_packer_init(&req->pk, req->sbuf, msgpack_sbuffer_write);
	msg_pack_response_ok(&req->pk, req->msgid);
	return (&req->pk);
}

/*
 * The bytes of records one page of results may carry: a page stops
 * short of the frame limit, whatever its length in records, leaving
 * room for everything but the records themselves.  A record larger than
 * this still goes out, alone on its page, so that paging always moves.
 */
size_t
dispatch_page_budget(void)
{
	size_t	frame = server->cfg->max_frame;

	return (frame > 4 * DISPATCH_FRAME_SLACK ?
	    frame - DISPATCH_FRAME_SLACK : frame / 2);
}

/* On a reader thread the loop sends the reply once the job is back. */
void
dispatch_reply_end(struct request *req)
{
	if (req->conn != NULL)
		conn_reply_end(req->conn);
}

/* Reply with err instead, whatever was packed so far. */
void
dispatch_error(struct request *req, const struct aerr *err)
{
	msgpack_sbuffer_clear(req->sbuf);
	msgpack_packer_init(&req->pk, req->sbuf, msgpack_sbuffer_write);
	msg_pack_response_error(&req->pk, req->msgid, err->code, err->msg);
	dispatch_reply_end(req);
}
