/*
 * A read replica (annalsd --follow nats://HOST:PORT --stream NAME): the
 * store follows a NATS JetStream stream of a primary's changes, which
 * annals-nats publish writes (contrib/nats/README.md).
 *
 * One thread owns the NATS connection and everything made from it: it
 * fetches a batch from a durable pull consumer, decodes it into store
 * ops that keep the primary's ids, revs, times and change seqs, and hands
 * them to the loop, which queues them on the group commit like any write
 * (so that subscribers, SSE and the map growth work as for a primary).
 * When the commit is done the loop wakes the thread, which acknowledges
 * the batch (the consumer acknowledges all up to a message) and fetches
 * the next.  A crash between the commit and the acknowledgement gets the
 * batch again; the store skips the changes it already has (apply_op).
 * Stopping is a flag and a join: nothing else touches the connection.
 *
 * The store keeps the stream sequence of the last message it applied
 * (store_stream_seq), in the same transaction as the changes: the
 * consumer is made anew on each start from there, so the store, not the
 * server, says where to go on.  A stream whose first message is past
 * that has lost changes the replica needs: it says so, and refuses reads
 * rather than answer from stale data.
 */
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "annalsd.h"

struct replica_state {
	int		 following;
	char		 url[256];
	char		 stream[128];
	char		 durable[64];	/* its consumers are durable-HEX */
	char		 consumer[96];	/* the one in use */
	int		 connected;
	uint64_t	 pending;	/* messages the consumer has yet to deliver */
	uint64_t	 fetched;	/* delivered, their commit not yet done */
	uint64_t	 behind_since;	/* ms: oldest unapplied message, or 0 */
	char		 error[256];	/* why it stopped following */
};

static pthread_mutex_t		 lock = PTHREAD_MUTEX_INITIALIZER;
static struct replica_state	 state;		/* under lock */

#ifdef HAVE_NATS
#include <nats/nats.h>

#include "../contrib/nats/nats-servers.h"

/* Messages applied in one transaction at most. */
#define REPLICA_BATCH		1000
/* How long one fetch waits for a first message (ms). */
#define REPLICA_FETCH_MS	500
/* How often a long commit asks the consumer what is still to come (ms). */
#define REPLICA_PENDING_MS	500
/* The pause between attempts when NATS cannot be reached (ms). */
#define REPLICA_RETRY_MS	250
/* Failed fetches in a row before the consumer is made anew. */
#define REPLICA_FAILURES	40

/* A batch handed from the thread to the loop and its outcome back. */
struct handoff {
	struct store_op	*ops;
	struct event	*events;	/* n each: what ops point into */
	struct dict_entry *dicts;
	size_t		 n;
	int		 ready;		/* the loop may take it */
	int		 done;		/* committed or failed */
	int		 failed;
	struct aerr	 err;
};

static char		 subject[256];	/* the stream's, for the consumer */
static pthread_t	 thread;
static int		 running;
static int		 stopping;	/* under lock */
static pthread_cond_t	 wake = PTHREAD_COND_INITIALIZER;
static struct handoff	 hand;		/* under lock */
static int		 hand_pipe[2] = { -1, -1 };
static struct event	*hand_ev;

static int
replica_stopping(void)
{
	int	s;

	pthread_mutex_lock(&lock);
	s = stopping;
	pthread_mutex_unlock(&lock);
	return (s);
}

