/*
 * compact: rewrite the live store in key order and put the copy in its
 * place, without a restart.  Writes are held from the start (the group
 * under way ends first), so that the copy is the whole store; reads go
 * on from the old file while a thread makes the copy, and wait only for
 * the swap, as they do for a map grow.  The reply comes when the new
 * file is in use; until then the connection's later requests wait.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "annalsd.h"

struct compact_req {
	struct conn	*conn;		/* holds a reference */
	uint32_t	 msgid;
	int		 fds[2];
	uint64_t	 asked;		/* ms, when the request came */
	uint64_t	 held;		/* ms, when writes stopped */
	struct event	*copied;	/* fds[0] readable: the copy ended */
	struct event	*retry;		/* while a check holds a reader */
};

/* A check can keep a reader for seconds: swap between its polls. */
#define COMPACT_RETRY_MS	50

static struct compact_req	*running;

static void
compact_end(struct compact_req *c)
{
	event_free(c->copied);
	event_free(c->retry);
	close(c->fds[0]);
	close(c->fds[1]);
	if (!conn_dead(c->conn))
		conn_release(c->conn);
	conn_unref(c->conn);
	free(c);
	running = NULL;
}

static void
compact_fail(struct compact_req *c, const struct aerr *err)
{
	log_warn("compaction failed: %s", err->msg);
	conn_reply_error(c->conn, c->msgid, err->code, err->msg);
	compact_end(c);
}

/* The copy is made: swap it in with no read transaction open. */
static void
compact_swap_cb(evutil_socket_t fd, short what, void *arg)
{
	const struct timeval	 later = { 0, COMPACT_RETRY_MS * 1000 };
	struct compact_req	*c = arg;
	struct store_compacted	 out;
	struct aerr		 err;
	msgpack_packer		*pk;
	uint64_t		 now;
	int			 rc;

	(void)fd; (void)what;
	/* Pausing the readers under a check would stop the loop too. */
	if (readers_slow()) {
		evtimer_add(c->retry, &later);
		return;
	}
	readers_pause();
	rc = store_compact_finish(server->store, &out, &err);
	readers_resume();
	commit_unhold();
	now = now_ms();
	if (rc != 0) {
		compact_fail(c, &err);
		return;
	}
	commit_warm_soon();
	log_notice("compacted the store: %llu bytes to %llu, %llu entries, "
	    "writes held %llu ms", (unsigned long long)out.bytes_before,
	    (unsigned long long)out.bytes_after,
	    (unsigned long long)out.entries,
	    (unsigned long long)(now - c->held));
	pk = conn_reply_begin(c->conn, c->msgid);
	msgpack_pack_map(pk, 5);
	mp_pack_kv_uint(pk, "bytes_before", out.bytes_before);
	mp_pack_kv_uint(pk, "bytes_after", out.bytes_after);
	mp_pack_kv_uint(pk, "entries", out.entries);
	mp_pack_kv_uint(pk, "ms", now - c->asked);
	mp_pack_kv_uint(pk, "writes_held_ms", now - c->held);
	conn_reply_end(c->conn);
	compact_end(c);
}

static void
compact_copied_cb(evutil_socket_t fd, short what, void *arg)
{
	struct compact_req	*c = arg;
	char			 one;

	if (read(c->fds[0], &one, 1) != 1)
		log_warn("compact: lost its completion byte");
	compact_swap_cb(fd, what, c);
}

/* No write is under way: copy. */
static void
compact_held(void *arg)
{
	struct compact_req	*c = arg;
	struct aerr		 err;

	c->held = now_ms();
	if (store_compact_start(server->store, c->fds[1], &err) != 0) {
		commit_unhold();
		compact_fail(c, &err);
		return;
	}
	log_notice("compacting the store: writes wait for it");
	if (event_add(c->copied, NULL) != 0)
		fatalx("event_add failed");
}

static void
method_compact_exec(struct request *req)
{
	static const char *const params[] = { NULL };
	struct compact_req	*c;
	struct aerr		 err;

	if (dispatch_check_params(req, params, &err) != 0) {
		dispatch_error(req, &err);
		return;
	}
	if (running != NULL || store_backup_running(server->store)) {
		aerr_set(&err, AERR_LIMIT, running != NULL ? "a compaction "
		    "is already running" : "a backup is running: compact "
		    "when it has ended");
		dispatch_error(req, &err);
		return;
	}
	c = xcalloc(1, sizeof *c);
	if (pipe(c->fds) == -1)
		fatal("pipe");
	c->copied = event_new(server->base, c->fds[0], EV_READ,
	    compact_copied_cb, c);
	c->retry = evtimer_new(server->base, compact_swap_cb, c);
	if (c->copied == NULL || c->retry == NULL)
		fatalx("event_new failed");
	c->conn = req->conn;
	conn_ref(c->conn);
	c->msgid = req->msgid;
	c->asked = now_ms();
	conn_hold(c->conn);
	running = c;
	commit_hold(compact_held, c);
}

const struct method method_compact = { "compact", METHOD_ADMIN,
    method_compact_exec, NULL };
