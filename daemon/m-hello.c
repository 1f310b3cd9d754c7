/* hello: who the server is and the limits it enforces. */
#include "annalsd.h"

static void
method_hello_exec(struct request *req)
{
	static const char *const params[] = { "client", "token", NULL };
	msgpack_packer	*pk;
	struct aerr	 err;

	if (dispatch_check_params(req, params, &err) != 0) {
		dispatch_error(req, &err);
		return;
	}
	pk = conn_reply_begin(req->conn, req->msgid);
	msgpack_pack_map(pk, 6);
	mp_pack_kv_str(pk, "server", "annalsd");
	mp_pack_kv_str(pk, "version", ANNALS_VERSION_STRING);
	mp_pack_kv_uint(pk, "protocol", ANNALS_PROTO_VERSION);
	mp_pack_kv_uint(pk, "max_frame", server->cfg->max_frame);
	mp_pack_kv_uint(pk, "max_batch", PROTO_MAX_BATCH);
	mp_pack_kv_uint(pk, "max_page", PROTO_MAX_PAGE);
	conn_reply_end(req->conn);
}

const struct method method_hello = { "hello", 0, method_hello_exec };