/* ts: ms from now, for pthread_cond_timedwait. */
static void
replica_deadline(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

/* Sleep ms, or less when asked to stop. */
static void
replica_pause(int ms)
{
	struct timespec	ts;

	replica_deadline(&ts, ms);
	pthread_mutex_lock(&lock);
	if (!stopping)
		pthread_cond_timedwait(&wake, &lock, &ts);
	pthread_mutex_unlock(&lock);
}

/* Stop following for good: reads are refused with why from now on. */
static void
replica_give_up(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void
replica_give_up(const char *fmt, ...)
{
	va_list	ap;

	pthread_mutex_lock(&lock);
	va_start(ap, fmt);
	vsnprintf(state.error, sizeof state.error, fmt, ap);
	va_end(ap);
	log_err("replica: %s", state.error);
	pthread_mutex_unlock(&lock);
}

static void
replica_set_connected(int on)
{
	pthread_mutex_lock(&lock);
	state.connected = on;
	pthread_mutex_unlock(&lock);
}

/* The loop: queue the batch the thread handed over on the commit. */
static void
replica_done(void *arg, const msgpack_object *result, const struct aerr *err)
{
	(void)arg; (void)result;
	pthread_mutex_lock(&lock);
	hand.done = 1;
	hand.failed = err != NULL;
	if (err != NULL)
		hand.err = *err;
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&lock);
}

static void
replica_hand_cb(evutil_socket_t fd, short what, void *arg)
{
	char		 buf[64];
	struct store_op	*ops = NULL;
	struct event	*events = NULL;
	struct dict_entry *dicts = NULL;
	struct request	 req;
	size_t		 n = 0;

	(void)what; (void)arg;
	while (read(fd, buf, sizeof buf) > 0)
		continue;
	pthread_mutex_lock(&lock);
	if (hand.ready) {
		ops = hand.ops;
		events = hand.events;
		dicts = hand.dicts;
		n = hand.n;
		hand.ready = 0;
		hand.ops = NULL;
		hand.events = NULL;
		hand.dicts = NULL;
	}
	pthread_mutex_unlock(&lock);
	/* The commit owns ops, events and entries from here on. */
	if (ops != NULL) {
		/* No connection: the commit answers through replica_done. */
		memset(&req, 0, sizeof req);
		req.local = replica_done;
		commit_enqueue_given(&req, ops, n, events, dicts);
	}
}

/* Free a batch the commit did not take: n ops and what they point into. */
static void
replica_batch_free(struct store_op *ops, struct event *events,
    struct dict_entry *dicts, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		record_clear(&events[i]);
		dict_clear(&dicts[i]);
	}
	free(ops);
	free(events);
	free(dicts);
}

/*
 * A change of the actor dictionary: its entry, or (a delete) the key
 * that names it, into de.
 */
static int
replica_decode_dict(const msgpack_object *o, struct store_op *op,
    struct dict_entry *de, struct aerr *err)
{
	const msgpack_object	*entry = mp_get(o, "entry");

	if (entry == NULL) {
		aerr_set(err, AERR_PROTOCOL, "a dictionary change without its "
		    "entry");
		return (-1);
	}
	if ((op->kind == CHANGE_DICT_PUT ? dict_decode(entry, de, err) :
	    dict_decode_key(entry, de, err)) != 0) {
		aerr_prefix(err, "entry: ");
		return (-1);
	}
	op->dict = de;
	return (0);
}

/*
 * Decode one message into op (and ev for a put, de for a change of the
 * dictionary).  A kind of change this replica does not know stops it:
 * dropping the change would leave the store different from the
 * primary's without a word.
 */
static int
replica_decode(natsMsg *m, struct store_op *op, struct event *ev,
    struct dict_entry *de, struct aerr *err)
{
	msgpack_unpacked	 u;
	const msgpack_object	*o, *kind;
	char			 name[64];
	int			 rc = -1;

