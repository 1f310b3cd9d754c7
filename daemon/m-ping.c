/* ping: the cheapest round trip. */
#include "annalsd.h"

static void
method_ping_exec(struct request *req)
{
	static const char *const params[] = { NULL };
	struct aerr	err;

	if (dispatch_check_params(req, params, &err) != 0) {
		dispatch_error(req, &err);
		return;
	}
	mp_pack_str(conn_reply_begin(req->conn, req->msgid), "pong");
	conn_reply_end(req->conn);
}

const struct method method_ping = { "ping", METHOD_OPEN,
    method_ping_exec, NULL };
