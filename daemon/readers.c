/*
 * Reader threads: range, actor, get and the aggregations run here when
 * that lets the loop get on with other clients.  LMDB readers never block
 * each other or the writer, and the environment has MDB_NOTLS, so each
 * job opens and closes its own read transaction (through the store_*
 * calls) on whichever thread runs it, and several clients use every core.
 *
 * The rule: a request goes to a reader thread when one is idle and
 * another connection is active, that is, has a request on a reader thread
 * or sent one in the last READERS_ACTIVE_MS; otherwise it runs on the
 * loop as before.  With one client the hop to a thread and back (tens of
 * microseconds) would only add to its latency, and with every reader busy
 * the loop is the next free core.  A long method (check) always goes,
 * waiting for a thread if none is idle: the loop never stops for seconds.
 *
 * A job owns a copy of its frame, since its params must outlive the input
 * buffer, and packs its reply into a buffer of its own; the loop hands
 * that to the connection (conn_done), which reads no further request
 * until then, so replies keep their order and a later write cannot
 * overtake the read.  The job holds a reference on the connection, which
 * may close meanwhile; only the loop touches connections.  Finished jobs
 * come back on a list and a pipe byte wakes the loop, as in commit.c.
 *
 * Map growth (P9) and giving back the write memory (commit.c) want no
 * transaction open in the process: readers_pause() stops the threads
 * taking jobs and waits for those running, readers_resume() lets them
 * go on.
 */
#define _GNU_SOURCE		/* pthread_setname_np */
#include <sys/queue.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "annalsd.h"

struct reader_job {
	void			(*fn)(void *);	/* readers_call(): no conn */
	void			(*done)(void *);
	void			*arg;
	struct conn		*conn;		/* holds a reference */
	const struct method	*method;
	uint32_t		 msgid;
	char			*frame;		/* the request's copy */
	msgpack_unpacked	 u;		/* params point into frame */
	const msgpack_object	*params;
	msgpack_sbuffer		 reply;
	int			 slow;		/* of a METHOD_LONG method */
	TAILQ_ENTRY(reader_job)	 entry;
};
TAILQ_HEAD(reader_jobs, reader_job);

/* How long a connection counts as active after its last request. */
#define READERS_ACTIVE_MS	10

static pthread_t		*threads;
static size_t			 nthreads;
static pthread_mutex_t		 lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t		 work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t		 quiet = PTHREAD_COND_INITIALIZER;
static struct reader_jobs	 todo = TAILQ_HEAD_INITIALIZER(todo);
static struct reader_jobs	 done = TAILQ_HEAD_INITIALIZER(done);
static size_t			 busy;		/* queued or running */
static size_t			 running;
static size_t			 slow;		/* of them METHOD_LONG */
static int			 paused;
static int			 stopping;
static uint64_t			 jobs_run;	/* by the threads, for stats */
static int			 wake_pipe[2] = { -1, -1 };
static struct event		*wake_ev;

/*
 * The loop's own: jobs not yet delivered, and the last two connections
 * that sent a request with its time, which tell whether any connection
 * other than a given one was active lately.
 */
static size_t			 inflight;
static uint64_t			 recent_id[2];
static uint64_t			 recent_ms[2];

static struct reader_job *
readers_job_new(void)
{
	struct reader_job	*j = xcalloc(1, sizeof *j);

	msgpack_unpacked_init(&j->u);
	msgpack_sbuffer_init(&j->reply);
	return (j);
}

/* Hand a job to the threads; the loop delivers it (inflight) later. */
static void
readers_queue(struct reader_job *j)
{
	inflight++;
	pthread_mutex_lock(&lock);
	busy++;
	slow += j->slow;
	TAILQ_INSERT_TAIL(&todo, j, entry);
	pthread_cond_signal(&work);
	pthread_mutex_unlock(&lock);
}

static void
readers_job_free(struct reader_job *j)
{
	msgpack_unpacked_destroy(&j->u);
	msgpack_sbuffer_destroy(&j->reply);
	free(j->frame);
	free(j);
}

/* On the loop: hand the job's result over, then free it. */
static void
readers_job_done(struct reader_job *j)
{
	if (j->fn != NULL) {
		if (j->done != NULL)
			j->done(j->arg);
	} else
		conn_done(j->conn, &j->reply);
	readers_job_free(j);
}

