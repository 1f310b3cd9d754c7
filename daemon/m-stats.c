/* stats: counts and sizes of the store, and the server's own state. */
#include "annalsd.h"

static void
method_stats_exec(struct request *req)
{
	static const char *const params[] = { NULL };
	struct store_stats	 st;
	msgpack_packer		*pk;
	struct aerr		 err;

	if (dispatch_check_params(req, params, &err) != 0 ||
	    store_stats(server->store, &st, &err) != 0) {
		dispatch_error(req, &err);
		return;
	}
	pk = conn_reply_begin(req->conn, req->msgid);
	msgpack_pack_map(pk, 10);
	mp_pack_kv_uint(pk, "events", st.events);
	mp_pack_kv_uint(pk, "actors", st.actors);
	mp_pack_kv_uint(pk, "db_bytes", st.db_bytes);
	mp_pack_kv_uint(pk, "map_bytes", st.map_bytes);
	mp_pack_kv_uint(pk, "map_grows", st.map_grows);
	mp_pack_kv_uint(pk, "last_seq", st.last_seq);
	mp_pack_kv_uint(pk, "uptime", (now_ms() - server->started) / 1000);
	mp_pack_kv_uint(pk, "connections", conn_count());
	mp_pack_kv_str(pk, "version", ANNALS_VERSION_STRING);
	mp_pack_kv_uint(pk, "protocol", ANNALS_PROTO_VERSION);
	conn_reply_end(req->conn);
}

const struct method method_stats = { "stats", 0, method_stats_exec,
    NULL };