	memset(op, 0, sizeof *op);
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, natsMsg_GetData(m),
	    (size_t)natsMsg_GetDataLength(m), NULL) !=
	    MSGPACK_UNPACK_SUCCESS || u.data.type != MSGPACK_OBJECT_MAP) {
		aerr_set(err, AERR_PROTOCOL, "not a msgpack map");
		goto out;
	}
	o = &u.data;
	kind = mp_get(o, "op");
	op->kind = change_op_parse(kind);
	if (mp_uint(mp_get(o, "seq"), "seq", &op->seq, err) != 0)
		goto out;
	if (op->kind == CHANGE_DICT_PUT || op->kind == CHANGE_DICT_DELETE) {
		if (op->seq == 0)
			aerr_set(err, AERR_PROTOCOL, "seq must not be 0");
		else
			rc = replica_decode_dict(o, op, de, err);
		goto out;
	}
	if (mp_uint(mp_get(o, "id"), "id", &op->id, err) != 0)
		goto out;
	if (op->seq == 0 || op->id == 0) {
		aerr_set(err, AERR_PROTOCOL, "seq and id must not be 0");
		goto out;
	}
	if (op->kind == CHANGE_DELETE)
		rc = 0;
	else if (op->kind == CHANGE_PUT) {
		if (mp_get(o, "event") == NULL) {
			aerr_set(err, AERR_PROTOCOL, "a put without its "
			    "event");
			goto out;
		}
		if (record_decode_stored(mp_get(o, "event"), ev, err) != 0) {
			aerr_prefix(err, "event: ");
			goto out;
		}
		if (ev->id != op->id || ev->rev == 0) {
			record_clear(ev);
			aerr_set(err, AERR_PROTOCOL, "event: id %llu and rev "
			    "%llu do not fit the change of id %llu",
			    (unsigned long long)ev->id,
			    (unsigned long long)ev->rev,
			    (unsigned long long)op->id);
			goto out;
		}
		op->ev = ev;
		rc = 0;
	} else {
		if (kind != NULL)
			mp_quote(kind, name, sizeof name);
		else
			snprintf(name, sizeof name, "(none)");
		aerr_set(err, AERR_PROTOCOL, "change kind \"%s\" is not one this "
		    "annalsd applies (put, delete, dict_put, dict_delete): "
		    "upgrade the replica", name);
	}
out:
	msgpack_unpacked_destroy(&u);
	return (rc);
}

/*
 * Wait, under lock, for the loop to say the batch committed.  A commit
 * can take long (a slow disk, a grown map): meanwhile the consumer is
 * asked now and then how much more waits, so that the lag in stats
 * counts what was published since the fetch.
 */
static void
replica_wait_commit(natsSubscription *sub)
{
	struct timespec	 ts;
	jsConsumerInfo	*ci;

	while (!hand.done && !stopping) {
		replica_deadline(&ts, REPLICA_PENDING_MS);
		if (pthread_cond_timedwait(&wake, &lock, &ts) != ETIMEDOUT ||
		    hand.done || stopping)
			continue;
		pthread_mutex_unlock(&lock);
		ci = NULL;
		if (natsSubscription_GetConsumerInfo(&ci, sub, NULL, NULL) !=
		    NATS_OK)
			ci = NULL;
		pthread_mutex_lock(&lock);
		if (ci != NULL) {
			state.pending = ci->NumPending;
			jsConsumerInfo_Destroy(ci);
		}
	}
}

/*
 * Apply a fetched batch: decode it, hand it to the loop, wait for its
 * commit.  Returns 0 when committed, 1 to make the consumer anew (a gap
 * in the stream sequence, unless again: the last batch had one too), -1
 * to give up (stopping, a bad message, a failed commit: the reason is
 * set).
 *
 * Until the commit is done the batch counts in the lag as much as what
 * the consumer has yet to deliver: the store does not have it.
 */
