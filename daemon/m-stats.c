/* stats: counts and sizes of the store, and the server's own state. */
#include "annalsd.h"

/*
 * The stats map, for the socket's stats and HTTP's /v1/stats; streams
 * is the number of open event streams, or -1 to leave it out (the
 * socket).
 */
int
stats_pack(msgpack_packer *pk, long streams, struct aerr *err)
{
	struct store_stats	st;
	const char		*copying = store_copy_running(server->store);
	size_t			i;

	if (store_stats(server->store, &st, err) != 0)
		return (-1);
	msgpack_pack_map(pk, 16 + (streams >= 0) + (copying != NULL) +
	    replica_following());
	mp_pack_kv_uint(pk, "events", st.events);
	mp_pack_kv_uint(pk, "actors", st.actors);
	mp_pack_kv_uint(pk, "db_bytes", st.db_bytes);
	mp_pack_kv_uint(pk, "free_bytes", st.free_bytes);
	mp_pack_kv_uint(pk, "map_bytes", st.map_bytes);
	mp_pack_kv_uint(pk, "map_grows", st.map_grows);
	mp_pack_kv_uint(pk, "last_seq", st.last_seq);
	mp_pack_kv_uint(pk, "write_memory", st.write_memory);
	mp_pack_kv_uint(pk, "memory_releases", st.releases);
	mp_pack_kv_uint(pk, "uptime", (now_ms() - server->started) / 1000);
	mp_pack_kv_uint(pk, "connections", conn_count());
	mp_pack_kv_uint(pk, "reader_jobs", readers_jobs());
	if (copying != NULL)
		mp_pack_kv_str(pk, "copying", copying);
	if (streams >= 0)
		mp_pack_kv_uint(pk, "streams", (uint64_t)streams);
	mp_pack_kv_str(pk, "version", ANNALS_VERSION_STRING);
	mp_pack_kv_uint(pk, "protocol", ANNALS_PROTO_VERSION);
	mp_pack_kv_str(pk, "uuid", store_uuid(server->store));
	mp_pack_str(pk, "databases");
	msgpack_pack_map(pk, st.ndbs);
	for (i = 0; i < st.ndbs; i++) {
		mp_pack_str(pk, st.dbs[i].name);
		msgpack_pack_map(pk, 2);
		mp_pack_kv_uint(pk, "entries", st.dbs[i].entries);
		mp_pack_kv_uint(pk, "bytes", st.dbs[i].bytes);
	}
	replica_pack_stats(pk);
	return (0);
}

static void
method_stats_exec(struct request *req)
{
	static const char *const params[] = { NULL };
	msgpack_sbuffer		 sb;
	msgpack_packer		 spk, *pk;
	struct aerr		 err;

	/* Packed aside first: an error must not leave half a reply. */
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&spk, &sb, msgpack_sbuffer_write);
	if (dispatch_check_params(req, params, &err) != 0 ||
	    stats_pack(&spk, -1, &err) != 0) {
		msgpack_sbuffer_destroy(&sb);
		dispatch_error(req, &err);
		return;
	}
	pk = conn_reply_begin(req->conn, req->msgid);
	pk->callback(pk->data, sb.data, sb.size);
	conn_reply_end(req->conn);
	msgpack_sbuffer_destroy(&sb);
}

const struct method method_stats = { "stats", 0, method_stats_exec,
    NULL };
