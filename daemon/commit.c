/*
 * Group commit.  Write requests wait in a queue; the writer thread takes
 * everything queued, applies it in one write transaction and commits,
 * while the loop goes on reading and answering.  Each request is
 * acknowledged only after its transaction committed.  What arrives during
 * a commit is the next group, so the busier the daemon, the larger its
 * transactions and the fewer pages it writes per event.  A request that
 * failed validation waits here too, so that each connection's replies
 * keep their order.
 *
 * The loop and the writer share only the group being committed (handed
 * over under the mutex) and a pipe that wakes the loop when it is done.
 * The map is grown by the loop, between commits, when no read
 * transaction is open (P9): the reader threads are paused for it.  A
 * running backup holds a read transaction for as long as its copy takes,
 * so a group that needs a larger map then waits, parked, until the
 * backup has ended (commit_backup_ended); reads go on meanwhile.
 *
 * An online compaction holds the commit (commit_hold): the group under
 * way ends, and what arrives waits in the queue until commit_unhold().
 *
 * LMDB keeps the page buffers of the largest write transaction for good.
 * When writes have stopped for RELEASE_IDLE_MS and that is more than
 * --write-memory, the loop gives it back (store_release), with the
 * readers paused as for a grow: a bulk load in random order leaves
 * hundreds of MB behind, which a daemon that then only answers queries
 * should not hold.
 */
#include <sys/queue.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "annalsd.h"

struct pending {
	struct conn		*conn;		/* holds a reference */
	uint32_t		 msgid;
	int			 kind;		/* CHANGE_* */
	struct store_op		*ops;
	size_t			 nops;
	struct event		*events;	/* what ops point into */
	size_t			 nevents;
	struct dict_entry	*dicts;		/* dictionary ops' entries */
	int			 failed;
	struct aerr		 err;
	dispatch_local_cb	 local;		/* conn NULL: answer here */
	void			*local_arg;
	TAILQ_ENTRY(pending)	 entry;
};

TAILQ_HEAD(pendings, pending);

/* Records in one write transaction, at most (a single request may pass). */
#define COMMIT_MAX_OPS	4000

static struct pendings		 queue = TAILQ_HEAD_INITIALIZER(queue);
static size_t			 queued;
static struct event		*flush_ev;

/* The group being committed; the writer owns it while busy. */
static struct pendings		 group = TAILQ_HEAD_INITIALIZER(group);
static struct store_batch	*batches;
static size_t			 nbatches;
static int			 busy;
static int			 parked;	/* a grow waits for the backup */
static int			 draining;	/* parking not allowed */
static int			 held;		/* commit_hold() */
static void			(*hold_ready)(void *);
static void			*hold_arg;

static pthread_t		 writer;
static pthread_mutex_t		 lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t		 wake = PTHREAD_COND_INITIALIZER;
static int			 work_ready;	/* under lock */
static int			 stopping;	/* under lock */
static int			 result;	/* of store_write_try */
static struct aerr		 result_err;
static int			 done_pipe[2] = { -1, -1 };
static struct event		*done_ev;

static struct event		*release_ev;

/* Writes quiet this long give back what LMDB kept for them. */
#define RELEASE_IDLE_MS	1000

static void	commit_start(void);
static void	commit_finish(void);

static void
commit_release_arm(void)
{
	const struct timeval	idle = { RELEASE_IDLE_MS / 1000,
				    (RELEASE_IDLE_MS % 1000) * 1000 };

	/* Again from now when pending: a second after the last commit. */
	evtimer_add(release_ev, &idle);
}

static void
commit_warm(void *arg)
{
	uint64_t	t0 = now_ms();

	(void)arg;
	store_warm(server->store);
	log_debug("mapped the cached pages of the store again in %llu ms",
	    (unsigned long long)(now_ms() - t0));
}

/*
 * Map the cached pages of a store opened again, off the loop: at 10M
 * events, hundreds of ms of page tables.
 */