static int
replica_apply(natsSubscription *sub, natsMsgList *list, int again)
{
	struct store_op	*ops;
	struct event	*events;
	struct dict_entry *dicts;
	struct aerr	 err;
	jsMsgMetaData	*meta = NULL;
	uint64_t	 prev = store_stream_seq(server->store);
	uint64_t	 pending = 0, first_ms = 0, last_ms = 0;
	size_t		 i, n = (size_t)list->Count;
	int		 rc;

	ops = xcalloc(n, sizeof *ops);
	events = xcalloc(n, sizeof *events);
	dicts = xcalloc(n, sizeof *dicts);
	for (i = 0; i < n; i++) {
		aerr_clear(&err);
		if (natsMsg_GetMetaData(&meta, list->Msgs[i]) != NATS_OK) {
			aerr_set(&err, AERR_PROTOCOL, "no JetStream metadata");
			rc = -1;
		} else {
			rc = replica_decode(list->Msgs[i], &ops[i], &events[i],
			    &dicts[i], &err);
			ops[i].stream_seq = meta->Sequence.Stream;
		}
		/*
		 * A gap: the messages between were delivered in a fetch
		 * whose reply was lost (the server went away), and come
		 * again only after the ack wait; or the stream dropped them
		 * (its limits) while this replica was behind, and they are
		 * lost to it.  The first time, follow again from the store's
		 * place with a new consumer, which tells the two apart
		 * (replica_check_stream); a gap again, with no empty or
		 * failed fetch between (replica_main), is a loss.
		 */
		if (rc == 0 && meta->Sequence.Stream > prev + 1 && !again) {
			log_warn("replica: stream %s: message %llu came after "
			    "%llu: following again from %llu", state.stream,
			    (unsigned long long)meta->Sequence.Stream,
			    (unsigned long long)prev,
			    (unsigned long long)store_stream_seq(
			    server->store) + 1);
			jsMsgMetaData_Destroy(meta);
			replica_batch_free(ops, events, dicts, i + 1);
			return (1);
		}
		if (rc == 0 && meta->Sequence.Stream > prev + 1) {
			aerr_set(&err, AERR_INTERNAL, "the stream no longer "
			    "holds messages %llu to %llu, which this replica "
			    "needs: rebuild it from a backup of another "
			    "replica (contrib/nats/README.md)",
			    (unsigned long long)prev + 1,
			    (unsigned long long)meta->Sequence.Stream - 1);
			rc = -1;
		}
		if (rc == 0 && meta->Sequence.Stream > prev)
			prev = meta->Sequence.Stream;
		if (rc != 0) {
			replica_give_up("stream %s, message %llu: %s",
			    state.stream, meta != NULL ?
			    (unsigned long long)meta->Sequence.Stream : 0ULL,
			    err.msg);
			jsMsgMetaData_Destroy(meta);
			replica_batch_free(ops, events, dicts, i + 1);
			return (-1);
		}
		if (i == 0)
			first_ms = (uint64_t)(meta->Timestamp / 1000000);
		last_ms = (uint64_t)(meta->Timestamp / 1000000);
		pending = meta->NumPending;
		jsMsgMetaData_Destroy(meta);
		meta = NULL;
	}
	pthread_mutex_lock(&lock);
	state.pending = pending;
	state.fetched = n;
	state.behind_since = first_ms;
	hand.ops = ops;
	hand.events = events;
	hand.dicts = dicts;
	hand.n = n;
	hand.ready = 1;
	hand.done = 0;
	pthread_mutex_unlock(&lock);
	if (write(hand_pipe[1], "", 1) == -1 && errno != EAGAIN)
		log_warn("replica: wake the loop: %s", strerror(errno));
	pthread_mutex_lock(&lock);
	replica_wait_commit(sub);
	rc = hand.done && !hand.failed ? 0 : -1;
	if (rc == 0) {
		state.fetched = 0;
		/* The next message is no older than the last committed. */
		state.behind_since = state.pending == 0 ? 0 : last_ms;
	}
	if (hand.done && hand.failed) {
		pthread_mutex_unlock(&lock);
		replica_give_up("applying stream %s: %s", state.stream,
		    hand.err.msg);
		return (-1);
	}
	pthread_mutex_unlock(&lock);
	return (rc);
}

/*
 * Whether the stream still holds every message after applied (its
 * stream seq): -1 after giving up, 1 when it does, 0 when it cannot be
 * told now (try again).
 */