static void
readers_run(struct reader_job *j)
{
	struct request	req;

	if (j->fn != NULL) {
		j->fn(j->arg);
		return;
	}
	memset(&req, 0, sizeof req);
	req.msgid = j->msgid;
	req.params = j->params;
	req.sbuf = &j->reply;
	j->method->exec(&req);
}

static void *
readers_main(void *arg)
{
	struct reader_job	*j;
	char			 one = 1;
	int			 first;

	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		while ((paused || TAILQ_EMPTY(&todo)) && !stopping)
			pthread_cond_wait(&work, &lock);
		if (paused || (j = TAILQ_FIRST(&todo)) == NULL)
			break;
		TAILQ_REMOVE(&todo, j, entry);
		running++;
		pthread_mutex_unlock(&lock);

		readers_run(j);

		pthread_mutex_lock(&lock);
		jobs_run++;
		running--;
		busy--;
		slow -= j->slow;
		first = TAILQ_EMPTY(&done);
		TAILQ_INSERT_TAIL(&done, j, entry);
		if (running == 0)
			pthread_cond_signal(&quiet);
		if (!first)
			continue;
		/*
		 * A byte each time the list fills, and the loop reads them
		 * all before it takes the list: the pipe never fills up.
		 */
		pthread_mutex_unlock(&lock);
		while (write(wake_pipe[1], &one, 1) == -1 && errno == EINTR)
			;
		pthread_mutex_lock(&lock);
	}
	pthread_mutex_unlock(&lock);
	return (NULL);
}

/* Hand every finished job's reply to its connection. */
static void
readers_deliver(void)
{
	struct reader_jobs	 list = TAILQ_HEAD_INITIALIZER(list);
	struct reader_job	*j;

	pthread_mutex_lock(&lock);
	TAILQ_CONCAT(&list, &done, entry);
	pthread_mutex_unlock(&lock);
	while ((j = TAILQ_FIRST(&list)) != NULL) {
		TAILQ_REMOVE(&list, j, entry);
		inflight--;
		readers_job_done(j);
	}
}

static void
readers_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	char	buf[64];

	(void)what; (void)arg;
	while (read(fd, buf, sizeof buf) > 0)
		;
	readers_deliver();
}

/* Start n reader threads; with 0, every request runs on the loop. */
void
readers_init(size_t n)
{
	size_t	i;

	if (n == 0)
		return;
	if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) == -1)
		fatal("pipe2");
	wake_ev = event_new(server->base, wake_pipe[0], EV_READ | EV_PERSIST,
	    readers_wake_cb, NULL);
	if (wake_ev == NULL || event_add(wake_ev, NULL) != 0)
		fatalx("event_new failed");
	threads = xcalloc(n, sizeof *threads);
	for (i = 0; i < n; i++) {
		errno = pthread_create(&threads[i], NULL, readers_main, NULL);
		if (errno != 0)
			fatal("pthread_create");
		nthreads++;
		/* Shown by top -H and ps -L; the tests find them so. */
		pthread_setname_np(threads[i], "annalsd-reader");
	}
	log_info("%zu reader threads", n);
}

/*
 * Wait for every job queued or running and send its reply (shutdown:
 * nothing new is taken then).
 */
void
readers_drain(void)
{
	pthread_mutex_lock(&lock);
	while (busy > 0)
		pthread_cond_wait(&quiet, &lock);
	pthread_mutex_unlock(&lock);
	readers_deliver();
}