void
commit_warm_soon(void)
{
	if (readers_call(commit_warm, NULL, NULL) != 0)
		store_warm(server->store);
}

static void
commit_release_cb(evutil_socket_t fd, short what, void *arg)
{
	uint64_t	kept = store_write_memory(server->store);

	(void)fd; (void)what; (void)arg;
	/* A commit under way arms it again when it ends. */
	if (busy || !TAILQ_EMPTY(&queue))
		return;
	/*
	 * A backup holds a read transaction until it ends, and a check
	 * would hold the loop until it ends: later, then.
	 */
	if (store_backup_running(server->store) || readers_slow()) {
		commit_release_arm();
		return;
	}
	readers_pause();
	store_release(server->store);
	readers_resume();
	commit_warm_soon();
	log_info("gave back about %llu KiB that LMDB kept for writes",
	    (unsigned long long)(kept >> 10));
}

static void
commit_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	commit_flush();
}

static void *
commit_writer(void *arg)
{
	struct aerr	err;
	char		one = 1;
	int		rc;

	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		while (!work_ready && !stopping)
			pthread_cond_wait(&wake, &lock);
		if (!work_ready)
			break;
		work_ready = 0;
		pthread_mutex_unlock(&lock);
		rc = store_write_try(server->store, batches, nbatches,
		    now_ms(), &err);
		pthread_mutex_lock(&lock);
		result = rc;
		result_err = err;
		pthread_mutex_unlock(&lock);
		while (write(done_pipe[1], &one, 1) == -1 && errno == EINTR)
			;
		pthread_mutex_lock(&lock);
	}
	pthread_mutex_unlock(&lock);
	return (NULL);
}

/* The writer is done: wait for its byte (the loop's callback, or drain). */
static void
commit_wait(void)
{
	char	one;

	while (read(done_pipe[0], &one, 1) == -1 && errno == EINTR)
		;
	/* The writer set result under the lock before writing the byte. */
	pthread_mutex_lock(&lock);
	pthread_mutex_unlock(&lock);
}

static void
commit_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	if (!busy)
		return;
	commit_wait();
	commit_finish();
}

void
commit_init(void)
{
	flush_ev = event_new(server->base, -1, 0, commit_cb, NULL);
	if (flush_ev == NULL || pipe(done_pipe) == -1)
		fatal("commit_init");
	done_ev = event_new(server->base, done_pipe[0], EV_READ | EV_PERSIST,
	    commit_wake_cb, NULL);
	release_ev = evtimer_new(server->base, commit_release_cb, NULL);
	if (done_ev == NULL || release_ev == NULL ||
	    event_add(done_ev, NULL) != 0)
		fatalx("event_new failed");
	if ((errno = pthread_create(&writer, NULL, commit_writer, NULL)) != 0)
		fatal("pthread_create");
}

/* Finish every write still queued, then stop the writer. */
void
commit_free(void)
{
	if (flush_ev == NULL)
		return;
	commit_drain();
	pthread_mutex_lock(&lock);
	stopping = 1;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	pthread_join(writer, NULL);
	event_free(done_ev);
	event_free(flush_ev);
	event_free(release_ev);
	close(done_pipe[0]);
	close(done_pipe[1]);
	flush_ev = done_ev = release_ev = NULL;
}

size_t
commit_pending(void)
{
	return (queued + (busy ? nbatches : 0));
}

static struct pending *
commit_add(const struct request *req)
{
	struct pending	*p;

	p = xcalloc(1, sizeof *p);
	p->conn = req->conn;
	if (p->conn != NULL)
		conn_ref(p->conn);
	p->msgid = req->msgid;
	p->local = req->local;
	p->local_arg = req->local_arg;
	TAILQ_INSERT_TAIL(&queue, p, entry);
	queued++;
	/* Runs after every callback already active in this turn. */
	if (!event_pending(flush_ev, EV_TIMEOUT, NULL))
		event_active(flush_ev, EV_TIMEOUT, 0);
	return (p);
}