static int
replica_check_stream(jsCtx *js, uint64_t applied)
{
	jsStreamInfo	*si = NULL;
	jsErrCode	 jerr = 0;
	natsStatus	 s;
	uint64_t	 first, last, msgs;

	if ((s = js_GetStreamInfo(&si, js, state.stream, NULL, &jerr)) !=
	    NATS_OK) {
		if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr)
			log_warn("replica: stream %s not found: waiting for "
			    "annals-nats init", state.stream);
		else
			log_info("replica: stream %s: %s", state.stream,
			    natsStatus_GetText(s));
		return (0);
	}
	first = si->State.FirstSeq;
	last = si->State.LastSeq;
	msgs = si->State.Msgs;
	if (si->Config->SubjectsLen < 1) {
		jsStreamInfo_Destroy(si);
		replica_give_up("stream %s has no subject", state.stream);
		return (-1);
	}
	snprintf(subject, sizeof subject, "%s", si->Config->Subjects[0]);
	jsStreamInfo_Destroy(si);
	if (msgs > 0 ? first > applied + 1 : last > applied) {
		replica_give_up("stream %s no longer holds message %llu, the "
		    "next this store needs (it begins at %llu): the replica "
		    "cannot catch up; rebuild it from a backup of another "
		    "replica of this stream (contrib/nats/README.md)",
		    state.stream, (unsigned long long)applied + 1,
		    (unsigned long long)first);
		return (-1);
	}
	if (applied > last) {
		replica_give_up("this store applied stream %s up to message "
		    "%llu but the stream ends at %llu: it follows another "
		    "stream, or the stream was made anew", state.stream,
		    (unsigned long long)applied, (unsigned long long)last);
		return (-1);
	}
	return (1);
}

/* Whether name is one of this replica's consumers: durable-HEX. */
static int
replica_own(const char *name)
{
	size_t	n = strlen(state.durable);

	if (strncmp(name, state.durable, n) != 0 || name[n] != '-' ||
	    name[n + 1] == '\0')
		return (0);
	return (strspn(name + n + 1, "0123456789abcdef") ==
	    strlen(name + n + 1));
}

/*
 * A consumer of this replica's that stands exactly at applied with
 * nothing in flight (it stopped cleanly), bound to; or NULL.
 */
static natsSubscription *
replica_bind(jsCtx *js, const jsConsumerNamesList *names, uint64_t applied,
    char *name, size_t size)
{
	natsSubscription	*sub = NULL;
	jsConsumerInfo		*ci;
	jsSubOptions		 so;
	int			 i, keep;

	for (i = 0; names != NULL && i < names->Count && sub == NULL; i++) {
		ci = NULL;
		if (!replica_own(names->List[i]) ||
		    js_GetConsumerInfo(&ci, js, state.stream, names->List[i],
		    NULL, NULL) != NATS_OK)
			continue;
		keep = ci->Delivered.Stream == applied &&
		    ci->AckFloor.Stream == applied &&
		    ci->Config->AckPolicy == js_AckAll;
		jsConsumerInfo_Destroy(ci);
		jsSubOptions_Init(&so);
		so.Stream = state.stream;
		so.Consumer = names->List[i];
		if (keep && js_PullSubscribe(&sub, js, subject, names->List[i],
		    NULL, &so, NULL) == NATS_OK)
			snprintf(name, size, "%s", names->List[i]);
		else
			sub = NULL;
	}
	return (sub);
}

/*
 * The durable consumer, going on after applied: one of this replica's
 * that stopped exactly there, or else a new one from the store's place
 * (after a crash messages were delivered that the store may not have;
 * after a restore from a backup the old one is ahead).  The new one is
 * made before the old ones are deleted, so that a stream with interest
 * retention never finds nobody wanting the messages after applied.
 */
