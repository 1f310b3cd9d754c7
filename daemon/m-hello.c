/* hello: who the server is and the limits it enforces. */
#include "annalsd.h"

static void
method_hello_exec(struct request *req)
{
	static const char *const params[] = { "client", "token", NULL };
	const msgpack_object	*tok;
	msgpack_packer		*pk;
	struct aerr		 err;
	int			 scope;

	if (dispatch_check_params(req, params, &err) != 0) {
		dispatch_error(req, &err);
		return;
	}
	tok = mp_get(req->params, "token");
	if (tok != NULL && tok->type != MSGPACK_OBJECT_NIL && auth_enabled()) {
		if (tok->type != MSGPACK_OBJECT_STR) {
			aerr_set(&err, AERR_INVALID, "token: must be a string");
			dispatch_error(req, &err);
			return;
		}
		scope = auth_check(tok->via.str.ptr, tok->via.str.size);
		if (scope == AUTH_NONE) {
			log_warn("conn %llu: wrong token from %s",
			    (unsigned long long)conn_id(req->conn),
			    conn_peer(req->conn));
			/*
			 * Whatever an earlier token allowed ends here: a
			 * connection that guesses keeps nothing.
			 */
			conn_set_scope(req->conn, AUTH_NONE);
			aerr_set(&err, AERR_UNAUTHORIZED, "token not "
			    "accepted");
			dispatch_error(req, &err);
			conn_auth_failed(req->conn);
			return;
		}
		conn_set_scope(req->conn, scope);
	}
	pk = conn_reply_begin(req->conn, req->msgid);
	msgpack_pack_map(pk, 8);
	mp_pack_kv_str(pk, "scope", conn_scope(req->conn) == AUTH_WRITE ?
	    "write" : conn_scope(req->conn) == AUTH_READ ? "read" : "none");
	mp_pack_str(pk, "auth");
	if (auth_enabled())
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	mp_pack_kv_str(pk, "server", "annalsd");
	mp_pack_kv_str(pk, "version", ANNALS_VERSION_STRING);
	mp_pack_kv_uint(pk, "protocol", ANNALS_PROTO_VERSION);
	mp_pack_kv_uint(pk, "max_frame", server->cfg->max_frame);
	mp_pack_kv_uint(pk, "max_batch", PROTO_MAX_BATCH);
	mp_pack_kv_uint(pk, "max_page", PROTO_MAX_PAGE);
	conn_reply_end(req->conn);
}

const struct method method_hello = { "hello", METHOD_OPEN,
    method_hello_exec, NULL };