static void
commit_queue(const struct request *req, int kind, struct store_op *ops,
    size_t nops, struct event *events, size_t nevents,
    struct dict_entry *dicts)
{
	struct pending	*p = commit_add(req);

	p->kind = kind;
	p->ops = ops;
	p->nops = nops;
	p->events = events;
	p->nevents = nevents;
	p->dicts = dicts;
}

/* Queue a write; the queue takes ops and events (and what they own). */
void
commit_enqueue(const struct request *req, int kind, struct store_op *ops,
    size_t nops, struct event *events, size_t nevents)
{
	commit_queue(req, kind, ops, nops, events, nevents, NULL);
}

/*
 * Queue dictionary ops, all CHANGE_DICT_PUT or all CHANGE_DICT_DELETE;
 * the queue takes ops and entries.
 */
void
commit_enqueue_dict(const struct request *req, struct store_op *ops,
    struct dict_entry *entries, size_t n)
{
	commit_queue(req, ops[0].kind, ops, n, NULL, 0, entries);
}

/*
 * Queue a replica's batch of changes of any kind: ops[i] points into
 * events[i] or dicts[i] (n each, zeroed where unused), which the queue
 * takes with ops.  Its answer has the shape of a put's.
 */
void
commit_enqueue_given(const struct request *req, struct store_op *ops,
    size_t n, struct event *events, struct dict_entry *dicts)
{
	commit_queue(req, CHANGE_PUT, ops, n, events, n, dicts);
}

void
commit_enqueue_error(const struct request *req, const struct aerr *err)
{
	struct pending	*p = commit_add(req);

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
	case STORE_KEPT:
		return ("kept");
	default:
		return ("unchanged");
	}
}

/*
 * Answer a write: a connection's through conn_done(), which lets it read
 * on, a local request's through its callback.
 */
static void
commit_reply(struct pending *p, const struct store_batch *b)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 packer, *pk = &packer;
	size_t		 i;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(pk, &sb, msgpack_sbuffer_write);
	if (p->failed || (b != NULL && b->failed)) {
		const struct aerr *err = p->failed ? &p->err : &b->err;

		msg_pack_response_error(pk, p->msgid, err->code, err->msg);
		goto done;
	}
	msg_pack_response_ok(pk, p->msgid);
	msgpack_pack_map(pk, 1);
	if (p->kind == CHANGE_DICT_PUT) {
		mp_pack_str(pk, "results");
		msgpack_pack_array(pk, p->nops);
		for (i = 0; i < p->nops; i++) {
			msgpack_pack_map(pk, 1);
			mp_pack_kv_str(pk, "status",
			    status_name(p->ops[i].status));
		}
	} else if (p->kind == CHANGE_PUT) {
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
done:
	if (p->conn != NULL)
		conn_done(p->conn, &sb);
	else
		dispatch_local_reply(p->local, p->local_arg, &sb);
	msgpack_sbuffer_destroy(&sb);
}

static void
pending_free(struct pending *p)
{
	size_t	i;

	for (i = 0; i < p->nevents; i++)
		record_clear(&p->events[i]);
	free(p->events);
	for (i = 0; p->dicts != NULL && i < p->nops; i++)
		dict_clear(&p->dicts[i]);
	free(p->dicts);
	free(p->ops);
	free(p);
}

/* Hand everything queued to the writer, unless it is busy already. */
void
commit_flush(void)
{
	if (!busy && !held && !TAILQ_EMPTY(&queue))
		commit_start();
}

/* Tell commit_hold()'s caller, once, that no write is under way. */
static void
commit_held(void)
{
	void	(*ready)(void *) = hold_ready;

	if (ready == NULL || busy || draining)
		return;
	hold_ready = NULL;
	ready(hold_arg);
}

/*
 * Start no group until commit_unhold(); ready(arg) runs when the one
 * under way, if any, has been acknowledged.
 */