static natsSubscription *
replica_subscribe(jsCtx *js, uint64_t applied)
{
	natsSubscription	*sub;
	jsConsumerNamesList	*names = NULL;
	jsSubOptions		 so;
	natsStatus		 s;
	char			 name[sizeof state.consumer];
	const char		*how = "kept";
	int			 i;

	if (js_ConsumerNames(&names, js, state.stream, NULL, NULL) != NATS_OK)
		names = NULL;
	if ((sub = replica_bind(js, names, applied, name,
	    sizeof name)) == NULL) {
		how = "new";
		snprintf(name, sizeof name, "%s-%llx", state.durable,
		    (unsigned long long)now_ms());
		jsSubOptions_Init(&so);
		so.Stream = state.stream;
		so.Config.Durable = name;
		so.Config.AckPolicy = js_AckAll;
		so.Config.AckWait = (int64_t)30 * 1000000000;
		so.Config.MaxAckPending = REPLICA_BATCH * 4;
		if (applied == 0)
			so.Config.DeliverPolicy = js_DeliverAll;
		else {
			so.Config.DeliverPolicy = js_DeliverByStartSequence;
			so.Config.OptStartSeq = applied + 1;
		}
		if ((s = js_PullSubscribe(&sub, js, subject, name, NULL, &so,
		    NULL)) != NATS_OK) {
			log_warn("replica: consumer %s on stream %s: %s", name,
			    state.stream, nats_GetLastError(NULL));
			if (names != NULL)
				jsConsumerNamesList_Destroy(names);
			return (NULL);
		}
	}
	for (i = 0; names != NULL && i < names->Count; i++) {
		if (replica_own(names->List[i]) &&
		    strcmp(names->List[i], name) != 0 &&
		    js_DeleteConsumer(js, state.stream, names->List[i], NULL,
		    NULL) != NATS_OK)
			log_info("replica: delete consumer %s: %s",
			    names->List[i], nats_GetLastError(NULL));
	}
	if (names != NULL)
		jsConsumerNamesList_Destroy(names);
	pthread_mutex_lock(&lock);
	snprintf(state.consumer, sizeof state.consumer, "%s", name);
	pthread_mutex_unlock(&lock);
	log_notice("replica: following stream %s from message %llu with "
	    "consumer %s (%s)", state.stream, (unsigned long long)applied + 1,
	    name, how);
	return (sub);
}

static void
replica_on_disconnect(natsConnection *nc, void *arg)
{
	(void)nc; (void)arg;
	replica_set_connected(0);
	log_warn("replica: disconnected from NATS");
}

static void
replica_on_reconnect(natsConnection *nc, void *arg)
{
	(void)nc; (void)arg;
	replica_set_connected(1);
	log_notice("replica: reconnected to NATS");
}

static natsConnection *
replica_connect(void)
{
	natsConnection	*nc = NULL;
	natsOptions	*opts = NULL;
	natsStatus	 s;

	if ((s = natsOptions_Create(&opts)) == NATS_OK &&
	    (s = nats_set_servers(opts, state.url)) == NATS_OK &&
	    (s = natsOptions_SetMaxReconnect(opts, -1)) == NATS_OK &&
	    (s = natsOptions_SetReconnectWait(opts, REPLICA_RETRY_MS)) ==
	    NATS_OK &&
	    (s = natsOptions_SetTimeout(opts, 2000)) == NATS_OK &&
	    (s = natsOptions_SetDisconnectedCB(opts, replica_on_disconnect,
	    NULL)) == NATS_OK &&
	    (s = natsOptions_SetReconnectedCB(opts, replica_on_reconnect,
	    NULL)) == NATS_OK)
		s = natsConnection_Connect(&nc, opts);
	natsOptions_Destroy(opts);
	if (s != NATS_OK) {
		log_info("replica: connect %s: %s", state.url,
		    natsStatus_GetText(s));
		return (NULL);
	}
	replica_set_connected(1);
	log_notice("replica: connected to %s", state.url);
	return (nc);
}

