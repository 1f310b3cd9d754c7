/*
 * backup: a consistent, compacted copy of the live store in a directory
 * on the server, made in a thread while everything else goes on.  The
 * reply comes when the copy is complete; until then the connection's
 * later requests wait, so replies keep their order.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "annalsd.h"

struct backup_req {
	struct conn	*conn;		/* holds a reference */
	uint32_t	 msgid;
	int		 fds[2];
	char		*path;
};

static void
method_backup_done(void *arg)
{
	struct backup_req	*b = arg;
	msgpack_packer		*pk;
	struct aerr		 err;
	uint64_t		 bytes = 0;
	char			 one;

	if (read(b->fds[0], &one, 1) != 1)
		log_warn("backup: lost its completion byte");
	if (store_backup_finish(server->store, &bytes, &err) != 0) {
		log_warn("backup to %s failed: %s", b->path, err.msg);
		conn_reply_error(b->conn, b->msgid, err.code, err.msg);
	} else {
		log_notice("backup to %s: %llu bytes", b->path,
		    (unsigned long long)bytes);
		pk = conn_reply_begin(b->conn, b->msgid);
		msgpack_pack_map(pk, 2);
		mp_pack_kv_str(pk, "path", b->path);
		mp_pack_kv_uint(pk, "bytes", bytes);
		conn_reply_end(b->conn);
	}
	close(b->fds[0]);
	close(b->fds[1]);
	commit_backup_ended();
	if (!conn_dead(b->conn))
		conn_release(b->conn);
	conn_unref(b->conn);
	free(b->path);
	free(b);
}

static void
method_backup_exec(struct request *req)
{
	static const char *const params[] = { "path", NULL };
	struct backup_req	*b;
	struct aerr		 err;
	char			*path = NULL;

	if (dispatch_check_params(req, params, &err) != 0 ||
	    mp_str(mp_get(req->params, "path"), "path", 4000, &path,
	    &err) != 0) {
		dispatch_error(req, &err);
		return;
	}
	b = xcalloc(1, sizeof *b);
	if (pipe(b->fds) == -1)
		fatal("pipe");
	if (store_backup_start(server->store, path, b->fds[1], &err) != 0) {
		close(b->fds[0]);
		close(b->fds[1]);
		free(b);
		free(path);
		dispatch_error(req, &err);
		return;
	}
	b->conn = req->conn;
	conn_ref(b->conn);
	b->msgid = req->msgid;
	b->path = path;
	conn_hold(b->conn);
	annalsd_when_readable(b->fds[0], method_backup_done, b);
}

const struct method method_backup = { "backup", METHOD_ADMIN,
    method_backup_exec, NULL };