void
commit_hold(void (*ready)(void *), void *arg)
{
	held = 1;
	hold_ready = ready;
	hold_arg = arg;
	commit_held();
}

void
commit_unhold(void)
{
	held = 0;
	hold_ready = NULL;
	commit_flush();
}

static void
commit_start(void)
{
	struct pending	*p;
	size_t		 n = 0, ops = 0, taken = 0;

	/*
	 * Take the queue in order, up to COMMIT_MAX_OPS records: LMDB keeps
	 * a transaction's dirty pages in memory, so a group without bound
	 * would make the daemon's memory grow with the backlog.
	 */
	while ((p = TAILQ_FIRST(&queue)) != NULL &&
	    (taken == 0 || ops + p->nops <= COMMIT_MAX_OPS)) {
		TAILQ_REMOVE(&queue, p, entry);
		TAILQ_INSERT_TAIL(&group, p, entry);
		ops += p->nops;
		taken++;
	}
	queued -= taken;
	batches = xcalloc(taken, sizeof *batches);
	TAILQ_FOREACH(p, &group, entry) {
		if (p->failed)
			continue;
		batches[n].ops = p->ops;
		batches[n].nops = p->nops;
		n++;
	}
	nbatches = n;
	busy = 1;
	if (n == 0) {
		/* Only errors to pass on, in order: nothing to write. */
		result = 0;
		commit_finish();
		return;
	}
	store_write_prepare(batches, n);
	pthread_mutex_lock(&lock);
	work_ready = 1;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
}

/* The group's transaction ended: grow and retry, or acknowledge. */
static void
commit_finish(void)
{
	struct pending	*p;
	size_t		 i = 0;
	int		 rc;

	if (result == STORE_NEED_GROW) {
		/*
		 * Growing now would join the backup's thread on the loop
		 * and freeze every client for the rest of the copy.  At
		 * shutdown there is nothing better to do than wait.
		 */
		if (!draining && store_backup_running(server->store)) {
			if (!parked)
				log_notice("map full during a backup: writes "
				    "wait for the backup to end");
			parked = 1;
			return;
		}
		parked = 0;
		/*
		 * The writer is idle and the loop holds no transaction; the
		 * readers finish theirs and wait.
		 */
		readers_pause();
		rc = store_grow(server->store, &result_err);
		readers_resume();
		if (rc == 0) {
			pthread_mutex_lock(&lock);
			work_ready = 1;
			pthread_cond_signal(&wake);
			pthread_mutex_unlock(&lock);
			return;
		}
		for (i = 0; i < nbatches; i++) {
			batches[i].failed = 1;
			batches[i].err = result_err;
		}
		result = -1;
	}
	if (result != 0)
		log_warn("commit of %zu requests failed: %s", nbatches,
		    result_err.msg);

	i = 0;
	while ((p = TAILQ_FIRST(&group)) != NULL) {
		TAILQ_REMOVE(&group, p, entry);
		commit_reply(p, p->failed ? NULL : &batches[i]);
		if (!p->failed)
			i++;
		pending_free(p);
	}
	free(batches);
	batches = NULL;
	nbatches = 0;
	busy = 0;
	if (store_write_memory(server->store) > server->cfg->write_memory)
		commit_release_arm();
	changes_committed();
	if (held)
		commit_held();
	else
		/* What arrived meanwhile is the next group. */
		commit_flush();
}

/* The backup has ended: a group parked for a grow goes on. */
void
commit_backup_ended(void)
{
	if (parked)
		commit_finish();
}

/* Commit and acknowledge everything queued, waiting for the writer. */
void
commit_drain(void)
{
	draining = 1;
	for (;;) {
		if (busy) {
			if (!parked)
				commit_wait();
			commit_finish();
		} else if (!TAILQ_EMPTY(&queue))
			commit_start();
		else
			break;
	}
	draining = 0;
}