static void *
replica_main(void *arg)
{
	natsConnection		*nc = NULL;
	jsCtx			*js = NULL;
	natsSubscription	*sub = NULL;
	natsMsgList		 list;
	jsErrCode		 jerr;
	natsStatus		 s;
	int			 rc, failures = 0, gap = 0;

	(void)arg;
	while (!replica_stopping()) {
		if (nc == NULL && (nc = replica_connect()) == NULL) {
			replica_pause(REPLICA_RETRY_MS);
			continue;
		}
		if (js == NULL && natsConnection_JetStream(&js, nc, NULL) !=
		    NATS_OK) {
			js = NULL;
			replica_pause(REPLICA_RETRY_MS);
			continue;
		}
		if (sub == NULL) {
			rc = replica_check_stream(js,
			    store_stream_seq(server->store));
			if (rc == -1)
				break;
			if (rc == 0 || (sub = replica_subscribe(js,
			    store_stream_seq(server->store))) == NULL) {
				replica_pause(REPLICA_RETRY_MS * 4);
				continue;
			}
			failures = 0;
		}
		memset(&list, 0, sizeof list);
		jerr = 0;
		s = natsSubscription_Fetch(&list, sub, REPLICA_BATCH,
		    REPLICA_FETCH_MS, &jerr);
		if (s == NATS_OK && list.Count > 0) {
			rc = replica_apply(sub, &list, gap);
			if (rc == 0)
				natsMsg_Ack(list.Msgs[list.Count - 1], NULL);
			natsMsgList_Destroy(&list);
			if (rc == -1)
				break;
			if ((gap = rc == 1)) {
				natsSubscription_Destroy(sub);
				sub = NULL;
			}
			failures = 0;
			continue;
		}
		natsMsgList_Destroy(&list);
		/*
		 * A fetch that brought nothing may be one whose reply was
		 * lost: a gap after it is no loss until seen twice again.
		 */
		gap = 0;
		if (s == NATS_TIMEOUT) {
			/* Nothing new: caught up. */
			pthread_mutex_lock(&lock);
			state.pending = 0;
			state.behind_since = 0;
			pthread_mutex_unlock(&lock);
			continue;
		}
		/*
		 * The server went away (libnats reconnects), or a cluster
		 * elects the consumer's new leader: keep the consumer, which
		 * is on every server of the stream.  Make it again from the
		 * store's place only when it is gone, or nothing worked for
		 * a long while.
		 */
		log_info("replica: fetch: %s (%d)", natsStatus_GetText(s),
		    (int)jerr);
		if (jerr == JSConsumerNotFoundErr ||
		    ++failures >= REPLICA_FAILURES) {
			natsSubscription_Destroy(sub);
			sub = NULL;
		}
		replica_pause(REPLICA_RETRY_MS);
	}
	natsSubscription_Destroy(sub);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	replica_set_connected(0);
	return (NULL);
}

/*
 * Follow stream on the NATS server at url; durable names the consumer
 * (NULL: one made of the store's uuid, so that replicas do not share).
 */
int
replica_start(const char *url, const char *stream, const char *durable,
    struct aerr *err)
{
	if (strlen(url) >= sizeof state.url ||
	    strlen(stream) >= sizeof state.stream || *stream == '\0' ||
	    strpbrk(stream, ". *>") != NULL) {
		aerr_set(err, AERR_INVALID, "--stream %s: a stream name, "
		    "without '.', ' ', '*' or '>'", stream);
		return (-1);
	}
	if (durable != NULL && (strlen(durable) >= sizeof state.durable ||
	    *durable == '\0' || strpbrk(durable, ". *>") != NULL)) {
		aerr_set(err, AERR_INVALID, "--durable %s: a consumer name "
		    "under %zu bytes, without '.', ' ', '*' or '>'", durable,
		    sizeof state.durable);
		return (-1);
	}
	memset(&state, 0, sizeof state);
	state.following = 1;
	snprintf(state.url, sizeof state.url, "%s", url);
	snprintf(state.stream, sizeof state.stream, "%s", stream);
	if (durable != NULL)
		snprintf(state.durable, sizeof state.durable, "%s", durable);
	else
		snprintf(state.durable, sizeof state.durable, "annalsd-%s",
		    store_uuid(server->store));
	if (pipe(hand_pipe) != 0) {
		aerr_set(err, AERR_INTERNAL, "pipe: %s", strerror(errno));
		return (-1);
	}
	evutil_make_socket_nonblocking(hand_pipe[0]);
	evutil_make_socket_nonblocking(hand_pipe[1]);
	hand_ev = event_new(server->base, hand_pipe[0], EV_READ | EV_PERSIST,
	    replica_hand_cb, NULL);
	event_add(hand_ev, NULL);
	stopping = 0;
	if ((errno = pthread_create(&thread, NULL, replica_main, NULL)) != 0)
		fatal("pthread_create");
	running = 1;
	return (0);
}