/* Stop the threads, after the loop: connections are all gone by then. */
void
readers_free(void)
{
	struct reader_job	*j;
	size_t			 i;

	if (nthreads == 0)
		return;
	pthread_mutex_lock(&lock);
	stopping = 1;
	pthread_cond_broadcast(&work);
	pthread_mutex_unlock(&lock);
	for (i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	readers_deliver();
	/* Never run: a conn gets an empty reply (none), a call runs here. */
	while ((j = TAILQ_FIRST(&todo)) != NULL) {
		TAILQ_REMOVE(&todo, j, entry);
		if (j->fn != NULL)
			j->fn(j->arg);
		readers_job_done(j);
	}
	free(threads);
	threads = NULL;
	nthreads = 0;
	event_free(wake_ev);
	wake_ev = NULL;
	close(wake_pipe[0]);
	close(wake_pipe[1]);
	wake_pipe[0] = wake_pipe[1] = -1;
}

/* The jobs the reader threads ran since the start (stats reader_jobs). */
uint64_t
readers_jobs(void)
{
	uint64_t	n;

	pthread_mutex_lock(&lock);
	n = jobs_run;
	pthread_mutex_unlock(&lock);
	return (n);
}

/* No job runs from here to readers_resume(): the map may be grown. */
void
readers_pause(void)
{
	pthread_mutex_lock(&lock);
	paused = 1;
	while (running > 0)
		pthread_cond_wait(&quiet, &lock);
	pthread_mutex_unlock(&lock);
}

/*
 * Whether a long job (check) is queued or running: readers_pause() would
 * hold the loop until it ends, seconds on a large store.
 */
int
readers_slow(void)
{
	int	n;

	pthread_mutex_lock(&lock);
	n = slow > 0;
	pthread_mutex_unlock(&lock);
	return (n);
}

void
readers_resume(void)
{
	pthread_mutex_lock(&lock);
	paused = 0;
	pthread_cond_broadcast(&work);
	pthread_mutex_unlock(&lock);
}

/* Note that c sent a request; whether another connection is active. */
static int
readers_others_active(const struct conn *c)
{
	struct timeval	tv;
	uint64_t	id = conn_id(c), now;
	int		others;

	/* The time the loop woke: no system call per request. */
	event_base_gettimeofday_cached(server->base, &tv);
	now = (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
	others = inflight > 0;
	if (recent_id[0] != id && recent_id[0] != 0 &&
	    now - recent_ms[0] < READERS_ACTIVE_MS)
		others = 1;
	if (recent_id[1] != id && recent_id[1] != 0 &&
	    now - recent_ms[1] < READERS_ACTIVE_MS)
		others = 1;
	if (recent_id[0] != id) {
		recent_id[1] = recent_id[0];
		recent_ms[1] = recent_ms[0];
		recent_id[0] = id;
	}
	recent_ms[0] = now;
	return (others);
}

/*
 * Offer a request of c about to run: a reader thread takes it (returning
 * 1) when the method may run there and the rule above says so.  Then the
 * caller reads nothing more from c until conn_done().  params are
 * the request's, frame is its body, len its length; frame is copied.
 */
int
readers_offer(struct conn *c, const struct method *m, uint32_t msgid,
    const msgpack_object *params, const void *frame, size_t len)
{
	struct reader_job	*j;
	struct msg		 msg;
	struct aerr		 err;
	int			 take, others;

	if (nthreads == 0)
		return (0);
	/* Every request counts as activity, whatever runs it. */
	others = readers_others_active(c);
	if ((m->flags & METHOD_READER) == 0)
		return (0);
	/* A long one waits for a thread rather than hold the loop. */
	if ((m->flags & METHOD_LONG) == 0) {
		if (!others || (m->cheap != NULL && m->cheap(params)))
			return (0);
		pthread_mutex_lock(&lock);
		take = busy < nthreads && !paused;
		pthread_mutex_unlock(&lock);
		if (!take)
			return (0);
	}

	j = readers_job_new();
	j->method = m;
	j->slow = (m->flags & METHOD_LONG) != 0;
	j->msgid = msgid;
	j->frame = xmalloc(len);
	memcpy(j->frame, frame, len);
	/* The loop has decoded this very frame already. */
	if (msgpack_unpack_next(&j->u, j->frame, len, NULL) !=
	    MSGPACK_UNPACK_SUCCESS || msg_parse(&j->u.data, &msg, &err) != 0)
		fatalx("request %u decodes no more", msgid);
	j->params = msg.params;
	j->conn = c;
	conn_ref(c);
	readers_queue(j);
	return (1);
}

/*
 * Run fn(arg) on a reader thread, then then(arg), unless NULL, on the
 * loop: for work that is not a request of a connection (the HTTP API,
 * the warm after a release of write memory).  fn may use only
 * what arg holds.  Returns -1, taking nothing, when there are no reader
 * threads or the server is stopping; the caller then does the work.
 */
int
readers_call(void (*fn)(void *), void (*then)(void *), void *arg)
{
	struct reader_job	*j;

	if (nthreads == 0 || server->shutting_down)
		return (-1);
	j = readers_job_new();
	j->fn = fn;
	j->done = then;
	j->arg = arg;
	readers_queue(j);
	return (0);
}
