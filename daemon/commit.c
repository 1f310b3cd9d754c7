/*
 * Group commit.  Every write request read during one turn of the event
 * loop waits here; at the end of the turn all of them go to the store in
 * one write transaction, and each is acknowledged only after that
 * transaction committed.  A request that failed validation waits here
 * too, so that each connection's replies keep their order.
 */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "annalsd.h"

struct pending {
	struct conn		*conn;		/* holds a reference */
	uint32_t		 msgid;
	int			 kind;		/* COMMIT_* */
	struct store_op		*ops;
	size_t			 nops;
	struct event		*events;	/* what ops point into */
	size_t			 nevents;
	int			 failed;
	struct aerr		 err;
	commit_done_cb		 done;		/* instead of a reply to conn */
	void			*done_arg;
	TAILQ_ENTRY(pending)	 entry;
};

static TAILQ_HEAD(, pending)	 queue = TAILQ_HEAD_INITIALIZER(queue);
static size_t			 queued;
static struct event		*flush_ev;

static void
commit_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	commit_flush();
}

void
commit_init(void)
{
	flush_ev = event_new(server->base, -1, 0, commit_cb, NULL);
	if (flush_ev == NULL)
		fatalx("event_new failed");
}

void
commit_free(void)
{
	if (flush_ev != NULL)
		event_free(flush_ev);
	flush_ev = NULL;
}

size_t
commit_pending(void)
{
	return (queued);
}

static struct pending *
commit_add(struct conn *c, uint32_t msgid)
{
	struct pending	*p;

	p = xcalloc(1, sizeof *p);
	p->conn = c;
	if (c != NULL)
		conn_ref(c);
	p->msgid = msgid;
	TAILQ_INSERT_TAIL(&queue, p, entry);
	queued++;
	/* Runs after every callback already active in this turn. */
	if (!event_pending(flush_ev, EV_TIMEOUT, NULL))
		event_active(flush_ev, EV_TIMEOUT, 0);
	return (p);
}

/* Queue a write; the queue takes ops and events (and what they own). */
void
commit_enqueue(struct conn *c, uint32_t msgid, int kind,
    struct store_op *ops, size_t nops, struct event *events, size_t nevents)
{
	struct pending	*p = commit_add(c, msgid);

	p->kind = kind;
	p->ops = ops;
	p->nops = nops;
	p->events = events;
	p->nevents = nevents;
}

void
commit_enqueue_error(struct conn *c, uint32_t msgid, const struct aerr *err)
{
	struct pending	*p = commit_add(c, msgid);

	p->failed = 1;
	p->err = *err;
}

static const char *
status_name(int status)
{
	switch (status) {
	case STORE_ADDED:
		return ("added");
	case STORE_UPDATED:
		return ("updated");
	default:
		return ("unchanged");
	}
}

static void
commit_reply(struct pending *p, const struct store_batch *b)
{
	msgpack_packer	*pk;
	size_t		 i;

	if (p->failed || (b != NULL && b->failed)) {
		const struct aerr *err = p->failed ? &p->err : &b->err;

		conn_reply_error(p->conn, p->msgid, err->code, err->msg);
		return;
	}
	pk = conn_reply_begin(p->conn, p->msgid);
	msgpack_pack_map(pk, 1);
	if (p->kind == COMMIT_PUT) {
		mp_pack_str(pk, "results");
		msgpack_pack_array(pk, p->nops);
		for (i = 0; i < p->nops; i++) {
			msgpack_pack_map(pk, 3);
			mp_pack_kv_uint(pk, "id", p->ops[i].out_id);
			mp_pack_kv_uint(pk, "rev", p->ops[i].out_rev);
			mp_pack_kv_str(pk, "status",
			    status_name(p->ops[i].status));
		}
	} else {
		mp_pack_str(pk, "deleted");
		msgpack_pack_array(pk, p->nops);
		for (i = 0; i < p->nops; i++) {
			if (p->ops[i].status)
				msgpack_pack_true(pk);
			else
				msgpack_pack_false(pk);
		}
	}
	conn_reply_end(p->conn);
}

static void	commit_done(struct pending *, const struct store_batch *);

static void
pending_free(struct pending *p)
{
	size_t	i;

	for (i = 0; i < p->nevents; i++)
		record_clear(&p->events[i]);
	free(p->events);
	free(p->ops);
	free(p);
}

/* Commit everything queued, then acknowledge it in order. */
void
commit_flush(void)
{
	TAILQ_HEAD(, pending)	 work = TAILQ_HEAD_INITIALIZER(work);
	struct store_batch	*batches;
	struct pending		*p;
	struct aerr		 err;
	size_t			 n = 0, i;

	if (TAILQ_EMPTY(&queue))
		return;
	TAILQ_CONCAT(&work, &queue, entry);
	batches = xcalloc(queued, sizeof *batches);
	queued = 0;
	TAILQ_FOREACH(p, &work, entry) {
		if (p->failed)
			continue;
		batches[n].ops = p->ops;
		batches[n].nops = p->nops;
		n++;
	}
	if (n > 0 && store_write(server->store, batches, n, now_ms(),
	    &err) != 0)
		log_warn("commit of %zu requests failed: %s", n, err.msg);

	i = 0;
	while ((p = TAILQ_FIRST(&work)) != NULL) {
		TAILQ_REMOVE(&work, p, entry);
		if (p->done != NULL)
			commit_done(p, p->failed ? NULL : &batches[i]);
		else
			commit_reply(p, p->failed ? NULL : &batches[i]);
		if (!p->failed)
			i++;
		if (p->conn != NULL) {
			conn_write_done(p->conn);
			conn_unref(p->conn);
		}
		pending_free(p);
	}
	free(batches);
	changes_committed();
}

/*
 * Writes that answer something other than a connection (the HTTP API):
 * they join the same group commit, and done is called with the outcome
 * (err NULL on success) where a connection would get its reply.  The
 * queue owns ops and events as with commit_enqueue().
 */
void
commit_enqueue_cb(int kind, struct store_op *ops, size_t nops,
    struct event *events, size_t nevents, commit_done_cb done, void *arg)
{
	struct pending	*p = commit_add(NULL, 0);

	p->kind = kind;
	p->ops = ops;
	p->nops = nops;
	p->events = events;
	p->nevents = nevents;
	p->done = done;
	p->done_arg = arg;
}

static void
commit_done(struct pending *p, const struct store_batch *b)
{
	const struct aerr	*err = NULL;

	if (p->failed)
		err = &p->err;
	else if (b != NULL && b->failed)
		err = &b->err;
	p->done(p->done_arg, p->ops, p->nops, err);
}