/* Before the commit drains: the thread ends, a batch not taken is freed. */
void
replica_stop(void)
{

	if (!running)
		return;
	pthread_mutex_lock(&lock);
	stopping = 1;
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&lock);
	pthread_join(thread, NULL);
	running = 0;
	if (hand.ready) {
		replica_batch_free(hand.ops, hand.events, hand.dicts, hand.n);
		hand.ready = 0;
	}
	event_free(hand_ev);
	hand_ev = NULL;
	close(hand_pipe[0]);
	close(hand_pipe[1]);
	hand_pipe[0] = hand_pipe[1] = -1;
	nats_CloseAndWait(2000);
}

#else /* !HAVE_NATS */

int
replica_start(const char *url, const char *stream, const char *durable,
    struct aerr *err)
{
	(void)url; (void)stream; (void)durable;
	aerr_set(err, AERR_INVALID, "--follow: this annalsd was built "
	    "without libnats (install libnats-dev and build again)");
	return (-1);
}

void
replica_stop(void)
{
}

#endif /* HAVE_NATS */

/*
 * Whether a request is refused on a replica: writes always (read_only,
 * naming the stream), reads too once it stopped following (its data
 * would be stale without saying so).  Returns 1 with err set, or 0.
 */
int
replica_refuse(const char *what, int write, struct aerr *err)
{
	int	refused = 0;

	pthread_mutex_lock(&lock);
	if (state.following && write) {
		aerr_set(err, AERR_READ_ONLY, "%s: this annalsd is a read "
		    "replica of stream %s on %s: write to its primary", what,
		    state.stream, state.url);
		refused = 1;
	} else if (state.following && state.error[0] != '\0') {
		aerr_set(err, AERR_UNAVAILABLE, "%s: this replica stopped "
		    "following: %s", what, state.error);
		refused = 1;
	}
	pthread_mutex_unlock(&lock);
	return (refused);
}

int
replica_following(void)
{
	int	on;

	pthread_mutex_lock(&lock);
	on = state.following;
	pthread_mutex_unlock(&lock);
	return (on);
}

/* The "replica" entry of stats, when following: a key and its map. */
int
replica_pack_stats(msgpack_packer *pk)
{
	struct replica_state	s;
	uint64_t		now = now_ms();

	pthread_mutex_lock(&lock);
	s = state;
	pthread_mutex_unlock(&lock);
	if (!s.following)
		return (0);
	mp_pack_str(pk, "replica");
	msgpack_pack_map(pk, 8 + (s.error[0] != '\0'));
	mp_pack_kv_str(pk, "server", s.url);
	mp_pack_kv_str(pk, "stream", s.stream);
	mp_pack_kv_str(pk, "consumer", s.consumer);
	mp_pack_str(pk, "connected");
	if (s.connected)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	mp_pack_kv_uint(pk, "applied_seq", store_last_seq(server->store));
	mp_pack_kv_uint(pk, "stream_seq", store_stream_seq(server->store));
	mp_pack_kv_uint(pk, "lag_changes", s.pending + s.fetched);
	mp_pack_str(pk, "lag_seconds");
	msgpack_pack_double(pk, s.behind_since == 0 || s.behind_since > now ?
	    0.0 : (double)(now - s.behind_since) / 1000.0);
	if (s.error[0] != '\0')
		mp_pack_kv_str(pk, "error", s.error);
	return (1);
}
